"""The metrics contract, measured: does a running Prometheus have every metric and label the spec's rules and
dashboard panels reference?

The generated rules and their generated promtool tests share one belief about what the exporters emit; a typo,
or an exporter release that renamed a metric or dropped a label, passes both and the alert simply never fires.
`verify()` asks a real Prometheus (its HTTP API: metric names and the label names of each metric's series) and
returns one Finding per missing metric or label, naming every rule and panel that references it and the closest
names the scraped job really offers (difflib).

A reference is attributed to the job expected to expose it: the selector's own `job="..."` matcher, else the
target a `metrics:` entry declares, else the job whose exporter catalog (monstack.exporters) lists the name.
A job with honor_labels (a Pushgateway) is looked for under its own name and the pushed jobs' (`job_values`).
`skip_jobs` leaves a job's references out (e.g. celery, when no celery-exporter runs).
"""

from __future__ import annotations

import difflib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from .errors import EXIT_UNUSABLE, MonstackError
from .metrics import BUILTIN
from .model import Model

# Functions that invent labels: a `by (label)` over them says nothing about the series below.
_LABEL_MAKERS = ("label_replace", "label_join")
TIMEOUT = 10


@dataclass(frozen=True)
class Reference:
    where: str  # "alert HighErrorRate" or "panel 'Requests per second' (dashboard overview)"
    metric: str
    labels: tuple[str, ...]  # label names the expression relies on (matchers, by/on clauses)
    job: str | None  # the job expected to expose it; None when no job can be told


@dataclass
class Finding:
    metric: str
    job: str | None
    label: str | None = None  # None: the metric itself is missing
    where: list[str] = field(default_factory=list)
    closest: tuple[str, ...] = ()

    def message(self) -> str:
        scope = f" from job {self.job!r}" if self.job else ""
        what = (f"label {self.label!r} of metric {self.metric!r}" if self.label else f"metric {self.metric!r}")
        offers = f"; closest: {', '.join(self.closest)}" if self.closest else "; nothing close"
        return f"{what} is not scraped{scope}{offers} (referenced by {', '.join(self.where)})"


@dataclass
class Verification:
    findings: list[Finding]
    checked: list[Reference]
    skipped: list[Reference]

    @property
    def ok(self) -> bool:
        return not self.findings


# --- what the spec references -----------------------------------------------------------------------------------

def references(model: Model) -> list[Reference]:
    """Every (metric, labels) reference of the model's rules and dashboard panels, with its job."""
    import promql_parser  # noqa: PLC0415

    from .boards import boards  # noqa: PLC0415
    from .panels import parseable  # noqa: PLC0415

    queries = [(f"alert {rule.name}", rule.expr) for rule in model.rules]
    queries += [(f"record {r.record} ({', '.join(f'{k}={v}' for k, v in r.labels.items())})", r.expr)
                for r in model.spec.records]  # the series a record reads are scraped; the record itself is not
    recorded = {r.record for r in model.spec.records}
    for board in boards(model):
        queries += [(f"panel {view.title!r} (dashboard {board.name})", parseable(query.expr))
                    for view in board.views() for query in view.queries()]
    owners = _owners(model)
    out = []
    for where, expr in queries:
        try:
            ast = promql_parser.parse(expr)
        except ValueError:
            continue  # `monstack validate` reports it
        for name, labels, job in _selectors(ast, ()):
            if name in BUILTIN or name in recorded:
                continue
            out.append(Reference(where, name, labels, job or owners.get(name)))
    return out


def _owners(model: Model) -> dict[str, str]:
    """metric name -> the job expected to expose it (declared metrics, then the exporters' catalogs)."""
    owners: dict[str, str] = {}
    for job in model.jobs:
        for name in job.catalog.metrics:
            owners.setdefault(name, job.name)
    for metric in model.spec.metrics:
        names = [metric.name]
        if metric.type in ("histogram", "summary"):
            names += [f"{metric.name}_{suffix}" for suffix in ("bucket", "sum", "count")]
        for name in names:
            owners[name] = metric.target
    return owners


def _selectors(node, inherited: tuple[str, ...]) -> list[tuple[str, tuple[str, ...], str | None]]:
    """(metric, label names, job of a `job="x"` matcher) for every named selector under `node`."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        matchers = node.matchers.matchers
        name = node.name or next((m.value for m in matchers if m.name == "__name__"), None)
        if not name:
            return []
        labels = tuple(dict.fromkeys([m.name for m in matchers if m.name != "__name__"] + list(inherited)))
        job = next((m.value for m in matchers if m.name == "job" and str(m.op) == "MatchOp.Equal"), None)
        return [(name, labels, job)]
    if kind == "Call" and node.func.name in _LABEL_MAKERS:
        inherited = ()
    if kind == "AggregateExpr" and node.modifier is not None and str(node.modifier.type).endswith("By"):
        inherited = inherited + tuple(node.modifier.labels)
    if kind == "BinaryExpr" and node.modifier is not None and node.modifier.matching is not None \
            and str(node.modifier.matching.type).endswith("Include"):
        inherited = inherited + tuple(node.modifier.matching.labels)
    out = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out += _selectors(child, inherited)
    for arg in getattr(node, "args", None) or ():
        out += _selectors(arg, inherited)
    return out


# --- what Prometheus has ----------------------------------------------------------------------------------------

class PrometheusAPI:
    """The few read-only endpoints of Prometheus's HTTP API the check needs."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, **params) -> object:
        query = urllib.parse.urlencode(params, doseq=True)
        address = f"{self.url}{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(address, timeout=TIMEOUT) as response:  # noqa: S310 - the user's URL
                body = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MonstackError.single(f"cannot query Prometheus at {self.url}: {reason}", check="verify-metrics",
                                       exit_code=EXIT_UNUSABLE,
                                       hint="give the base URL of a running Prometheus, e.g. http://localhost:9090"
                                       ) from None
        if body.get("status") != "success":
            raise MonstackError.single(f"Prometheus at {self.url} answered {path} with an error: "
                                       f"{body.get('error')}", check="verify-metrics", exit_code=EXIT_UNUSABLE)
        return body["data"]

    def names(self, job: str | None = None) -> set[str]:
        match = {"match[]": f'{{job="{job}"}}'} if job else {}
        return set(self.get("/api/v1/label/__name__/values", **match))

    def labels(self, metric: str, job: str | None = None) -> set[str]:
        selector = f'{{__name__="{metric}"' + (f',job="{job}"' if job else "") + "}"
        return set(self.get("/api/v1/labels", **{"match[]": selector}))

    def alerts(self) -> list[dict]:
        return self.get("/api/v1/alerts")["alerts"]  # type: ignore[index]


def verify(model: Model, prometheus: str | PrometheusAPI, *, skip_jobs: tuple[str, ...] = ()) -> Verification:
    """Every metric and label the rules and panels reference, checked against what `prometheus` has scraped."""
    api = prometheus if isinstance(prometheus, PrometheusAPI) else PrometheusAPI(prometheus)
    refs = references(model)
    skipped = [ref for ref in refs if ref.job in skip_jobs]
    checked = [ref for ref in refs if ref.job not in skip_jobs]
    # a scrape job's series carry its name, and with honor_labels the pushed jobs' names (a Pushgateway)
    stored: dict[str | None, tuple] = {job.name: job.job_values for job in model.jobs}
    jobs = set(stored)
    stored[None] = (None,)
    names: dict[str | None, set[str]] = {None: api.names()}
    labels: dict[tuple[str, str | None], set[str]] = {}
    found: dict[tuple, Finding] = {}

    def finding(metric: str, job: str | None, label: str | None, where: str, pool: set[str], target: str) -> None:
        key = (metric, job, label)
        if key not in found:
            close = tuple(difflib.get_close_matches(target, sorted(pool), n=3, cutoff=0.6))
            found[key] = Finding(metric, job, label, closest=close)
        if where not in found[key].where:
            found[key].where.append(where)

    for ref in checked:
        job = ref.job if ref.job in jobs else None
        if job not in names:
            names[job] = set().union(*(api.names(value) for value in stored[job]))
        if ref.metric not in names[job]:
            finding(ref.metric, job, None, ref.where, names[job], ref.metric)
            continue
        if (ref.metric, job) not in labels:
            labels[(ref.metric, job)] = set().union(*(api.labels(ref.metric, value) for value in stored[job]))
        have = labels[(ref.metric, job)]
        for label in ref.labels:
            if label not in have:
                finding(ref.metric, job, label, ref.where, have - {"__name__"}, label)
    return Verification(list(found.values()), checked, skipped)


# --- the command ------------------------------------------------------------------------------------------------

def verify_spec(spec_path, prometheus: str, *, skip_jobs: tuple[str, ...] = ()):
    """`monstack verify-metrics`: (Verification, diagnostics) for a spec against a running Prometheus."""
    from .errors import Diagnostic  # noqa: PLC0415
    from .pipeline import resolve  # noqa: PLC0415

    resolved = resolve(spec_path)
    unknown = sorted(set(skip_jobs) - {job.name for job in resolved.model.jobs})
    if unknown:
        raise MonstackError.single(f"--skip-job {unknown[0]!r}: no such job in the spec", check="usage",
                                   exit_code=EXIT_UNUSABLE)
    result = verify(resolved.model, prometheus, skip_jobs=skip_jobs)
    diagnostics = [Diagnostic(f.message(), file=resolved.source.file, check="verify-metrics",
                              hint="an alert or panel over a metric or label nobody exposes never fires or shows "
                                   "nothing: fix the name in the spec, or the exporter/application")
                   for f in result.findings]
    return result, diagnostics
