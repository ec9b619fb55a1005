"""The PromQL monstack writes for each condition kind: the part people get wrong, owned in one place.

Rules of the house (each one a defect of the guide, see GUIDE-DEFECTS.md):
- "% of requests" is a ratio of summed rates, and a denominator is guarded with `> 0`;
- quantiles are `histogram_quantile(q, sum by (le) (rate(x_bucket[w])))`; when the threshold is a declared bucket
  bound, that quantile is filtered by the exact bucket share (`... and <share> < q`, quantile.py) instead of
  compared with the bound, which it cannot exceed when it is the top finite one;
- "per hour" is `increase(...[1h])`, other rates are scaled to the table's unit;
- a fraction of a maximum skips a zero maximum (`redis_memory_max_bytes` is 0 when maxmemory is unset);
- an absent counter or count means zero (`or vector(0)`) where that decides a "below" alert;
- an absent timestamp is decided explicitly (`or absent(x)`), and a traffic floor is an `and` after the
  comparison (comparisons bind tighter than `and`/`or`: `a > 0.05 and b >= 100`);
- Prometheus 3 stores classic-histogram bounds as floats: `le="1.0"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import quantile
from .exporters import KINDS, Kind
from .promql_base import ConditionError, aggregate, le_value  # also promql.X for its users
from .spec.conditions import Condition
from .spec.models import Target
from .spec.units import Duration, Quantity, promql_number

# Which threshold units each condition kind accepts, and whether it needs one.
UNITS: dict[str, tuple[str, ...]] = {
    "down": (),
    "always": (),
    "availability": ("percent",),
    "threshold": ("number", "percent", "duration", "bytes"),
    "fraction": ("percent",),
    "ratio": ("percent",),
    "increase": ("number", "rate"),
    "quantile": ("duration", "number"),
    "average": ("duration", "number"),
    "count": ("number", "percent"),
    "age": ("duration",),
    "absent": (),
}


# Conditions measured over a range window: their `every` is the window, so `for` defaults to 0s (a second wait of
# one cadence on top of the window would hide a burst that fills one window). Instant conditions (down,
# threshold, fraction, count) take `every` as how long the condition must hold.
WINDOWED = frozenset({"availability", "ratio", "increase", "quantile", "average", "absent"})


@dataclass(frozen=True)
class Context:
    targets: dict[str, Target]
    scrape_interval: Duration
    kinds: Mapping[str, Kind] = field(default_factory=lambda: KINDS)  # with the spec's own `exporters:`
    buckets: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # declared histograms' `buckets:`


@dataclass(frozen=True)
class Built:
    """A condition's expression in parts: `query` is the value the alert shows (`$value`); `guard` comes after the
    comparison (` and <floor>`, ` or absent(x)`); `condition`, when a kind filters its value by a condition of its
    own (` and <exact share>`), takes the place of `op threshold`."""
    query: str
    guard: str = ""
    condition: str | None = None

    def expr(self, op: str | None, value: float | None) -> str:
        if self.condition is not None:
            return f"{self.query}{self.condition}{self.guard}"
        if value is None:
            return self.query + self.guard
        # the guard comes after the comparison, which binds tighter
        return f"{self.query} {op} {promql_number(value)}{self.guard}"


def window_of(condition_over: Duration | None, every: Duration | None, ctx: Context) -> Duration:
    """The range of a rate: the condition's `over`, else the alert's cadence, else 5m; never under 4 scrapes."""
    if condition_over is not None:
        if condition_over.ms < 2 * ctx.scrape_interval.ms:
            raise ConditionError(
                f"window {condition_over} holds fewer than two scrapes (scrape_interval {ctx.scrape_interval}): "
                "rate() would return nothing", ("over",),
                hint=f"use at least {Duration(4 * ctx.scrape_interval.ms)}")
        return condition_over
    base = every or Duration(300_000)
    return max(base, Duration(4 * ctx.scrape_interval.ms))


def render(condition: Condition, op: str | None, threshold: Quantity | None, every: Duration | None,
           ctx: Context) -> str:
    """The alert expression for `condition`, compared with `threshold` by `op` (`>` or `<`)."""
    return parts(condition, op, threshold, every, ctx).expr(op, number_of(threshold))


def parts(condition: Condition, op: str | None, threshold: Quantity | None, every: Duration | None,
          ctx: Context) -> Built:
    """The alert expression for `condition` in parts (see Built): what it shows, and what filters it."""
    kind = condition.kind
    allowed = UNITS[kind]
    if not allowed:
        if threshold is not None:
            raise ConditionError(f"a `{kind}` condition takes no threshold: drop `above`/`below`")
    else:
        if threshold is None:
            raise ConditionError(f"a `{kind}` condition needs a threshold: `above:` or `below:`")
        if threshold.kind not in allowed:
            raise ConditionError(
                f"threshold {threshold.text!r} is a {threshold.kind}; a `{kind}` condition takes "
                f"{' or '.join(allowed)}", hint=_UNIT_HINTS.get(kind))
    built = _BUILDERS[kind](condition.body, op, threshold, every, ctx)
    if isinstance(built, Built):
        return built
    return Built(*built) if isinstance(built, tuple) else Built(built)


def number_of(threshold: Quantity | None) -> float | None:
    """The number a threshold is compared as (a rate per its unit)."""
    if threshold is None:
        return None
    return threshold.per_unit if threshold.kind == "rate" else threshold.value


_UNIT_HINTS = {
    "ratio": "write the share of the whole as a percentage, e.g. 5%",
    "fraction": "write the share of the maximum as a percentage, e.g. 90%",
    "availability": "write the uptime objective as a percentage, e.g. `below: 99.9%`",
    "increase": "write a count over the window (10) or a rate with its unit (10/min, 100/h)",
    "quantile": "write a duration with its unit, e.g. 1s or 500ms",
    "age": "write a duration with its unit, e.g. `above: 26h` (since) or `below: 14d` (until)",
}


def _job_selector(target_name: str, ctx: Context, metric: str) -> str:
    if target_name not in ctx.targets:
        known = ", ".join(sorted(ctx.targets))
        raise ConditionError(f"unknown target {target_name!r} (targets: {known})", ("target",))
    return f'{metric}{{job="{target_name}"}}'


def _down(body, op, threshold, every, ctx: Context) -> str:
    target = ctx.targets.get(body.target)
    kind = ctx.kinds.get(target.kind) if target is not None else None
    metric = "up" if body.check == "scrape" or kind is None else kind.up_metric
    return f"{_job_selector(body.target, ctx, metric)} == 0"


def _availability(body, op, threshold, every, ctx: Context) -> str:
    if op != "<":
        raise ConditionError("an availability objective is a floor: write `below: 99.9%`")
    return f"avg_over_time({_job_selector(body.target, ctx, 'up')}[{body.over}])"


def _threshold(body, op, threshold, every, ctx: Context) -> str:
    expr = body.metric
    if body.only_if:
        expr = f"({expr} and on (job, instance) ({body.only_if}))"
    return aggregate(body.aggregate, expr, body.by) if body.aggregate else expr


def _fraction(body, op, threshold, every, ctx: Context) -> str:
    num = body.used or body.free
    if body.aggregate:
        num = aggregate(body.aggregate, num, body.by)
        den = aggregate(body.aggregate, body.of, body.by)
        matching = ""
    else:
        den = body.of
        matching = f" on ({', '.join(body.by)})" if body.by else ""
    share = f"{num} /{matching} ({den} > 0)"
    return f"(1 - {share})" if body.free else share


def _rate_sum(selector: str, window: Duration, by: list[str], zero: bool, fn: str = "rate") -> str:
    expr = aggregate("sum", f"{fn}({selector}[{window}])", by)
    return f"({expr} or vector(0))" if zero and not by else expr


def floor(body, wholes: list[str], window: Duration) -> str:
    """` and <the whole's events in the window> >= N` (min_count) or `... rate >= r` (min_rate, per second), matched
    on the condition's `by` labels; "" without a floor."""
    if body.min_count is None and body.min_rate is None:
        return ""
    fn, least = ("increase", body.min_count) if body.min_count is not None else ("rate", body.min_rate.value)
    total = " + ".join(_rate_sum(w, window, body.by, zero=len(wholes) > 1, fn=fn) for w in wholes)
    on = f" on ({', '.join(body.by)})" if body.by else ""
    return f" and{on} {total} >= {promql_number(least)}"


def _ratio(body, op, threshold, every, ctx: Context):
    window = window_of(body.over, every, ctx)
    wholes = body.whole if isinstance(body.whole, list) else [body.whole]
    part = _rate_sum(body.part, window, body.by, zero=True)
    whole = " + ".join(_rate_sum(w, window, body.by, zero=len(wholes) > 1) for w in wholes)
    return f"{part} / ({whole} > 0)", floor(body, wholes, window)


def _increase(body, op, threshold, every, ctx: Context) -> str:
    window = window_of(body.over, every, ctx)
    scale = 1.0
    fn = "increase"
    if threshold is not None and threshold.kind == "rate" and window.seconds != threshold.per:
        fn, scale = "rate", threshold.per
    if body.counter and body.minus:
        expr = (f"{_rate_sum(body.counter, window, body.by, zero=False, fn=fn)} - "
                f"{_rate_sum(body.minus, window, body.by, zero=False, fn=fn)}")
    elif body.counter:
        expr = _rate_sum(body.counter, window, body.by, zero=False, fn=fn)
    else:
        count = _rate_sum(f"{body.histogram}_count", window, body.by, zero=False, fn=fn)
        fast = _rate_sum(f'{body.histogram}_bucket{{le="{le_value(body.slower_than.seconds)}"}}', window, body.by,
                         zero=False, fn=fn)
        expr = f"{count} - {fast}"
    if fn == "increase":
        # Events are whole: increase() extrapolates 10 events to 10.04, which must not pass "> 10".
        expr = f"round({expr})"
    else:
        single = body.counter and not body.minus
        expr = f"{expr} * {promql_number(scale)}" if single else f"({expr}) * {promql_number(scale)}"
    if op == "<" and not body.by:
        expr = f"({expr} or vector(0))"  # no counter yet, or no event: zero, which a "below" alert must see
    return expr


def _quantile(body, op, threshold, every, ctx: Context) -> Built:
    window = window_of(body.over, every, ctx)
    labels = ["le", *body.by]
    built = Built(f"histogram_quantile({promql_number(body.q)}, "
                  f"sum by ({', '.join(labels)}) (rate({body.histogram}_bucket[{window}])))",
                  floor(body, [f"{body.histogram}_count"], window))
    if threshold is None or not quantile.is_bound(threshold.value, ctx.buckets.get(body.histogram)):
        return built  # undeclared buckets (an exporter's histogram): the quantile compared with the threshold
    # a declared bound: the quantile stays the value, the exact bucket share decides; both sides carry `by`
    exact = quantile.exact_quantile(body.histogram, body.q, threshold.value, op, str(window), body.by)
    return Built(built.query, built.guard, f" and {exact}")


def _average(body, op, threshold, every, ctx: Context):
    window = window_of(body.over, every, ctx)
    total = _rate_sum(f"{body.histogram}_sum", window, body.by, zero=False)
    count = _rate_sum(f"{body.histogram}_count", window, body.by, zero=False)
    return f"{total} / ({count} > 0)", floor(body, [f"{body.histogram}_count"], window)


def _count(body, op, threshold, every, ctx: Context) -> str:
    if body.older_than is not None:
        inner = f"time() - {body.series} > {promql_number(body.older_than.seconds)}"
    elif body.above is not None:
        inner = f"{body.series} > {promql_number(body.above)}"
    else:
        inner = f"{body.series} < {promql_number(body.below)}"
    counted = f"(count({inner}) or vector(0))"
    if body.of is None:
        if threshold is not None and threshold.kind == "percent":
            raise ConditionError("a share needs a total: add `of:` (a gauge holding the total)", ("of",))
        return counted
    if threshold is not None and threshold.kind != "percent":
        raise ConditionError("with `of:`, the threshold is a share: write it as a percentage, e.g. 5%")
    return f"{counted} / ({aggregate('sum', body.of)} > 0)"


def _age(body, op, threshold, every, ctx: Context):
    if op != (">" if body.since else "<"):
        raise ConditionError(
            "the time since a timestamp takes `above: 26h` (it fires once too old)" if body.since else
            "the time until a timestamp takes `below: 14d` (it fires once too little is left)",
            hint="`since` is the time since it happened (a last success); `until` the time left (an expiry)")
    expr = f"time() - {body.since}" if body.since else f"{body.until} - time()"
    return expr, f" or absent({body.selector})" if body.fires_when_absent else ""


def _absent(body, op, threshold, every, ctx: Context) -> str:
    window = window_of(body.over, every, ctx)
    selector = body.series if body.series else _job_selector(body.target, ctx, "up")
    return f"absent_over_time({selector}[{window}])"


def _always(body, op, threshold, every, ctx: Context) -> str:
    return "vector(1)"


_BUILDERS = {
    "down": _down, "availability": _availability, "threshold": _threshold, "fraction": _fraction,
    "ratio": _ratio, "increase": _increase, "quantile": _quantile, "average": _average, "count": _count,
    "age": _age, "absent": _absent, "always": _always,
}
