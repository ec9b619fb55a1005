"""Generated cases of a `quantile` condition (issue 11). A threshold t at a declared bucket bound, the top finite
one included, is rendered in the exact form (`histogram_quantile(...) and <share at or below t> < q`); without
declared buckets the test picks its own around t (t/2, t, 2.5t), for `histogram_quantile(...) > t`. Either way the
alert fires a point past the quantile's tail, and its value is the quantile.
"""

from __future__ import annotations

import math

from . import scenarios_more as more
from .cases import FAST, Case, Timing, pct, ramp, standard
from .series import Labeler, Selector, Series, Untestable, bucket_labels


def quantile_cases(alert, body, op, threshold, timing: Timing, labeler: Labeler) -> list[Case]:
    """Firing a point over the quantile's tail (1-q of the observations above t; under it for `below`), silent a
    point on the other side (for `above`, with a rare slow group inside fast traffic where a label allows it),
    pending before `for`, silent under a traffic floor. $value is histogram_quantile's: interpolated in the bucket
    the rank falls in, or t when that is +Inf (t the top finite bound)."""
    t = threshold.value
    declared = next((m for m in labeler.model.spec.metrics if m.name == body.histogram), None)
    # a declared bound (any, the top finite one too) is rendered in the exact form; without declared buckets the
    # test picks its own, with t in the middle, for histogram_quantile compared with t
    buckets = [float(b) for b in declared.buckets] if declared and declared.buckets else [t / 2, t, t * 2.5]
    if t not in buckets:
        raise Untestable(f"{t:g} is not a bucket bound of {body.histogram}")
    labels = labeler.satisfying(Selector(f"{body.histogram}_bucket", ()), keep=tuple(body.by))
    labels.pop("le", None)
    i = buckets.index(t)
    lower = buckets[i - 1] if i > 0 else 0.0
    upper = buckets[i + 1] if i + 1 < len(buckets) else math.inf  # at the top bound the slow ones are in +Inf
    share_above = 1 - body.q  # exactly the quantile's tail
    # observations above t: a point more, a point less (the other way round for `below`)
    crossing, safe = share_above + 0.01, share_above - 0.01
    if op == "<":
        crossing, safe = safe, crossing
    kept = {k: labels[k] for k in body.by}
    total, low = more.traffic(body, timing) if more.has_floor(body) else (FAST, 0.0)

    split = next((k for k in labeler.usual_labels(body.histogram) if k not in body.by and k in labels), None)

    def group(group_labels, below_rate, above_rate, n):
        series = []
        for bound in [*buckets, math.inf]:
            cumulative = (below_rate if bound >= t else 0.0) + (above_rate if bound >= upper else 0.0)
            series.append(Series(f"{body.histogram}_bucket", bucket_labels(group_labels, bound),
                                 ramp(cumulative, timing.interval, n)))
        series.append(Series(f"{body.histogram}_count", group_labels, ramp(below_rate + above_rate,
                                                                             timing.interval, n)))
        return series

    def build(above, n, total=total):
        if above < share_above and split and op == ">":
            # The safe side, with a rare slow group (half its observations above t) inside busy fast traffic:
            # the quantile of all observations stays under t; the rare group's own quantile does not.
            rare = {**labels, split: labeler.other_value(split, labels[split])}
            series = group(labels, total * (1 - 2 * above), 0.0, n) + group(rare, total * above, total * above, n)
        else:
            series = group(labels, total * (1 - above), total * above, n)
        # histogram_quantile: rank q*total; the (lower, t] bucket holds the rest, the (t, upper] one the tail;
        # a rank in the +Inf bucket returns the top finite bound, t
        rank = body.q
        if rank <= 1 - above:
            value = lower + (t - lower) * rank / (1 - above)
        elif math.isinf(upper):
            value = t
        else:
            value = t + (upper - t) * (rank - (1 - above)) / above
        return series, value, kept

    cases = standard(alert, timing, build, crossing, safe,
                     lambda a: f"{pct(a)} of observations above {threshold.text}")
    if more.has_floor(body):
        cases.append(more.under_floor(alert, body, timing, build, crossing, low,
                                      f"{pct(crossing)} of observations above {threshold.text}"))
    return cases
