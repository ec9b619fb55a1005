"""The exact form of a quantile alert whose threshold is a declared bucket bound (issue 11).

`histogram_quantile(q, ...) > t` cannot fire when t is the top finite bound (it returns that bound at most), and it
interpolates between bounds, so a change of buckets moves what it reports. When t is a declared bound, the bucket
itself answers the question exactly: "the q-quantile is above t" is "fewer than q of the observations took t or
less", `bucket{le="t"} / count < q`; "the q-quantile is below t" is `bucket{le="t"} / count > q`. The count is
guarded (`count > 0`) as the other ratios are.

The share is compared with q itself, not `1 - share > 1 - q`: at exactly q of the observations at or below t the
quantile is t (not above it), and `1 - 0.95` is 0.05000000000000004 in floating point, which `> 0.05` would pass.

promql._quantile filters the quantile by this condition (`histogram_quantile(...) and <exact>`), so the alert's
value stays the quantile. Pure text: no imports of model or checks.
"""

from __future__ import annotations

from .promql_base import ConditionError, aggregate, le_value
from .spec.units import promql_number


def is_bound(bound: float, buckets) -> bool:
    """Whether `bound` is one of the declared finite `buckets` (None: none declared)."""
    return buckets is not None and float(bound) in [float(b) for b in buckets]


def exact_quantile(histogram: str, q: float, bound: float, op: str, window: str, by: list[str] | tuple[str, ...] = (),
                   buckets: list[float] | None = None) -> str:
    """The exact condition for `quantile q of histogram {op} bound` (op `>` or `<`) over `window`, aggregated
    `sum by (by)`: the share of observations at or below `bound`, compared with q."""
    if "le" in by:
        raise ConditionError("`by: [le]` would split the histogram into its buckets: group by other labels",
                             ("by",), hint="drop `le` from `by:`; the exact form selects the bucket itself")
    if buckets is not None and not is_bound(bound, buckets):
        raise ConditionError(f"{bound:g} is not a bucket bound of {histogram}",
                             hint="use one of " + ", ".join(f"{b:g}" for b in buckets))
    below = aggregate("sum", f'rate({histogram}_bucket{{le="{le_value(bound)}"}}[{window}])', by)
    count = aggregate("sum", f"rate({histogram}_count[{window}])", by)
    share = f"{below} / ({count} > 0)"
    if op == ">":
        return f"{share} < {promql_number(q)}"
    if op == "<":
        return f"{share} > {promql_number(q)}"
    raise ConditionError(f"a quantile takes `above:` or `below:`, not {op!r}")
