"""Step 3: the resolved, frozen model the renderers read: every job has its address, every alert its PromQL.

`build()` also checks what the spec's types alone cannot: names unique, references resolved (targets, receivers,
metrics), thresholds that a histogram's buckets can actually show. Every problem becomes a Diagnostic pointing
at the spec line; all of them are raised together.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from . import promql
from .errors import Diagnostic
from .exporters import KINDS, SCRAPE_METRICS, Kind, from_spec, series_names
from .load import Source
from .spec.models import Alert, Record, Spec, Target
from .spec.units import Duration


@dataclass(frozen=True)
class Instance:
    """A static target: an address Prometheus scrapes, or the thing a multi-target exporter is asked about."""

    address: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One scrape job as prometheus.yml has it: where its instances are, and what its series are labelled."""

    name: str
    kind: str
    catalog: Kind  # what the kind is: exporter, up gauge, metric families
    instances: tuple[Instance, ...]  # static targets: scraped addresses, or the probed things of a multi-target job
    metrics_path: str
    scheme: str
    scrape_interval: Duration | None
    scrape_timeout: Duration | None
    labels: dict[str, str]
    target: Target | None = None  # the spec's target (auth, discovery, relabelling)
    exporter: str | None = None  # multi-target: the exporter Prometheus connects to for every probe
    params: dict[str, list[str]] = field(default_factory=dict)
    honor_labels: bool = False
    pushed_jobs: tuple[str, ...] = ()

    @property
    def discovery(self):
        return self.target.discovery if self.target is not None else None

    @property
    def address(self) -> str:
        """One address Prometheus connects to (the first instance, the exporter of probes, or an example)."""
        if self.exporter is not None:
            return self.exporter
        if self.instances:
            return self.instances[0].address
        return f"{self.catalog.service}:{self.catalog.port}"  # discovered: an example of what SD returns

    @property
    def instance_values(self) -> tuple[str, ...]:
        """The `instance` label of this job's series: the address, an instance's own label, the probed thing."""
        if not self.instances:
            return (self.address,)
        return tuple(i.labels.get("instance", i.address) for i in self.instances)

    @property
    def job_values(self) -> tuple[str, ...]:
        """The `job` label of the series this job stores: its name, and the pushed jobs it honours."""
        return (self.name, *self.pushed_jobs) if self.honor_labels else (self.name,)


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
    query: str = ""  # typed: the value the alert shows ($value), without comparison or guard
    guard: str = ""  # typed: what follows the comparison (` and <traffic floor>`, ` or absent(x)`)


@dataclass(frozen=True)
class Model:
    spec: Spec
    file: str
    jobs: tuple[Job, ...]
    rules: tuple[Rule, ...]
    external_labels: dict[str, str]
    alertmanagers: tuple[str, ...]
    groups: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # the catalogue and the spec's own `exporters:`
    records: dict[str, tuple[Record, ...]] = field(default_factory=dict)  # recording rules by group

    @property
    def group_names(self) -> list[str]:
        """Every rule group: of alerts, of records, or both."""
        return sorted(set(self.groups) | set(self.records))

    def job(self, name: str) -> Job | None:
        return next((job for job in self.jobs if job.name == name), None)

    def served(self, job: Job) -> frozenset[str]:
        """The series names `job`'s scrapes store: its exporter's, the metrics declared for it (for the
        application, those declared without a target too) and those every scrape adds."""
        names = set(SCRAPE_METRICS | job.catalog.metrics)
        for metric in self.spec.metrics:
            if metric.target == job.name or (metric.target is None and job.catalog.declared):
                names |= set(series_names(metric.name, metric.type))
        return frozenset(names)

    def producers(self, job_value: str) -> list[Job]:
        """The jobs whose series carry `job="<job_value>"` (a Pushgateway's pushed jobs included)."""
        return [job for job in self.jobs if job_value in job.job_values]


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


def scrape_address(target: Target, kind: Kind) -> str:
    """The address Prometheus connects to for a single-instance target (the exporter of a probe job)."""
    if kind.declared:
        return target.address  # type: ignore[return-value]  # required for these kinds by the spec
    if kind.exporter is None:  # prometheus, alertmanager, pushgateway, rabbitmq: they serve their own metrics
        return target.address or f"{kind.service}:{kind.port}"
    return target.exporter or f"{kind.service}:{kind.port}"


def _job(target: Target, kind: Kind) -> Job:
    params = {key: list(values) for key, values in sorted(target.params.items())}
    exporter = None
    metrics_path = target.metrics_path
    multi = kind.multi_target is not None and kind.exporter is not None
    if multi and (target.probe is not None or (target.discovery is not None and target.kind == "probe")):
        exporter = target.exporter or f"{kind.service}:{kind.port}"
        metrics_path = metrics_path or kind.multi_target.path  # type: ignore[union-attr]  # checked by _targets
        if target.module:
            params.setdefault("module" if target.kind == "probe" else "auth_module", [target.module])
        elif target.kind == "probe":
            params.setdefault("module", ["http_2xx"])
        instances = tuple(Instance(address=p) for p in target.probe or ())
    elif target.probe is not None:  # no multi-target mode: refused by checks.scrape
        instances = ()
    elif target.instances is not None:
        instances = tuple(Instance(i.address, dict(i.labels)) for i in target.instances)
    elif target.discovery is not None:
        instances = ()
    else:
        instances = (Instance(address=scrape_address(target, kind)),)
    honor = target.honor_labels if target.honor_labels is not None else kind.honor_labels
    return Job(target.name, target.kind, kind, instances, metrics_path or "/metrics", target.scheme,
               target.scrape_interval, target.scrape_timeout, dict(target.labels), target, exporter, params,
               honor, tuple(target.pushed_jobs))


def build(spec: Spec, source: Source) -> tuple[Model, list[Diagnostic]]:
    """The model, with the rules that could be built, and every problem found (errors and warnings)."""
    problems: list[Diagnostic] = []
    problems += _duplicates(source, "targets", [t.name for t in spec.targets], "target")
    problems += _duplicates(source, "metrics", [m.name for m in spec.metrics], "metric")
    problems += _duplicates(source, "alerts", [a.name for a in spec.alerts], "alert")
    problems += _duplicates(source, ("routing", "receivers"), [r.name for r in spec.routing.receivers], "receiver")
    targets = {t.name: t for t in spec.targets}
    kinds, found = target_kinds(spec, source)
    problems += found
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
        owner = targets.get(metric.target) if metric.target else None
        own = owner is None or (owner.kind in kinds and kinds[owner.kind].declared)
        if metric.type == "counter" and own and not metric.name.endswith("_total"):
            # the application's own counters (prometheus_client appends _total); exporters publish what they do
            problems.append(source.diagnostic(("metrics", i, "name"), f"counter {metric.name!r} should end in _total "
                                              "(OpenMetrics and Prometheus 3 convention)", check="model"))
    problems += _cadence_checks(spec, source)

    ctx = promql.Context(targets=targets, scrape_interval=spec.defaults.scrape_interval, kinds=kinds,
                         buckets=declared_buckets(spec))
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
    jobs = tuple(_job(t, kinds[t.kind]) for t in spec.targets if t.kind in kinds)
    managers = tuple(a for job in jobs if job.kind == "alertmanager" for a in (i.address for i in job.instances)) \
        or ("alertmanager:9093",)
    model = Model(
        spec=spec, file=source.file,
        jobs=jobs,
        rules=tuple(rules),
        external_labels={"project": spec.project.name, "environment": spec.project.environment,
                         **spec.project.labels},
        alertmanagers=managers,
        groups={name: tuple(group) for name, group in sorted(groups.items())},
        kinds=kinds,
        records=_records(spec),
    )
    return model, problems


def _records(spec: Spec) -> dict[str, tuple[Record, ...]]:
    out: dict[str, list[Record]] = {}
    for record in spec.records:
        out.setdefault(record.group, []).append(record)
    return {name: tuple(items) for name, items in sorted(out.items())}


def declared_buckets(spec: Spec) -> dict[str, tuple[float, ...]]:
    """The `buckets:` of each histogram the spec declares (promql renders a quantile at one of them exactly)."""
    return {m.name: tuple(float(b) for b in m.buckets) for m in spec.metrics
            if m.type == "histogram" and m.buckets is not None}


def target_kinds(spec: Spec, source: Source) -> tuple[dict[str, Kind], list[Diagnostic]]:
    """The kinds targets may name (the catalogue and the spec's `exporters:`), and every unknown or clashing one."""
    kinds = dict(KINDS)
    problems = []
    for i, exporter in enumerate(spec.exporters):
        if exporter.kind in kinds:
            problems.append(source.diagnostic(("exporters", i, "kind"), f"kind {exporter.kind!r} is "
                                              f"{'already described' if exporter.kind not in KINDS else 'built in'}",
                                              check="model", hint="give your exporter another kind name"))
        else:
            kinds[exporter.kind] = from_spec(exporter)
    for i, target in enumerate(spec.targets):
        if target.kind not in kinds:
            close = difflib.get_close_matches(target.kind, sorted(kinds), n=1, cutoff=0.6)
            problems.append(source.diagnostic(
                ("targets", i, "kind"), f"unknown target kind {target.kind!r} (kinds: {', '.join(sorted(kinds))})",
                check="model", hint=f"did you mean {close[0]!r}?" if close else
                "describe an exporter monstack does not know under `exporters:` (kind, port, up, metrics)"))
    return kinds, problems


def _rule(alert: Alert, index: int, ctx: promql.Context, runbooks: str) -> Rule:
    query = guard = ""
    if alert.when is not None:
        op = ">" if alert.above is not None else "<" if alert.below is not None else None
        threshold = alert.above or alert.below
        built = promql.parts(alert.when, op, threshold, alert.every, ctx)
        expr, query, guard = built.expr(op, promql.number_of(threshold)), built.query, built.guard
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
                alert.when is not None, query, guard)


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
    """A histogram threshold must be a declared bucket bound, or the result is interpolated; an `increase` one
    below the top finite bucket. A quantile may sit at the top finite bound: it is rendered in its exact form
    (promql._quantile), where the slow observations are the +Inf bucket's."""
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
    quantile = alert.when.kind == "quantile"
    if bound > buckets[-1] or (bound == buckets[-1] and not quantile):
        return [source.diagnostic(path, f"{bound:g} is {'above' if quantile else 'not below'} the top finite bucket "
                                  f"of {name} ({buckets[-1]:g}): the histogram cannot show it", check="model",
                                  hint=f"add larger buckets to the metric {name}")]
    if bound not in buckets:
        return [source.diagnostic(path, f"{bound:g} is not a bucket bound of {name} "
                                  f"({', '.join(f'{b:g}' for b in buckets)}): the result would be interpolated",
                                  check="model", hint="use a bucket bound as the threshold, or add one")]
    return []
