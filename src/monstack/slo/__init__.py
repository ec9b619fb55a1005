"""SLOs become rules the rest of monstack already knows: `expand()` turns each `slos:` entry into recording rules
(`records:`), one burn-rate alert per window pair (a raw `expr:` alert carrying its generated proof as `tests:`),
and the inhibitions that mute a slower burn of the same SLO while a faster one fires. Every diagnostic about a
generated alert is reported at the SLO's line (`Source.alias`).
"""

from __future__ import annotations

import difflib

from ..errors import Diagnostic, MonstackError
from ..load import Source
from ..model import Model
from ..proof.series import Labeler, Untestable
from ..spec.models import Alert, Record, Spec
from ..spec.routing import Inhibit
from ..spec.slos import SLO
from .cases import Events, cases
from .rules import alert_expr, alert_name, records
from .windows import Window, windows

__all__ = ["expand", "windows"]


def expand(spec: Spec, model: Model, source: Source) -> Spec:
    """The spec with every SLO's records, alerts and inhibitions added (`model`: the spec built without them, for
    the labels each job's series carry)."""
    if not spec.slos:
        return spec
    problems = _references(spec, source)
    if problems:
        raise MonstackError(problems)
    labeler = Labeler(model)
    alerts, new_records, inhibit = list(spec.alerts), list(spec.records), list(spec.routing.inhibit)
    for j, slo in enumerate(spec.slos):
        group = slo.group or f"slo-{slo.name.lower()}"
        for r in records(slo):
            source.alias(("records", len(new_records)), ("slos", j, "sli"))
            new_records.append(Record(group=group, **r))
        try:
            events: Events | None = Events(slo, labeler)
        except Untestable:
            events = None
        for window in windows(slo):
            source.alias(("alerts", len(alerts)), ("slos", j, "alerts", alert_name(slo, window)))
            alerts.append(_alert(slo, window, group, events))
        inhibit += _inhibitions(slo)
    routing = spec.routing.model_copy(update={"inhibit": inhibit})
    return spec.model_copy(update={"alerts": alerts, "records": new_records, "routing": routing})


def _references(spec: Spec, source: Source) -> list[Diagnostic]:
    """An availability SLI names a target; a latency SLI's threshold is a bucket bound of its histogram."""
    targets = sorted(t.name for t in spec.targets)
    out = []
    for j, slo in enumerate(spec.slos):
        sli, at = slo.sli.body, ("slos", j, "sli", slo.sli.kind)
        if slo.sli.kind == "availability" and sli.target not in targets:
            close = difflib.get_close_matches(sli.target, targets, n=1)
            out.append(source.diagnostic(at + ("target",), f"unknown target {sli.target!r}", check="model",
                                         hint=f"did you mean {close[0]!r}?" if close else f"targets: {', '.join(targets)}"))
        if slo.sli.kind == "latency":
            metric = next((m for m in spec.metrics if m.name == sli.histogram), None)
            bound = sli.slower_than.seconds
            if metric is not None and metric.buckets and bound not in metric.buckets:
                out.append(source.diagnostic(
                    at + ("slower_than",), f"{sli.slower_than} is not a bucket bound of {sli.histogram} "
                    f"({', '.join(f'{b:g}' for b in metric.buckets)}): the share of slower requests cannot be read",
                    check="model", hint="use a bucket bound, or add one to the metric's buckets"))
    return out


def _alert(slo: SLO, window: Window, group: str, events: Events | None) -> Alert:
    spent = 100 * window.factor * window.long.seconds / slo.period_duration.seconds
    lasts = slo.period_duration.seconds / window.factor / 86400
    data = {
        "name": alert_name(slo, window), "severity": window.severity, "group": group, "expr": alert_expr(slo, window),
        "labels": {**slo.labels, "slo": slo.name, "long_window": window.name},
        "summary": f"{slo.name}: the error budget burns {window.factor:g}x too fast "
                   f"({{{{ $value | humanizePercentage }}}} errors over {window.long})",
        "description": f"{slo.description + ' ' if slo.description else ''}Objective {slo.objective.text} over "
                       f"{slo.period}: errors over the last {window.long} and {window.short} are above "
                       f"{window.factor:g}x the budget ({window.threshold(slo.budget):.4%}). {spent:.3g}% of the "
                       f"{slo.period} budget is spent in {window.long} at this rate; all of it in {lasts:.3g} days.",
    }
    if slo.service:
        data["service"] = slo.service
    if events is None:
        data["waive"] = "a raw SLI: monstack cannot derive input series from PromQL (add tests: to a raw alert)"
    else:
        data["tests"] = cases(slo, window, events)
    return Alert.model_validate(data)


def _inhibitions(slo: SLO) -> list[Inhibit]:
    """While a faster burn of this SLO fires, its slower ones are muted (they say the same, later)."""
    found = windows(slo)
    return [Inhibit(when={"slo": slo.name, "long_window": fast.name},
                    mute={"slo": slo.name, "long_window": slow.name}, equal=["slo"])
            for i, fast in enumerate(found) for slow in found[i + 1:]]
