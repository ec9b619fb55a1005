"""Step 3: the resolved, frozen model the renderers read: every job has its address, every alert its PromQL.

`build()` also checks what the spec's types alone cannot: names unique, references resolved (targets, receivers,
metrics), thresholds that a histogram's buckets can actually show. Every problem becomes a Diagnostic pointing
at the spec line; all of them are raised together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import promql
from .errors import Diagnostic
from .exporters import KINDS
from .load import Source
from .spec.models import Alert, Spec, Target
from .routing_checks import check_routing
from .spec.units import Duration


@dataclass(frozen=True)
class Job:
    name: str
    kind: str
    address: str  # what Prometheus scrapes
    metrics_path: str
    scheme: str
    scrape_interval: Duration | None
    scrape_timeout: Duration | None
    labels: dict[str, str]


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    expr: str
    for_: Duration
    keep_firing_for: Duration | None
    labels: dict[str, str]
    annotations: dict[str, str]
    index: int  # position in spec.alerts, for diagnostics
    typed: bool  # generated from a typed condition (vs raw expr)


@dataclass(frozen=True)
class Model:
    spec: Spec
    file: str
    jobs: tuple[Job, ...]
    rules: tuple[Rule, ...]
    external_labels: dict[str, str]
    alertmanagers: tuple[str, ...]
    groups: dict[str, tuple[Rule, ...]] = field(default_factory=dict)


def with_dashboard_links(model: Model, links: dict[str, str]) -> Model:
    """The model with each alert's `dashboard` annotation: Grafana's address + the path of its panel."""
    base = model.spec.defaults.grafana_url.rstrip("/")
    rules = tuple(
        replace(rule, annotations={**rule.annotations, "dashboard": base + links[rule.name]})
        if rule.name in links and "dashboard" not in rule.annotations else rule
        for rule in model.rules)
    by_name = {rule.name: rule for rule in rules}
    groups = {name: tuple(by_name[r.name] for r in group) for name, group in model.groups.items()}
    return replace(model, rules=rules, groups=groups)


def scrape_address(target: Target) -> str:
    kind = KINDS[target.kind]
    if target.kind in ("app", "custom"):
        return target.address  # type: ignore[return-value]  # required for these kinds by the spec
    if kind.exporter is None:  # prometheus, alertmanager: they serve their own metrics
        return target.address or f"{kind.service}:{kind.port}"
    return target.exporter or f"{kind.service}:{kind.port}"


def build(spec: Spec, source: Source) -> tuple[Model, list[Diagnostic]]:
    """The model, with the rules that could be built, and every problem found (errors and warnings)."""
    problems: list[Diagnostic] = []
    problems += _duplicates(source, "targets", [t.name for t in spec.targets], "target")
    problems += _duplicates(source, "metrics", [m.name for m in spec.metrics], "metric")
    problems += _duplicates(source, "alerts", [a.name for a in spec.alerts], "alert")
    problems += _duplicates(source, ("routing", "receivers"), [r.name for r in spec.routing.receivers], "receiver")
    targets = {t.name: t for t in spec.targets}
    for i, target in enumerate(spec.targets):
        interval = target.scrape_interval or spec.defaults.scrape_interval
        if target.scrape_timeout is not None and target.scrape_timeout > interval:
            problems.append(source.diagnostic(
                ("targets", i, "scrape_timeout"), f"scrape_timeout {target.scrape_timeout} exceeds the job's "
                f"scrape_interval {interval}: Prometheus refuses that", check="model"))
    for i, metric in enumerate(spec.metrics):
        if metric.target is not None and metric.target not in targets:
            problems.append(source.diagnostic(("metrics", i, "target"), f"unknown target {metric.target!r}",
                                              check="model", hint=f"targets: {', '.join(sorted(targets))}"))
    problems += _cadence_checks(spec, source)

    ctx = promql.Context(targets=targets, scrape_interval=spec.defaults.scrape_interval)
    rules = []
    for i, alert in enumerate(spec.alerts):
        try:
            rules.append(_rule(alert, i, ctx, spec.defaults.runbook_url))
        except promql.ConditionError as exc:
            path: tuple = ("alerts", i)
            path += ("when", alert.when.kind, *exc.field) if alert.when and exc.field else \
                (("above",) if alert.above else ("below",) if alert.below else ("when",))
            problems.append(source.diagnostic(path, str(exc), check="model", hint=exc.hint))
        problems += _bucket_checks(spec, alert, i, source)

    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        groups.setdefault(rule.group, []).append(rule)
    managers = tuple(scrape_address(t) for t in spec.targets if t.kind == "alertmanager") or ("alertmanager:9093",)
    model = Model(
        spec=spec, file=source.file,
        jobs=tuple(Job(t.name, t.kind, scrape_address(t), t.metrics_path, t.scheme, t.scrape_interval,
                       t.scrape_timeout, dict(t.labels)) for t in spec.targets),
        rules=tuple(rules),
        external_labels={"project": spec.project.name, "environment": spec.project.environment,
                         **spec.project.labels},
        alertmanagers=managers,
        groups={name: tuple(group) for name, group in sorted(groups.items())},
    )
    problems += check_routing(model, source)  # receivers, routes, labels, inhibitions: routing_checks.py
    return model, problems


def _rule(alert: Alert, index: int, ctx: promql.Context, runbooks: str) -> Rule:
    if alert.when is not None:
        op = ">" if alert.above is not None else "<" if alert.below is not None else None
        expr = promql.render(alert.when, op, alert.above or alert.below, alert.every, ctx)
    else:
        expr = alert.expr.strip()  # type: ignore[union-attr]  # the spec guarantees one of when/expr
    labels = {"severity": alert.severity}
    if alert.service:
        labels["service"] = alert.service
    labels.update(sorted(alert.labels.items()))
    annotations = {"summary": alert.summary, "description": alert.description,
                   "runbook_url": f"{runbooks.rstrip('/')}/{alert.name}.md", **dict(sorted(alert.annotations.items()))}
    if alert.for_ is not None:
        for_ = alert.for_
    elif alert.when is not None and alert.when.kind in promql.WINDOWED:
        for_ = Duration(0)  # the window already spans the cadence
    else:
        for_ = alert.every or Duration(0)
    return Rule(alert.name, alert.group, expr, for_, alert.keep_firing_for, labels, annotations, index,
                alert.when is not None)


def _cadence_checks(spec: Spec, source: Source) -> list[Diagnostic]:
    """Rule groups evaluate at `evaluation_interval`: a long one delays every alert (and promtool tests ignore it)."""
    interval = spec.defaults.evaluation_interval
    out = []
    if interval.ms > 60_000:
        out.append(source.diagnostic(
            ("defaults", "evaluation_interval"), f"rules evaluated every {interval} are late by up to {interval}",
            check="model", severity="warning",
            hint="keep it at 1m or less; a table's 'every hour' is the alert's window and `for`, not a group interval"))
    for i, alert in enumerate(spec.alerts):
        if alert.every is not None and alert.every < interval:
            out.append(source.diagnostic(
                ("alerts", i, "every"), f"checked every {alert.every}, but rules are evaluated every {interval}",
                check="model", severity="warning", hint="lower defaults.evaluation_interval"))
    return out


def _duplicates(source: Source, section, names: list[str], what: str) -> list[Diagnostic]:
    section = section if isinstance(section, tuple) else (section,)
    first: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        if name in first:
            line, _ = source.position(section + (first[name], "name"))
            out.append(source.diagnostic(section + (i, "name"), f"duplicate {what} name {name!r} (first at line "
                                         f"{line})", check="model", hint=f"{what} names must be unique"))
        else:
            first[name] = i
    return out


def _bucket_checks(spec: Spec, alert: Alert, index: int, source: Source) -> list[Diagnostic]:
    """A histogram threshold must be a bucket bound below the top finite bucket, or it cannot be observed."""
    if alert.when is None:
        return []
    body, threshold = alert.when.body, alert.above or alert.below
    if alert.when.kind == "quantile" and threshold is not None:
        bound, path = threshold.value, ("alerts", index, "above" if alert.above else "below")
    elif alert.when.kind == "increase" and body.histogram is not None:
        bound, path = body.slower_than.seconds, ("alerts", index, "when", "increase", "slower_than")
    else:
        return []
    metric = next((m for m in spec.metrics if m.name == body.histogram), None)
    if metric is None or metric.buckets is None:
        return []
    buckets, name = metric.buckets, body.histogram
    if bound >= buckets[-1]:
        return [source.diagnostic(path, f"{bound:g} is not below the top finite bucket of {name} "
                                  f"({buckets[-1]:g}): the histogram cannot show it", check="model",
                                  hint=f"add larger buckets to the metric {name}")]
    if bound not in buckets:
        return [source.diagnostic(path, f"{bound:g} is not a bucket bound of {name} "
                                  f"({', '.join(f'{b:g}' for b in buckets)}): the result would be interpolated",
                                  check="model", hint="use a bucket bound as the threshold, or add one")]
    return []
