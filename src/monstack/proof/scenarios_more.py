"""Generated cases of the condition kinds added for real services' tables (issue 10): `age`, `absent`, the
difference of two counters (`increase` with `minus`) and the traffic floor (`min_count` / `min_rate`) of ratios,
quantiles and averages. The shared frame is in cases.py; the other kinds are in scenarios.py.

Times are promtool's: the test starts at 0, so a Unix timestamp of -3600 is an hour before it began.
"""

from __future__ import annotations

import math

from .cases import FAST, Case, Timing, case, flat, levels, ramp, standard
from .series import Labeler, Selector, Series


# --- age: time since (or until) a timestamp gauge -----------------------------------------------------------

def age(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    """Firing with a stale timestamp (since) or a near one (until) that holds from the start; silent when the age is
    exactly the threshold at the check (a fresh enough success, a far enough expiry); pending before `for`; and the
    absent series: firing with the selector's equality labels (`if_absent: fire`) or silent (`ignore`)."""
    selector = Selector.parse(body.selector)
    labels = labeler.satisfying(selector)
    t = int(threshold.value) if float(threshold.value).is_integer() else threshold.value
    fire_at = timing.fire_at

    if body.since:  # age = time() - X
        def build(stamp, n):
            return [Series(selector.name, labels, flat(stamp, n))], fire_at - stamp, labels

        crossing, safe = -(t + 1), fire_at - t  # a second too old from the start; exactly t old at the check
        describe = {crossing: f"a last success {t + 1:g}s before the test began",
                    safe: f"a last success exactly {threshold.text} before the check"}
    else:  # time left = X - time()
        def build(stamp, n):
            return [Series(selector.name, labels, flat(stamp, n))], stamp - fire_at, labels

        crossing, safe = t - 1, fire_at + t  # a second short of the threshold from the start; exactly t at the check
        describe = {crossing: f"an expiry {t - 1:g}s after the test began",
                    safe: f"an expiry exactly {threshold.text} after the check"}
    cases = standard(alert, timing, build, crossing, safe, lambda stamp: describe[stamp])
    equal = equality_labels(selector)
    if body.fires_when_absent:
        cases.append(case(alert, "firing", f"fires when no {selector.name} series exists (if_absent: fire)", timing,
                          [], value=1.0, labels=equal))
    else:
        cases.append(case(alert, "silent", f"stays silent when no {selector.name} series exists (if_absent: ignore)",
                          timing, []))
    return cases


def equality_labels(selector: Selector) -> dict[str, str]:
    """The labels `absent()` and `absent_over_time()` give their result: the selector's non-empty equality matchers."""
    return {label: value for label, op, value in selector.matchers if op == "=" and value}


# --- absent: a series missing for longer than `over` ---------------------------------------------------------

def absent(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    """Present throughout: silent. Last sample at T0: silent at the last evaluation before T0 + over (the window still
    holds it), firing at the first evaluation from T0 + over on (Prometheus 3 ranges exclude their start) held past
    `for`; pending in between where `for` > 0. A series that never existed fires too."""
    if body.target is not None:
        selector = Selector("up", (("job", "=", body.target),))
    else:
        selector = Selector.parse(body.series)
    labels = labeler.satisfying(selector)
    equal = equality_labels(selector)
    interval, evaluation, window = timing.interval, timing.evaluation, timing.window
    counter = selector.name.endswith("_total")

    def values(n):
        return ramp(FAST, interval, n) if counter else flat(1.0, n)

    def on_grid(t: float) -> int:  # the first evaluation at or after t
        return int(math.ceil(t / evaluation) * evaluation)

    stop = timing.align(window)  # the last sample
    gone = on_grid(stop + window)  # the first evaluation whose window holds no sample
    fire_at = on_grid(gone + timing.for_)
    what = f"{selector.name}" + (f" of target {body.target}" if body.target else "")
    stopped = [Series(selector.name, labels, values(stop // interval + 1))]
    cases = [
        case(alert, "silent", f"stays silent while {what} is present", timing,
             [Series(selector.name, labels, values(fire_at // interval + 1))], at=fire_at),
        case(alert, "silent", f"stays silent {evaluation}s before {what} has been missing for {window}s", timing,
             stopped, at=gone - evaluation),
        case(alert, "firing", f"fires once {what} has been missing for {window}s", timing, stopped, at=fire_at,
             value=1.0, labels=equal),
    ]
    if timing.for_ > 0:
        cases.append(case(alert, "pending", f"is only pending once {what} is missing, for less than `for`", timing,
                          stopped, at=gone, value=1.0, labels=equal))
    cases.append(case(alert, "firing", f"fires when {what} never existed", timing, [],
                      at=on_grid(timing.for_ + evaluation), value=1.0, labels=equal))
    return cases


# --- increase of the difference of two counters ---------------------------------------------------------------

def increase_minus(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    """`counter` grows faster than `minus` by just more than the threshold: firing; by just the threshold: silent.
    Both counters carry realistic traffic (FAST a second) besides the difference. A rate threshold over another
    window subtracts two rates in floating point: those levels keep a margin."""
    unit = threshold.per if threshold.kind == "rate" else timing.window
    exact = not (threshold.kind == "rate" and timing.window != threshold.per)
    crossing, safe = levels(threshold, op, exact=exact)
    a, b = Selector.parse(body.counter), Selector.parse(body.minus)
    by = tuple(body.by)
    a_labels = labeler.satisfying(a, keep=by)
    b_labels = labeler.satisfying(b, extra=labeler.shared(b, a_labels, by))
    kept = {k: a_labels[k] for k in by}

    def build(events, n):
        rate = events / unit
        return [Series(a.name, a_labels, ramp(FAST + rate, timing.interval, n)),
                Series(b.name, b_labels, ramp(FAST, timing.interval, n))], events, kept

    span = f"/{unit:g}s"
    cases = standard(alert, timing, build, crossing, safe,
                     lambda v: f"{a.name} {v:g}{span} more than {b.name}")
    if op == "<" and not by:
        cases.append(case(alert, "firing", f"fires when neither {a.name} nor {b.name} exists yet (zero)", timing, [],
                          value=0.0, labels={}))
    return cases


# --- traffic floors ---------------------------------------------------------------------------------------------

def has_floor(body) -> bool:
    return getattr(body, "min_count", None) is not None or getattr(body, "min_rate", None) is not None


def traffic(body, timing: Timing, usual: float = FAST) -> tuple[float, float]:
    """(events a second of the whole in the ordinary cases, events a second under the floor).

    The ordinary cases keep four times the floor from the first checked evaluation on: over a window not yet full,
    increase() counts only what arrived since the test began, and rate() divides that by the whole window. The low
    traffic is a quarter of the floor over a whole window, which no evaluation can count up to the floor."""
    first = timing.pending_at or timing.fire_at
    window = timing.window
    span = max(min(first, window) - timing.interval, timing.interval)  # seconds of traffic the first check counts
    if body.min_rate is not None:
        least = body.min_rate.value
        return max(usual, 4 * least * window / span), least / 4
    return max(usual, 4 * body.min_count / span), body.min_count / 4 / window


def floor_words(body) -> str:
    return f"{body.min_count} events" if body.min_count is not None else f"{body.min_rate.text}"


def under_floor(alert, body, timing: Timing, build, level: float, low: float, what: str) -> Case:
    """The crossing level on too little traffic (one failed request of one at 3 a.m.): silent."""
    series, _, _ = build(level, timing.samples(), low)
    return case(alert, "silent", f"stays silent at {what} under the traffic floor ({floor_words(body)})", timing,
                series)
