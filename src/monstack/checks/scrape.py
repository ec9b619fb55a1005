"""Can the scrape configuration produce what the rules select? (check `scrape`)

- a probe target has things to probe, `probe:` is only for exporters with a multi-target mode, `module` only with
  probes;
- every `job="X"` a rule selects is the job label of some scrape job (a Pushgateway's pushed jobs count only
  with honor_labels: without it, pushed series are stored under the gateway's own job);
- the metric of such a selector is one that job serves (its exporter's catalogue, the metrics declared for it,
  the series every scrape adds);
- a Pushgateway that honours labels names the jobs pushed to it, so that alerts can select them.
"""

from __future__ import annotations

import difflib
import re

from ..errors import Diagnostic
from ..load import Source
from ..model import Model


def check(model: Model, source: Source) -> list[Diagnostic]:
    return _targets(model, source) + _selectors(model, source)


def _targets(model: Model, source: Source) -> list[Diagnostic]:
    out = []
    for i, target in enumerate(model.spec.targets):
        kind = model.kinds.get(target.kind)
        if kind is None:
            continue  # reported by model.target_kinds
        where = ("targets", i)
        if target.kind == "probe" and target.probe is None and target.discovery is None:
            out.append(source.diagnostic(where, f"probe target {target.name!r} has nothing to probe: blackbox_exporter "
                                         "would answer every scrape with HTTP 400", check="scrape",
                                         hint="list the URLs (or host:port) under `probe:`, or discover them"))
        if target.probe is not None and (kind.multi_target is None or kind.exporter is None):
            out.append(source.diagnostic(where + ("probe",), f"kind {target.kind!r} has no multi-target mode: "
                                         "its exporter cannot be asked about other things", check="scrape",
                                         hint="use `instances:` for several exporters, or a kind with /probe "
                                         "(probe, mysql, ...)"))
        if target.module is not None and target.probe is None and target.kind != "probe":
            out.append(source.diagnostic(where + ("module",), "`module` applies to each probe: this target has none",
                                         check="scrape", hint="add `probe:` or drop `module`"))
        if target.kind == "pushgateway" and (target.honor_labels is not False) and not target.pushed_jobs:
            declared = [m.name for m in model.spec.metrics if m.target == target.name]
            if declared:
                out.append(source.diagnostic(
                    where, f"metrics are declared for the Pushgateway {target.name!r} but no `pushed_jobs`: the "
                    "job label they are stored under is unknown", check="scrape", severity="warning",
                    hint="list the job names the batch jobs push under, e.g. pushed_jobs: [nightly-backup]"))
    return out


def _selectors(model: Model, source: Source) -> list[Diagnostic]:
    import promql_parser  # noqa: PLC0415 - a Rust extension: loaded only when checking

    values = {value: jobs for value in {v for job in model.jobs for v in job.job_values}
              if (jobs := model.producers(value))}
    pushed_without_honour = {p: job for job in model.jobs if not job.honor_labels for p in job.pushed_jobs}
    out = []
    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        where = ("alerts", rule.index, "when" if alert.when is not None else "expr")
        try:
            ast = promql_parser.parse(rule.expr)
        except ValueError:
            continue  # reported by lint
        seen: set[str] = set()
        for name, op, value in selectors(ast):
            message = None
            if op == "=" and value not in values:
                if value in pushed_without_honour:
                    gateway = pushed_without_honour[value]
                    message = (f"series pushed as job {value!r} are stored under job {gateway.name!r}: the "
                               f"Pushgateway target {gateway.name!r} does not keep the pushed labels",
                               f"set `honor_labels: true` on target {gateway.name!r}")
                else:
                    close = difflib.get_close_matches(value, sorted(values), n=2, cutoff=0.6)
                    message = (f"no scrape job stores series with job=\"{value}\": {name} can never match",
                               f"did you mean {' or '.join(close)}?" if close else
                               f"jobs: {', '.join(sorted(values))}")
            elif op == "=" and name is not None and not any(name in model.served(job) for job in values[value]):
                jobs = values[value]
                owners = sorted(job.name for job in model.jobs if name in model.served(job))
                if owners or name in _declared(model):
                    message = (f"job {value!r} ({', '.join(sorted({j.kind for j in jobs}))}) does not serve {name}",
                               f"{name} comes from job {', '.join(owners)}" if owners else
                               f"declare {name} with `target: {jobs[0].name}` under `metrics:`")
            elif op == "=~" and not any(_full(value, v) for v in values):
                message = (f"job=~\"{value}\" matches no scrape job: {name} can never match",
                           f"jobs: {', '.join(sorted(values))}")
            if message and message[0] not in seen:
                seen.add(message[0])
                out.append(source.diagnostic(where, message[0], check="scrape", hint=message[1]))
    return out


def _declared(model: Model) -> set[str]:
    return {m.name for m in model.spec.metrics}


def _full(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True  # an invalid regex is another check's finding


def selectors(node) -> list[tuple[str | None, str, str]]:
    """(metric name, op, value) of every `job` matcher of every vector selector under `node`."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        matchers = node.matchers.matchers
        name = node.name or next((m.value for m in matchers if m.name == "__name__"), None)
        ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
        return [(name, ops[str(m.op)], m.value) for m in matchers if m.name == "job"]
    out = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out += selectors(child)
    for arg in getattr(node, "args", None) or ():
        out += selectors(arg)
    return out
