"""Targets of `monstack/v1`: scrape jobs as Prometheus has them, and the exporters a spec describes itself.

A target is one scrape job (`job` label). It has one instance (`address` of an app, `exporter` of an exporter
kind), many (`instances:`), instances found by service discovery (`discovery:`), or, for a multi-target exporter
(blackbox probes, mysqld_exporter's `/probe`), the things the exporter is asked about (`probe:`): Prometheus then
scrapes the exporter once per probed thing and the `instance` label is that thing, never the exporter.
Credentials are references (`{env}`/`{file}`), rendered as `*_file` fields. `relabel_configs` and
`metric_relabel_configs` are an escape hatch; the common patterns are written by monstack.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ..syntax import secrets
from .base import Strict
from .receivers import SECRET_HINT, PlainURL, SecretRef
from .units import DurationField

NAME_RE = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
METRIC_RE = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
JOB_RE = r"^[a-zA-Z_][a-zA-Z0-9_-]*$"
KIND_RE = r"^[a-z][a-z0-9_-]*$"
HOST_RE = r"^[A-Za-z0-9._-]+$"
ADDRESS_RE = r"^[A-Za-z0-9._-]+:\d{1,5}$"


def _port_in_range(address: str) -> str:
    port = int(address.rsplit(":", 1)[1])
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} of {address!r} is outside 1-65535")
    return address


Address = Annotated[str, Field(pattern=ADDRESS_RE, description="host:port"), AfterValidator(_port_in_range)]
LabelName = Annotated[str, Field(pattern=NAME_RE)]


def _reserved_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if key.startswith("__"):
            raise ValueError(f"label {key!r}: names starting with __ are reserved for Prometheus")
        if value == "":
            raise ValueError(f"label {key!r} has an empty value: Prometheus treats that as no label at all "
                             "(give it a value, or remove it)")
    return labels


Labels = Annotated[dict[LabelName, str], AfterValidator(_reserved_labels)]


def _instance(value: Any) -> Any:
    return {"address": value} if isinstance(value, str) else value


def _path(path: str) -> str:
    if not path.startswith("/") or re.search(r"\s", path):
        raise ValueError(f"{path!r} is not a URL path: it starts with / and holds no spaces, e.g. /metrics")
    if "?" in path or "#" in path:
        raise ValueError("put query parameters under `params` (a credential goes in `bearer_token` or "
                         "`basic_auth`, by reference); Prometheus would escape the ? in metrics_path")
    return path


class Instance(Strict):
    """One scraped address, with labels of its own (e.g. `instance: api-1` for a readable name)."""

    address: Address
    labels: Labels = Field(default_factory=dict)


class FileSD(Strict):
    """`file_sd_configs`: JSON or YAML files of targets the operator (or a tool) maintains."""

    files: list[Annotated[str, Field(pattern=r"^[^\s]+\.(json|ya?ml)$")]] = Field(min_length=1)
    refresh_interval: DurationField | None = None


class DnsSD(Strict):
    """`dns_sd_configs`: A/AAAA records (with `port`) or SRV records (which carry the port)."""

    names: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$")]] = Field(min_length=1)
    type: Literal["A", "AAAA", "SRV", "MX", "NS"] = "SRV"
    port: int | None = Field(None, ge=1, le=65535)
    refresh_interval: DurationField | None = None

    @model_validator(mode="after")
    def _port(self) -> "DnsSD":
        if self.type in ("A", "AAAA", "MX") and self.port is None:
            raise ValueError(f"a {self.type} lookup gives addresses without a port: add `port`")
        if self.type == "SRV" and self.port is not None:
            raise ValueError("SRV records carry their own port: drop `port`")
        return self


class HttpSD(Strict):
    """`http_sd_configs`: an HTTP endpoint returning the targets (Prometheus' HTTP SD format)."""

    url: PlainURL
    refresh_interval: DurationField | None = None


class KubernetesSD(Strict):
    """`kubernetes_sd_configs`: pods, services or endpoints, by namespace and label selector."""

    role: Literal["pod", "service", "endpoints", "endpointslice", "node", "ingress"] = "pod"
    namespaces: list[Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]] = Field(default_factory=list)
    selector: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9./_-]+$")],
                   Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]*$")]] = Field(
        default_factory=dict, description="label selector (equality), e.g. {app: checkout}")
    port: str | None = Field(None, pattern=r"^[a-z0-9-]+$", description="keep only this named container/endpoint port")


class Discovery(Strict):
    """Exactly one service discovery mechanism."""

    file: FileSD | None = None
    dns: DnsSD | None = None
    http: HttpSD | None = None
    kubernetes: KubernetesSD | None = None

    @model_validator(mode="after")
    def _one(self) -> "Discovery":
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of file, dns, http, kubernetes; got {len(given) or 'none'}")
        return self

    @property
    def mechanism(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class BasicAuth(Strict):
    username: str = Field(min_length=1)
    password: SecretRef


class TLS(Strict):
    """`tls_config`: files only (the CA, a client certificate and its key), never inline PEM."""

    ca_file: str | None = Field(None, pattern=r"^/")
    cert_file: str | None = Field(None, pattern=r"^/")
    key_file: str | None = Field(None, pattern=r"^/")
    server_name: str | None = Field(None, pattern=HOST_RE)
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _pair(self) -> "TLS":
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("`cert_file` and `key_file` go together")
        return self


def _param_list(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: [v] if isinstance(v, (str, int, float)) and not isinstance(v, bool) else v
                for k, v in value.items()}
    return value


Params = Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], list[str]], BeforeValidator(_param_list)]
class Relabel(Strict):
    """One `relabel_config`, as Prometheus writes it."""

    source_labels: list[str] | None = None
    separator: str | None = None
    regex: str | None = None
    modulus: int | None = Field(None, ge=1)
    target_label: str | None = None
    replacement: str | None = None
    action: Literal["replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop",
                    "labelkeep", "lowercase", "uppercase"] = "replace"


class Target(Strict):
    name: str = Field(pattern=JOB_RE, description="the scrape job name (`job` label)")
    kind: str = Field(pattern=KIND_RE, description=(
        "app, custom (scraped at `address`/`instances`), an exporter of the catalogue (node, postgres, redis, "
        "celery, mysql, nginx, probe, pushgateway, rabbitmq), prometheus, alertmanager, or a kind the spec "
        "describes under `exporters:`"), examples=["app", "custom", "node", "postgres", "redis", "celery", "mysql",
                                                   "nginx", "probe", "pushgateway", "rabbitmq", "prometheus",
                                                   "alertmanager"])
    address: Address | None = Field(None, description=(
        "host:port of the watched service. For app/custom targets it is what Prometheus scrapes; for exporter "
        "kinds (postgres, redis, mysql, ...) it is what the exporter connects to, never scraped directly"))
    exporter: Address | None = Field(None, description=(
        "host:port of the exporter; default: the exporter's service name and standard port"))
    instances: list[Annotated[Instance, BeforeValidator(_instance)]] | None = Field(None, min_length=1, description=(
        "several scraped addresses (replicas of the app, one exporter per host): host:port or {address, labels}"))
    discovery: Discovery | None = Field(None, description="service discovery instead of fixed addresses")
    probe: list[Annotated[str, Field(pattern=r"^[^\s]+$")]] | None = Field(None, min_length=1, description=(
        "multi-target exporters (probe, mysql, ...): what the exporter is asked about, one scrape each "
        "(URLs or host:port); `instance` is the probed thing"))
    module: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$", description=(
        "the exporter's module for each probe (blackbox: http_2xx by default; mysqld_exporter: auth_module)"))
    pushed_jobs: list[Annotated[str, Field(pattern=JOB_RE)]] = Field(default_factory=list, description=(
        "pushgateway: the `job` names batch jobs push under (kept with honor_labels)"))
    metrics_path: Annotated[str, AfterValidator(_path)] | None = Field(None, description=(
        "default /metrics (the multi-target path for probes); put query parameters under `params`"))
    scheme: Literal["http", "https"] = "http"
    params: Params = Field(default_factory=dict, description="URL parameters of each scrape")
    honor_labels: bool | None = Field(None, description="keep the scraped job/instance (default: pushgateway only)")
    scrape_interval: DurationField | None = None
    scrape_timeout: DurationField | None = None
    basic_auth: BasicAuth | None = None
    bearer_token: SecretRef | None = None
    tls: TLS | None = None
    labels: Labels = Field(default_factory=dict)
    relabel_configs: list[Relabel] = Field(default_factory=list, description="escape hatch, after monstack's own")
    metric_relabel_configs: list[Relabel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _where(self) -> "Target":
        given = [k for k in ("instances", "discovery", "probe") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of `instances`, `discovery` or `probe`, not {' and '.join(given)}")
        if given and self.kind in ("app", "custom") and self.address is not None:
            raise ValueError(f"`address` and `{given[0]}` both say where to scrape: keep one")
        if given and given[0] in ("instances", "discovery") and self.exporter is not None:
            raise ValueError(f"`exporter` and `{given[0]}` both say where to scrape: keep one")
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("give one of `basic_auth` or `bearer_token`")
        if self.kind in ("app", "custom") and self.address is None and not given:
            raise ValueError(f"a target of kind {self.kind} needs `address` (host:port that serves /metrics), "
                             "`instances` or `discovery`")
        for probed in self.probe or ():
            found = secrets.find(probed)
            if found:
                raise ValueError(f"a probed target carries a credential ({found.what}); {SECRET_HINT}")
        if self.pushed_jobs and self.kind != "pushgateway":
            raise ValueError("`pushed_jobs` is for a pushgateway target")
        for key in self.params:
            if re.search(r"(?i)(token|secret|password|passwd|api_?key|auth|sig)", key):
                raise ValueError(f"params.{key}: a credential in a URL ends up in prometheus.yml and in logs; use "
                                 "`bearer_token`/`basic_auth` with {env: NAME} or {file: /path}")
        return self

    @property
    def where(self) -> str | None:
        """Which field says where to scrape: instances, discovery, probe, or None (address/exporter/default)."""
        return next((k for k in ("instances", "discovery", "probe") if getattr(self, k) is not None), None)


class ExporterMetric(Strict):
    name: str = Field(pattern=METRIC_RE)
    type: Literal["counter", "gauge", "histogram", "summary", "untyped"]
    help: str = ""
    labels: list[LabelName] = Field(default_factory=list)


class MultiTargetSpec(Strict):
    path: str = Field("/probe", pattern=r"^/[^?#\s]*$")
    param: str = Field("target", pattern=r"^[A-Za-z0-9_.-]+$")


class Exporter(Strict):
    """An exporter monstack does not know, described once: its port, its own up gauge, its metrics."""

    kind: str = Field(pattern=KIND_RE, description="the kind name targets use")
    title: str | None = None
    port: int = Field(ge=1, le=65535)
    up: str = Field("up", pattern=METRIC_RE, description="its gauge for 'the watched service is down' (`up`: none)")
    image: str | None = Field(None, description="container image, when the compose stack should run it")
    multi_target: MultiTargetSpec | None = None
    metrics: list[ExporterMetric] = Field(default_factory=list)

    @model_validator(mode="after")
    def _up_listed(self) -> "Exporter":
        if self.up != "up" and self.up not in {m.name for m in self.metrics}:
            raise ValueError(f"the up gauge {self.up!r} must be listed under `metrics` (type gauge)")
        return self
