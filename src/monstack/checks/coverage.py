"""`proof/coverage`: one verdict from validate, test and drill.

A typed condition is the promise that monstack proves it (`monstack test` generates its cases) and can drive it
(`monstack drill`). One it cannot prove is refused here, before anything runs, with what to write instead: the
typed kind that fits, or a raw `expr:` with its own `tests:` (or a `waive:` with a reason). The proof generator is
asked which alerts it covers (`proof.plan`, no promtool); the drill which it can drive (`drill.drivers.driver`).
"""

from __future__ import annotations

from ..errors import Diagnostic
from ..load import Source
from ..model import Model

# kinds whose selector fields must be plain selectors for the proof to build series (an expression cannot be fed)
_EXPRESSION_HINT = ("write a plain selector (name{label=\"value\"}) and let the kind do the rest -- `increase:` or "
                    "`ratio:` for counters, `aggregate:`/`by:` for sums -- or write the expression as a raw `expr:` "
                    "with its own `tests:` (or `waive:` with a reason)")


def check(model: Model, source: Source, skip: set[int] = frozenset()) -> list[Diagnostic]:
    """Typed alerts (without hand-written tests or a waiver) that `monstack test` cannot cover or `monstack drill`
    cannot drive. `skip`: alert indexes already refused by another check."""
    from ..drill import drivers  # noqa: PLC0415
    from ..proof import plan  # noqa: PLC0415

    rules = {rule.index: rule for rule in model.rules}
    out = []
    for coverage in plan(model):
        alert = model.spec.alerts[coverage.index]
        if alert.when is None or alert.tests or alert.waive or coverage.index in skip:
            continue
        path = ("alerts", coverage.index, "when", alert.when.kind)
        expression = _expression_field(alert)
        if expression is not None:
            path += (expression,)
        if not coverage.covered:
            why = coverage.untestable or "no firing case can be generated"
            out.append(source.diagnostic(
                path, f"`monstack test` cannot prove this `{alert.when.kind}` condition: {why}",
                check="proof/coverage", hint=_EXPRESSION_HINT if expression else
                "use the typed kind that fits the metric, or a raw `expr:` with its own `tests:` (or `waive:`)"))
            continue
        if expression is not None and drivers.driver(model, rules[coverage.index]) is None:
            out.append(source.diagnostic(
                path, f"`monstack drill` cannot drive this `{alert.when.kind}` condition: its "
                f"{expression} is an expression, not a metric the drill can set", check="proof/coverage",
                hint=_EXPRESSION_HINT))
    return out


def _expression_field(alert) -> str | None:
    """The field of a typed condition holding a PromQL expression instead of a selector (threshold's metric)."""
    import promql_parser  # noqa: PLC0415

    text = getattr(alert.when.body, "metric", None)
    if not isinstance(text, str):
        return None
    try:
        node = promql_parser.parse(text)
    except ValueError:
        return None
    return None if type(node).__name__ == "VectorSelector" else "metric"
