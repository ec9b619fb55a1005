"""`promql/vector-matching`: a binary operation between two vectors that can never match because each side's
series come from a different job and the matching labels include `job`/`instance` (default matching on all
labels, `on (...)` naming them, or `ignoring (...)` keeping them); and a one-to-one `on (...)` match between
unaggregated series of one job that leaves out `instance`: with two instances, two series of one side share the
matching labels and Prometheus fails the evaluation ("found duplicate series for the match group"). An error when
the job has (or discovers) more than one instance, a warning when it has one (the second one breaks it).

Which job a series comes from: a `job="x"` matcher, else the jobs that serve its name (`Model.served`). SCRAPE
metrics (`up`, ...) come from every job, so they never decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Diagnostic
from ..exporters import SCRAPE_METRICS
from .promql_facts import walk

if TYPE_CHECKING:
    from ..load import Source
    from ..model import Model

_TARGET_LABELS = frozenset({"job", "instance"})


def check(model: "Model", source: "Source") -> list[Diagnostic]:
    import promql_parser as p  # noqa: PLC0415 - a Rust extension: loaded only when needed

    served = {job.name: model.served(job) for job in model.jobs}
    problems: list[Diagnostic] = []
    for rule in model.rules:
        try:
            tree = p.parse(rule.expr)
        except ValueError:
            continue  # lint reports it
        for lhs, rhs, labels in _mismatches(tree, p, served):
            alert = model.spec.alerts[rule.index]
            problems.append(source.diagnostic(
                ("alerts", rule.index),
                f"alert {alert.name!r}: `{lhs[0]}` (job {', '.join(sorted(lhs[1]))}) and `{rhs[0]}` (job "
                f"{', '.join(sorted(rhs[1]))}) are matched on {', '.join(sorted(labels))}, which differ between "
                "jobs: the operation never finds a pair and the alert can never fire",
                check="promql/vector-matching",
                hint="match `on (...)` a label both sides carry, or `ignoring (job, instance)` when each side has "
                     "one series, or divide two series of the same job"))
        for side, labels, jobs in _duplicates(tree, p, served):
            many = [job for job in jobs if (j := model.job(job)) is not None
                    and (j.discovery is not None or len(j.instance_values) > 1)]
            alert = model.spec.alerts[rule.index]
            path = ("alerts", rule.index) + (("when", alert.when.kind, "by") if alert.when is not None
                                             and getattr(alert.when.body, "by", None) else ())
            if len(jobs) > 1:
                many, where = sorted(jobs), f"it comes from the jobs {', '.join(sorted(jobs))}"
            else:
                where = (f"job {', '.join(many)} has more than one instance" if many else
                         f"job {', '.join(sorted(jobs))} has one instance today")
            problems.append(source.diagnostic(
                path,
                f"alert {alert.name!r}: `{side}` is matched one-to-one on ({', '.join(labels)}), which leaves out "
                f"`instance`: {where}, and two instances' series share those labels, so Prometheus fails the "
                "evaluation (duplicate series for the match group)",
                check="promql/vector-matching", severity="error" if many else "warning",
                hint="add `instance` (and `job`) to the matching labels (a typed condition's `by:`), or drop `on` "
                     "when both sides carry the same labels"))
    return problems


def _duplicates(node, p, served):
    """(metric, matching labels, its jobs) for each side of a one-to-one `on (...)` match that is a plain series
    (not aggregated) and is not identified by the labels it is matched on (`instance` left out)."""
    for sub in (n for n, _ in walk(node) if isinstance(n, p.BinaryExpr)):
        modifier = sub.modifier
        if str(sub.op) in ("and", "or", "unless") or modifier is None or modifier.matching is None \
                or modifier.matching.type != p.LabelModifierType.Include \
                or modifier.card != p.VectorMatchCardinality.OneToOne:
            continue
        labels = list(modifier.matching.labels)
        if "instance" in labels:
            continue
        for side in (sub.lhs, sub.rhs):
            found = _jobs(side, p, served)
            if found is not None:
                yield found[0], labels, found[1]
                break


def _jobs(node, p, served: dict[str, frozenset[str]]):
    """(metric name, the jobs its series can come from) of a plain selector (through rate() & co.), else None."""
    while True:
        if isinstance(node, p.ParenExpr):
            node = node.expr
        elif isinstance(node, p.MatrixSelector):
            node = node.vector_selector
        elif isinstance(node, p.BinaryExpr) and isinstance(node.rhs, p.NumberLiteral):
            node = node.lhs  # `x > 0`, `x * 100`: the same series
        elif isinstance(node, p.BinaryExpr) and isinstance(node.lhs, p.NumberLiteral):
            node = node.rhs
        elif isinstance(node, p.Call) and len(node.args) == 1 and node.func.name.endswith(
                ("rate", "increase", "deriv", "_over_time")) or isinstance(node, p.Call) and node.func.name in (
                "rate", "irate", "increase", "delta", "idelta", "deriv"):
            node = next(a for a in node.args if not isinstance(a, (p.NumberLiteral, p.StringLiteral)))
        else:
            break
    if not isinstance(node, p.VectorSelector) or not node.name or node.name in SCRAPE_METRICS:
        return None
    named = [m.value for m in node.matchers.matchers if m.name == "job" and m.op == p.MatchOp.Equal]
    jobs = frozenset(named) if named else frozenset(job for job, names in served.items() if node.name in names)
    return (node.name, jobs) if jobs else None


def _mismatches(node, p, served):
    if isinstance(node, p.BinaryExpr):
        yield from _mismatches(node.lhs, p, served)
        yield from _mismatches(node.rhs, p, served)
        if str(node.op) == "or":
            return
        lhs, rhs = _jobs(node.lhs, p, served), _jobs(node.rhs, p, served)
        if lhs is None or rhs is None or lhs[1] & rhs[1]:
            return
        matching = node.modifier.matching if node.modifier is not None else None
        if matching is None:
            labels = _TARGET_LABELS
        elif matching.type == p.LabelModifierType.Include:
            labels = _TARGET_LABELS & set(matching.labels)
        else:
            labels = _TARGET_LABELS - set(matching.labels)
        if labels:
            yield lhs, rhs, labels
        return
    for child in ("expr", "vector_selector"):
        if hasattr(node, child) and getattr(node, child) is not None:
            yield from _mismatches(getattr(node, child), p, served)
    for arg in getattr(node, "args", None) or ():
        yield from _mismatches(arg, p, served)
