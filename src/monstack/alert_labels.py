"""The labels an alert carries when it reaches Alertmanager, as far as the spec can tell.

An alert's labels are:
- fixed, with a value known here: `alertname`, `severity`, `service`, the alert's `labels`, and the external
  labels Prometheus adds to every alert it sends (`project`, `environment`, `project.labels`);
- kept by its expression, with a value known only at runtime. monstack parses the rendered PromQL and follows
  what each step keeps: a selector keeps its series' labels (`job`, `instance`, the target's `labels`, the labels
  it names in matchers, and a declared metric's `labels`; `up` and the scrape series have exactly those);
  `sum by (a)` keeps `a`, `sum without (a)` drops it, `sum(...)` keeps none; `on (a)` keeps `a` in one-to-one
  matching, `ignoring (a)` drops it, `group_left (b)` adds `b`; `or` keeps either side's; `histogram_quantile`
  drops `le`; `label_replace`/`label_join` add their target; `absent(...)` keeps its equality matchers;
  `vector(1)` keeps none.
- A metric whose labels monstack does not know (an exporter's, or an undeclared one) keeps "maybe more": such an
  alert *may* carry any label. Checks that say "no alert carries X" only count what monstack knows for certain
  is absent, so they never fire on a label an exporter might add; they warn instead when only such alerts could.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .exporters import SCRAPE_METRICS

if TYPE_CHECKING:
    from .model import Model

YES, MAYBE, NO = "yes", "maybe", "no"


@dataclass(frozen=True)
class Carried:
    """What an expression's result series may carry: `known` labels, plus any others when `open`."""

    known: frozenset[str] = frozenset()
    open: bool = False

    def __or__(self, other: "Carried") -> "Carried":
        return Carried(self.known | other.known, self.open or other.open)


OPEN = Carried(frozenset({"job", "instance"}), True)


@dataclass(frozen=True)
class AlertLabels:
    name: str
    index: int  # position in spec.alerts
    severity: str
    fixed: dict[str, str]  # label -> value, known from the spec
    dynamic: frozenset[str] = frozenset()  # labels the expression keeps (values known only at runtime)
    open: bool = False  # the expression may keep labels monstack cannot list
    sources: dict[str, str] = field(default_factory=dict)  # label -> why it is there, for messages

    def carries(self, label: str) -> str:
        """YES (fixed, or kept by the expression), MAYBE (only if an unknown metric label), or NO."""
        if label in self.fixed or label in self.dynamic:
            return YES
        return MAYBE if self.open else NO

    def value(self, label: str) -> str | None:
        """The label's value: known, "" when certainly absent (Alertmanager's view of a missing label), None when
        only known at runtime."""
        if label in self.fixed:
            return self.fixed[label]
        return "" if self.carries(label) == NO else None


def alert_labels(model: "Model") -> list[AlertLabels]:
    """Every alert of the spec (in spec order, also those whose rule could not be built), with its labels."""
    spec = model.spec
    external = {"project": spec.project.name, "environment": spec.project.environment, **spec.project.labels}
    exprs = {rule.index: rule.expr for rule in model.rules}
    catalogue = _Catalogue(model)
    out = []
    for i, alert in enumerate(spec.alerts):
        fixed = {**external, "alertname": alert.name, "severity": alert.severity}
        if alert.service:
            fixed["service"] = alert.service
        fixed.update(alert.labels)
        carried = catalogue.expression(exprs[i]) if i in exprs else OPEN
        carried = carried or Carried()  # a scalar result: Prometheus alerts on it with no labels
        dynamic = frozenset(carried.known - set(fixed) - {"__name__"})
        out.append(AlertLabels(alert.name, i, alert.severity, fixed, dynamic, carried.open))
    return out


class _Catalogue:
    """What the spec's targets and metrics tell about series labels."""

    def __init__(self, model: "Model") -> None:
        self.jobs = {job.name: frozenset(job.labels) for job in model.jobs}
        self.all_job_labels = frozenset().union(*self.jobs.values()) if self.jobs else frozenset()
        self.declared: dict[str, frozenset[str]] = {}
        for metric in model.spec.metrics:
            labels = frozenset(metric.labels)
            if metric.type in ("histogram", "summary"):
                self.declared[f"{metric.name}_sum"] = self.declared[f"{metric.name}_count"] = labels
                if metric.type == "histogram":
                    self.declared[f"{metric.name}_bucket"] = labels | {"le"}
                else:
                    self.declared[metric.name] = labels | {"quantile"}
            else:
                self.declared[metric.name] = labels
        self.exporters = frozenset().union(*(job.catalog.metrics for job in model.jobs)) if model.jobs \
            else frozenset()
        # series pushed to a Pushgateway keep the pushed `job` (honor_labels) and no `instance` (the gateway's
        # empty one is no label): by a job="<pushed>" matcher, or as a metric declared for the gateway's target
        gateways = {job.name: job for job in model.jobs if job.honor_labels and job.pushed_jobs}
        self.pushed = frozenset(p for job in gateways.values() for p in job.pushed_jobs) - set(self.jobs)
        self.pushed_metrics = frozenset(name for metric in model.spec.metrics if metric.target in gateways
                                        for name in (metric.name, f"{metric.name}_sum", f"{metric.name}_count",
                                                     f"{metric.name}_bucket"))

    def expression(self, expr: str) -> Carried | None:
        import promql_parser  # noqa: PLC0415 - a Rust extension: loaded only when needed

        try:
            return self._walk(promql_parser.parse(expr), promql_parser)
        except ValueError:
            return OPEN  # lint reports the parse error; here: anything is possible

    def _walk(self, node, p) -> Carried | None:  # noqa: PLR0911, PLR0912 - one case per PromQL node type
        if isinstance(node, (p.NumberLiteral, p.StringLiteral)):
            return None
        if isinstance(node, (p.ParenExpr, p.UnaryExpr, p.SubqueryExpr)):
            return self._walk(node.expr, p)
        if isinstance(node, p.MatrixSelector):
            return self._walk(node.vector_selector, p)
        if isinstance(node, p.VectorSelector):
            return self._selector(node, p)
        if isinstance(node, p.AggregateExpr):
            return self._aggregate(node, p)
        if isinstance(node, p.Call):
            return self._call(node, p)
        if isinstance(node, p.BinaryExpr):
            return self._binary(node, p)
        return OPEN

    def _selector(self, node, p) -> Carried:
        matchers = node.matchers.matchers
        named = {m.name for m in matchers if not (m.op == p.MatchOp.Equal and m.value == "")} - {"__name__"}
        name = node.name or next((m.value for m in matchers if m.name == "__name__" and m.op == p.MatchOp.Equal),
                                 None)
        jobs = [m.value for m in matchers if m.name == "job" and m.op == p.MatchOp.Equal]
        target = self.jobs.get(jobs[0], frozenset()) if jobs else self.all_job_labels
        pushed = (jobs[0] in self.pushed) if jobs else name in self.pushed_metrics
        base = frozenset({"job"} if pushed else {"job", "instance"}) | target | named
        if name in SCRAPE_METRICS:
            return Carried(base)
        if name in self.declared:
            return Carried(base | self.declared[name])
        return Carried(base, True)  # an exporter's metric, ALERTS, or unknown: labels beyond what we know

    def _aggregate(self, node, p) -> Carried:
        inner = self._walk(node.expr, p) or Carried()
        op = str(node.op)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        modifier = node.modifier
        if modifier is None:
            kept = Carried()
        elif modifier.type == p.AggModifierType.By:
            labels = frozenset(modifier.labels)
            kept = Carried(labels if inner.open else labels & inner.known)
        else:
            kept = Carried(inner.known - set(modifier.labels), inner.open)
        if op == "count_values" and isinstance(node.param, p.StringLiteral):
            kept = kept | Carried(frozenset({node.param.val}))
        return kept

    def _call(self, node, p) -> Carried | None:
        name = node.func.name
        if str(node.func.return_type) == "ValueType.Scalar" or name in ("time", "pi"):
            return None
        if name == "vector":
            return Carried()
        if name in ("absent", "absent_over_time"):
            selector = node.args[0]
            selector = getattr(selector, "vector_selector", selector)
            if isinstance(selector, p.VectorSelector):
                return Carried(frozenset(m.name for m in selector.matchers.matchers
                                         if m.op == p.MatchOp.Equal and m.name != "__name__" and m.value))
            return Carried()
        vectors = [c for c in (self._walk(a, p) for a in node.args
                               if not isinstance(a, (p.NumberLiteral, p.StringLiteral))) if c is not None]
        carried = vectors[0] if vectors else Carried()
        if name in ("label_replace", "label_join") and isinstance(node.args[1], p.StringLiteral):
            return carried | Carried(frozenset({node.args[1].val}))
        if name.startswith("histogram_"):
            return Carried(carried.known - {"le"}, carried.open)
        if name == "info":
            return Carried(carried.known, True)
        return carried

    def _binary(self, node, p) -> Carried | None:
        lhs, rhs = self._walk(node.lhs, p), self._walk(node.rhs, p)
        if lhs is None or rhs is None:
            return lhs if rhs is None else rhs  # scalar op vector keeps the vector's labels
        op = str(node.op)
        if op in ("and", "unless"):
            return lhs
        if op == "or":
            return lhs | rhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        card = modifier.card if modifier is not None else p.VectorMatchCardinality.OneToOne
        if card == p.VectorMatchCardinality.OneToMany:
            lhs, rhs = rhs, lhs  # the result is the "many" side, plus the labels taken from the other
        if card in (p.VectorMatchCardinality.ManyToOne, p.VectorMatchCardinality.OneToMany):
            return lhs | Carried(frozenset(modifier.group_labels or ()))
        if matching is None:
            return lhs
        labels = set(matching.labels)
        if matching.type == p.LabelModifierType.Include:  # on (...)
            return Carried(frozenset(labels) if lhs.open else frozenset(labels) & lhs.known)
        return Carried(lhs.known - labels, lhs.open)
