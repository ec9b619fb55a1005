"""Test cases derived from an alert's typed condition and threshold, never from its rendered PromQL: one builder
per condition kind (the shared frame is in cases.py; quantiles in quantiles.py).

For each alert: a case that crosses the threshold and holds past `for` (firing, with the labels the expression
keeps and the value it should show), a case just on the safe side (silent, checked after `for`), and where `for`
> 0 a case that crosses it for less than `for` (pending). Kinds add their own edge: a zero maximum (fraction), an
absent counter or series that must count as zero ("below" alerts), one busy core of four (CPU), a rare slow group
inside fast traffic (quantiles).
"""

from __future__ import annotations

import math

from ..model import Model, Rule
from ..promql import WINDOWED, Context, window_of
from ..spec.models import Alert
from ..spec.units import Duration
from . import scenarios_more as more
from .quantiles import quantile_cases
from .cases import FAST, Case, Timing, case, flat, levels, pct, ramp, standard
from .series import Labeler, Selector, Series, Untestable, bucket_labels

MAX_SAMPLES = 50_000  # samples of one input series (e.g. a `for` of 8 days at a 15s scrape interval)
MAX_SERIES = 1_000  # input series of one case (a `count` threshold)


def budget(alert: Alert, rule: Rule, model: Model) -> tuple[str, str] | None:
    """(field, why) when proving this typed alert would need more than the caps allow, else None: work is
    bounded whatever numbers the spec holds."""
    ctx = Context(targets={t.name: t for t in model.spec.targets}, scrape_interval=model.spec.defaults.scrape_interval)
    timing = _timing(alert, rule, model, ctx)
    samples = timing.samples()
    if samples > MAX_SAMPLES:
        field = "for" if alert.for_ is not None else "every" if alert.every is not None else "when"
        return field, (f"its generated tests would need {samples:,} samples per series (at most {MAX_SAMPLES:,}): "
                       f"`for` {rule.for_} and the window are too long for the {timing.interval}s sample interval")
    threshold = alert.above or alert.below
    if alert.when.kind == "count" and alert.when.body.of is None and threshold is not None \
            and abs(threshold.value) > MAX_SERIES:
        return ("above" if alert.above is not None else "below"), (
            f"a count of {threshold.value:g} series: monstack proves counts up to {MAX_SERIES:,} series")
    return None


def cases_for(alert: Alert, rule: Rule, model: Model) -> list[Case]:
    """Every generated case of a typed alert; raises Untestable when the condition cannot be exercised."""
    kind = alert.when.kind
    over = budget(alert, rule, model)
    if over is not None:
        raise Untestable(over[1])
    ctx = Context(targets={t.name: t for t in model.spec.targets}, scrape_interval=model.spec.defaults.scrape_interval,
                  kinds=model.kinds)
    timing = _timing(alert, rule, model, ctx)
    threshold = alert.above or alert.below
    op = ">" if alert.above is not None else "<"
    builder = BUILDERS[kind]
    return builder(alert, alert.when.body, op, threshold, timing, Labeler(model))


def _timing(alert: Alert, rule: Rule, model: Model, ctx: Context) -> Timing:
    scrape = int(model.spec.defaults.scrape_interval.seconds)
    evaluation = int(model.spec.defaults.evaluation_interval.seconds)
    body = alert.when.body
    window = 0
    if alert.when.kind == "availability":
        window = int(body.over.seconds)
    elif alert.when.kind in WINDOWED:
        window = int(window_of(body.over, alert.every, ctx).seconds)
    interval = scrape
    if alert.when.kind == "availability":
        interval = max(scrape, window // 1440)
    elif window:
        interval = scrape * max(1, math.ceil(window / 120 / scrape))
    if alert.when.kind in ("down", "threshold", "fraction", "count", "always", "age"):
        t_true = 0
    elif alert.when.kind in ("ratio", "quantile", "average"):
        t_true = interval + evaluation
    else:
        t_true = window + interval
    return Timing(interval, evaluation, window, int(rule.for_.seconds), t_true)


# --- threshold levels ----------------------------------------------------------------------------------------

def _down(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    target = next(t for t in labeler.model.spec.targets if t.name == body.target)
    metric = "up" if body.check == "scrape" else labeler.model.kinds[target.kind].up_metric
    labels = labeler.satisfying(Selector(metric, (("job", "=", body.target),)))

    def build(level, n):
        return [Series(metric, labels, flat(level, n))], level, labels

    return standard(alert, timing, build, 0.0, 1.0, lambda v: f"{metric} = {v:g}")


def _availability(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    labels = labeler.satisfying(Selector("up", (("job", "=", body.target),)))
    per_window = timing.window // timing.interval  # samples in the window ending at an aligned time
    budget = per_window * (1 - threshold.value)  # failed scrapes the objective allows
    failed_crossing = math.floor(budget) + 1
    failed_safe = max(math.ceil(budget) - 1, 0)

    def build(failed, n):
        values = flat(1.0, n)
        first = (n - 1) - per_window // 2  # failures in the middle of the last window
        for k in range(first, first + int(failed)):
            values[k] = 0.0
        return [Series("up", labels, values)], (per_window - failed) / per_window, labels

    return standard(alert, timing, build, failed_crossing, failed_safe,
                     lambda f: f"{int(f)} failed scrapes of {per_window} ({pct((per_window - f) / per_window)} up)")


def _threshold(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    selector = Selector.parse(body.metric)
    labels = labeler.satisfying(selector, keep=tuple(body.by))
    guard = guard_series(body.only_if, labels, labeler) if body.only_if else []
    kept = {k: labels[k] for k in body.by} if body.aggregate else labels
    crossing, safe = levels(threshold, op, exact=True)

    def build(level, n):
        return [Series(selector.name, labels, flat(level, n)), *(g(n) for g in guard)], level, kept

    cases = standard(alert, timing, build, crossing, safe, lambda v: f"{selector.name} = {v:g}")
    if guard:
        n = timing.samples()
        series = [Series(selector.name, labels, flat(crossing, n))]
        cases.append(case(alert, "silent", f"stays silent at {crossing:g} when `{body.only_if}` does not hold",
                           timing, series))
    return cases


def guard_series(expr: str, labels: dict[str, str], labeler: Labeler):
    """Series satisfying `selector OP number` (the form `only_if` supports), on the same job and instance."""
    import promql_parser  # noqa: PLC0415

    node = promql_parser.parse(expr)
    if type(node).__name__ != "BinaryExpr" or type(node.lhs).__name__ != "VectorSelector" or \
            type(node.rhs).__name__ != "NumberLiteral":
        raise Untestable(f"only_if {expr!r} is not `selector OP number`")
    selector = Selector.parse(str(node.lhs))
    target = node.rhs.val
    value = {"==": target, ">": target + 1, ">=": target, "<": target - 1, "<=": target, "!=": target + 1}
    if str(node.op) not in value:
        raise Untestable(f"only_if {expr!r}: unsupported comparison")
    guard_labels = labeler.satisfying(selector, extra=labeler.shared(selector, labels, ("job", "instance")))
    return [lambda n: Series(selector.name, guard_labels, flat(value[str(node.op)], n))]


def _fraction(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    part = Selector.parse(body.used or body.free)
    whole = Selector.parse(body.of)
    if body.aggregate:
        part_labels = labeler.satisfying(part, keep=tuple(body.by))
        whole_labels = labeler.satisfying(whole, extra=labeler.shared(whole, part_labels, body.by))
        kept = {k: part_labels[k] for k in body.by}
    else:  # matched on all labels, or `on (by)`: the whole keeps its own job's labels (see Labeler.shared)
        part_labels = labeler.satisfying(part, keep=tuple(body.by))
        whole_labels = labeler.satisfying(whole, extra=labeler.shared(whole, part_labels, body.by or part_labels))
        target = ("job", "instance")
        if not body.by and {k: v for k, v in whole_labels.items() if k not in target} != \
                {k: v for k, v in part_labels.items() if k not in target}:
            raise Untestable("used/free and of need the same labels to divide one by the other")
        kept = {k: part_labels[k] for k in body.by} if body.by else part_labels
    maximum = 1000.0
    crossing, safe = levels(threshold, op, exact=False)

    def build(level, n, maximum=maximum):
        used = level * maximum
        side = used if body.used else maximum - used
        return [Series(part.name, part_labels, flat(side, n)), Series(whole.name, whole_labels, flat(maximum, n))], \
            level, kept

    cases = standard(alert, timing, build, crossing, safe, lambda v: f"{pct(v)} of {whole.name}")
    n = timing.samples()
    side = maximum if body.used else 0.0  # as full as it gets, against a maximum of zero
    cases.append(case(alert, "silent", f"stays silent when {whole.name} is 0 (no maximum set)", timing,
                       [Series(part.name, part_labels, flat(side, n)), Series(whole.name, whole_labels, flat(0, n))]))
    return cases


def _ratio(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    part = Selector.parse(body.part)
    if part.name == "node_cpu_seconds_total":
        return _cpu(alert, body, op, threshold, timing, labeler, part)
    wholes = [Selector.parse(w) for w in (body.whole if isinstance(body.whole, list) else [body.whole])]
    x_labels = labeler.satisfying(part, keep=tuple(body.by))
    m = sum(w.matches(part.name, x_labels) for w in wholes)
    y_name, y_labels = None, None
    for w in wholes:
        candidate = labeler.satisfying(w, extra=labeler.shared(w, x_labels, body.by))
        if not part.matches(w.name, candidate):
            y_name, y_labels = w.name, candidate
            break
        failing = labeler.failing(part, candidate)
        if failing is not None and w.matches(w.name, failing):
            y_name, y_labels = w.name, failing
            break
    if y_name is None:
        raise Untestable("no series counts in the whole without counting in the part")
    k = sum(w.matches(y_name, y_labels) for w in wholes)
    kept = {key: x_labels[key] for key in body.by}
    crossing, safe = levels(threshold, op, exact=False)
    total, low = more.traffic(body, timing) if more.has_floor(body) else (FAST, 0.0)

    def build(q, n, total=total):
        x = q * total  # part rate; whole = m x + k y = total
        y = (total - m * x) / k
        if y < 0:
            raise Untestable(f"a share of {pct(q)} is impossible when the part counts {m} times in the whole")
        return [Series(part.name, x_labels, ramp(x, timing.interval, n)),
                Series(y_name, y_labels, ramp(y, timing.interval, n))], q, kept

    cases = standard(alert, timing, build, crossing, safe, lambda q: f"{pct(q)} of {wholes[0].name}")
    if more.has_floor(body):
        level = 1.0 if op == ">" and m <= 1 else crossing  # every request of the few failed
        cases.append(more.under_floor(alert, body, timing, build, level, low, f"{pct(level)} of {wholes[0].name}"))
    return cases


def _cpu(alert, body, op, threshold, timing: Timing, labeler: Labeler, part: Selector) -> list[Case]:
    """CPU time as node_exporter counts it: one counter per core and mode, each core's modes adding up to one
    second per second. The safe side includes one fully busy core of four (busy, but not the node)."""
    cores = 4
    busy_labels = labeler.satisfying(part, keep=tuple(body.by))
    idle_labels = labeler.failing(part, busy_labels)
    if idle_labels is None:
        raise Untestable("no CPU mode counts in the whole but not in the part")
    kept = {k: busy_labels[k] for k in body.by}
    crossing, safe = levels(threshold, op, exact=False)

    def build(busy_per_core, n):
        busy = busy_per_core if isinstance(busy_per_core, list) else [busy_per_core] * cores
        series = []
        for cpu, share in enumerate(busy):
            series.append(Series(part.name, {**busy_labels, "cpu": str(cpu)}, ramp(share, timing.interval, n)))
            series.append(Series(part.name, {**idle_labels, "cpu": str(cpu)}, ramp(1 - share, timing.interval, n)))
        return series, sum(busy) / cores, kept

    cases = standard(alert, timing, build, crossing, safe, lambda q: f"{pct(q)} busy on each of {cores} cores")
    if 1 / cores < (threshold.value if op == ">" else 0):
        series, _, _ = build([1.0] + [0.0] * (cores - 1), timing.samples())
        cases.append(case(alert, "silent", f"stays silent with one busy core of {cores}", timing, series))
    return cases


def _increase(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    if body.minus:
        return more.increase_minus(alert, body, op, threshold, timing, labeler)
    # events per threshold unit (`10/min`), or per window for a plain count
    unit = threshold.per if threshold.kind == "rate" else timing.window
    # whole events (round(increase(...))) sit exactly either side; a scaled rate (rate * 60) is computed, so it
    # keeps a margin that floating-point rounding cannot cross
    rounded = threshold.kind != "rate" or timing.window == threshold.per
    crossing, safe = levels(threshold, op, exact=rounded)
    selector = Selector.parse(body.counter) if body.counter else Selector(f"{body.histogram}_count", ())
    labels = labeler.satisfying(selector, keep=tuple(body.by))
    kept = {k: labels[k] for k in body.by}

    def build(events, n):
        rate = events / unit
        if body.counter:
            return [Series(selector.name, labels, ramp(rate, timing.interval, n))], events, kept
        bound = body.slower_than.seconds
        fast = ramp(FAST, timing.interval, n)
        total = ramp(FAST + rate, timing.interval, n)
        return [Series(f"{body.histogram}_bucket", bucket_labels(labels, bound), fast),
                Series(f"{body.histogram}_bucket", bucket_labels(labels, math.inf), total),
                Series(f"{body.histogram}_count", labels, total)], events, kept

    what = f"{body.histogram} slower than {body.slower_than}" if body.histogram else selector.name
    span = f"/{Duration(int(unit * 1000))}"
    cases = standard(alert, timing, build, crossing, safe, lambda v: f"{v:g} {what}{span}")
    if op == "<" and not body.by:
        cases.append(case(alert, "firing", f"fires when {selector.name} does not exist yet (zero events)", timing,
                           [], value=0.0, labels={}))
    return cases


def _average(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    labels = labeler.satisfying(Selector(f"{body.histogram}_count", ()), keep=tuple(body.by))
    kept = {k: labels[k] for k in body.by}
    crossing, safe = levels(threshold, op, exact=False)
    count_rate, low = more.traffic(body, timing, usual=0.1) if more.has_floor(body) else (0.1, 0.0)

    def build(mean, n, count_rate=count_rate):
        return [Series(f"{body.histogram}_sum", labels, ramp(count_rate * mean, timing.interval, n)),
                Series(f"{body.histogram}_count", labels, ramp(count_rate, timing.interval, n))], mean, kept

    cases = standard(alert, timing, build, crossing, safe, lambda v: f"an average of {v:g}")
    if more.has_floor(body):
        cases.append(more.under_floor(alert, body, timing, build, crossing, low, f"an average of {crossing:g}"))
    return cases


def _count(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    selector = Selector.parse(body.series)
    base = labeler.satisfying(selector)
    key = next(iter(labeler.usual_labels(selector.name)), "id")  # what tells the counted series apart
    total = 50
    if body.of is not None:
        share = threshold.value * total  # series at the threshold
        if op == ">":
            crossing, safe = math.floor(share) + 1, math.ceil(share) - 1
        else:
            crossing, safe = math.ceil(share) - 1, math.floor(share) + 1
        if crossing < 0 or safe < 0:
            raise Untestable(f"no whole number of {total} series is on both sides of {threshold.text}")
        of = Selector.parse(body.of)
        of_labels = labeler.satisfying(of)
    else:
        crossing, safe = levels(threshold, op, exact=True)
        of, of_labels = None, None
    if body.older_than is not None:
        matching, other = -(body.older_than.seconds + 3600), None  # a success long before the test began
    elif body.above is not None:
        matching, other = body.above + 1, body.above
    else:
        matching, other = body.below - 1, body.below

    def build(k, n):
        k = int(k)
        series = []
        for j in range(k):
            series.append(Series(selector.name, {**base, key: f"{j + 1}"}, flat(matching, n)))
        for j in range(k, k + 3):  # a few that do not match
            values = ramp(1.0, timing.interval, n) if other is None else flat(other, n)
            series.append(Series(selector.name, {**base, key: f"{j + 1}"}, values))
        if of is not None:
            series.append(Series(of.name, of_labels, flat(total, n)))
        value = k / total if of is not None else float(k)
        return series, value, {}

    describe = (lambda k: f"{int(k)} of {total} series matching") if of is not None else \
        (lambda k: f"{int(k)} series matching")
    cases = standard(alert, timing, build, crossing, safe, describe)
    if op == "<" and of is None:
        cases.append(case(alert, "firing", f"fires when no {selector.name} series exists at all", timing, [],
                           value=0.0, labels={}))
    return cases



def _always(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    cases = [case(alert, "firing", "always fires", timing, [], value=1.0)]  # from its first evaluation past `for`
    if timing.pending_at is not None:
        cases.append(case(alert, "pending", "is only pending before `for` has passed", timing, [],
                          at=timing.pending_at, value=1.0))
    return cases


BUILDERS = {
    "down": _down, "availability": _availability, "threshold": _threshold, "fraction": _fraction,
    "ratio": _ratio, "increase": _increase, "quantile": quantile_cases, "average": _average, "count": _count,
    "age": more.age, "absent": more.absent, "always": _always,
}
