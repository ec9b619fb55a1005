"""`remote_write:` of `monstack/v1`: where Prometheus sends a copy of every sample it stores (Mimir, Cortex,
Thanos Receive, VictoriaMetrics, Grafana Cloud...), rendered into prometheus.yml's `remote_write:`.

Credentials are references, as everywhere in a spec: `basic_auth.password` and `bearer_token` are `{env: NAME}`
or `{file: /path}`, rendered as `password_file` / `authorization.credentials_file` (compose secrets mounted into
the Prometheus service). A URL carrying a credential (userinfo, a `?token=`) is refused. `tenant` is Mimir's and
Cortex's `X-Scope-OrgID` header. `drop:` lists metric-name regexps (RE2, anchored as Prometheus anchors them) that
are not sent: each becomes a `drop` rule of `write_relabel_configs`. `queue:` is Prometheus' `queue_config`: only
what is set is written, the rest keeps Prometheus' documented defaults.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..syntax import regex
from .base import Strict
from .receivers import PlainURL, SecretRef
from .targets import TLS, BasicAuth
from .units import DurationField


def _re2(pattern: str) -> str:
    why = regex.error(pattern)
    if why is not None:
        raise ValueError(f"invalid regexp (Prometheus uses Go's RE2): {why}")
    if pattern in (".*", ".+", "(.*)", "(.+)"):
        raise ValueError(f"{pattern!r} matches every metric: nothing would be sent (drop the remote_write instead)")
    return pattern


def _tenant(value: str) -> str:
    if value in (".", "..", "__mimir_cluster"):
        raise ValueError(f"{value!r} is not a valid tenant ID for Mimir/Cortex")
    return value


MetricRegexp = Annotated[str, Field(min_length=1), AfterValidator(_re2)]


class Queue(Strict):
    """Prometheus' `queue_config`; every field optional, its default in brackets (Prometheus 3.5)."""

    capacity: int | None = Field(None, ge=1, description="samples buffered per shard [10000]")
    min_shards: int | None = Field(None, ge=1, description="[1]")
    max_shards: int | None = Field(None, ge=1, description="parallel senders at most [50]")
    max_samples_per_send: int | None = Field(None, ge=1, description="samples per request [2000]")
    batch_send_deadline: DurationField | None = Field(None, description="longest wait before a request [5s]")
    min_backoff: DurationField | None = Field(None, description="first retry delay [30ms]")
    max_backoff: DurationField | None = Field(None, description="longest retry delay [5s]")
    retry_on_http_429: bool | None = Field(None, description="retry when the store throttles [false]")

    @model_validator(mode="after")
    def _order(self) -> "Queue":
        if self.min_shards and self.max_shards and self.min_shards > self.max_shards:
            raise ValueError(f"min_shards ({self.min_shards}) is above max_shards ({self.max_shards})")
        if self.min_backoff and self.max_backoff and self.min_backoff > self.max_backoff:
            raise ValueError(f"min_backoff ({self.min_backoff}) is above max_backoff ({self.max_backoff})")
        return self


class RemoteWrite(Strict):
    """One store every sample is also written to."""

    url: PlainURL = Field(description=(
        "the store's write endpoint, e.g. http://mimir:9009/api/v1/push, http://victoria-metrics:8428/api/v1/write; "
        "no credential in it (use basic_auth or bearer_token by reference)"))
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$", description=(
        "a name for Prometheus' metrics and logs (prometheus_remote_storage_* carry it as remote_name)"))
    tenant: Annotated[str, AfterValidator(_tenant)] | None = Field(
        None, pattern=r"^[A-Za-z0-9!_.*'()-]{1,150}$", description="Mimir/Cortex tenant: sent as the X-Scope-OrgID header")
    remote_timeout: DurationField | None = Field(None, description="timeout of one request [30s]")
    basic_auth: BasicAuth | None = None
    bearer_token: SecretRef | None = None
    tls: TLS | None = None
    queue: Queue | None = None
    drop: list[MetricRegexp] = Field(default_factory=list, description=(
        "metric-name regexps not sent (write_relabel_configs drop rules), e.g. ['go_.*', 'process_.*']"))

    @model_validator(mode="after")
    def _one_credential(self) -> "RemoteWrite":
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("give one of `basic_auth` or `bearer_token`")
        return self
