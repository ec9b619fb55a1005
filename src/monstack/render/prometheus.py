"""prometheus/prometheus.yml: global settings, Alertmanager, rule files and one scrape job per target.

A job's targets are static (`static_configs`, one entry per distinct label set of its instances) or discovered
(`file_sd_configs`, `dns_sd_configs`, `http_sd_configs`, `kubernetes_sd_configs`). A multi-target job (blackbox
probes, mysqld_exporter's /probe) gets the standard relabelling: the probed thing becomes the `target` parameter
and the `instance` label, and `__address__` the exporter, so a person reads which URL or server failed.
Credentials are `*_file` fields (`password_file`, `credentials_file`): the files are the deployment's.
`remote_write:` (only when the spec has one) sends every sample to the spec's stores as well.
"""

from __future__ import annotations

from ..model import Job, Model
from .common import Stamp, dump_yaml

PATH = "prometheus/prometheus.yml"
RULES_GLOB = "rules/*.yml"  # relative to prometheus.yml, as Prometheus resolves it
# The usual labels of a discovered Kubernetes object, as kube-prometheus writes them.
K8S_LABELS = {
    "pod": (("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_pod_name", "pod")),
    "service": (("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_service_name", "service")),
    "endpoints": (("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_service_name", "service"),
                  ("__meta_kubernetes_pod_name", "pod")),
    "endpointslice": (("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_service_name", "service"),
                      ("__meta_kubernetes_pod_name", "pod")),
    "node": (("__meta_kubernetes_node_name", "node"),),
    "ingress": (("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_ingress_name", "ingress")),
}
K8S_PORT = {"pod": "__meta_kubernetes_pod_container_port_name", "endpoints": "__meta_kubernetes_endpoint_port_name",
            "endpointslice": "__meta_kubernetes_endpointslice_port_name",
            "service": "__meta_kubernetes_service_port_name"}


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
        "scrape_configs": [scrape_config(job) for job in model.jobs],
    }
    if model.spec.remote_write:
        config["remote_write"] = [remote_write(entry) for entry in model.spec.remote_write]
    return {PATH: dump_yaml(config, stamp)}


def scrape_config(job: Job) -> dict:
    """One job of `scrape_configs`, in the order Prometheus documents its fields."""
    target = job.target
    out: dict = {"job_name": job.name}
    if job.honor_labels:
        out["honor_labels"] = True
    if job.scrape_interval is not None:
        out["scrape_interval"] = str(job.scrape_interval)
    if job.scrape_timeout is not None:
        out["scrape_timeout"] = str(job.scrape_timeout)
    out["metrics_path"] = job.metrics_path
    out["scheme"] = job.scheme
    if job.params:
        out["params"] = {key: list(values) for key, values in job.params.items()}
    if target is not None:
        out.update(_auth(target))
    discovery = job.discovery
    if discovery is not None:
        key, body = _discovery(discovery)
        out[key] = [body]
    else:
        out["static_configs"] = _static(job)
    relabel = _relabel(job)
    if relabel:
        out["relabel_configs"] = relabel
    if target is not None and target.metric_relabel_configs:
        out["metric_relabel_configs"] = [_dump_relabel(r) for r in target.metric_relabel_configs]
    return out


def remote_write(entry) -> dict:
    """One `remote_write` entry: the URL, its tenant header, drop rules, credentials as files, and only the queue
    settings the spec gives (Prometheus' defaults otherwise)."""
    out: dict = {"url": entry.url}
    if entry.name:
        out["name"] = entry.name
    if entry.remote_timeout is not None:
        out["remote_timeout"] = str(entry.remote_timeout)
    if entry.tenant:
        out["headers"] = {"X-Scope-OrgID": entry.tenant}
    if entry.drop:
        out["write_relabel_configs"] = [{"source_labels": ["__name__"], "regex": pattern, "action": "drop"}
                                        for pattern in entry.drop]
    out.update(_auth(entry))
    if entry.queue is not None:
        queue = {key: str(value) if hasattr(value, "ms") else value
                 for key, value in entry.queue if value is not None}
        if queue:
            out["queue_config"] = queue
    return out


def _static(job: Job) -> list[dict]:
    groups: dict[tuple, list[str]] = {}
    for instance in job.instances:
        labels = {**job.labels, **instance.labels}
        groups.setdefault(tuple(sorted(labels.items())), []).append(instance.address)
    out = []
    for labels, addresses in groups.items():
        entry: dict = {"targets": addresses}
        if labels:
            entry["labels"] = dict(labels)
        out.append(entry)
    return out


def _discovery(discovery) -> tuple[str, dict]:
    mechanism = discovery.mechanism
    body = getattr(discovery, mechanism)
    if mechanism == "file":
        out: dict = {"files": list(body.files)}
    elif mechanism == "dns":
        out = {"names": list(body.names), "type": body.type}
        if body.port is not None:
            out["port"] = body.port
    elif mechanism == "http":
        out = {"url": body.url}
    else:
        out = {"role": body.role}
        if body.namespaces:
            out["namespaces"] = {"names": list(body.namespaces)}
        if body.selector:
            out["selectors"] = [{"role": body.role,
                                 "label": ",".join(f"{k}={v}" for k, v in sorted(body.selector.items()))}]
        return "kubernetes_sd_configs", out
    if getattr(body, "refresh_interval", None) is not None:
        out["refresh_interval"] = str(body.refresh_interval)
    return f"{mechanism}_sd_configs", out


def _auth(target) -> dict:
    out: dict = {}
    if target.basic_auth is not None:
        out["basic_auth"] = {"username": target.basic_auth.username, "password_file": target.basic_auth.password.path}
    if target.bearer_token is not None:
        out["authorization"] = {"type": "Bearer", "credentials_file": target.bearer_token.path}
    if target.tls is not None:
        tls = {key: value for key, value in target.tls.model_dump().items() if value not in (None, False)}
        if tls:
            out["tls_config"] = tls
    return out


def _relabel(job: Job) -> list[dict]:
    """monstack's relabelling (multi-target, discovered labels), then the spec's own."""
    out: list[dict] = []
    discovery = job.discovery
    if discovery is not None and discovery.mechanism == "kubernetes":
        k8s = discovery.kubernetes
        if k8s.port and k8s.role in K8S_PORT:
            out.append({"source_labels": [K8S_PORT[k8s.role]], "regex": k8s.port, "action": "keep"})
        out += [{"source_labels": [meta], "target_label": label} for meta, label in K8S_LABELS[k8s.role]]
    if job.exporter is not None:
        param = job.catalog.multi_target.param if job.catalog.multi_target else "target"
        out += [{"source_labels": ["__address__"], "target_label": f"__param_{param}"},
                {"source_labels": [f"__param_{param}"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": job.exporter}]
    if discovery is not None:
        out += [{"target_label": key, "replacement": value} for key, value in sorted(job.labels.items())]
    if job.target is not None:
        out += [_dump_relabel(r) for r in job.target.relabel_configs]
    return out


def _dump_relabel(relabel) -> dict:
    return {key: value for key, value in relabel.model_dump().items()
            if value is not None and not (key == "action" and value == "replace")}
