"""The PromQL of an SLO: one recording rule of the error ratio per window (so that each alert reads cheap
precomputed series, as Sloth and Pyrra do), the traffic over each long window when there is a floor, and one
alert per window pair.

Records are named as Sloth names them, `slo:sli_error:ratio_rate<window>`, and carry `slo="<name>"`; the error
ratio is the SLI's bad events over all events in the window (a NaN when there was no event: no alert).
"""

from __future__ import annotations

from ..promql_base import le_value
from ..spec.slos import SLO
from ..spec.units import Duration, promql_number
from .windows import Window, ranges, windows

ERROR = "slo:sli_error:ratio_rate"
TRAFFIC = "slo:sli_total:rate"


def record_name(prefix: str, window: Duration) -> str:
    return f"{prefix}{window}"


def error_ratio(slo: SLO, window: Duration) -> str:
    """The error ratio over `window` (availability: of the target's job, whose label is the target's name)."""
    sli, w = slo.sli.body, str(window)
    kind = slo.sli.kind
    if kind == "ratio":
        part = sli.bad or sli.good
        share = f"sum(rate({part}[{w}])) / sum(rate({sli.total}[{w}]))"
        return share if sli.bad else f"1 - ({share})"
    if kind == "latency":
        fast = f'{sli.histogram}_bucket{{le="{le_value(sli.slower_than.seconds)}"}}'
        return f"1 - (sum(rate({fast}[{w}])) / sum(rate({sli.histogram}_count[{w}])))"
    if kind == "availability":
        return f'1 - avg(avg_over_time(up{{job="{sli.target}"}}[{w}]))'
    part = (sli.bad or sli.good).replace("$window", w)
    share = f"({part}) / ({sli.total.replace('$window', w)})"
    return share if sli.bad else f"1 - ({share})"


def traffic(slo: SLO, window: Duration) -> str:
    """Events a second over `window`: what the traffic floor compares."""
    sli, w = slo.sli.body, str(window)
    if slo.sli.kind == "ratio":
        return f"sum(rate({sli.total}[{w}]))"
    if slo.sli.kind == "latency":
        return f"sum(rate({sli.histogram}_count[{w}]))"
    return f"({sli.total.replace('$window', w)})"


def records(slo: SLO) -> list[dict]:
    """The recording rules of an SLO: {record, expr, labels}."""
    out = [{"record": record_name(ERROR, w), "expr": error_ratio(slo, w), "labels": {"slo": slo.name}}
           for w in ranges(slo)]
    if slo.min_rate is not None:
        out += [{"record": record_name(TRAFFIC, w.long), "expr": traffic(slo, w.long), "labels": {"slo": slo.name}}
                for w in windows(slo)]
    return out


def alert_name(slo: SLO, window: Window) -> str:
    return f"{slo.name}BurnRate{window.name}"


def alert_expr(slo: SLO, window: Window) -> str:
    above = promql_number(round(window.threshold(slo.budget), 12))  # factor x budget: 14.4 x 0.001 = 0.0144
    sel = f'{{slo="{slo.name}"}}'
    short = f"{record_name(ERROR, window.short)}{sel} > {above}"
    if slo.min_rate is not None:  # grouped with the short window: the long window's comparison stays the top one
        short = f"({short} and {record_name(TRAFFIC, window.long)}{sel} >= {promql_number(slo.min_rate.value)})"
    return f"{record_name(ERROR, window.long)}{sel} > {above} and {short}"
