"""The frame every generated case shares: what a case is, its timing, threshold levels, value ramps.

Timing: samples every `I` (the scrape interval; coarser for long windows, as promtool limits samples), rules
evaluated every `E` (the spec's evaluation interval). A condition is true from `t_true` at the latest (0 for instant
conditions; once a rate has two samples for ratios, quantiles and averages; once the window is full for increases
and availability); it fires at `t_true + for`, evaluated a little later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..spec.models import Alert
from ..spec.units import Quantity
from .series import Series

FAST = 10.0  # events per second of the "everything else" series (requests that are fine, fast queries, ...)


@dataclass
class Case:
    alert: str
    expect: str  # firing | silent | pending
    title: str
    interval: int  # seconds between samples
    eval_at: int  # seconds
    series: list[Series]
    value: float | None = None  # the alert's $value when firing
    labels: dict[str, str] = field(default_factory=dict)  # labels the expression keeps


@dataclass
class Timing:
    interval: int
    evaluation: int
    window: int
    for_: int
    t_true: int  # latest time the condition is true from

    def align(self, t: float) -> int:
        step = math.lcm(self.interval, self.evaluation)
        return int(math.ceil(t / step) * step)

    @property
    def fire_at(self) -> int:
        return self.align(self.t_true + self.for_ + self.evaluation)

    @property
    def pending_at(self) -> int | None:
        t = self.align(self.t_true)
        return t if self.for_ > 0 and t < self.for_ else None

    def samples(self, until: int | None = None) -> int:
        return (until or self.fire_at) // self.interval + 1


def levels(threshold: Quantity, op: str, exact: bool) -> tuple[float, float]:
    """(crossing, safe) levels just either side of `threshold`.

    Percentages move one point (or a fifth of the threshold when that is smaller); integral thresholds of exact
    quantities (gauges as written, whole event counts) sit one unit over and exactly at the threshold; anything
    computed by division keeps a margin, so floating-point rounding cannot decide the test.
    """
    t = threshold.per_unit if threshold.kind == "rate" else threshold.value
    if threshold.kind == "percent":
        d = min(0.01, t / 5) if t > 0 else 0.01
        crossing, safe = (t + d, t - d) if op == ">" else (t - d, t + d)
        return round(crossing, 6), round(min(max(safe, 0.0), 1.0), 6)
    if exact and float(t).is_integer():
        return (t + 1, t) if op == ">" else (t - 1, t)
    if t == 0:
        return (1.0, 0.0) if op == ">" else (-1.0, 0.0)
    return (t * 1.25, t * 0.8) if op == ">" else (t * 0.8, t * 1.25)


def ramp(rate: float, interval: int, n: int, start: float = 0.0) -> list[float]:
    return [start + rate * interval * k for k in range(n)]


def flat(value: float, n: int) -> list[float]:
    return [value] * n


def case(alert: Alert, expect: str, title: str, timing: Timing, series: list[Series], *, at: int | None = None,
          value: float | None = None, labels: dict[str, str] | None = None) -> Case:
    eval_at = at if at is not None else timing.fire_at
    return Case(alert.name, expect, title, timing.interval, eval_at, series, value, labels or {})


def standard(alert: Alert, timing: Timing, build, crossing: float, safe: float, describe,
              keep: dict[str, str] | None = None) -> list[Case]:
    """Firing at `crossing`, silent at `safe`, pending at `crossing` before `for`: `build(level, n)` makes the
    series and returns (series, value, labels)."""
    n = timing.samples()
    series, value, labels = build(crossing, n)
    cases = [case(alert, "firing", f"fires at {describe(crossing)}", timing, series, value=value, labels=labels)]
    series, _, _ = build(safe, n)
    cases.append(case(alert, "silent", f"stays silent at {describe(safe)}", timing, series))
    if timing.pending_at is not None:
        series, value, labels = build(crossing, n)
        cases.append(case(alert, "pending", f"is only pending at {describe(crossing)} for less than `for`",
                           timing, series, at=timing.pending_at, value=value, labels=labels))
    return cases


def pct(v: float) -> str:
    return f"{v * 100:g}%"


# --- one builder per condition kind --------------------------------------------------------------------------
