"""Which driver makes an alert fire in the drill: by its condition kind, the generic ones (drivers.py) or a kind's
own (kinds.py)."""

from __future__ import annotations

import re

from ..model import Model, Rule
from ..panels import split_comparison
from ..proof.series import Labeler, Selector, Untestable
from . import kinds
from .drivers import DEFAULT_BUCKETS, Always, Driver, Gauge, Latency, Share, StopTarget, _own, traffic


def kind_of(model: Model, rule: Rule) -> str:
    when = model.spec.alerts[rule.index].when
    if when is None:
        return "slo" if "slo" in rule.labels else "expr"  # an SLO's burn-rate alert is a generated `expr`
    return when.kind


def driver(model: Model, rule: Rule) -> Driver | None:
    """The driver of `rule`, or None when it has none (its kind, its selectors, or a series only the real
    Prometheus / Alertmanager expose)."""
    try:
        found = _driver(model, rule)
    except (Untestable, ValueError, KeyError, AttributeError):
        return None
    standins = {j.name for j in model.jobs} - {"prometheus", "alertmanager"}
    standins |= {pushed for j in model.jobs if j.honor_labels and j.name in standins for pushed in j.pushed_jobs}
    return found if found is not None and found.jobs <= standins else None


def _slo(model: Model, rule: Rule, labeler: Labeler) -> Driver | None:
    """An SLO's burn-rate alert: its SLI's events go from none failing to 90% failing (a ratio: the bad series'
    share of the whole; latency: observations above the bound; availability: the target stopped), and back."""
    slo = next((s for s in model.spec.slos if s.name == rule.labels.get("slo")), None)
    if slo is None:
        return None
    sli, rate = slo.sli.body, traffic(slo, "", 20.0)
    if slo.sli.kind == "availability":
        return StopTarget(sli.target, kind="slo")
    if slo.sli.kind == "latency":
        declared = next((m for m in model.spec.metrics if m.name == sli.histogram), None)
        buckets = sorted(float(b) for b in (getattr(declared, "buckets", None) or DEFAULT_BUCKETS))
        limit = sli.slower_than.seconds
        labels = labeler.satisfying(Selector(sli.histogram + "_bucket", ()))
        slow = next((b for b in buckets if b > limit), limit * 2)
        return Latency(labels["job"], sli.histogram, {k: v for k, v in _own(labels).items() if k != "le"}, buckets,
                       buckets[0] / 2, slow, rate)
    if slo.sli.kind != "ratio" or sli.bad is None:
        return None
    part, whole = Selector.parse(sli.bad), Selector.parse(sli.total)
    part_labels = labeler.satisfying(part)
    same = whole.name == part.name
    whole_labels = labeler.failing(part, part_labels) if same else labeler.satisfying(whole)
    if whole_labels is None:
        return None
    return Share(part_labels["job"], (part.name, _own(part_labels)), (whole.name, _own(whole_labels)), same, 0.0,
                 0.9, rate)


def _driver(model: Model, rule: Rule) -> Driver | None:
    kind = kind_of(model, rule)
    if kind == "slo":
        return _slo(model, rule, Labeler(model))
    when = model.spec.alerts[rule.index].when
    labeler = Labeler(model)
    threshold = split_comparison(rule.expr)  # (query, op, number): a guard after it (a floor, `or absent`) dropped
    above = bool(threshold) and threshold[1] in (">", ">=")
    if kind == "always":
        return Always()
    if kind == "down":
        match = re.fullmatch(r'(\w+)\{job="([^"]+)"\}\s*==\s*0', rule.expr.strip())
        if not match:
            return None
        metric, job = match.groups()
        return StopTarget(job) if metric == "up" else Gauge(job, metric, 1, 0)
    if kind == "ratio" and threshold:
        part = Selector.parse(when.ratio.part)
        wholes = when.ratio.whole if isinstance(when.ratio.whole, list) else [when.ratio.whole]
        whole = Selector.parse(wholes[0])
        part_labels = labeler.satisfying(part)
        job = part_labels["job"]
        same = whole.name == part.name
        whole_labels = labeler.failing(part, part_labels) if same else labeler.satisfying(whole)
        if whole_labels is None:
            return None
        t = float(threshold[2])
        safe, crossing = (0.0, min(0.9, 4 * t)) if above else (round((1 + t) / 2, 4), t / 2)
        return Share(job, (part.name, _own(part_labels)), (whole.name, _own(whole_labels)), same, safe, crossing,
                     traffic(when.ratio, rule.expr, 20.0))
    if kind == "quantile":
        # the typed threshold: at a declared bound the expression filters the quantile by the bucket share
        # (`histogram_quantile(...) and <share> < q`) and has no `> t` to split
        alert = model.spec.alerts[rule.index]
        if alert.above is None and alert.below is None:
            return None
        above, limit = alert.above is not None, float((alert.above or alert.below).value)
        name = when.quantile.histogram
        declared = next((m for m in model.spec.metrics if m.name == name), None)
        buckets = sorted(float(b) for b in (getattr(declared, "buckets", None) or DEFAULT_BUCKETS))
        # the slow observations: the first bucket above the limit, or twice the top finite bound (+Inf)
        labels = labeler.satisfying(Selector(name + "_bucket", ()))
        fast, slow = buckets[0] / 2, next((b for b in buckets if b > limit), limit * 2)
        return Latency(labels["job"], name, {k: v for k, v in _own(labels).items() if k != "le"}, buckets,
                       *((fast, slow) if above else (slow, fast)), traffic(when.quantile, rule.expr, 20.0))
    if kind == "absent":
        return kinds.absent(model, rule, when.body, labeler)
    builder = kinds.BUILDERS.get(kind)
    if builder is None or not threshold:
        return None
    return builder(model, rule, when.body, labeler, threshold[1], float(threshold[2]))
