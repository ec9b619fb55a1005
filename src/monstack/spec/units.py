"""Typed values with units, as people write them in the guide's tables: `5m`, `5%`, `100/h`, `1s`, `512MiB`.

Each parses strictly (what Prometheus would refuse later is refused here, with the accepted forms in the message)
and knows how to print itself back in Prometheus syntax.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION_RE = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_DURATION_EXAMPLES = "e.g. 30s, 5m, 1h30m, 2d (units ms, s, m, h, d, w, y)"


@dataclass(frozen=True, order=True)
class Duration:
    """A Prometheus duration, kept in milliseconds."""

    ms: int

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        """Canonical Prometheus form: largest units first, `0s` for zero."""
        if self.ms == 0:
            return "0s"
        rest, out = self.ms, ""
        for unit, size in (("y", 31536000000), ("w", 604800000), ("d", 86400000), ("h", 3600000),
                           ("m", 60000), ("s", 1000), ("ms", 1)):
            if rest >= size:
                out += f"{rest // size}{unit}"
                rest %= size
        return out

    @classmethod
    def parse(cls, value: Any) -> "Duration":
        if isinstance(value, Duration):
            return value
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError(f"invalid duration {_quote(value)}: write it with a unit, {_DURATION_EXAMPLES}")
        text = value.strip()
        match = _DURATION_RE.match(text)
        if not text or not match or not any(match.groups()):
            raise ValueError(f"invalid duration {_quote(value)}: expected {_DURATION_EXAMPLES}")
        ms = 0
        for unit, group in zip(("y", "w", "d", "h", "m", "s", "ms"), match.groups()[1::2]):
            if group:
                ms += int(group) * int(_DURATION_UNITS[unit] * 1000)
        return cls(ms)


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(Duration.parse),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+(ms|s|m|h|d|w|y))+$", "examples": ["30s", "5m", "1h"]}),
]

# --- thresholds -------------------------------------------------------------------------------------------------

_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "m": 60, "h": 3600, "hour": 3600,
               "d": 86400, "day": 86400}
_BYTE_UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KiB": 1024, "MiB": 1024**2,
               "GiB": 1024**3, "TiB": 1024**4}
_NUMBER = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
_THRESHOLD_EXAMPLES = "e.g. 5%, 1s, 5m, 10/min, 100/h, 512MiB or a plain number"


@dataclass(frozen=True)
class Quantity:
    """A threshold: a number and its unit.

    kind is one of: number, percent, duration, rate, bytes. `value` is the number in Prometheus' base unit
    (a fraction for percent, seconds for durations, per second for rates, bytes for bytes); `text` is what the
    user wrote, for messages and annotations.
    """

    kind: str
    value: float
    text: str
    per: float = 1.0  # for rates: the unit's length in seconds (60 for /min)
    amount: float | None = None  # for rates: the count per its own unit (10 for `10/min`)

    @property
    def per_unit(self) -> float:
        """For a rate: the count per its own unit (10 for `10/min`); otherwise the value."""
        return self.amount if self.amount is not None else self.value

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, value: Any) -> "Quantity":
        if isinstance(value, Quantity):
            return value
        if isinstance(value, bool):
            raise ValueError(f"invalid threshold {_quote(value)}: expected {_THRESHOLD_EXAMPLES}")
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise ValueError("a threshold must be a finite number")
            return cls("number", float(value), _plain(value))
        if not isinstance(value, str):
            raise ValueError(f"invalid threshold {_quote(value)}: expected {_THRESHOLD_EXAMPLES}")
        text = value.strip()
        if m := re.fullmatch(rf"({_NUMBER})\s*%", text):
            return cls("percent", float(Decimal(m.group(1)) / 100), text)
        if m := re.fullmatch(rf"({_NUMBER})\s*/\s*([a-z]+)", text):
            unit = m.group(5)
            if unit not in _RATE_UNITS:
                raise ValueError(f"invalid rate {_quote(value)}: the unit after / must be one of s, min, h, d")
            per = float(_RATE_UNITS[unit])
            return cls("rate", float(m.group(1)) / per, text, per, float(m.group(1)))
        if m := re.fullmatch(rf"({_NUMBER})\s*([KMGT]i?B|B)", text):
            return cls("bytes", float(m.group(1)) * _BYTE_UNITS[m.group(5)], text)
        if re.fullmatch(_NUMBER, text):
            return cls("number", float(text), text)
        try:
            return cls("duration", Duration.parse(text).seconds, text)
        except ValueError:
            raise ValueError(f"invalid threshold {_quote(value)}: expected {_THRESHOLD_EXAMPLES}") from None


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def promql_number(value: float) -> str:
    """A float printed the shortest way PromQL reads back exactly (0.05, 300, 1e-06)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


QuantityField = Annotated[
    Quantity,
    BeforeValidator(Quantity.parse),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}],
                    "examples": ["5%", "1s", "10/min", "100/h", "512MiB", 10]}),
]
