"""What the spec knows about a PromQL expression that a parser alone does not: the AST's children, each metric's
type (declared under `metrics:`, or of the exporter catalogue), the scrape interval of the job a selector reads,
the labels a declared metric carries.  Shared by `checks.promql` and `checks.alerts`; no findings here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exporters import SCRAPE_METRICS
from ..model import Model

COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})
RATE_FUNCS = frozenset({"rate", "irate", "increase", "resets"})
GAUGE_FUNCS = frozenset({"delta", "deriv", "idelta", "predict_linear"})


def kind(node) -> str:
    return type(node).__name__


def op(node) -> str:
    return str(getattr(node, "op", "") or "").lower()


def func(node) -> str:
    return node.func.name if kind(node) == "Call" else ""


def children(node) -> list:
    k = kind(node)
    if k == "BinaryExpr":
        return [node.lhs, node.rhs]
    if k == "AggregateExpr":
        return [c for c in (node.param, node.expr) if c is not None]
    if k == "Call":
        return list(node.args or ())
    if k in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        return [node.expr]
    if k == "MatrixSelector":
        return [node.vector_selector]
    return []


def walk(node, parents: tuple = ()):
    """(node, its ancestors from the root) for every node, depth first."""
    yield node, parents
    for child in children(node):
        yield from walk(child, parents + (node,))


def unparen(node):
    while kind(node) == "ParenExpr":
        node = node.expr
    return node


def number(node) -> float | None:
    node = unparen(node)
    if kind(node) == "NumberLiteral":
        return float(node.val)
    if kind(node) == "UnaryExpr" and kind(unparen(node.expr)) == "NumberLiteral":
        return -float(unparen(node.expr).val)
    return None


def name_of(selector) -> str | None:
    if selector.name:
        return selector.name
    return next((m.value for m in selector.matchers.matchers if m.name == "__name__" and str(m.op).endswith("Equal")),
                None)


def equal_matchers(selector) -> dict[str, str]:
    return {m.name: m.value for m in selector.matchers.matchers if str(m.op) == "MatchOp.Equal"}


@dataclass(frozen=True)
class Facts:
    model: Model

    def metric_type(self, name: str) -> str | None:
        """counter | gauge | None (unknown or untyped) for a series name."""
        for metric in self.model.spec.metrics:
            if metric.type in ("counter", "gauge") and name == metric.name:
                return metric.type
            if metric.type in ("histogram", "summary"):
                if name in (f"{metric.name}_sum", f"{metric.name}_count") or name == f"{metric.name}_bucket" \
                        and metric.type == "histogram":
                    return "counter"
                if name == metric.name and metric.type == "summary":
                    return "gauge"
        for job in self.model.jobs:
            family = job.catalog.family(name)
            if family is not None:
                if family.type in ("histogram", "summary"):
                    return "gauge" if name == family.name else "counter"
                return family.type if family.type in ("counter", "gauge") else None
        if name in SCRAPE_METRICS:
            return "gauge"
        return None

    def origin(self, name: str) -> str:
        declared = any(m.name == name or name.startswith(m.name + "_") for m in self.model.spec.metrics)
        return "declared under `metrics:`" if declared else "in the exporter catalogue"

    def scrape_seconds(self, selector) -> float:
        """The scrape interval of the job a selector reads (its job="..." matcher), else the spec's default."""
        job = self.model.job(equal_matchers(selector).get("job", ""))
        interval = job.scrape_interval if job is not None and job.scrape_interval is not None \
            else self.model.spec.defaults.scrape_interval
        return interval.seconds

    def declared_labels(self, name: str) -> set[str] | None:
        """The labels a declared metric's series can carry (its own, job, instance, target labels and relabelling,
        le/quantile), or None when the metric is not declared (nothing to judge)."""
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        metric = next((m for m in self.model.spec.metrics if m.name in (name, base)
                       and (m.name == name or m.type in ("histogram", "summary"))), None)
        if metric is None:
            return None
        carried = set(metric.labels) | {"job", "instance", "__name__"}
        if metric.type == "histogram" and name.endswith("_bucket"):
            carried.add("le")
        if metric.type == "summary" and name == metric.name:
            carried.add("quantile")
        for job in self.model.jobs:
            carried |= set(job.labels)
        for target in self.model.spec.targets:
            carried |= _written_labels(target.model_dump())
        own = self.model.job(metric.target) if metric.target else None
        if "*" in carried or (own is not None and own.discovery is not None):
            return None  # labelmap or service discovery: labels the spec does not list
        return carried


def _written_labels(data) -> set[str]:
    """Every label a target's relabelling or own labels may write (target_label values, labels keys)."""
    out: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "action" and value == "labelmap":
                out.add("*")
            if key == "target_label" and isinstance(value, str):
                out.add(value)
            elif key == "labels" and isinstance(value, dict):
                out |= set(value)
            out |= _written_labels(value)
    elif isinstance(data, list):
        for item in data:
            out |= _written_labels(item)
    return out
