"""The `deployment` section of `monstack/v1`: how the generated stack runs, docker-compose (the default) or
Kubernetes with the Prometheus Operator (`kind: kubernetes`, options under `kubernetes:`).

Everything has a default, so a spec without `deployment:` still gives a working stack: images pinned to the
versions monstack is tested with, the UIs published on 127.0.0.1 only, a Grafana admin password read from the
compose secret fed by GRAFANA_ADMIN_PASSWORD. Secrets are references (`{env: NAME}` or `{file: /path}`), never
values; the exporters read theirs from files (`DATA_SOURCE_PASS_FILE`, `REDIS_PASSWORD_FILE`).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from .base import Strict
from .routing import SecretRef

# registry[:port]/path:tag[@sha256:digest]; the tag is required (a pinned image), `latest` is refused below.
IMAGE_RE = (r"^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
            r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$")
SLUG_RE = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"


def _pinned(image: str) -> str:
    tag = image.split("@")[0].rsplit(":", 1)[1]
    if tag == "latest":
        raise ValueError(f"{image!r}: `latest` is not a version; pin a release tag (e.g. prom/prometheus:v3.5.3)")
    return image


Image = Annotated[str, Field(pattern=IMAGE_RE, description="an image with a pinned tag, never :latest"),
                  AfterValidator(_pinned)]


class Images(Strict):
    """The image of every service the stack may run. The defaults are the releases monstack is checked against."""

    prometheus: Image = "prom/prometheus:v3.5.3"  # the 3.5 LTS line
    alertmanager: Image = "prom/alertmanager:v0.33.1"
    grafana: Image = "grafana/grafana:12.2.0"
    node_exporter: Image = "prom/node-exporter:v1.11.1"
    postgres_exporter: Image = "quay.io/prometheuscommunity/postgres-exporter:v0.19.1"
    redis_exporter: Image = "oliver006/redis_exporter:v1.86.0"
    celery_exporter: Image = "ghcr.io/danihodovic/celery-exporter:0.12.2"
    mysql_exporter: Image = "prom/mysqld-exporter:v0.19.0"
    nginx_exporter: Image = "nginx/nginx-prometheus-exporter:1.5.1"
    probe_exporter: Image = Field("prom/blackbox-exporter:v0.28.0", description="blackbox_exporter, for probes")
    pushgateway: Image = "prom/pushgateway:v1.11.2"


Port = Annotated[int, Field(ge=1, le=65535)]


class Ports(Strict):
    """Host ports of the three UIs (the only published ports), on `bind_address`."""

    prometheus: Port = 9090
    alertmanager: Port = 9093
    grafana: Port = 3000

    @model_validator(mode="after")
    def _distinct(self) -> "Ports":
        if len({self.prometheus, self.alertmanager, self.grafana}) != 3:
            raise ValueError("prometheus, alertmanager and grafana need three different host ports")
        return self


class Network(Strict):
    """The network every monitoring service is on; the user's own services (the app, the database) join it."""

    name: str | None = Field(None, pattern=SLUG_RE,
                             description="its Docker name; default: <project>-monitoring")
    external: bool = Field(False, description=(
        "true: an existing network (e.g. your application's), created outside this stack; "
        "false: the stack creates it, and your services join it as an external network"))


class Grafana(Strict):
    admin_user: str = Field("admin", pattern=r"^[A-Za-z0-9_.@-]+$")
    admin_password: SecretRef = Field(default_factory=lambda: SecretRef(env="GRAFANA_ADMIN_PASSWORD"),
                                      description="never admin/admin: read from this secret by Grafana")


class Postgres(Strict):
    """How postgres_exporter logs in (DATA_SOURCE_URI, DATA_SOURCE_USER, DATA_SOURCE_PASS_FILE)."""

    user: str = Field("postgres_exporter", pattern=r"^[A-Za-z0-9_.@-]+$",
                      description="a role with pg_monitor (GRANT pg_monitor TO postgres_exporter)")
    password: SecretRef | None = Field(None, description="the role's password; none: a trusted connection")
    database: str = Field("postgres", pattern=r"^[A-Za-z0-9_.-]+$")
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "disable"


class Redis(Strict):
    """How redis_exporter logs in (REDIS_USER, REDIS_PASSWORD_FILE)."""

    user: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@-]+$", description="an ACL user (Redis 6+)")
    password: SecretRef | None = Field(None, description=(
        "a JSON object mapping the Redis URI to its password, e.g. {\"redis://redis:6379\": \"...\"} "
        "(redis_exporter's password file format)"))


class MySQL(Strict):
    """How mysqld_exporter logs in: a `[client]` section written at start from the password secret."""

    user: str = Field("exporter", pattern=r"^[A-Za-z0-9_.@-]+$", description=(
        "a user with PROCESS, REPLICATION CLIENT and SELECT (CREATE USER 'exporter'@'%' ... WITH "
        "MAX_USER_CONNECTIONS 3; GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'%')"))
    password: SecretRef | None = Field(None, description="the user's password")


class Celery(Strict):
    """How celery-exporter reaches the broker: `scheme://<target address>/<vhost>`, or a whole secret URL."""

    scheme: Literal["redis", "rediss", "amqp", "amqps"] = "redis"
    vhost: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]*$",
                              description="Redis database number or AMQP vhost; default: 0 for Redis, none for AMQP")
    broker_url: SecretRef | None = Field(None, description="the full broker URL, when it carries a password")


def _ip(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)") from None
    return value


DNS_LABEL_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"  # a namespace: RFC 1123 label, at most 63
DNS_NAME_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"  # an object name (subdomain)
K8S_LABEL_KEY_RE = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
K8S_LABEL_VALUE_RE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"


def _label_value(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # grafana_dashboard: 1


K8sLabels = dict[Annotated[str, Field(pattern=K8S_LABEL_KEY_RE, max_length=316)],
                 Annotated[str, BeforeValidator(_label_value), Field(pattern=K8S_LABEL_VALUE_RE, max_length=63)]]
ObjectName = Annotated[str, Field(pattern=DNS_NAME_RE, max_length=253)]


class Kubernetes(Strict):
    """Objects for the Prometheus Operator (kube-prometheus-stack): PrometheusRules, ServiceMonitors, PodMonitors,
    Probes, ScrapeConfigs, an AlertmanagerConfig (or the whole alertmanager.yaml in a Secret), dashboard ConfigMaps
    for the Grafana sidecar, and a kustomization.yaml listing them (`kubectl apply -k kubernetes/`)."""

    namespace: Annotated[str, Field(pattern=DNS_LABEL_RE, max_length=63)] = Field(
        "monitoring", description="namespace of every generated object (and of the Secrets they reference)")
    labels: K8sLabels = Field(default_factory=lambda: {"release": "kube-prometheus-stack"}, description=(
        "labels of every prometheus-operator object (ServiceMonitor, PodMonitor, Probe, ScrapeConfig, "
        "AlertmanagerConfig): what your Prometheus' *Selector fields select; kube-prometheus-stack selects "
        "`release: <helm release name>`"))
    rule_labels: K8sLabels | None = Field(None, description=(
        "labels of the PrometheusRules (the Prometheus' ruleSelector); default: `labels`"))
    dashboard_labels: K8sLabels = Field(default_factory=lambda: {"grafana_dashboard": "1"}, description=(
        "labels of the dashboard ConfigMaps: what the Grafana sidecar looks for (kube-prometheus-stack: "
        "grafana.sidecar.dashboards.label, grafana_dashboard: \"1\")"))
    alertmanager: Literal["config", "secret"] = Field("config", description=(
        "config: an AlertmanagerConfig (routes and receivers, merged by the operator under its own route, with a "
        "namespace matcher); secret: the whole alertmanager.yaml in a Secret, for the Alertmanager's configSecret"))
    matcher_strategy: Literal["OnNamespace", "OnNamespaceExceptForAlertmanagerNamespace", "None"] = Field(
        "OnNamespace", description=(
            "your Alertmanager's alertmanagerConfigMatcherStrategy.type: OnNamespace (the operator's default) adds "
            "namespace=\"<namespace>\" to the AlertmanagerConfig's route, so only alerts carrying that label "
            "reach its receivers; None adds nothing"))
    config_secret: ObjectName | None = Field(None, description=(
        "alertmanager: secret: the Secret's name (the Alertmanager's configSecret); default alertmanager-<project>"))
    credentials_secret: ObjectName | None = Field(None, description=(
        "the Secret you create with every credential (receivers, scrape auth, TLS files), one key per reference: "
        "{env: NAME} -> key name in lower case, {file: /a/b} -> key file_a_b; default <project>-monitoring-credentials"))


class Ruler(Strict):
    """Rule files for a central ruler that evaluates the alerts on the store Prometheus remote-writes to, written
    under `ruler/` besides prometheus/rules/ (which stay, for `monstack test` and a local Prometheus)."""

    kind: Literal["mimir", "thanos", "vmalert"] = Field(description=(
        "mimir: one namespace file for `mimirtool rules load` (Mimir, Cortex); thanos: Thanos ruler rule files "
        "with partial_response_strategy; vmalert: nothing more, vmalert reads prometheus/rules/*.yml as they are"))
    namespace: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,100}$", description=(
        "mimir: the rule namespace; default <project>-<environment>"))
    partial_response_strategy: Literal["abort", "warn"] = Field("abort", description=(
        "thanos: when a store does not answer, abort the evaluation (no alert from half the data) or warn"))

    @model_validator(mode="after")
    def _kind_options(self) -> "Ruler":
        if self.namespace is not None and self.kind != "mimir":
            raise ValueError("`namespace` is for `kind: mimir`")
        if "partial_response_strategy" in self.model_fields_set and self.kind != "thanos":
            raise ValueError("`partial_response_strategy` is for `kind: thanos`")
        return self


class Deployment(Strict):
    """How the stack runs: a docker-compose stack (the default: Prometheus, Alertmanager, Grafana and the exporters
    the targets need) or, with `kind: kubernetes`, objects for the Prometheus Operator."""

    kind: Literal["compose", "kubernetes"] = Field("compose", description=(
        "compose: docker-compose.yml and its README; kubernetes: kubernetes/ (prometheus-operator objects, "
        "kustomization.yaml) instead; the Prometheus and Alertmanager files, dashboards and runbooks are always written"))
    kubernetes: Kubernetes | None = Field(None, description="options of `kind: kubernetes`")
    ruler: Ruler | None = Field(None, description=(
        "a central ruler (Mimir/Cortex, Thanos, vmalert) evaluating the alerts on the remote_write store: its "
        "rule files under ruler/"))

    bind_address: Annotated[str, AfterValidator(_ip)] = Field(
        "127.0.0.1", description="host address the UIs are published on; 127.0.0.1 keeps them off the network")
    ports: Ports = Field(default_factory=Ports)
    network: Network = Field(default_factory=Network)
    images: Images = Field(default_factory=Images)
    grafana: Grafana = Field(default_factory=Grafana)
    postgres: Postgres = Field(default_factory=Postgres)
    redis: Redis = Field(default_factory=Redis)
    celery: Celery = Field(default_factory=Celery)
    mysql: MySQL = Field(default_factory=MySQL)

    @model_validator(mode="after")
    def _kind(self) -> "Deployment":
        if self.kubernetes is not None and self.kind != "kubernetes":
            raise ValueError("`kubernetes:` options are for `kind: kubernetes`: add it, or drop them")
        if self.kind == "kubernetes" and self.kubernetes is None:
            object.__setattr__(self, "kubernetes", Kubernetes())
        return self
