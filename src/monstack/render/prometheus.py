"""prometheus/prometheus.yml: global settings, Alertmanager, rule files and one scrape job per target."""

from __future__ import annotations

from ..model import Model
from .common import Stamp, dump_yaml

PATH = "prometheus/prometheus.yml"
RULES_GLOB = "rules/*.yml"  # relative to prometheus.yml, as Prometheus resolves it


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    defaults = model.spec.defaults
    config = {
        "global": {
            "scrape_interval": str(defaults.scrape_interval),
            "scrape_timeout": str(defaults.scrape_timeout),
            "evaluation_interval": str(defaults.evaluation_interval),
            # Prometheus expands $VAR and ${VAR} in external label values: a literal `$` is written `$$`
            "external_labels": {k: v.replace("$", "$$") for k, v in model.external_labels.items()},
        },
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(model.alertmanagers)}]}]},
        "rule_files": [RULES_GLOB],
        "scrape_configs": [_job(job) for job in model.jobs],
    }
    return {PATH: dump_yaml(config, stamp)}


def _job(job) -> dict:
    out: dict = {"job_name": job.name}
    if job.scrape_interval is not None:
        out["scrape_interval"] = str(job.scrape_interval)
    if job.scrape_timeout is not None:
        out["scrape_timeout"] = str(job.scrape_timeout)
    out["metrics_path"] = job.metrics_path
    out["scheme"] = job.scheme
    static: dict = {"targets": [job.address]}
    if job.labels:
        static["labels"] = dict(sorted(job.labels.items()))
    out["static_configs"] = [static]
    return out
