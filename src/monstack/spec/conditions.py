"""Typed alert conditions of `monstack/v1`: what the guide's tables say, without the PromQL.

Each condition names metrics (plain vector selectors such as `http_requests_total{status=~"5.."}`) and the
generator (`monstack.promql`) writes the query. An alert's `when:` holds exactly one of these.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import OneOf, Strict
from .units import DurationField, Quantity, QuantityField

Selector = str  # a vector selector: metric name and optional {matchers}
Labels = list[str]


class Down(Strict):
    """The target is down. `service` uses the exporter's own view (`pg_up`, `redis_up`) where it has one;
    `scrape` means Prometheus cannot scrape the target (`up == 0`)."""

    target: str = Field(description="a target name from `targets:`")
    check: Literal["service", "scrape"] = "service"


class Availability(Strict):
    """Share of successful scrapes of a target over a long window (an uptime SLO): `avg_over_time(up[...])`."""

    target: str
    over: DurationField = Field(description="the SLO window, e.g. 1d or 30d")


class Threshold(Strict):
    """A gauge compared with a threshold, optionally aggregated."""

    metric: str = Field(description="a vector selector or an instant-vector expression of gauges")
    aggregate: Literal["sum", "avg", "max", "min"] | None = None
    by: Labels = Field(default_factory=list)
    only_if: str | None = Field(None, description="an expression the series must also satisfy, "
                                                  "matched on job and instance (e.g. pg_replication_is_replica == 1)")


class Fraction(Strict):
    """One gauge as a fraction of another (`used` of `of`, or 1 - `free` of `of`); a zero maximum is skipped."""

    used: Selector | None = None
    free: Selector | None = None
    of: Selector
    aggregate: Literal["sum", "max"] | None = Field(
        None, description="aggregate both sides before dividing (needed when they come from different targets)")
    by: Labels = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_side(self) -> "Fraction":
        if (self.used is None) == (self.free is None):
            raise ValueError("give exactly one of `used` or `free`")
        return self


class Floor(Strict):
    """A traffic floor: no alert while the whole counted fewer events than this over the window (one failed request
    of one at 3 a.m. is 100%, and nobody should be woken for it). At most one of the two."""

    min_count: int | None = Field(None, gt=0, description="events of the whole in the window, e.g. 100")
    min_rate: QuantityField | None = Field(None, description="events of the whole per second, e.g. 1/s or 10/min")

    @field_validator("min_rate")
    @classmethod
    def _a_rate(cls, value: Quantity | None) -> Quantity | None:
        if value is not None and (value.kind != "rate" or value.value <= 0):
            raise ValueError(f"min_rate {value.text!r} is not a rate of events: write e.g. 1/s or 10/min")
        return value

    @model_validator(mode="after")
    def _one_floor(self):
        if self.min_count is not None and self.min_rate is not None:
            raise ValueError("give at most one of `min_count` or `min_rate`")
        return self


class Ratio(Floor):
    """A ratio of counters: summed rate of `part` over summed rate of `whole` ("% of requests")."""

    part: Selector
    whole: Selector | list[Selector] = Field(description="one counter, or several whose rates add up to the total")
    over: DurationField | None = None
    by: Labels = Field(default_factory=list)


class Increase(Strict):
    """How many events over a window: a counter's increase (or the difference of two counters' increases:
    `counter` minus `minus`), or a histogram's observations slower than a bound."""

    counter: Selector | None = None
    minus: Selector | None = Field(None, description="with `counter`: a counter whose increase is subtracted "
                                                     "(accepted minus handled connections)")
    histogram: str | None = Field(None, description="histogram metric name, without _bucket")
    slower_than: DurationField | None = Field(None, description="with `histogram`: count observations above this")
    over: DurationField | None = None
    by: Labels = Field(default_factory=list)

    @model_validator(mode="after")
    def _source(self) -> "Increase":
        if (self.counter is None) == (self.histogram is None):
            raise ValueError("give exactly one of `counter` or `histogram`")
        if (self.histogram is None) != (self.slower_than is None):
            raise ValueError("`histogram` and `slower_than` go together")
        if self.minus is not None and self.counter is None:
            raise ValueError("`minus` subtracts a counter from `counter`: give `counter` too")
        return self


class Quantile(Floor):
    """A quantile of a histogram: `histogram_quantile(q, sum by (le) (rate(..._bucket[over])))`."""

    histogram: str = Field(description="histogram metric name, without _bucket")
    q: float = Field(gt=0, lt=1, description="e.g. 0.95 for P95")
    over: DurationField | None = None
    by: Labels = Field(default_factory=list, description="labels kept besides `le`")


class Average(Floor):
    """The average observation of a histogram or summary: rate of `_sum` over rate of `_count`."""

    histogram: str
    over: DurationField | None = None
    by: Labels = Field(default_factory=list)


class Count(Strict):
    """How many series match a condition, as a share of a total (`of`) or as a count."""

    series: Selector
    older_than: DurationField | None = Field(None, description="the series' value is a Unix timestamp older than this")
    above: float | None = Field(None, description="the series' value is above this")
    below: float | None = Field(None, description="the series' value is below this")
    of: Selector | None = Field(None, description="a gauge holding the total (summed); default: the number of series")

    @model_validator(mode="after")
    def _one_filter(self) -> "Count":
        if sum(x is not None for x in (self.older_than, self.above, self.below)) != 1:
            raise ValueError("give exactly one of `older_than`, `above` or `below`")
        return self


class Age(Strict):
    """The age of a Unix-timestamp gauge (`since`: time since a last success) or the time left until one (`until`:
    a certificate's expiry). The threshold is a duration: `since` takes `above`, `until` takes `below`."""

    since: Selector | None = Field(None, description="a gauge holding when something last happened, e.g. "
                                                     "backup_last_success_timestamp_seconds{job=\"nightly-backup\"}")
    until: Selector | None = Field(None, description="a gauge holding when something will happen, e.g. "
                                                     "probe_ssl_earliest_cert_expiry")
    if_absent: Literal["fire", "ignore"] | None = Field(None, description=(
        "when no such series exists: `fire` (the default for `since`: a job that never reported has not "
        "succeeded) or `ignore` (the default for `until`)"))

    @model_validator(mode="after")
    def _one_side(self) -> "Age":
        if (self.since is None) == (self.until is None):
            raise ValueError("give exactly one of `since` or `until`")
        return self

    @property
    def selector(self) -> str:
        return self.since or self.until  # type: ignore[return-value]

    @property
    def fires_when_absent(self) -> bool:
        return (self.if_absent or ("fire" if self.since else "ignore")) == "fire"


class Absent(Strict):
    """A series missing for longer than `over` (`absent_over_time`): a selector's series, or every series of a
    target that vanished from service discovery (`target`: its `up` series)."""

    series: Selector | None = None
    target: str | None = Field(None, description="a target name from `targets:`")
    over: DurationField | None = Field(None, description="how long it must be missing; default: the alert's `every`")

    @model_validator(mode="after")
    def _one_source(self) -> "Absent":
        if (self.series is None) == (self.target is None):
            raise ValueError("give exactly one of `series` or `target`")
        return self


class Condition(OneOf):
    """Exactly one condition kind."""

    what: ClassVar[str] = "condition kind"

    down: Down | None = None
    availability: Availability | None = None
    threshold: Threshold | None = None
    fraction: Fraction | None = None
    ratio: Ratio | None = None
    increase: Increase | None = None
    quantile: Quantile | None = None
    average: Average | None = None
    count: Count | None = None
    age: Age | None = None
    absent: Absent | None = None
    always: Literal[True] | None = Field(None, description="always firing (a Watchdog for a dead man's switch)")
