"""The exact form of a quantile alert whose threshold is a bucket bound (issue 11).

`histogram_quantile(q, ...) > t` cannot fire when t is the top finite bound (it returns that bound at most) and
interpolates between bounds. When t is a declared bound, the bucket itself answers the question exactly:
"more than (1-q) of observations took longer than t" is `1 - bucket{le="t"} / count > 1 - q`, and "the q-quantile
is below t" is `bucket{le="t"} / count > q`. Both guard a zero count (`count > 0`) as the other ratios do.
Not yet wired into promql._quantile (see the branch report); pure text, no imports of model or checks.
"""

from __future__ import annotations

from .promql import ConditionError, aggregate, le_value
from .spec.units import promql_number


def exact_quantile(histogram: str, q: float, bound: float, op: str, window: str, by: list[str] | tuple[str, ...] = (),
                   buckets: list[float] | None = None) -> str:
    """The exact comparison for `quantile q of histogram {op} bound` (op `>` or `<`) over `window`."""
    if "le" in by:
        raise ConditionError("`by: [le]` would split the histogram into its buckets: group by other labels",
                             ("by",), hint="drop `le` from `by:`; the exact form selects the bucket itself")
    if buckets is not None and float(bound) not in [float(b) for b in buckets]:
        raise ConditionError(f"{bound:g} is not a bucket bound of {histogram}",
                             hint="use one of " + ", ".join(f"{b:g}" for b in buckets))
    below = aggregate("sum", f'rate({histogram}_bucket{{le="{le_value(bound)}"}}[{window}])', by)
    count = aggregate("sum", f"rate({histogram}_count[{window}])", by)
    share = f"{below} / ({count} > 0)"
    if op == ">":
        return f"1 - ({share}) > {promql_number(round(1 - q, 12))}"
    if op == "<":
        return f"{share} > {promql_number(q)}"
    raise ConditionError(f"a quantile takes `above:` or `below:`, not {op!r}")
