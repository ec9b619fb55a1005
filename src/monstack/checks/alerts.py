"""Alert-level semantic checks, around the expression checks of `checks.promql`:

- `alerts/comparison`: a raw `expr` that compares nothing fires whenever its series exist (absent() and
  set operations over comparisons are conditions by construction); a `bool` comparison always returns a series;
- `alerts/for`: absent() without `for` (a restart or one late scrape fires it); a `for` shorter than the evaluation
  or scrape interval (it cannot hold for less than one evaluation); a `keep_firing_for` shorter than one evaluation;
- `promql/fragile`: topk/bottomk/limitk without `by` in an alert (another series every evaluation: flapping), a
  binary operation between `without()` aggregations (both sides must keep the same labels);
- `promql/impossible` (typed): a `fraction` or `ratio` above 100%;
- `rule/duplicate`: two alerts of one group with the same name and labels, or the same expression and labels;
- and, for dashboard panels, the expression checks that apply to a graph; of the SLO dashboards' panels (generated
  from `slos:`), a range longer than the retention is a warning at the SLO's `period` (the error-budget panel
  averages over the period: with a shorter retention it reads the days kept as the whole period), not an error.
"""

from __future__ import annotations

import re

from ..errors import Diagnostic
from ..load import Source
from ..model import Model, Rule
from .promql import Finding, findings
from .promql_facts import COMPARISONS, Facts, func, kind, name_of, op, unparen, walk

SELECTOR_FIELDS = ("metric", "part", "whole", "counter", "minus", "used", "free", "of", "series", "since", "until",
                   "histogram", "only_if")
PANEL_CHECKS = ("promql/rate", "promql/range-retention", "promql/regexp", "promql/impossible")


def check(model: Model, source: Source) -> list[Diagnostic]:
    import promql_parser  # noqa: PLC0415

    facts = Facts(model)
    out: list[Diagnostic] = []
    seen: set[tuple] = set()

    def emit(path: tuple, finding: Finding) -> None:
        key = (path, finding.check, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(source.diagnostic(path, finding.message, check=finding.check, hint=finding.hint,
                                         severity=finding.severity))

    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        try:
            ast = promql_parser.parse(rule.expr)
        except ValueError:  # lint reports it; which regexp is wrong, if that is why, is said here
            for finding in unparsed_regexps(rule.expr):
                emit(_place(alert, rule.index, finding), finding)
            continue
        found = findings(ast, facts, alert=True) + _alert_findings(ast, rule, alert, model)
        for finding in found:
            emit(_place(alert, rule.index, finding), finding)
    for path, expr, slo in _panel_queries(model):
        try:
            ast = promql_parser.parse(expr)
        except ValueError:
            continue
        for finding in findings(ast, facts, alert=False):
            if finding.check in PANEL_CHECKS:
                emit(path, _budget_retention(slo, model) if slo and finding.check == "promql/range-retention"
                     else finding)
    out += _duplicates(model, source)
    return out


def _place(alert, index: int, finding: Finding) -> tuple:
    """The spec path of a finding: a typed condition's field naming its metric, the raw `expr`, or the alert."""
    if finding.at:
        return ("alerts", index, *finding.at)
    if alert.expr is not None:
        return ("alerts", index, "expr")
    when = ("alerts", index, "when", alert.when.kind)
    body = alert.when.body
    if finding.metric:
        for field in SELECTOR_FIELDS:
            value = getattr(body, field, None)
            texts = value if isinstance(value, list) else [value]
            for i, text in enumerate(texts):
                if isinstance(text, str) and finding.metric.startswith(text.split("{")[0].strip()) \
                        and (text.split("{")[0].strip() == finding.metric or field == "histogram"):
                    return when + ((field, i) if isinstance(value, list) else (field,))
    return when


def _alert_findings(ast, rule: Rule, alert, model: Model) -> list[Finding]:
    out: list[Finding] = []
    defaults = model.spec.defaults
    evaluation, scrape = defaults.evaluation_interval.seconds, defaults.scrape_interval.seconds
    if alert.expr is not None:
        verdict = condition(ast)
        if verdict == "none":
            out.append(Finding(
                "alerts/comparison", "error",
                "this expression compares nothing: the alert fires for every series it returns, i.e. always "
                "while the metric exists", "add a comparison, e.g. `... > 0.05`, or use absent(...) for a missing "
                "series"))
        elif verdict == "bool":
            out.append(Finding(
                "alerts/comparison", "warning",
                "a `bool` comparison returns 0 or 1 for every series instead of filtering them: the alert always "
                "fires", "drop `bool` so that only the series that match are returned"))
    calls = [node for node, _ in walk(ast) if kind(node) == "Call"]
    if any(func(c) == "absent" for c in calls) and rule.for_.seconds == 0:
        out.append(Finding(
            "alerts/for", "warning",
            "absent() without `for`: one late scrape, a restart of the target or of Prometheus fires it",
            "add `for: 5m` (or use `when: {absent: ...}`, which waits over a window)"))
    for_ = rule.for_.seconds
    if 0 < for_ < max(evaluation, scrape):
        which = "evaluation_interval" if evaluation >= scrape else "scrape_interval"
        out.append(Finding(
            "alerts/for", "warning",
            f"`for` {rule.for_} is shorter than the {which} ({_s(max(evaluation, scrape))}): the condition is only "
            "seen once per interval, so it fires on the first evaluation that sees it anyway",
            f"use `for: {_s(2 * max(evaluation, scrape))}` or more, or drop `for`",
            at=("for",) if alert.for_ is not None else ()))
    keep = rule.keep_firing_for.seconds if rule.keep_firing_for is not None else 0
    if 0 < keep < evaluation:
        out.append(Finding(
            "alerts/for", "warning",
            f"`keep_firing_for` {rule.keep_firing_for} is shorter than the evaluation_interval ({_s(evaluation)}): "
            "it has no effect", f"use at least {_s(2 * evaluation)}, or drop it",
            at=("keep_firing_for",) if alert.keep_firing_for is not None else ()))
    for node, _ in walk(ast):
        if kind(node) == "AggregateExpr" and op(node) in ("topk", "bottomk", "limitk", "limit_ratio") \
                and not (node.modifier is not None and str(node.modifier.type).endswith("By")):
            out.append(Finding(
                "promql/fragile", "warning",
                f"{op(node)}() without `by` in an alert: it keeps other series from one evaluation to the next, so "
                "the alert flaps (resolves and fires again with new labels)",
                f"alert on every series that crosses the threshold instead (drop {op(node)}), or add `by (...)`"))
        if kind(node) == "BinaryExpr" and all(_without(side) for side in (node.lhs, node.rhs)):
            out.append(Finding(
                "promql/fragile", "warning",
                "a binary operation between two `without()` aggregations: both sides must keep exactly the same "
                "labels, which changes whenever a target gains a label", "aggregate with `by (...)` on both sides"))
    if alert.when is not None and alert.above is not None and alert.when.kind in ("fraction", "ratio") \
            and alert.above.kind == "percent" and alert.above.value >= 1:
        out.append(Finding(
            "promql/impossible", "error",
            f"a {alert.when.kind} is at most 100%: `above: {alert.above.text}` is never true",
            "write the share as a percentage under 100%, e.g. `above: 90%`", at=("above",)))
    return out


def _s(seconds: float) -> str:
    return f"{int(seconds // 60)}m" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g}s"


def _without(node) -> bool:
    node = unparen(node)
    return kind(node) == "AggregateExpr" and node.modifier is not None \
        and str(node.modifier.type).endswith("Without")


def condition(node) -> str:
    """yes | bool | none: whether an expression's result is filtered by a condition."""
    node = unparen(node)
    k = kind(node)
    if k == "BinaryExpr":
        o = op(node)
        if o in COMPARISONS:
            if node.modifier is not None and node.modifier.return_bool:
                return "bool"
            return "yes"
        if o == "and":
            sides = (condition(node.lhs), condition(node.rhs))
            return "yes" if "yes" in sides else "bool" if "bool" in sides else "none"
        if o == "unless":
            return condition(node.lhs) if condition(node.lhs) != "none" else "yes"  # `x unless y`: a filter
        if o == "or":
            sides = (condition(node.lhs), condition(node.rhs))
            return "none" if "none" in sides else "bool" if "bool" in sides else "yes"
        sides = [condition(s) for s in (node.lhs, node.rhs)]
        return "yes" if "yes" in sides else "none"  # arithmetic over a filtered vector keeps the filter
    if k == "Call":
        if func(node) in ("absent", "absent_over_time"):
            return "yes"
        if func(node) == "vector":
            return "none"
        args = [condition(a) for a in node.args or () if kind(unparen(a)) not in ("StringLiteral", "NumberLiteral")]
        return "yes" if "yes" in args else "bool" if "bool" in args else "none"
    if k == "AggregateExpr":
        return condition(node.expr)
    if k == "SubqueryExpr":
        return "none"
    return "none"


def _panel_queries(model: Model):
    from .. import panels, slo_board  # noqa: PLC0415

    for i, dash in enumerate(model.spec.dashboards):
        groups = [(("dashboards", i, "panels"), dash.panels)]
        groups += [(("dashboards", i, "rows", j, "panels"), row.panels) for j, row in enumerate(dash.rows)]
        for at, items in groups:
            for k, spec_panel in enumerate(items):
                try:
                    view = panels.panel(model, spec_panel)
                except Exception:  # noqa: BLE001 - the dashboards check reports what cannot be resolved
                    continue
                yield at + (k,), panels.parseable(view.query.expr), None
    for j, slo in enumerate(model.spec.slos):
        for view in slo_board.slo_views(model, slo):
            for query in view.queries():
                yield ("slos", j, "period"), panels.parseable(query.expr), slo


def _budget_retention(slo, model: Model) -> Finding:
    """The one finding of an SLO whose period is longer than the retention: its error-budget panel."""
    from ..slo_board import days  # noqa: PLC0415

    kept = days(model.spec.defaults.retention)
    return Finding("promql/range-retention", "warning",
                   f"the SLO dashboard's error budget of {slo.name} averages its error ratio over the period "
                   f"({slo.period}), longer than the retention ({kept}): until Prometheus keeps {slo.period}, the "
                   f"panel counts the {kept} kept as the whole period",
                   f"raise `defaults.retention` to {slo.period} or more (and the disk Prometheus needs), or keep "
                   "the SLO's records in a long-term store")


def _duplicates(model: Model, source: Source) -> list[Diagnostic]:
    """Two alerts of one group with the same expression and labels (the same name is refused by the model)."""
    out = []
    first_by_expr: dict[tuple, Rule] = {}
    for rule in model.rules:
        key = (rule.group, " ".join(rule.expr.split()), tuple(sorted(rule.labels.items())))
        if key in first_by_expr:
            first = first_by_expr[key]
            out.append(source.diagnostic(
                ("alerts", rule.index),
                f"alert {rule.name!r} has the same expression and labels as {first.name!r} (alerts[{first.index}]) "
                f"in group {rule.group!r}: every notification comes twice", check="rule/duplicate",
                hint="remove one, or make them differ (threshold, severity, labels)"))
        first_by_expr.setdefault(key, rule)
    return out


def unparsed_regexps(expr: str) -> list[Finding]:
    """RE2 errors of the matchers of an expression the parser refused (the parser's message does not say which)."""
    from ..syntax import regex  # noqa: PLC0415

    out = []
    for label, sign, quoted in MATCHER.findall(expr):
        pattern = re.sub(r"\\(.)", r"\1", quoted)
        problem = regex.error(pattern)
        if problem is not None:
            out.append(Finding("promql/regexp", "error", f'{label}{sign}"{pattern}" is not a valid RE2 regexp: '
                               f"{problem}", "Prometheus uses Go's RE2: no look-arounds or backreferences"))
    return out


MATCHER = re.compile(r'(\w+)\s*(=~|!~)\s*"((?:[^"\\]|\\.)*)"')

__all__ = ["check", "condition", "name_of"]
