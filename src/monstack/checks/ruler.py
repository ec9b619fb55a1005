"""With a central ruler (`deployment.ruler`), the alerts are evaluated on what Prometheus remote-writes, not on
Prometheus' own storage. What that changes, at the spec's lines:

- `ruler/no-remote-write` (warning): a central ruler but no `remote_write:`: the store gets no series from this
  Prometheus (unless something else writes them: vmagent, an agent-mode Prometheus);
- `ruler/local-only`:
  - error: a metric a rule reads is dropped by the `drop:` list of every remote_write: the store never has it;
  - warning: a rule reads the local Prometheus' rule engine or notifier (`prometheus_rule_*`,
    `prometheus_notifications_*`): with a central ruler that engine evaluates nothing and sends nothing, so the
    alert watches the wrong program (the ruler's own metrics are what to watch).

What is not local: `up`, `scrape_*` and every scraped series are remote-written like any sample, `prometheus_*`
and `alertmanager_*` too when Prometheus scrapes them (targets of kind prometheus, alertmanager), and they still
describe the scraping Prometheus and the Alertmanager the ruler sends to.
"""

from __future__ import annotations

import re

from ..errors import Diagnostic
from ..load import Source
from ..metrics import metric_names
from ..model import Model
from ..syntax import regex

LOCAL_ENGINE = re.compile(r"^prometheus_(rule_|notifications_)")
RULER_METRICS = {
    "mimir": "Mimir's ruler exposes cortex_prometheus_rule_evaluation_failures_total and "
             "cortex_prometheus_notifications_errors_total (scrape Mimir)",
    "thanos": "the Thanos ruler exposes prometheus_rule_evaluation_failures_total and "
              "prometheus_notifications_errors_total itself: scrape it and select its job",
    "vmalert": "vmalert exposes vmalert_execution_errors_total and vmalert_alerts_send_errors_total (scrape it)",
}


def check(model: Model, source: Source) -> list[Diagnostic]:
    ruler = model.spec.deployment.ruler
    if ruler is None:
        return []
    out: list[Diagnostic] = []
    writes = model.spec.remote_write
    if not writes:
        out.append(source.diagnostic(("deployment", "ruler"), f"a central ruler ({ruler.kind}) evaluates what is "
                                     "written to its store, and this Prometheus writes nothing (no remote_write:)",
                                     check="ruler/no-remote-write", severity="warning",
                                     hint="add remote_write: [{url: ...}] pointing at the ruler's store"))
    import promql_parser  # noqa: PLC0415 - a Rust extension: load it only when checking

    for rule in model.rules:
        try:
            names = sorted(set(metric_names(promql_parser.parse(rule.expr))))
        except ValueError:
            continue  # reported by the promql check
        where = ("alerts", rule.index)
        dropped = [n for n in names if writes and all(any(regex.fullmatch(p, n) for p in w.drop) for w in writes)]
        if dropped:
            out.append(source.diagnostic(where, f"alert {rule.name} reads {', '.join(dropped)}, which the `drop:` "
                                         "list of every remote_write keeps from the store: the central ruler "
                                         "never sees it", check="ruler/local-only",
                                         hint="narrow the drop: regexps, or keep this alert on a local Prometheus"))
        local = [n for n in names if LOCAL_ENGINE.match(n)]
        if local:
            out.append(source.diagnostic(where, f"alert {rule.name} reads {', '.join(local)}: the local Prometheus' "
                                         f"rule engine and notifier, which evaluate and send nothing once the "
                                         f"{ruler.kind} ruler runs the alerts", check="ruler/local-only",
                                         severity="warning",
                                         hint=RULER_METRICS[ruler.kind] + "; or `disable:` this check with a "
                                              "reason if Prometheus keeps evaluating rules too"))
    return out
