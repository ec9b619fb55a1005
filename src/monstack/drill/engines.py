"""Who evaluates the drilled rules: the real Prometheus (the default), or, scaled out, a central store and ruler.

- `prometheus`: Prometheus scrapes the stand-ins, evaluates the rules and sends to Alertmanager;
- `vmalert`: Prometheus scrapes the stand-ins and remote-writes every sample (the spec's `remote_write:` entries,
  pointed at the store, or one added) to a real VictoriaMetrics single node; vmalert evaluates the same rule files
  on it and sends to the same Alertmanager, with the project's external labels as `-external.label`s (what the
  README tells a user to pass). Prometheus then has no rules and no Alertmanager of its own.

Both return the daemon whose `/api/v1/rules` and `/api/v1/alerts` say what the rules do (vmalert answers in
Prometheus' format), so the drill's waves run unchanged.
"""

from __future__ import annotations

from pathlib import Path

from .processes import Daemon, Daemons, free_port

ENGINES = ("prometheus", "vmalert")
ENGINE_TOOLS = {"prometheus": (), "vmalert": ("victoria-metrics", "vmalert")}
EVAL_DELAY = "1s"  # vmalert's -rule.evalDelay, equal to VictoriaMetrics' -search.latencyOffset (both 30s by default)


def central(engine: str) -> bool:
    return engine != "prometheus"


def start(engine: str, daemons: Daemons, found: dict, tmp: Path, plan, external_labels: dict[str, str]) -> Daemon:
    if engine == "prometheus":
        return _prometheus(daemons, found, tmp, plan, rules=True)
    store = daemons.start("victoria-metrics", [
        found["victoria-metrics"].path, f"-storageDataPath={tmp / 'data' / 'victoria-metrics'}",
        f"-httpListenAddr=127.0.0.1:{plan.store_port}", "-retentionPeriod=1d", f"-search.latencyOffset={EVAL_DELAY}",
        "-search.disableCache", "-loggerLevel=WARN"], plan.store_port, tmp / "victoria-metrics.log", "/health")
    _prometheus(daemons, found, tmp, plan, rules=False)
    ruler_port = free_port()
    return daemons.start("vmalert", [
        found["vmalert"].path, f"-rule={tmp / 'prometheus' / 'rules'}/*.yml", f"-datasource.url={store.url}",
        f"-remoteWrite.url={store.url}",  # recording rules (an SLO's) are written back to the store
        f"-notifier.url=http://127.0.0.1:{plan.alertmanager_port}", "-evaluationInterval=1s",
        f"-rule.evalDelay={EVAL_DELAY}", "-disableAlertgroupLabel", f"-httpListenAddr=127.0.0.1:{ruler_port}",
        "-loggerLevel=WARN", *[f"-external.label={k}={v}" for k, v in external_labels.items()]],
        ruler_port, tmp / "vmalert.log", "/health")


def _prometheus(daemons: Daemons, found: dict, tmp: Path, plan, *, rules: bool) -> Daemon:
    return daemons.start("prometheus", [
        found["prometheus"].path, f"--config.file={tmp / 'prometheus' / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp / 'data' / 'prometheus'}",
        f"--web.listen-address=127.0.0.1:{plan.prometheus_port}",
        *(["--rules.alert.resend-delay=1s"] if rules else [])],
        plan.prometheus_port, tmp / "prometheus.log", "/-/ready")

