"""Drivers of the condition kinds that set levels (gauges, counter rates, observations) rather than stop a target.

Label sets come from `proof.series.Labeler` (realistic labels that satisfy the condition's selectors, on the job
that exposes the metric); gauge levels are `proof.cases.levels`, just either side of the threshold. Levels read
through a (shortened) window -- `increase`, `average` -- keep a margin: the window mixes old and new samples and
`increase()` extrapolates, so a level just across would make the drill's timing, not the rule, decide.

- `threshold`: the gauge (and its `only_if` guard, held true) goes safe -> just across -> safe.
- `fraction`: used (or free) against a realistic maximum: just under -> just over the share -> just under.
- `increase`: a counter's rate (or the rate of observations slower than the bound, inside fast traffic) such
  that the shortened window counts half the threshold, then twice it (the other way round for `below`).
- `count`: series whose value matches (a success timestamp older than `older_than`, a value above/below) next to
  a few that do not; the count goes safe -> crossing -> safe (`of`: a total of 50).
- `average`: observations of a latency a fifth under the threshold, then a quarter over it, and back.
- `age`: a timestamp gauge set (at each change) a fifth under the threshold's age, then a quarter over it, and
  back (since: that long ago; until: that far ahead).
- `absent: {series}`: the stand-in stops exposing the series, then exposes it again. (`target`: see drivers.)
- `increase` with `minus`: both counters at FAST a second, the first one faster by the driven difference.
- `availability`: the target's stand-in is stopped (its scrapes fail) until the alert is delivered: with the
  window shortened to 10-20s, one failed scrape in it already crosses any SLO; it resolves once the window is
  clean again.
"""

from __future__ import annotations

import math
import time

from ..proof.cases import FAST, levels
from ..proof.scenarios import guard_series
from ..proof.series import REALISTIC, Labeler, Selector, Untestable
from . import drivers as drv

BYTES_MAX = float(2 ** 34)  # 16 GiB: a realistic maximum for memory and disks
COUNT_MAX = 100.0  # connections, agencies, ...


def _quantity(model, rule):
    alert = model.spec.alerts[rule.index]
    return alert.above if alert.above is not None else alert.below


_window = drv.window


def _own(labels):
    return drv._own(labels)


def threshold(model, rule, body, labeler: Labeler, op: str, t: float):
    selector = Selector.parse(body.metric)
    labels = labeler.satisfying(selector, keep=tuple(body.by))
    job = labels["job"]
    guards = []
    for make in (guard_series(body.only_if, labels, labeler) if body.only_if else []):
        guard = make(1)
        if guard.labels["job"] != job:
            raise Untestable("the only_if guard is on another job")
        guards.append((guard.name, _own(guard.labels), guard.values[0]))
    crossing, safe = levels(_quantity(model, rule), op[0], exact=True)

    def apply(standins, level):
        series = standins[job].series
        for name, own, value in guards:
            series.set_gauge(name, own, value)
        series.set_gauge(selector.name, _own(labels), level)

    held = "".join(f" ({name} = {value:g})" for name, _, value in guards)
    return drv.Levels("threshold", [(job, selector.name), *((job, g[0]) for g in guards)],
                      f"{selector.name} on {job}{held}: {safe:g} -> {crossing:g} -> {safe:g}", apply, safe, crossing)


def fraction(model, rule, body, labeler: Labeler, op: str, t: float):
    part = Selector.parse(body.used or body.free)
    whole = Selector.parse(body.of)
    part_labels = labeler.satisfying(part, keep=tuple(body.by))
    if body.aggregate:
        whole_labels = labeler.satisfying(whole, extra={k: part_labels[k] for k in body.by})
    else:
        whole_labels = labeler.satisfying(whole, extra=dict(part_labels))
        if whole_labels != part_labels:
            raise Untestable("used/free and of need the same labels")
    maximum = BYTES_MAX if "bytes" in whole.name else COUNT_MAX
    crossing, safe = levels(_quantity(model, rule), op[0], exact=False)

    def apply(standins, level):
        used = level * maximum
        standins[part_labels["job"]].series.set_gauge(part.name, _own(part_labels),
                                                      used if body.used else maximum - used)
        standins[whole_labels["job"]].series.set_gauge(whole.name, _own(whole_labels), maximum)

    side = "used" if body.used else "free"
    size = f"{maximum / 2 ** 30:g} GiB" if maximum == BYTES_MAX else f"{maximum:g}"
    return drv.Levels("fraction", [(part_labels["job"], part.name), (whole_labels["job"], whole.name)],
                      f"{part.name} ({side}) of {whole.name} = {size}: {safe:.0%} -> {crossing:.0%} -> "
                      f"{safe:.0%} used", apply, safe, crossing)


def _margin(crossing: float, safe: float, op: str) -> tuple[float, float]:
    """Levels read through a window: twice / half as far from the threshold."""
    return (crossing * 2, safe / 2) if op[0] == ">" else (crossing / 2, safe * 2)


def increase(model, rule, body, labeler: Labeler, op: str, t: float):
    window = _window(rule.expr)
    quantity = _quantity(model, rule)
    base = quantity.per_unit if quantity.kind == "rate" else quantity.value
    crossing, safe = levels(quantity, op[0], exact=True)
    scale = t / base if base else 1.0  # the expression counts per its window, the spec per its own unit
    crossing, safe = _margin(crossing * scale, safe * scale, op)
    if body.counter and body.minus:
        return _difference(body, labeler, window, safe, crossing)
    if body.counter:
        selector = Selector.parse(body.counter)
        labels = labeler.satisfying(selector, keep=tuple(body.by))
        job, name = labels["job"], selector.name

        def apply(standins, events):
            standins[job].series.set_rate(name, _own(labels), events / window)

        what = name
    else:
        name = body.histogram
        labels = labeler.satisfying(Selector(f"{name}_count", ()), keep=tuple(body.by))
        job, bound = labels["job"], body.slower_than.seconds
        buckets = _buckets(model, name)
        slow = next((b for b in buckets if b > bound), bound * 2)
        fast = min(buckets[0], bound) / 2

        def apply(standins, events):
            standins[job].series.set_observations(name, _own(labels), buckets,
                                                  [(fast, FAST), (slow, events / window)])

        what = f"{name} observations of {slow:g}s (among {FAST:g}/s of {fast:g}s)"
    return drv.Levels("increase", [(job, name)], f"{what} on {job}: {safe:g} -> {crossing:g} -> {safe:g} per "
                      f"{window:g}s window", apply, safe, crossing)


def _difference(body, labeler: Labeler, window: float, safe: float, crossing: float):
    """`counter` at FAST a second plus the difference, `minus` at FAST: the shortened window counts the difference."""
    a, b = Selector.parse(body.counter), Selector.parse(body.minus)
    a_labels = labeler.satisfying(a, keep=tuple(body.by))
    b_labels = labeler.satisfying(b, extra={k: a_labels[k] for k in body.by})

    def apply(standins, events):
        standins[a_labels["job"]].series.set_rate(a.name, _own(a_labels), FAST + events / window)
        standins[b_labels["job"]].series.set_rate(b.name, _own(b_labels), FAST)

    return drv.Levels("increase", [(a_labels["job"], a.name), (b_labels["job"], b.name)],
                      f"{a.name} - {b.name} on {a_labels['job']} ({FAST:g}/s each besides): {safe:g} -> {crossing:g} "
                      f"-> {safe:g} per {window:g}s window", apply, safe, crossing)


def _buckets(model, name: str) -> list[float]:
    declared = next((m for m in model.spec.metrics if m.name == name), None)
    return sorted(float(b) for b in (getattr(declared, "buckets", None) or drv.DEFAULT_BUCKETS))


def _nth(label: str, j: int) -> str:
    values = REALISTIC.get(label, ())
    if j < len(values) and len(values) > 4:
        return values[j]
    return f"{values[0].rstrip('0123456789')}{j + 1}" if values else str(j + 1)


def count(model, rule, body, labeler: Labeler, op: str, t: float):
    selector = Selector.parse(body.series)
    base = labeler.satisfying(selector)
    key = next(iter(labeler.usual_labels(selector.name)), "id")
    quantity = _quantity(model, rule)
    total = 50
    if body.of is not None:
        share = quantity.value * total
        crossing, safe = ((math.floor(share) + 1, math.ceil(share) - 1) if op[0] == ">"
                          else (math.ceil(share) - 1, math.floor(share) + 1))
        if crossing < 0 or safe < 0:
            raise Untestable("no whole number of series either side")
        of = Selector.parse(body.of)
        of_labels = labeler.satisfying(of)
    else:
        crossing, safe = levels(quantity, op[0], exact=True)
        of, of_labels = None, None
    n = int(max(crossing, safe)) + 3  # and a few that do not match
    job = base["job"]

    def apply(standins, k):
        now = time.time()
        if body.older_than is not None:
            matching, other = now - body.older_than.seconds - 3600, now  # a success long ago / just now
        elif body.above is not None:
            matching, other = body.above + 1, body.above
        else:
            matching, other = body.below - 1, body.below
        series = standins[job].series
        for j in range(n):
            series.set_gauge(selector.name, {**_own(base), key: _nth(key, j)}, matching if j < k else other)
        if of is not None:
            standins[of_labels["job"]].series.set_gauge(of.name, _own(of_labels), total)

    touched = [(job, selector.name)] + ([(of_labels["job"], of.name)] if of is not None else [])
    what = "older than " + str(body.older_than) if body.older_than is not None else \
        f"above {body.above:g}" if body.above is not None else f"below {body.below:g}"
    return drv.Levels("count", touched, f"{selector.name} series {what} on {job}: {int(safe)} -> {int(crossing)} "
                      f"-> {int(safe)} of {n}" + (f" ({of.name} = {total})" if of else ""), apply, safe, crossing)


def average(model, rule, body, labeler: Labeler, op: str, t: float):
    name = body.histogram
    labels = labeler.satisfying(Selector(f"{name}_count", ()), keep=tuple(body.by))
    labels.pop("le", None)
    job = labels["job"]
    crossing, safe = levels(_quantity(model, rule), op[0], exact=False)
    buckets = _buckets(model, name)

    per_second = drv.traffic(body, rule.expr, 1.0)

    def apply(standins, mean):
        standins[job].series.set_latency(name, _own(labels), buckets, mean, per_second=per_second)

    return drv.Levels("average", [(job, name)], f"{name} observations of {safe:g} -> {crossing:g} -> {safe:g} "
                      f"on {job}" + (f" at {per_second:g}/s" if per_second != 1.0 else ""), apply, safe, crossing)


def availability(model, rule, body, labeler: Labeler, op: str, t: float):
    return drv.StopTarget(body.target, "availability",
                          f"stop the {body.target} stand-in (scrapes fail) until delivered, then start it; resolves "
                          f"once the {_window(rule.expr):g}s window holds no failed scrape")


def age(model, rule, body, labeler: Labeler, op: str, t: float):
    """The timestamp set that long ago (since) or ahead (until) at each change: a fifth under / a quarter over the
    threshold's age (hours or days: the seconds a drill lasts do not matter)."""
    selector = Selector.parse(body.selector)
    labels = labeler.satisfying(selector)
    job = labels["job"]
    crossing, safe = levels(_quantity(model, rule), op[0], exact=False)
    sign = -1 if body.since else 1

    def apply(standins, seconds):
        standins[job].series.set_gauge(selector.name, _own(labels), time.time() + sign * seconds)

    side = "ago" if body.since else "ahead"
    return drv.Levels("age", [(job, selector.name)], f"{selector.name} on {job}: {safe:g}s {side} -> {crossing:g}s "
                      f"{side} -> {safe:g}s {side}", apply, safe, crossing)


def absent(model, rule, body, labeler: Labeler):
    """`series`: the stand-in stops exposing it, then exposes it again; `target`: the target leaves discovery."""
    window = _window(rule.expr)
    if body.target is not None:
        return drv.Vanish(body.target, f"the {body.target} target leaves service discovery (its file_sd file emptied) "
                          f"until delivered, then comes back; fires after the {window:g}s window")
    selector = Selector.parse(body.series)
    labels = labeler.satisfying(selector)
    job = labels["job"]

    def apply(standins, present):
        series = standins[job].series
        if present:
            series.set_gauge(selector.name, _own(labels), 1.0)
        else:
            series.remove(selector.name, _own(labels))

    return drv.Levels("absent", [(job, selector.name)], f"{selector.name} on {job}: exposed -> not exposed for the "
                      f"{window:g}s window -> exposed", apply, 1.0, 0.0)


BUILDERS = {"threshold": threshold, "fraction": fraction, "increase": increase, "count": count,
            "average": average, "availability": availability, "age": age}
