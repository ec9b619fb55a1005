"""Which metric names exist in a spec's world, and which names a PromQL expression selects.

Shared by the checks (checks/metrics.py), the dashboards (panels.py) and the metrics contract (contract.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .exporters import SCRAPE_METRICS

if TYPE_CHECKING:
    from .model import Model

BUILTIN = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


def known_metrics(model: "Model") -> set[str]:
    names = set(SCRAPE_METRICS | BUILTIN)
    for job in model.jobs:
        names |= job.catalog.metrics
    for metric in model.spec.metrics:
        if metric.type in ("histogram", "summary"):
            names |= {f"{metric.name}_sum", f"{metric.name}_count"}
            names.add(f"{metric.name}_bucket" if metric.type == "histogram" else metric.name)
        else:
            names.add(metric.name)
    names |= {record.record for record in model.spec.records}  # recording rules store new series
    return names


def metric_names(node) -> list[str]:
    """Every metric name a PromQL AST selects."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        if node.name:
            return [node.name]
        return [m.value for m in node.matchers.matchers if m.name == "__name__" and str(m.op) == "MatchOp.Equal"]
    out = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out += metric_names(child)
    for arg in getattr(node, "args", None) or ():
        out += metric_names(arg)
    return out
