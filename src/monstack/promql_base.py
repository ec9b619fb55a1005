"""PromQL text primitives shared by promql.py (every condition kind) and quantile.py (the exact quantile form),
which promql.py imports: a leaf, so neither imports the other back.
"""

from __future__ import annotations

import math
from decimal import Decimal


class ConditionError(ValueError):
    """A condition that cannot be turned into PromQL; `field` names the offending key under the alert."""

    def __init__(self, message: str, field: tuple = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.hint = hint


def le_value(bound: float) -> str:
    """A classic-histogram bound as Prometheus 3 stores it in `le`: `1.0`, `0.25`, `1e+06`, `+Inf`.

    Prometheus 3 normalises bounds with Go's shortest `%g` (exponent form below 1e-4 and from 1e6 on), adding
    `.0` when the result has neither a point nor an exponent.
    """
    bound = float(bound)
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    if bound == 0:
        return "0.0"
    shortest = Decimal(repr(bound)).normalize()
    exponent = shortest.adjusted()
    if -4 <= exponent < 6:
        text = format(shortest, "f")
        return text if "." in text else text + ".0"
    sign, digits, _ = shortest.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def aggregate(op: str, expr: str, by: list[str] | tuple[str, ...] = ()) -> str:
    """`sum(x)` or `sum by (a, b) (x)`."""
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"
