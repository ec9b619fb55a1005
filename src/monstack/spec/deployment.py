"""The `deployment` section of `monstack/v1`: how the generated docker-compose stack runs.

Everything has a default, so a spec without `deployment:` still gives a working stack: images pinned to the
versions monstack is tested with, the UIs published on 127.0.0.1 only, a Grafana admin password read from the
compose secret fed by GRAFANA_ADMIN_PASSWORD. Secrets are references (`{env: NAME}` or `{file: /path}`), never
values; the exporters read theirs from files (`DATA_SOURCE_PASS_FILE`, `REDIS_PASSWORD_FILE`).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

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


class Deployment(Strict):
    """The docker-compose stack: Prometheus, Alertmanager, Grafana and the exporters the targets need."""

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
