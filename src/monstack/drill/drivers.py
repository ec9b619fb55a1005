"""How the drill drives a stand-in across an alert's threshold, by the alert's condition kind, and back.

- `always` (a Watchdog): nothing to drive; it must fire and be delivered; it never resolves.
- `down`: `up{job=...} == 0` -> the job's stand-in is stopped (as the guide does: stop the API), then started;
  `<kind>_up{job=...} == 0` (the exporter answers, the service does not) -> that gauge goes 1 -> 0 -> 1.
- `ratio`: above: the part's share of the whole goes from 0 to four times the threshold (at most 90%), then back
  to 0; below: from halfway between the threshold and 100% to half the threshold, and back.
- `quantile`: observations go from fast (half the smallest bucket) to the first bucket above the threshold, or
  twice the threshold when it is the top finite bound (the +Inf bucket), and the other way round for `below`.
- `absent: {target}`: the target leaves service discovery (the drill renders its job's targets as a file_sd file
  and empties it; Prometheus re-reads it without a reload), then comes back.
- A traffic floor (`min_count`, `min_rate`) is kept three times over in every state (ratio, quantile, average).
- `threshold`, `fraction`, `increase`, `count`, `average`, `availability`, `age`, `absent: {series}`: see `kinds`.
Other conditions (a raw `expr`, a selector no label set satisfies, a series only Prometheus or Alertmanager
expose) have no driver: asking for such an alert is reported as a failed `drive` step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..proof.series import Untestable
from .rewrite import shorten_windows
from .standin import StandIn

DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]


@dataclass
class Driver:
    kind: str
    jobs: set[str] = field(default_factory=set)  # jobs whose stand-in it touches
    stops: bool = False  # it stops a stand-in (no other alert on that job may run beside it)
    resolves: bool = True
    how: str = ""
    series: set[tuple[str, str]] = field(default_factory=set)  # (job, metric) it sets: one driver at a time
    discovered: bool = False  # its jobs' targets go through a file_sd file it empties (absent: {target})

    def baseline(self, standins: dict[str, StandIn]) -> None: ...
    def trip(self, standins: dict[str, StandIn]) -> None: ...
    def restore(self, standins: dict[str, StandIn]) -> None: ...


class Always(Driver):
    def __init__(self) -> None:
        super().__init__("always", resolves=False, how="always firing: nothing to drive")


class StopTarget(Driver):
    def __init__(self, job: str, kind: str = "down", how: str = "") -> None:
        super().__init__(kind, {job}, stops=True, how=how or f"stop the {job} stand-in, then start it again")

    def trip(self, standins):
        standins[next(iter(self.jobs))].stop()

    def restore(self, standins):
        standins[next(iter(self.jobs))].start()


class Vanish(Driver):
    """The target leaves service discovery (its file_sd file emptied), then comes back."""

    def __init__(self, job: str, how: str) -> None:
        super().__init__("absent", {job}, stops=True, how=how, discovered=True)

    def trip(self, standins):
        standins[next(iter(self.jobs))].vanish()

    def restore(self, standins):
        standins[next(iter(self.jobs))].appear()


class Gauge(Driver):
    def __init__(self, job: str, metric: str, healthy: float, broken: float) -> None:
        super().__init__("down", {job}, how=f"{metric} on {job}: {healthy:g} -> {broken:g} -> {healthy:g}",
                         series={(job, metric)})
        self.job, self.metric, self.healthy, self.broken = job, metric, healthy, broken

    def baseline(self, standins):
        standins[self.job].series.set_gauge(self.metric, {}, self.healthy)

    def trip(self, standins):
        standins[self.job].series.set_gauge(self.metric, {}, self.broken)

    restore = baseline


class Levels(Driver):
    """Sets series for a level with `apply(standins, level)`: the safe level first, the crossing one, safe again."""

    def __init__(self, kind: str, series: list[tuple[str, str]], how: str,
                 apply: Callable[[dict[str, StandIn], float], None], safe: float, crossing: float) -> None:
        super().__init__(kind, {job for job, _ in series}, how=how, series=set(series))
        self.apply, self.safe, self.crossing = apply, safe, crossing

    def baseline(self, standins):
        self.apply(standins, self.safe)

    def trip(self, standins):
        self.apply(standins, self.crossing)

    restore = baseline


def Share(job: str, part: tuple[str, dict], whole: tuple[str, dict], same: bool, safe: float,  # noqa: N802
          crossing: float, total: float = 20.0) -> Levels:
    def apply(standins, share: float) -> None:
        series = standins[job].series
        series.set_rate(*part, total * share)
        series.set_rate(*whole, total * (1 - share) if same else total)

    return Levels("ratio", [(job, part[0]), (job, whole[0])],
                  f"{part[0]}{part[1]} share {safe:.0%} -> {crossing:.0%} -> {safe:.0%}"
                  + (f" of {total:g}/s" if total != 20.0 else ""), apply, safe, crossing)


def traffic(body, expr: str, usual: float) -> float:
    """Events a second of the whole that keep a traffic floor (min_count over the shortened window, min_rate) met
    three times over; `usual` without a floor."""
    if getattr(body, "min_rate", None) is not None:
        return max(usual, 3 * body.min_rate.value)
    if getattr(body, "min_count", None) is not None:
        return max(usual, 3 * body.min_count / window(expr))
    return usual


class Latency(Driver):
    def __init__(self, job: str, histogram: str, labels: dict, buckets: list[float], fast: float, slow: float,
                 per_second: float = 20.0):
        super().__init__("quantile", {job}, how=f"{histogram} observations {fast:g}s -> {slow:g}s -> {fast:g}s"
                         + (f" at {per_second:g}/s" if per_second != 20.0 else ""), series={(job, histogram)})
        self.job, self.histogram, self.labels, self.buckets, self.fast, self.slow = (
            job, histogram, labels, buckets, fast, slow)
        self.per_second = per_second

    def baseline(self, standins):
        standins[self.job].series.set_latency(self.histogram, self.labels, self.buckets, self.fast, self.per_second)

    def trip(self, standins):
        standins[self.job].series.set_latency(self.histogram, self.labels, self.buckets, self.slow, self.per_second)

    restore = baseline


def _own(labels: dict[str, str]) -> dict[str, str]:
    """The labels the target itself exposes: Prometheus attaches job and instance."""
    return {k: v for k, v in labels.items() if k not in ("job", "instance")}


def window(expr: str) -> float:
    """The (shortened) range window of the drilled expression, in seconds."""
    found = re.search(r"\[(\d+)s", shorten_windows(expr))
    if not found:
        raise Untestable("no range window")
    return float(found[1])
