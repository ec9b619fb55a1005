"""Typed alert conditions of `monstack/v1`: what the guide's tables say, without the PromQL.

Each condition names metrics (plain vector selectors such as `http_requests_total{status=~"5.."}`) and the
generator (`monstack.promql`) writes the query. An alert's `when:` holds exactly one of these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Strict
from .units import DurationField

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


class Ratio(Strict):
    """A ratio of counters: summed rate of `part` over summed rate of `whole` ("% of requests")."""

    part: Selector
    whole: Selector | list[Selector] = Field(description="one counter, or several whose rates add up to the total")
    over: DurationField | None = None
    by: Labels = Field(default_factory=list)


class Increase(Strict):
    """How many events over a window: a counter's increase, or a histogram's observations slower than a bound."""

    counter: Selector | None = None
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
        return self


class Quantile(Strict):
    """A quantile of a histogram: `histogram_quantile(q, sum by (le) (rate(..._bucket[over])))`."""

    histogram: str = Field(description="histogram metric name, without _bucket")
    q: float = Field(gt=0, lt=1, description="e.g. 0.95 for P95")
    over: DurationField | None = None
    by: Labels = Field(default_factory=list, description="labels kept besides `le`")


class Average(Strict):
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


class Condition(Strict):
    """Exactly one condition kind."""

    down: Down | None = None
    availability: Availability | None = None
    threshold: Threshold | None = None
    fraction: Fraction | None = None
    ratio: Ratio | None = None
    increase: Increase | None = None
    quantile: Quantile | None = None
    average: Average | None = None
    count: Count | None = None
    always: Literal[True] | None = Field(None, description="always firing (a Watchdog for a dead man's switch)")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Condition":
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            kinds = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one condition kind ({kinds}); got {len(given) or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def body(self):
        return getattr(self, self.kind)
