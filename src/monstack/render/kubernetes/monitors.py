"""kubernetes/{servicemonitors,podmonitors,probes,scrapeconfigs}/<target>.yaml: one object per scrape job.

- a target discovered in Kubernetes (`discovery: {kubernetes: ...}`) with role `pod` -> a PodMonitor, with role
  `service`, `endpoints` or `endpointslice` -> a ServiceMonitor (the Services' endpoints): selector ->
  `selector.matchLabels`, port -> the endpoint's named port, namespaces -> `namespaceSelector`;
- a blackbox target with its `probe:` list -> a Probe: the prober is the exporter, the probed URLs its static
  targets, `instance` the URL;
- everything else (static addresses, `instances`, mysqld_exporter's multi-target probes, file/DNS/HTTP discovery,
  Kubernetes roles `node` and `ingress`) -> a ScrapeConfig (v1alpha1), the job of prometheus.yml itself
  (`render.prometheus.scrape_config`) with its fields in the operator's spelling.

Every object keeps the job's `job` label (the target's name) and its labels, as the rules expect: `jobName` where
the kind has it, else a relabeling. Credentials are `secretKeyRef`s into the credentials Secret; a basic-auth
user name (the operator reads it from a Secret too, and it is no secret) is written into a generated Secret of
user names, `<project>-scrape-usernames`.
"""

from __future__ import annotations

from ...model import Job, Model
from .. import prometheus
from . import objects as K

SERVICE_ROLES = {"service": "Endpoints", "endpoints": "Endpoints", "endpointslice": "EndpointSlice"}
SD_ROLES = {"pod": "Pod", "service": "Service", "endpoints": "Endpoints", "endpointslice": "EndpointSlice",
            "node": "Node", "ingress": "Ingress"}
RELABEL_KEYS = {"source_labels": "sourceLabels", "target_label": "targetLabel"}


def kind_of(job: Job) -> str:
    """Which operator object scrapes this job."""
    discovery = job.discovery
    if discovery is not None and discovery.mechanism == "kubernetes" and job.exporter is None:
        role = discovery.kubernetes.role
        if role == "pod":
            return "PodMonitor"
        if role in SERVICE_ROLES:
            return "ServiceMonitor"
    if job.kind == "probe" and job.exporter is not None and job.instances:
        return "Probe"
    return "ScrapeConfig"


FOLDERS = {"ServiceMonitor": "servicemonitors", "PodMonitor": "podmonitors", "Probe": "probes",
           "ScrapeConfig": "scrapeconfigs"}


def usernames_secret(model: Model) -> str:
    return K.slug(model.spec.project.name, "scrape-usernames", limit=253)


def objects(model: Model) -> dict[str, dict]:
    names = {kind: K.Names() for kind in FOLDERS}
    out: dict[str, dict] = {}
    users: dict[str, str] = {}
    for job in model.jobs:
        kind = kind_of(job)
        name = names[kind](job.name)
        auth = _auth(model, job, users)
        body = {"ServiceMonitor": _service_monitor, "PodMonitor": _pod_monitor, "Probe": _probe,
                "ScrapeConfig": _scrape_config}[kind](job, auth)
        version = K.MONITORING_V1ALPHA1 if kind == "ScrapeConfig" else K.MONITORING_V1
        meta = K.metadata(model, name, K.operator_labels(model))
        out[K.path(FOLDERS[kind], f"{name}.yaml")] = K.resource(version, kind, meta, "spec", body)
    if users:
        meta = K.metadata(model, usernames_secret(model))
        out[K.path("secrets", f"{usernames_secret(model)}.yaml")] = {
            "apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
            "stringData": dict(sorted(users.items()))}
    return out


# --- the four kinds -------------------------------------------------------------------------------------------

def _endpoint(job: Job, auth: dict) -> dict:
    """The fields ServiceMonitor endpoints and PodMonitor podMetricsEndpoints share."""
    k8s = job.discovery.kubernetes
    out: dict = {}
    if k8s.port:
        out["port"] = k8s.port
    out |= _cadence(job, "interval")
    out["path"] = job.metrics_path
    out["scheme"] = job.scheme
    if job.params:
        out["params"] = {key: list(values) for key, values in job.params.items()}
    if job.honor_labels:
        out["honorLabels"] = True
    out |= auth
    out["relabelings"] = _job_labels(job) + _relabelings(job.target.relabel_configs)
    if job.target.metric_relabel_configs:
        out["metricRelabelings"] = _relabelings(job.target.metric_relabel_configs)
    return out


def _selection(job: Job) -> dict:
    k8s = job.discovery.kubernetes
    out: dict = {"selector": {"matchLabels": dict(sorted(k8s.selector.items()))} if k8s.selector else {}}
    out["namespaceSelector"] = {"matchNames": list(k8s.namespaces)} if k8s.namespaces else {"any": True}
    return out


def _service_monitor(job: Job, auth: dict) -> dict:
    out = _selection(job)
    role = SERVICE_ROLES[job.discovery.kubernetes.role]
    if role != "Endpoints":
        out["serviceDiscoveryRole"] = role
    out["endpoints"] = [_endpoint(job, auth)]
    return out


def _pod_monitor(job: Job, auth: dict) -> dict:
    out = _selection(job)
    out["podMetricsEndpoints"] = [_endpoint(job, auth)]
    return out


def _probe(job: Job, auth: dict) -> dict:
    out: dict = {"jobName": job.name, "prober": {"url": job.exporter, "scheme": job.scheme, "path": job.metrics_path}}
    params = dict(job.params)
    module = params.pop("module", ["http_2xx"])
    out["module"] = module[0]
    if params:
        out["params"] = [{"name": key, "values": list(values)} for key, values in params.items()]
    out |= _cadence(job, "interval")
    out |= auth
    static: dict = {"static": [i.address for i in job.instances]}
    if job.labels:
        static["labels"] = dict(sorted(job.labels.items()))
    if job.target.relabel_configs:
        static["relabelingConfigs"] = _relabelings(job.target.relabel_configs)
    out["targets"] = {"staticConfig": static}
    if job.target.metric_relabel_configs:
        out["metricRelabelings"] = _relabelings(job.target.metric_relabel_configs)
    return out


def _scrape_config(job: Job, auth: dict) -> dict:
    config = prometheus.scrape_config(job)  # the prometheus.yml job, respelled; credentials are replaced by auth
    out: dict = {"jobName": job.name}
    if job.honor_labels:
        out["honorLabels"] = True
    out |= _cadence(job, "scrapeInterval")
    out["metricsPath"] = config["metrics_path"]
    out["scheme"] = config["scheme"].upper()  # the CRD's enum takes HTTP/HTTPS (and lower case)
    if "params" in config:
        out["params"] = config["params"]
    out |= auth
    if "static_configs" in config:
        out["staticConfigs"] = config["static_configs"]
    for key, value in config.items():
        if key.endswith("_sd_configs"):
            out[_sd_key(key)] = [_sd(key, body) for body in value]
    if config.get("relabel_configs"):
        out["relabelings"] = [_relabel(r) for r in config["relabel_configs"]]
    if config.get("metric_relabel_configs"):
        out["metricRelabelings"] = [_relabel(r) for r in config["metric_relabel_configs"]]
    return out


# --- pieces ---------------------------------------------------------------------------------------------------

def _cadence(job: Job, interval_key: str) -> dict:
    out: dict = {}
    if job.scrape_interval is not None:
        out[interval_key] = str(job.scrape_interval)
    if job.scrape_timeout is not None:
        out["scrapeTimeout"] = str(job.scrape_timeout)
    return out


def _job_labels(job: Job) -> list[dict]:
    """The `job` label is the target's name (the rules select on it), then the target's own labels."""
    out = [{"targetLabel": "job", "replacement": job.name, "action": "replace"}]
    out += [{"targetLabel": key, "replacement": value, "action": "replace"} for key, value in sorted(job.labels.items())]
    return out


def _relabelings(relabels) -> list[dict]:
    return [_relabel(prometheus._dump_relabel(r)) for r in relabels]  # noqa: SLF001 - the same dump as prometheus.yml


def _relabel(relabel: dict) -> dict:
    return {RELABEL_KEYS.get(key, key): value for key, value in relabel.items()}


def _sd_key(key: str) -> str:
    return {"file_sd_configs": "fileSDConfigs", "dns_sd_configs": "dnsSDConfigs", "http_sd_configs": "httpSDConfigs",
            "kubernetes_sd_configs": "kubernetesSDConfigs"}[key]


def _sd(key: str, body: dict) -> dict:
    out: dict = {}
    for field, value in body.items():
        if field == "refresh_interval":
            out["refreshInterval"] = value
        elif key == "kubernetes_sd_configs" and field == "role":
            out["role"] = SD_ROLES[value]
        elif key == "kubernetes_sd_configs" and field == "selectors":
            out["selectors"] = [{**s, "role": SD_ROLES[s["role"]]} for s in value]
        else:
            out[field] = value
    return out


def _auth(model: Model, job: Job, users: dict[str, str]) -> dict:
    """basicAuth / authorization / tlsConfig, every credential and file by reference."""
    target = job.target
    out: dict = {}
    if target is None:
        return out
    if target.basic_auth is not None:
        key = K.slug(job.name, limit=253)
        users[key] = target.basic_auth.username
        out["basicAuth"] = {"username": {"name": usernames_secret(model), "key": key},
                            "password": K.secret_key_ref(model, target.basic_auth.password)}
    if target.bearer_token is not None:
        out["authorization"] = {"type": "Bearer", "credentials": K.secret_key_ref(model, target.bearer_token)}
    tls = target.tls
    if tls is not None:
        body: dict = {}
        if tls.ca_file:
            body["ca"] = {"secret": K.file_key_ref(model, tls.ca_file)}
        if tls.cert_file:
            body["cert"] = {"secret": K.file_key_ref(model, tls.cert_file)}
            body["keySecret"] = K.file_key_ref(model, tls.key_file)
        if tls.server_name:
            body["serverName"] = tls.server_name
        if tls.insecure_skip_verify:
            body["insecureSkipVerify"] = True
        if body:
            out["tlsConfig"] = body
    return out
