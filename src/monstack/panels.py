"""What each dashboard panel shows, resolved from the model: its PromQL, unit, threshold and legend.

The spec's `dashboards:` name things (an alert, a metric, a target, raw PromQL); this module owns the queries:
- an alert's panel runs the alert's own expression without its comparison, and draws the threshold;
- a counter is a summed rate (`per: 1h`: `increase(...[1h])`, really per hour), a histogram a quantile of summed
  bucket rates, a `*_timestamp_seconds` gauge an age; metric panels follow the `job`/`instance` variables;
- a target's panel is up/down as its down alert sees it (`pg_up` for postgres, `up` for an app).
A problem is a PanelError naming the panel's offending key; monstack.boards turns it into a positioned diagnostic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .metrics import known_metrics, metric_names
from .model import Model, Rule
from .spec.dashboards import Panel
from .spec.units import Quantity, promql_number

FILTERS = {"job": 'job=~"$job"', "instance": 'instance=~"$instance"'}
# Labels worth a legend entry for exporter metrics that pass through with their own labels.
LABEL_HINTS = {"node_filesystem_": ("mountpoint",), "pg_stat_database_": ("datname",), "pg_database_": ("datname",),
               "pg_stat_activity_": ("datname", "state"), "celery_queue_": ("queue_name",)}
_COMPARISON = re.compile(r"^(?P<base>.*\S)\s*(?P<op>==|!=|>=|<=|>|<)\s*"
                         r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", re.S)
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Threshold:
    value: float  # in the panel's unit (a fraction for percentunit)
    red_above: bool  # red at and above `value` (an `above` alert), else red below it


@dataclass(frozen=True)
class View:
    """One resolved panel."""

    title: str
    type: str
    query: Query
    unit: str
    threshold: Threshold | None = None
    updown: bool = False  # 1 is UP, 0 is DOWN
    description: str = ""
    width: int | None = None
    height: int | None = None
    min: float | None = None
    max: float | None = None
    alert: str | None = None  # the alert this panel shows
    more: tuple[Query, ...] = ()  # further queries drawn with `query` (refIds B, C, ...)
    steps: tuple[tuple[float, str], ...] = ()  # (value, colour) steps above green, ascending; else `threshold`'s
    instant: bool = False  # evaluated once, at the end of the time range

    def queries(self) -> tuple[Query, ...]:
        return (self.query, *self.more)


class PanelError(ValueError):
    def __init__(self, message: str, field: str, hint: str | None = None, check: str = "dashboards") -> None:
        super().__init__(message)
        self.field, self.hint, self.check = field, hint, check


class Reported(PanelError):
    """The panel cannot be built because of a problem already reported elsewhere (an alert without its rule)."""


def split_comparison(expr: str) -> tuple[str, str, float] | None:
    """`query op number` -> (query, op, number) when that comparison is the expression's top level, else None.
    A guard after it (`query op number and <floor>`, `query op number or absent(x)`) is dropped: the comparison
    is then the left side of the top-level `and`/`or`.

    Contract with model._rule / promql.render: a typed rule's expr is `<query> <op> <number>` (`>`/`<` with the
    threshold, `== 0` for a down condition), optionally followed by such a guard, except `always` (`vector(1)`),
    `absent` (`absent_over_time(...)`) and a quantile at a declared bucket bound (`<query> and <exact share>`,
    whose query is `rule.query`); tests hold every typed rule to it.
    """
    guarded = comparison_before_guard(expr)
    return _split(guarded if guarded is not None else expr)


def comparison_before_guard(expr: str) -> str | None:
    """`A op n` of `A op n and B` / `A op n or B` (the top-level set operator's left side, as written), else None."""
    import promql_parser  # noqa: PLC0415

    try:
        whole = promql_parser.parse(expr)
    except ValueError:
        return None
    if type(whole).__name__ != "BinaryExpr" or str(whole.op) not in ("and", "or"):
        return None
    lhs = str(whole.lhs)
    for match in re.finditer(rf" {whole.op} ", expr):
        head = expr[:match.start()]
        try:
            if str(promql_parser.parse(head)) == lhs:
                return head
        except ValueError:
            continue
    return None


def _split(expr: str) -> tuple[str, str, float] | None:
    import promql_parser  # noqa: PLC0415 - a Rust extension: load it only when needed

    match = _COMPARISON.match(expr.strip())
    if not match:
        return None
    try:
        whole, base = promql_parser.parse(expr), promql_parser.parse(match["base"])
    except ValueError:
        return None
    if (type(whole).__name__ != "BinaryExpr" or str(whole.op) != match["op"]
            or (whole.modifier is not None and whole.modifier.return_bool)
            or type(whole.rhs).__name__ != "NumberLiteral" or str(whole.lhs) != str(base)):
        return None
    return match["base"], match["op"], float(match["value"])


def parseable(expr: str) -> str:
    """A panel query with Grafana's variables replaced so that a PromQL parser takes it."""
    return VARIABLE.sub(lambda m: "5m" if (m[1] or m[2]).startswith("__") else ".+", expr)


# --- resolution -------------------------------------------------------------------------------------------------

def panel(model: Model, spec: Panel) -> View:
    """The panel a spec panel describes (raises PanelError)."""
    source = spec.source
    extra = [name for name in ("by", "aggregate", "per", "quantile") if getattr(spec, name)]
    if source != "metric" and extra:
        raise PanelError(f"`{extra[0]}` applies to metric panels only", extra[0])
    if source in ("alert", "target") and (spec.above or spec.below):
        raise PanelError(f"a{'n alert' if source == 'alert' else ' target'} panel draws its own threshold",
                         "above" if spec.above else "below")
    view = {"alert": _alert_view, "metric": _metric_view, "target": _target_view, "expr": _expr_view}[source](
        model, spec)
    threshold = _drawn(spec.above, spec.below) or view.threshold
    drawn = spec.above or spec.below
    unit = spec.unit or (_unit_of(drawn) if drawn is not None and drawn.kind != "number" else view.unit)
    query = Query(view.query.expr, spec.legend if spec.legend is not None else view.query.legend)
    if source in ("metric", "target"):  # what monstack wrote is held to the rules of what a user writes
        _check_query(model, query.expr, source)  # (an alert's own query is linted at the alert)
    return View(title=spec.title or view.title, type=spec.type or view.type, query=query, unit=unit,
                threshold=threshold, updown=view.updown, description=spec.description or view.description,
                width=spec.width, height=spec.height, min=spec.min if spec.min is not None else view.min,
                max=spec.max if spec.max is not None else view.max, alert=view.alert)


def _drawn(above: Quantity | None, below: Quantity | None) -> Threshold | None:
    quantity = above or below
    if quantity is None:
        return None
    return Threshold(quantity.per_unit if quantity.kind == "rate" else quantity.value, above is not None)


def _unit_of(quantity: Quantity | None) -> str:
    if quantity is None:
        return "short"
    if quantity.kind == "rate":
        return {1.0: "cps", 60.0: "cpm"}.get(quantity.per, "short")
    return {"percent": "percentunit", "duration": "s", "bytes": "bytes"}.get(quantity.kind, "short")


def alert_view(model: Model, rule: Rule) -> View:
    """The panel of one alert: its expression without the comparison, its threshold, its unit."""
    alert = model.spec.alerts[rule.index]
    split = split_comparison(rule.expr)
    quantity = alert.above or alert.below
    if split is None and rule.typed and rule.query and quantity is not None:
        # a kind filtering its value by a condition of its own (an exact quantile): the value, drawn at the threshold
        split = (rule.query, ">" if alert.above is not None else "<", float(quantity.value))
    expr, threshold, unit, updown = rule.expr, None, "short", False
    kind = alert.when.kind if alert.when is not None else None
    if kind == "absent":
        return _absent_view(alert, rule)
    if split is not None:
        expr, op, number = split
        if kind == "down":
            threshold, unit, updown = Threshold(1, red_above=False), "none", True
        elif alert.above or alert.below:
            threshold, unit = _drawn(alert.above, alert.below), _unit_of(alert.above or alert.below)
            whole = (kind == "increase" and "round(" in expr) or (kind == "count" and alert.above is not None
                                                                  and alert.above.kind == "number")
            if alert.above is not None and whole and float(number).is_integer():
                # A step colours values from its own on; rounded event counts fire from N + 1 on, not at N.
                threshold = Threshold(number + 1, red_above=True)
        elif op in (">", ">=", "<", "<="):
            threshold = Threshold(number, red_above=op.startswith(">"))
    when = (f"above {quantity}" if alert.above else f"below {quantity}") if quantity else \
        "when down" if kind == "down" else "while its expression returns a value"
    held = f" for {rule.for_}" if rule.for_.ms else ""
    return View(title=alert.name, type="stat" if kind in ("down", "availability") else "timeseries",
                query=Query(expr, _legend(model, expr, alert.name)), unit=unit, threshold=threshold, updown=updown,
                description=f"The query of alert {alert.name} ({alert.severity}), which fires {when}{held}.",
                min=0 if unit == "percentunit" else None, alert=alert.name)


def _absent_view(alert, rule: Rule) -> View:
    """An absent alert's panel: how many of its series exist now (its own expression shows nothing until it fires);
    red at 0."""
    body = alert.when.body
    selector = body.series or f'up{{job="{body.target}"}}'
    what = f"series of {body.series}" if body.series else f"discovered targets of job {body.target}"
    window = re.search(r"\[([^\]]+)\]\)$", rule.expr)
    held = f" (and {rule.for_} more)" if rule.for_.ms else ""
    return View(title=alert.name, type="stat", query=Query(f"count({selector}) or vector(0)", alert.name),
                unit="none", threshold=Threshold(1, red_above=False),
                description=f"How many {what} exist; alert {alert.name} ({alert.severity}) fires once there have been "
                            f"none for {window[1] if window else 'its window'}{held}.",
                min=0, alert=alert.name)


def _alert_view(model: Model, panel: Panel) -> View:
    rule = next((r for r in model.rules if r.name == panel.alert), None)
    if rule is None:
        names = sorted(a.name for a in model.spec.alerts)
        if panel.alert in names:  # its condition was refused, and reported at the alert
            raise Reported(f"alert {panel.alert!r} has no rule", "alert")
        raise PanelError(f"unknown alert {panel.alert!r}", "alert", _close(panel.alert, names))
    return alert_view(model, rule)


def _target_view(model: Model, panel: Panel) -> View:
    job = next((j for j in model.jobs if j.name == panel.target), None)
    if job is None:
        raise PanelError(f"unknown target {panel.target!r}", "target", _close(panel.target, [j.name for j in
                                                                                            model.jobs]))
    return target_view(job)


def target_view(job) -> View:
    name, metric = job.name, job.catalog.up_metric
    what = "Prometheus scrapes it" if metric == "up" else f"its exporter reaches it ({metric})"
    return View(title=f"{name} up", type="stat", query=Query(f'{metric}{{job="{name}"}}', "{{instance}}"),
                unit="none", threshold=Threshold(1, red_above=False), updown=True,
                description=f"UP when {what}; DOWN otherwise.")


def _expr_view(model: Model, panel: Panel) -> View:
    if panel.title is None:
        raise PanelError("a panel with a raw `expr` needs a `title`", "expr")
    _check_query(model, panel.expr, "expr")
    return View(title=panel.title, type="timeseries", query=Query(panel.expr, _legend(model, panel.expr,
                                                                                      panel.title)), unit="short")


def _metric_view(model: Model, panel: Panel) -> View:
    import promql_parser  # noqa: PLC0415

    text = panel.metric.strip()
    try:
        node = promql_parser.parse(text)
    except ValueError as exc:
        raise PanelError(f"invalid selector {text!r}: {exc}", "metric", check="promql") from None
    if type(node).__name__ != "VectorSelector" or not node.name or not text.startswith(node.name):
        raise PanelError(f"expected a metric selector such as name{{label=\"value\"}}, got {text!r}", "metric",
                         "monstack writes the rate, sum or quantile; for anything else use `expr`", "promql")
    name, kind = node.name, _metric_kind(model, node.name)
    if kind is None:
        raise PanelError(f"metric {name!r} is exposed by no target of this spec", "metric",
                         _close(name, sorted(_known(model))), "metrics")
    if panel.per and kind != "counter":
        raise PanelError(f"`per` counts events of a counter; {name} is a {kind}", "per")
    if panel.quantile and kind != "histogram":
        raise PanelError(f"`quantile` is for histograms; {name} is a {kind}", "quantile")
    if panel.aggregate and kind in ("histogram", "summary"):
        raise PanelError(f"the buckets of {name} are summed: `aggregate` does not apply", "aggregate")
    present = {m.name for m in node.matchers.matchers}
    filters = [f for label, f in FILTERS.items() if label not in present]
    inner = text[len(name):].strip()
    inner = inner[1:-1].strip().rstrip(",").strip() if inner else ""
    matchers = "{" + ", ".join(([inner] if inner else []) + filters) + "}"
    by = list(panel.by)
    legend = " ".join(f"{{{{{label}}}}}" for label in by)
    if kind == "counter":
        op = panel.aggregate or "sum"
        rate = _agg(op, f"rate({name}{matchers}[$__rate_interval])", by)
        if panel.per is None:
            expr, unit, title = rate, "cps", f"{name} per second"
        elif panel.per.ms >= 4 * model.spec.defaults.scrape_interval.ms:  # events in the last `per`, really
            expr = _agg(op, f"increase({name}{matchers}[{panel.per}])", by)
            unit, title = "short", f"{name} per {panel.per}"
        else:  # too short a window to count in: the rate, scaled
            expr, unit, title = f"{rate} * {promql_number(panel.per.seconds)}", "short", f"{name} per {panel.per}"
    elif kind == "histogram":
        q = panel.quantile or 0.95
        expr = (f"histogram_quantile({promql_number(q)}, sum by ({', '.join(['le', *by])}) "
                f"(rate({name}_bucket{matchers}[$__rate_interval])))")
        unit, title = _unit_of_name(name), f"{name} p{q * 100:.10g}"
    elif kind == "summary":
        rates = [_agg("sum", f"rate({name}_{part}{matchers}[$__rate_interval])", by) for part in ("sum", "count")]
        expr, unit, title = f"{rates[0]} / ({rates[1]} > 0)", _unit_of_name(name), f"{name} average"
    else:
        selector = f"{name}{matchers}"
        if name.endswith("_timestamp_seconds"):
            selector, unit, title = f"time() - {selector}", "s", f"{name} age"
        else:
            unit, title = _unit_of_name(name), name
        expr = _agg(panel.aggregate or "sum", selector, by) if (panel.aggregate or by) else selector
    if not legend:
        legend = _legend(model, expr, panel.title or title)
    return View(title=title, type="timeseries", query=Query(expr, legend), unit=unit)


def _agg(op: str, expr: str, by: list[str]) -> str:
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"


def _unit_of_name(name: str) -> str:
    return "s" if name.endswith("_seconds") else "bytes" if name.endswith("_bytes") else "short"


def _metric_kind(model: Model, name: str) -> str | None:
    declared = {m.name: m.type for m in model.spec.metrics}
    if name in declared:
        return declared[name]
    known = _known(model)
    if name.endswith("_bucket") and declared.get(name[:-7]) == "histogram":
        return None  # name the histogram itself
    if name in known:
        return "counter" if name.endswith("_total") else "gauge"
    if f"{name}_bucket" in known:
        return "histogram"
    return "summary" if {f"{name}_sum", f"{name}_count"} <= known else None


def _known(model: Model) -> set[str]:
    return known_metrics(model)


def _check_query(model: Model, expr: str, where: str) -> None:
    import promql_parser  # noqa: PLC0415


    try:
        ast = promql_parser.parse(parseable(expr))
    except ValueError as exc:
        raise PanelError(f"invalid PromQL: {exc}", where, f"the query was: {expr}", "promql") from None
    known = _known(model)
    for name in sorted(set(metric_names(ast))):
        if name not in known:
            raise PanelError(f"metric {name!r} is exposed by no target of this spec", where,
                             _close(name, sorted(known)), "metrics")


def _close(name: str, names: list[str]) -> str | None:
    import difflib  # noqa: PLC0415

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else None


def _legend(model: Model, expr: str, title: str) -> str:
    """`{{label}} ...` for the labels a query's result keeps, or the title when it is one series."""
    import promql_parser  # noqa: PLC0415


    try:
        ast = promql_parser.parse(parseable(expr))
    except ValueError:
        return ""
    labels = _labels(ast)
    if labels is None:  # the series' own labels: the instance, and what tells series of one metric apart
        names = metric_names(ast)
        declared = {m.name: m.labels for m in model.spec.metrics}
        labels = ["instance"]
        for name in names[:1]:
            labels += declared.get(name, [])
            labels += [label for prefix, hint in LABEL_HINTS.items() if name.startswith(prefix) for label in hint]
    labels = [label for label in dict.fromkeys(labels) if label != "le"]
    return " ".join(f"{{{{{label}}}}}" for label in labels) if labels else title


def _labels(node) -> list[str] | None:
    """The labels a PromQL result keeps: a list when the query fixes them, None when series keep their own."""
    kind = type(node).__name__
    if kind == "AggregateExpr":
        if str(node.op) in ("topk", "bottomk", "limitk", "limit_ratio"):
            return _labels(node.expr)
        if node.modifier is None:
            return []
        return list(node.modifier.labels) if str(node.modifier.type).endswith("By") else None
    if kind in ("ParenExpr", "UnaryExpr"):
        return _labels(node.expr)
    if kind == "BinaryExpr":
        card = str(node.modifier.card) if node.modifier is not None else ""
        if _scalar(node.lhs) or card.endswith("OneToMany"):
            return _labels(node.rhs)
        matching = node.modifier.matching if node.modifier is not None else None
        if (card.endswith("OneToOne") and matching is not None and str(matching.type).endswith("Include")
                and str(node.op) not in ("or", "and", "unless")):
            return list(matching.labels)  # one-to-one `on (...)` keeps only those labels
        return _labels(node.lhs)
    if kind == "Call":
        name = node.func.name
        if name in ("vector", "time", "scalar", "pi"):
            return []
        if name == "histogram_quantile":
            inner = _labels(node.args[1])
            return None if inner is None else [label for label in inner if label != "le"]
        vectors = [arg for arg in node.args if type(arg).__name__ not in ("NumberLiteral", "StringLiteral")]
        return _labels(vectors[0]) if vectors else []
    if kind in ("NumberLiteral", "StringLiteral"):
        return []
    return None  # selectors, subqueries: the series' own labels


def _scalar(node) -> bool:
    kind = type(node).__name__
    if kind in ("ParenExpr", "UnaryExpr"):
        return _scalar(node.expr)
    return kind == "NumberLiteral" or (kind == "Call" and node.func.name in ("time", "scalar", "pi"))


