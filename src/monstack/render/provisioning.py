"""grafana/provisioning/: the Prometheus datasource and the provider of the generated dashboards.

Compose mounts `grafana/provisioning` at /etc/grafana/provisioning and `grafana/dashboards` (read-only) at
/etc/grafana/dashboards. The datasource's uid is fixed ("prometheus"): the dashboards' `datasource` variable
defaults to it. Its `timeInterval` is the scrape interval, which Grafana's `$__rate_interval` is computed from
(at least four scrapes), so that the dashboards' rates never come back empty.
"""

from __future__ import annotations

from ..model import Model
from .common import Stamp, dump_yaml
from .dashboards import DATASOURCE_NAME, DATASOURCE_UID

DATASOURCE_PATH = "grafana/provisioning/datasources/prometheus.yml"
DASHBOARDS_PATH = "grafana/provisioning/dashboards/monstack.yml"
DASHBOARDS_DIR = "/etc/grafana/dashboards"  # where compose mounts ./grafana/dashboards
DEFAULT_URL = "http://prometheus:9090"


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    return {DATASOURCE_PATH: dump_yaml(datasources(model), stamp), DASHBOARDS_PATH: dump_yaml(providers(model), stamp)}


def prometheus_url(model: Model) -> str:
    """Prometheus as Grafana reaches it: the spec's prometheus target if there is one, else the compose service."""
    job = next((j for j in model.jobs if j.kind == "prometheus"), None)
    return f"{job.scheme}://{job.address}" if job is not None else DEFAULT_URL


def datasources(model: Model) -> dict:
    return {"apiVersion": 1, "datasources": [{
        "name": DATASOURCE_NAME, "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
        "url": prometheus_url(model), "isDefault": True, "editable": False,
        "jsonData": {"timeInterval": str(model.spec.defaults.scrape_interval), "httpMethod": "POST"},
    }]}


def providers(model: Model) -> dict:
    from ..boards import project_title  # noqa: PLC0415

    return {"apiVersion": 1, "providers": [{
        "name": "monstack", "orgId": 1, "folder": project_title(model.spec.project.name), "type": "file",
        "disableDeletion": True, "allowUiUpdates": False, "updateIntervalSeconds": 30,
        "options": {"path": DASHBOARDS_DIR, "foldersFromFilesStructure": False},
    }]}
