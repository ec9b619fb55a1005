"""The proof of each burn-rate alert, generated from the SLI and the objective (not from the PromQL): promtool cases
whose input series are the events the SLI counts, with the labels the producing job really has.

For a window pair (long L, short S, factor f) of an objective with budget b:
- a burn just above f (x1.05; x1.25 for an availability SLI, whose failed scrapes are whole samples) fires once
  the long window is full, and just below f (x0.95; x0.8) stays silent;
- for a page, a burn at the objective (1x) stays silent;
- a total outage fires within the detection time f x b x L (rounded up to the next sample) after it starts,
  and not before when that time spans several samples;
- for a page, a spike of errors that fills the short window but not the long one stays silent;
- after an outage, the alert resolves once the short window is clean again (reset time S);
- with a traffic floor, a burn above f at half the floor stays silent.
"""

from __future__ import annotations

import math

from ..promql_base import le_value
from ..proof.series import Labeler, Selector, Series, Untestable, values_notation
from ..spec.proof import TestCase
from ..spec.slos import SLO
from ..spec.units import Duration
from .windows import Window

STEPS = (5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600)  # sample intervals, seconds
TRAFFIC = 10.0  # events a second in every case above a floor
QUERY_SAMPLES = 10_000  # promtool's test engine refuses a range query loading more samples (measured: 8,640 pass)


def step(limit: float, window: float = 0.0) -> int:
    """The coarsest sample interval of STEPS at most `limit` seconds (the finest when none is), but never so fine
    that a `window` holds more than QUERY_SAMPLES samples."""
    coarse = min((s for s in STEPS if window / s <= QUERY_SAMPLES), default=STEPS[-1])
    return max(coarse, max((s for s in STEPS if s <= limit), default=STEPS[0]))


def margins(slo: SLO) -> tuple[float, float]:
    return (1.25, 0.8) if slo.sli.kind == "availability" else (1.05, 0.95)


class Events:
    """The input series of an SLI for a sequence of phases [(seconds, error ratio, events a second)]."""

    def __init__(self, slo: SLO, labeler: Labeler) -> None:
        self.slo, self.sli = slo, slo.sli.body
        self.kind = slo.sli.kind
        self.labeler = labeler
        if self.kind == "raw":
            raise Untestable("a raw SLI's series cannot be derived from its PromQL")

    def series(self, phases: list[tuple[float, float, float]], s: int) -> dict[str, str]:
        ratios, rates = [], []
        for seconds, ratio, rate in phases:
            n = round(seconds / s)
            ratios += [ratio] * n
            rates += [rate] * n
        if self.kind == "availability":
            return self._availability(ratios)
        bad, good = [0.0], [0.0]
        for ratio, rate in zip(ratios, rates):
            bad.append(bad[-1] + ratio * rate * s)
            good.append(good[-1] + (1 - ratio) * rate * s)
        if self.kind == "latency":
            return self._latency(bad, good)
        return self._ratio(bad, good)

    def _ratio(self, bad: list[float], good: list[float]) -> dict[str, str]:
        sli, labeler = self.sli, self.labeler
        counted = Selector.parse(sli.bad or sli.good)
        counted_values, other_values = (bad, good) if sli.bad else (good, bad)
        total = Selector.parse(sli.total)
        labels = labeler.satisfying(counted)
        out = {_notation(counted.name, labels): values_notation(counted_values)}
        if total.matches(counted.name, labels):  # one family: the other events are its other series
            other = labeler.failing(counted, labels)
            if other is None or not total.matches(counted.name, other):
                raise Untestable(f"no series of {sli.total} counts outside {sli.bad or sli.good}")
            out[_notation(counted.name, other)] = values_notation(other_values)
        else:
            all_values = [b + g for b, g in zip(bad, good)]
            out[_notation(total.name, labeler.satisfying(total))] = values_notation(all_values)
        return out

    def _latency(self, bad: list[float], good: list[float]) -> dict[str, str]:
        name = self.sli.histogram
        labels = self.labeler.satisfying(Selector(f"{name}_bucket", ()))
        labels.pop("le", None)
        total = [b + g for b, g in zip(bad, good)]
        return {_notation(f"{name}_bucket", {**labels, "le": le_value(self.sli.slower_than.seconds)}):
                values_notation(good),
                _notation(f"{name}_bucket", {**labels, "le": "+Inf"}): values_notation(total),
                _notation(f"{name}_count", labels): values_notation(total)}

    def _availability(self, ratios: list[float]) -> dict[str, str]:
        """One instance's `up`: 0 for a failed scrape, spread evenly (error diffusion) at each phase's ratio."""
        job = self.sli.target  # a target's job label is its name
        labels = self.labeler.origin("up", Selector("up", (("job", "=", job),)))
        values, owed = [1.0], 0.0
        for ratio in ratios:
            owed += ratio
            if owed >= 1 - 1e-9:
                values.append(0.0)
                owed -= 1
            else:
                values.append(1.0)
        return {_notation("up", labels): values_notation(values)}


def _notation(name: str, labels: dict[str, str]) -> str:
    return Series(name, labels).notation()  # label values escaped as promtool reads them


def cases(slo: SLO, window: Window, events: Events) -> list[TestCase]:
    budget = slo.budget
    threshold = window.threshold(budget)
    above, below = margins(slo)
    long, short = window.long.seconds, window.short.seconds
    floor = slo.min_rate.value if slo.min_rate is not None else 0.0
    rate = max(TRAFFIC, 3 * floor)
    kept = {"slo": slo.name}
    edges = True  # the just-above and just-below cases can be built
    if slo.sli.kind == "availability":  # failed scrapes are whole samples: five in a short window, lowest burn
        s = step(short * threshold * below / 5, long)
        edges = short * threshold * below / s >= 5
    else:
        s = step(short / 5, long)
    out: list[TestCase] = []

    def add(name: str, phases, at: float, expect: str, interval: int = s, before: bool = False,
            every: int | None = None) -> None:
        # rules evaluated about five times a short window (a multiple of the sample interval): day-long
        # windows stay cheap to prove
        every = every or max((x for x in STEPS if x <= max(short / 5, interval) and x % interval == 0),
                             default=interval)
        at = (math.floor if before else math.ceil)(at / every) * every  # an evaluation before or after `at`
        out.append(TestCase(name=name, interval=Duration(interval * 1000), series=events.series(phases, interval),
                            evaluation=Duration(every * 1000), at=Duration(int(at * 1000)), expect=expect,
                            labels=kept if expect == "firing" else {}))

    full = long + 2 * s
    if edges:  # else: a short window holds too few scrapes to tell 0.8x from 1.25x (see the README)
        add(f"fires at {above:g}x the {window.factor:g}x burn", [(full, above * threshold, rate)], long + s,
            "firing")
        add(f"stays silent at {below:g}x the {window.factor:g}x burn", [(full, below * threshold, rate)], long + s,
            "silent")
    if window.severity == "critical":
        add("stays silent at a 1x burn (the objective)", [(full, budget, rate)], long + s, "silent")
    detect = window.detection(budget)
    # the outage after twice the long window of clean traffic (a longer window would see more of it and detect
    # later), sampled and evaluated finely enough to tell the detection time from the next sample's
    fine = max(step(min(detect / 4, short / 5), 2 * long),  # and two samples at least in the short window
               min(x for x in STEPS if long / x <= 1500 or x == STEPS[-1]))
    clean = 2 * long if 2 * long / fine <= 1500 else long  # at most ~1,500 evaluations: promtool stays quick
    lead, outage = [(clean, 0.0, rate)], [(detect + 2 * fine, 1.0, rate)]
    add(f"fires within {_seconds(detect)} of a total outage (factor x budget x long)", lead + outage,
        clean + detect + fine, "firing", fine, every=fine)
    if detect >= 3 * fine:
        add(f"is still silent {_seconds(detect - 2 * fine)} into a total outage", lead + outage,
            clean + detect - 2 * fine, "silent", fine, before=True, every=fine)
    outage = detect + 2 * s
    add(f"resolves {_seconds(short)} (the short window) after an outage ends",
        [(long, 0.0, rate), (outage, 1.0, rate), (short + 2 * s, 0.0, rate)], long + outage + short + s, "silent")
    if window.severity == "critical" and slo.sli.kind != "availability":
        spike = math.sqrt(detect * window.short.seconds * threshold)  # between filling the short and the long
        fine = step(spike / 2, long)
        spike = max(fine, math.floor(spike / fine) * fine)
        if threshold * short < spike < detect:
            add(f"stays silent after a {_seconds(spike)} spike of errors (the long window does not confirm it)",
                [(long, 0.0, rate), (spike, 1.0, rate), (2 * fine, 0.0, rate)], long + spike, "silent", fine)
    if floor:
        add(f"stays silent above the burn at half the traffic floor ({slo.min_rate.text})",
            [(full, above * threshold, floor / 2)], long + s, "silent")
    return out


def _seconds(value: float) -> str:
    if value >= 60 and abs(value / 60 - round(value / 60)) < 1e-9:
        return str(Duration(int(round(value)) * 1000))
    return f"{value:.4g}s" if value < 60 else f"{value / 60:.4g}min"
