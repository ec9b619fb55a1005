"""Service level objectives of `monstack/v1`: an SLI, an objective over a period, and the burn-rate alerts of the
Google SRE workbook (multiple windows, multiple burn rates) that `monstack.slo` generates from them.

```yaml
slos:
  - name: APIRequests                 # prefix of the generated alerts: APIRequestsBurnRatePage1h, ...
    objective: 99.9%
    period: 30d                       # 30d (default), 28d or 7d
    sli: {ratio: {bad: 'http_requests_total{status=~"5.."}', total: http_requests_total}}
    min_rate: 1/min                   # optional traffic floor of `total`, over each long window
```
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .base import OneOf, Strict
from .targets import METRIC_RE, NAME_RE, Labels
from .units import Duration, DurationField, Quantity, QuantityField

Severity = Literal["critical", "warning", "info"]


class RatioSLI(Strict):
    """Bad (or good) events over all events, from counters: `sum(rate(bad[w])) / sum(rate(total[w]))`."""

    bad: str | None = Field(None, description="a selector of the failed events' counter, e.g. "
                                               "http_requests_total{status=~\"5..\"}")
    good: str | None = Field(None, description="or a selector of the successful events' counter")
    total: str = Field(description="a selector of all events' counter, e.g. http_requests_total")

    @model_validator(mode="after")
    def _one(self) -> "RatioSLI":
        if (self.bad is None) == (self.good is None):
            raise ValueError("give exactly one of `bad` or `good`")
        return self


class LatencySLI(Strict):
    """The share of requests slower than a threshold, from a histogram: the threshold must be a bucket bound."""

    histogram: str = Field(pattern=METRIC_RE, description="histogram metric name, without _bucket")
    slower_than: DurationField = Field(description="a bucket bound of the histogram, e.g. 500ms")


class AvailabilitySLI(Strict):
    """A target's availability: the share of failed scrapes (`1 - avg_over_time(up[w])`) over its instances."""

    target: str = Field(description="a target name from `targets:`")


class RawSLI(Strict):
    """PromQL per window for what the other kinds do not express: `$window` stands for the window (as Sloth's
    `{{.window}}`), e.g. `sum(rate(jobs_failed_total[$window]))`."""

    bad: str | None = None
    good: str | None = None
    total: str

    @model_validator(mode="after")
    def _one(self) -> "RawSLI":
        if (self.bad is None) == (self.good is None):
            raise ValueError("give exactly one of `bad` or `good`")
        for name in ("bad", "good", "total"):
            text = getattr(self, name)
            if text is not None and "$window" not in text:
                raise ValueError(f"`{name}` must use $window for its range, e.g. rate(x[$window])")
        return self


class SLI(OneOf):
    """Exactly one SLI kind."""

    what: ClassVar[str] = "SLI kind"

    ratio: RatioSLI | None = None
    latency: LatencySLI | None = None
    availability: AvailabilitySLI | None = None
    raw: RawSLI | None = None


class BurnWindow(Strict):
    """One multiwindow burn-rate alert: the error ratio over `long` and over `short` both above `factor` times the
    error budget."""

    long: DurationField
    short: DurationField
    factor: float = Field(gt=0, description="burn rate: 1 spends the budget exactly over the period")
    severity: Severity

    @model_validator(mode="after")
    def _short_under_long(self) -> "BurnWindow":
        if not self.short < self.long:
            raise ValueError(f"the short window {self.short} must be shorter than the long window {self.long}")
        return self


class SLO(Strict):
    name: str = Field(pattern=NAME_RE, description="names the generated alerts (<name>BurnRate...) and records")
    objective: QuantityField = Field(description="the share of good events, e.g. 99.9%")
    period: Literal["30d", "28d", "7d"] = Field("30d", description="the SLO period the budget is spent over")
    sli: SLI
    service: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    group: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                              description="rule group and file; default slo-<name in lower case>")
    description: str | None = Field(None, description="what users get, in the team's words")
    min_rate: QuantityField | None = Field(None, description=(
        "traffic floor: no burn alert while `total` counts fewer events a second over the long window, e.g. 1/min"))
    labels: Labels = Field(default_factory=dict, description="labels added to every burn-rate alert")
    windows: list[BurnWindow] | None = Field(None, min_length=1, description=(
        "the burn-rate alerts; default: the SRE workbook's four for the period (see the README)"))

    @model_validator(mode="after")
    def _checked(self) -> "SLO":
        objective: Quantity = self.objective
        if objective.kind != "percent" or not 0.5 <= objective.value < 1:
            raise ValueError(f"objective {objective.text!r}: write a percentage from 50% to under 100%, e.g. 99.9%")
        if self.min_rate is not None and (self.min_rate.kind != "rate" or self.min_rate.value <= 0):
            raise ValueError(f"min_rate {self.min_rate.text!r} is not a rate of events: write e.g. 1/s or 10/min")
        if self.min_rate is not None and self.sli.kind == "availability":
            raise ValueError("an availability SLI counts scrapes, not events: drop `min_rate`")
        reserved = {"severity", "service", "alertname", "slo", "long_window"} & set(self.labels)
        if reserved:
            raise ValueError(f"labels {sorted(reserved)} are set by monstack")
        return self

    @property
    def budget(self) -> float:
        """The error budget as a ratio: 1 - objective (0.001 for 99.9%)."""
        return round(1 - self.objective.value, 12)

    @property
    def period_duration(self) -> Duration:
        return Duration.parse(self.period)
