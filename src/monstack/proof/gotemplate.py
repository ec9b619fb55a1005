"""The part of Prometheus' alert templating that annotations use, so generated tests can expect rendered text.

Supported inside `{{ }}`: `$value`, `.Value`, `$labels.x`, `.Labels.x`, pipes and calls to `humanize`,
`humanize1024`, `humanizePercentage`, `humanizeDuration`, `toUpper`, `toLower`, `title`. Anything else raises
`Unsupported`, and the caller then checks labels only. Number formatting follows Go (`%v`, `%.4g`), as promtool
prints it (calibrated against promtool 3.5: 1e+06, 123456, 1.234567e+06, 1e-05).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# An action with its optional trim markers (`{{- ` eats the space before it, ` -}}` the space after it).
ACTION = re.compile(r"{{(-[ \t\r\n])?\s*(.*?)\s*([ \t\r\n]-)?}}", re.S)
_SPACE = " \t\r\n"


class Unsupported(ValueError):
    """A template construct this renderer does not evaluate."""


def go_float(v: float) -> str:
    """Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 on."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    shortest = Decimal(repr(float(v))).normalize()
    exponent = shortest.adjusted()
    if -4 <= exponent < 6:
        return format(shortest, "f")
    sign, digits, _ = shortest.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def g4(v: float) -> str:
    """Go's `%.4g` (Python's matches, including the exponent form and trailing-zero removal)."""
    return "%.4g" % v


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
    else:
        for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(v) >= 1:
                break
            prefix, v = p, v * 1000
    return f"{g4(v)}{prefix}"


def humanize1024(v: float) -> str:
    if abs(v) <= 1:
        return g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return f"{g4(v)}{prefix}"


def humanize_percentage(v: float) -> str:
    return f"{g4(v * 100)}%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return g4(v)
    if v == 0:
        return f"{g4(v)}s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes, hours, days = whole % 60, (whole // 60) % 60, (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{g4(v)}{prefix}s"


FUNCTIONS = {
    "humanize": humanize, "humanize1024": humanize1024, "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration, "toUpper": str.upper, "toLower": str.lower, "title": str.title,
}


def render(template: str, value: float, labels: dict[str, str]) -> str:
    """`template` as Prometheus renders it for an alert with this value and these labels (trim markers and
    comments included)."""
    out: list[str] = []
    pos, trim_next = 0, False
    for m in ACTION.finditer(template):
        text = template[pos:m.start()]
        if trim_next:
            text = text.lstrip(_SPACE)
        if m.group(1):
            text = text.rstrip(_SPACE)
        out.append(text)
        body = m.group(2)
        if not (body.startswith("/*") and body.endswith("*/")):
            out.append(_action(body, value, labels))
        pos, trim_next = m.end(), bool(m.group(3))
    tail = template[pos:]
    out.append(tail.lstrip(_SPACE) if trim_next else tail)
    return "".join(out)


def _action(text: str, value: float, labels: dict[str, str]) -> str:
    stages = [s.strip() for s in text.split("|")]
    head = stages[0].split()
    if len(head) == 2 and head[0] in FUNCTIONS:  # `humanize $value`
        stages = [head[1], head[0], *stages[1:]]
    result: object = _operand(stages[0], value, labels)
    for stage in stages[1:]:
        if stage not in FUNCTIONS:
            raise Unsupported(f"template function {stage!r}")
        if isinstance(result, str) and stage.startswith("humanize"):
            raise Unsupported(f"{stage} of a string")
        result = FUNCTIONS[stage](result)
    return go_float(result) if isinstance(result, float) else str(result)


def _operand(text: str, value: float, labels: dict[str, str]) -> object:
    if text in ("$value", ".Value"):
        return float(value)
    match = re.fullmatch(r"(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)", text)
    if match:
        return labels.get(match.group(1), "")  # Prometheus expands with missingkey=zero: an absent label is ""
    raise Unsupported(f"template operand {text!r}")
