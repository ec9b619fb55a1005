"""The `monstack/v1` spec: project, defaults, targets, metrics, alerts and routing.

These are the user's types, versioned and strict (`extra="forbid"`); `monstack.model` resolves them into the
internal model the renderers use. Cross-references (a route's receiver, an alert's target) are checked there,
where every problem can be reported at once with its position.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .conditions import Condition
from .proof import Runbook, TestCase
from .remote_write import RemoteWrite
from .dashboards import Dashboard
from .deployment import Deployment
from .routing import Routing
from .slos import SLO
from .targets import ADDRESS_RE, JOB_RE, METRIC_RE, NAME_RE, Exporter, LabelName, Labels, Target
from .units import DurationField, QuantityField

__all__ = ["ADDRESS_RE", "JOB_RE", "Alert", "Defaults", "Metric", "Project", "Record", "Spec", "Target"]


class Project(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="a slug: lower case, digits and dashes")
    environment: str = Field("production", pattern=r"^[a-z0-9][a-z0-9-]*$")
    labels: Labels = Field(default_factory=dict, description="external labels added to every series and alert")


class Defaults(Strict):
    scrape_interval: DurationField = "15s"
    scrape_timeout: DurationField = "10s"
    evaluation_interval: DurationField = Field("30s", description="how often rules are evaluated; keep it <= 1m")
    retention: DurationField = Field("15d", description="Prometheus' TSDB retention (used by deployment)")
    runbook_url: str = Field("runbooks", description=(
        "base of each alert's runbook_url annotation (<base>/<Alert>.md); the default is the runbooks/ folder "
        "of the output, relative; set your docs site, e.g. https://git.example.com/ops/monitoring/-/blob/main/runbooks"))
    grafana_url: str = Field("http://localhost:3000", pattern=r"^https?://", description=(
        "Grafana's address as people open it, for each alert's dashboard link"))

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> "Defaults":
        if self.scrape_timeout > self.scrape_interval:
            raise ValueError(f"scrape_timeout ({self.scrape_timeout}) must not exceed scrape_interval "
                             f"({self.scrape_interval}): Prometheus refuses that configuration")
        if self.evaluation_interval.seconds <= 0 or self.scrape_interval.seconds <= 0:
            raise ValueError("intervals must be greater than zero")
        return self


class Metric(Strict):
    """A metric the application itself exposes (its contract with the monitoring)."""

    name: str = Field(pattern=METRIC_RE)
    type: Literal["counter", "gauge", "histogram", "summary"]
    help: str = Field(min_length=1)
    target: str | None = Field(None, description="the target (job) that exposes it")
    labels: list[LabelName] = Field(default_factory=list)
    buckets: list[float] | None = Field(None, description="histogram upper bounds, in the metric's unit")

    @model_validator(mode="after")
    def _buckets(self) -> "Metric":
        if self.buckets is not None:
            if self.type != "histogram":
                raise ValueError("`buckets` is only for histograms")
            if not self.buckets or sorted(set(self.buckets)) != list(self.buckets):
                raise ValueError("`buckets` must be a non-empty, strictly increasing list")
        return self


Severity = Literal["critical", "warning", "info", "none"]  # none: the Watchdog


class Disable(Strict):
    """One check turned off for this alert, with why: the finding is listed (not reported) by validate."""

    check: str = Field(description="a check name, e.g. promql/fragile")
    reason: str = Field(min_length=3, description="why the finding is right but the alert is deliberate")

    @field_validator("check")
    @classmethod
    def _known(cls, value: str) -> str:
        from ..check_names import DISABLEABLE  # noqa: PLC0415 - a leaf list of names, no check code

        if value not in DISABLEABLE:
            raise ValueError(f"unknown check {value!r}; checks that can be disabled: {', '.join(DISABLEABLE)}")
        return value


class Alert(Strict):
    name: str = Field(pattern=NAME_RE, description="the alert name (alertname label)")
    severity: Severity
    service: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                description="`service` label, used for grouping and inhibition")
    group: str = Field("alerts", pattern=r"^[a-z0-9][a-z0-9_-]*$",
                       description="rule group and file (prometheus/rules/<group>.yml)")
    every: DurationField | None = Field(None, description="the table's check cadence; default window and `for`")
    for_: DurationField | None = Field(None, alias="for", description="how long the condition must hold")
    keep_firing_for: DurationField | None = None
    when: Condition | None = None
    expr: str | None = Field(None, description="raw PromQL, for what no condition kind expresses")
    above: QuantityField | None = None
    below: QuantityField | None = None
    summary: str = Field(min_length=1)
    description: str = Field(min_length=1)
    labels: Labels = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)
    tests: list[TestCase] = Field(default_factory=list, description=(
        "hand-written promtool cases: required for a raw `expr` alert (or a waiver), extra for a typed one"))
    waive: str | None = Field(None, min_length=3, description="why this alert has no tests (coverage gate)")
    runbook: Runbook = Field(default_factory=Runbook)
    disable: list[Disable] = Field(default_factory=list, description=(
        "checks turned off for this alert, each with a reason: [{check: promql/fragile, reason: ...}]"))

    @model_validator(mode="after")
    def _shape(self) -> "Alert":
        if (self.when is None) == (self.expr is None):
            raise ValueError("give exactly one of `when` (a typed condition) or `expr` (raw PromQL)")
        if self.above is not None and self.below is not None:
            raise ValueError("give at most one of `above` or `below`")
        if self.expr is not None and (self.above is not None or self.below is not None):
            raise ValueError("a raw `expr` carries its own comparison: drop `above`/`below`")
        if self.waive and self.tests:
            raise ValueError("an alert with tests needs no waiver: drop `waive`")
        reserved = {"severity", "service", "alertname"} & set(self.labels)
        if reserved:
            raise ValueError(f"labels {sorted(reserved)} are set by monstack: use the alert's own fields")
        return self


class Record(Strict):
    """A recording rule: an expensive expression computed once per evaluation and stored as a new series, for the
    alerts and panels that reuse it (and the SLOs' error ratios, which monstack adds itself)."""

    record: str = Field(pattern=METRIC_RE, description="the new series' name, level:metric:operations by convention")
    expr: str = Field(min_length=1, description="PromQL")
    labels: Labels = Field(default_factory=dict)
    group: str = Field("records", pattern=r"^[a-z0-9][a-z0-9_-]*$",
                       description="rule group and file (prometheus/rules/<group>.yml), evaluated before its alerts")


class Spec(Strict):
    """A monstack spec, version monstack/v1."""

    version: Literal["monstack/v1"] = Field(description="spec format version")
    project: Project
    defaults: Defaults = Field(default_factory=Defaults)
    targets: list[Target] = Field(min_length=1)
    exporters: list[Exporter] = Field(default_factory=list, description=(
        "exporters monstack does not know, described once (port, up gauge, metrics) and used as a target `kind`"))
    metrics: list[Metric] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    records: list[Record] = Field(default_factory=list, description="recording rules")
    slos: list[SLO] = Field(default_factory=list, description=(
        "service level objectives: each becomes error-ratio records and multiwindow burn-rate alerts, proven"))
    routing: Routing
    deployment: Deployment = Field(default_factory=Deployment, description=(
        "how the stack runs: the docker-compose stack (images, published address, network, secrets of Grafana and "
        "the exporters) or, with `kind: kubernetes`, prometheus-operator objects"))
    dashboards: list[Dashboard] = Field(default_factory=list, description=(
        "Grafana dashboards (besides the generated Alerts dashboard): rows of panels showing alerts, metrics, "
        "targets or raw PromQL"))
    remote_write: list[RemoteWrite] = Field(default_factory=list, description=(
        "stores every sample is also written to (Mimir, Cortex, Thanos Receive, VictoriaMetrics): prometheus.yml's "
        "remote_write"))

    @field_validator("remote_write")
    @classmethod
    def _distinct_names(cls, value: list[RemoteWrite]) -> list[RemoteWrite]:
        names = [w.name for w in value if w.name]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"remote_write name(s) {', '.join(twice)} given twice: Prometheus refuses that")
        return value
