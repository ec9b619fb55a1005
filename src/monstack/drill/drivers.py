"""How the drill drives a stand-in across an alert's threshold, by the alert's condition kind, and back.

- `always` (a Watchdog): nothing to drive; it must fire and be delivered; it never resolves.
- `down`: `up{job=...} == 0` -> the job's stand-in is stopped (as the guide does: stop the API), then started;
  `<kind>_up{job=...} == 0` (the exporter answers, the service does not) -> that gauge goes 1 -> 0 -> 1.
- `ratio`: above: the part's share of the whole goes from 0 to four times the threshold (at most 90%), then back
  to 0; below: from halfway between the threshold and 100% to half the threshold, and back.
- `quantile`: observations go from fast (half the smallest bucket) to the first bucket above the threshold (and
  the other way round for `below`).
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

from ..model import Model, Rule
from ..panels import split_comparison
from ..proof.series import Labeler, Selector, Untestable
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
    from .kinds import _window  # noqa: PLC0415

    if getattr(body, "min_rate", None) is not None:
        return max(usual, 3 * body.min_rate.value)
    if getattr(body, "min_count", None) is not None:
        return max(usual, 3 * body.min_count / _window(expr))
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


def kind_of(model: Model, rule: Rule) -> str:
    when = model.spec.alerts[rule.index].when
    if when is None:
        return "expr"
    return when.kind


def driver(model: Model, rule: Rule) -> Driver | None:
    """The driver of `rule`, or None when it has none (its kind, its selectors, or a series only the real
    Prometheus / Alertmanager expose)."""
    try:
        found = _driver(model, rule)
    except (Untestable, ValueError, KeyError, AttributeError):
        return None
    standins = {j.name for j in model.jobs} - {"prometheus", "alertmanager"}
    standins |= {pushed for j in model.jobs if j.honor_labels and j.name in standins for pushed in j.pushed_jobs}
    return found if found is not None and found.jobs <= standins else None


def _driver(model: Model, rule: Rule) -> Driver | None:
    from . import kinds  # noqa: PLC0415

    kind = kind_of(model, rule)
    when = model.spec.alerts[rule.index].when
    labeler = Labeler(model)
    threshold = split_comparison(rule.expr)  # (query, op, number): a guard after it (a floor, `or absent`) dropped
    above = bool(threshold) and threshold[1] in (">", ">=")
    if kind == "always":
        return Always()
    if kind == "down":
        match = re.fullmatch(r'(\w+)\{job="([^"]+)"\}\s*==\s*0', rule.expr.strip())
        if not match:
            return None
        metric, job = match.groups()
        return StopTarget(job) if metric == "up" else Gauge(job, metric, 1, 0)
    if kind == "ratio" and threshold:
        part = Selector.parse(when.ratio.part)
        wholes = when.ratio.whole if isinstance(when.ratio.whole, list) else [when.ratio.whole]
        whole = Selector.parse(wholes[0])
        part_labels = labeler.satisfying(part)
        job = part_labels["job"]
        same = whole.name == part.name
        whole_labels = labeler.failing(part, part_labels) if same else labeler.satisfying(whole)
        if whole_labels is None:
            return None
        t = float(threshold[2])
        safe, crossing = (0.0, min(0.9, 4 * t)) if above else (round((1 + t) / 2, 4), t / 2)
        return Share(job, (part.name, _own(part_labels)), (whole.name, _own(whole_labels)), same, safe, crossing,
                     traffic(when.ratio, rule.expr, 20.0))
    if kind == "quantile" and threshold:
        name = when.quantile.histogram
        declared = next((m for m in model.spec.metrics if m.name == name), None)
        buckets = sorted(float(b) for b in (getattr(declared, "buckets", None) or DEFAULT_BUCKETS))
        limit = float(threshold[2])
        labels = labeler.satisfying(Selector(name + "_bucket", ()))
        fast, slow = buckets[0] / 2, next((b for b in buckets if b > limit), limit * 2)
        return Latency(labels["job"], name, {k: v for k, v in _own(labels).items() if k != "le"}, buckets,
                       *((fast, slow) if above else (slow, fast)), traffic(when.quantile, rule.expr, 20.0))
    if kind == "absent":
        return kinds.absent(model, rule, when.body, labeler)
    builder = kinds.BUILDERS.get(kind)
    if builder is None or not threshold:
        return None
    return builder(model, rule, when.body, labeler, threshold[1], float(threshold[2]))


def _own(labels: dict[str, str]) -> dict[str, str]:
    """The labels the target itself exposes: Prometheus attaches job and instance."""
    return {k: v for k, v in labels.items() if k not in ("job", "instance")}
