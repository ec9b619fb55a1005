"""The `dashboards:` section of `monstack/v1`: Grafana dashboards, rows and panels, written like the guide's lists.

A panel shows one thing, named the way the spec already names things, and monstack writes the query:
- `alert: HighCPUUsage`: the alert's own PromQL (without its comparison), its threshold drawn on the panel;
- `metric: http_requests_total{status=~"5.."}`: a declared (or exporter) metric, queried by its type: a counter
  as a summed rate (or `per: 1h`: events per hour), a gauge as is, a histogram as a quantile;
- `target: fastapi`: the target up or down (the exporter's view of its service, like the down alert);
- `expr: ...`: raw PromQL, Grafana variables allowed (`$__rate_interval`, `$instance`, `$job`).

Every dashboard also gets a `datasource` variable; `job` and `instance` variables where its queries use them.
Cross-references (alerts, metrics, targets) and PromQL are checked in `monstack.panels.check`, with positions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Strict
from .units import DurationField, QuantityField

PanelType = Literal["timeseries", "stat", "gauge", "table", "bargauge"]
SLUG_RE = r"^[a-z0-9][a-z0-9-]*$"
UID_RE = r"^[A-Za-z0-9_-]{1,40}$"
SOURCES = ("alert", "metric", "target", "expr")
LabelName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]


class Panel(Strict):
    """One panel: exactly one of `alert`, `metric`, `target` or `expr`, and how to show it."""

    title: str | None = Field(None, min_length=1, description="default: the alert, metric or target name")
    type: PanelType | None = Field(None, description="default: stat for up/down and uptime, else timeseries")
    alert: str | None = Field(None, description="an alert's name: its query and threshold")
    metric: str | None = Field(None, description="a metric selector, e.g. http_requests_total{status=~\"5..\"}")
    target: str | None = Field(None, description="a target's name: up or down")
    expr: str | None = Field(None, min_length=1, description="raw PromQL; Grafana variables allowed")
    by: list[LabelName] = Field(default_factory=list, description="metric: aggregate by these labels")
    aggregate: Literal["sum", "avg", "max", "min"] | None = Field(
        None, description="metric: how series are combined (default: sum for counters and with `by`)")
    per: DurationField | None = Field(None, description="metric (counter): events per this period, e.g. 1h")
    quantile: float | None = Field(None, gt=0, lt=1, description="metric (histogram): default 0.95")
    above: QuantityField | None = Field(None, description="metric/expr: draw this threshold (red above)")
    below: QuantityField | None = Field(None, description="metric/expr: draw this threshold (red below)")
    unit: str | None = Field(None, min_length=1, description="a Grafana unit id (percentunit, s, bytes, reqps, ...)")
    legend: str | None = Field(None, description="legend format, e.g. '{{instance}}'")
    description: str | None = None
    min: float | None = None
    max: float | None = None
    width: int | None = Field(None, ge=1, le=24, description="grid columns, 1-24")
    height: int | None = Field(None, ge=1, le=50, description="grid rows (30 px each)")

    @model_validator(mode="after")
    def _one_source(self) -> "Panel":
        given = [name for name in SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(SOURCES)}; got {', '.join(given) or 'none'}")
        if self.above is not None and self.below is not None:
            raise ValueError("give at most one of `above` or `below`")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        return self

    @property
    def source(self) -> str:
        return next(name for name in SOURCES if getattr(self, name) is not None)


class Row(Strict):
    title: str = Field(min_length=1)
    collapsed: bool = False
    panels: list[Panel] = Field(min_length=1)


class Dashboard(Strict):
    """A dashboard: panels on top, then rows of panels, laid out left to right on Grafana's 24-column grid."""

    name: str = Field(pattern=SLUG_RE, description="a slug; the default uid is <project>-<name>")
    title: str | None = Field(None, min_length=1, description="default: '<Project Title> - <Name>'")
    uid: str | None = Field(None, pattern=UID_RE, description="default: <project>-<name> (shortened past 40)")
    tags: list[str] = Field(default_factory=list)
    time: DurationField = Field("6h", description="the time range shown: the last 6h by default")
    refresh: DurationField | None = Field("1m", description="auto-refresh period; null to turn it off")
    panels: list[Panel] = Field(default_factory=list)
    rows: list[Row] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> "Dashboard":
        if not self.panels and not self.rows:
            raise ValueError("a dashboard needs `panels` or `rows`")
        return self
