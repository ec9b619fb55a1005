"""Routing in `monstack/v1`: receivers (Slack, email, PagerDuty, webhook), routes and inhibitions.

Secrets are never literal: a `SecretRef` names a file or an environment variable. Alertmanager expands no
environment variables, so an `env:` secret reaches it as a file (a compose secret mounted at /run/secrets/<name>).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import Strict
from .units import DurationField

SECRET_HINT = "reference it instead: `{env: NAME}` (an environment variable) or `{file: /path/to/secret}`"


class SecretRef(Strict):
    """A secret by reference: exactly one of `env` or `file`."""

    env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable holding it")
    file: str | None = Field(None, pattern=r"^/", description="absolute path of a file holding it")

    @model_validator(mode="before")
    @classmethod
    def _no_literal(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(f"a secret must not be written in the spec; {SECRET_HINT}")
        return value

    @model_validator(mode="after")
    def _one(self) -> "SecretRef":
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of `env` or `file`")
        return self

    @property
    def path(self) -> str:
        """Where Alertmanager reads the secret from."""
        return self.file or f"/run/secrets/{self.env.lower()}"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class _OneOrMany:
    """`OneOrMany[Slack]`: a list of Slack configs, also written as a single mapping (and so in the schema)."""

    def __class_getitem__(cls, item: type) -> Any:
        return Annotated[list[item], BeforeValidator(_as_list, json_schema_input_type=item | list[item])]


OneOrMany = _OneOrMany


_TOKEN_RE = re.compile(r"(hooks\.slack\.com/services/|[?&](token|key|api_key|apikey|secret|password)=|//[^/@\s]+:[^/@\s]+@)",
                       re.I)


def _plain_url(value: Any) -> Any:
    if isinstance(value, str) and _TOKEN_RE.search(value):
        raise ValueError(f"this URL carries a credential; {SECRET_HINT}")
    return value


class Slack(Strict):
    api_url: SecretRef = Field(description="the incoming-webhook URL (it embeds a token)")
    channel: str = Field(pattern=r"^[#@]?[\w.-]+$")
    title: str | None = None
    text: str | None = None
    send_resolved: bool = True


class Email(Strict):
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    from_: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    smarthost: str = Field(pattern=r"^[A-Za-z0-9._-]+:\d{1,5}$")
    auth_username: str | None = None
    auth_password: SecretRef | None = None
    require_tls: bool = True
    subject: str | None = None
    send_resolved: bool = False


class PagerDuty(Strict):
    routing_key: SecretRef = Field(description="Events API v2 integration key")
    description: str | None = None
    send_resolved: bool = True


class Webhook(Strict):
    url: str | SecretRef = Field(description="a plain URL, or a SecretRef when it carries a token")
    send_resolved: bool = True
    max_alerts: int = Field(0, ge=0)

    @field_validator("url", mode="before")
    @classmethod
    def _no_credential(cls, value: Any) -> Any:
        return _plain_url(value)  # before the union: one clear error, not one per alternative

    @model_validator(mode="after")
    def _url(self) -> "Webhook":
        if isinstance(self.url, str) and not re.match(r"^https?://", self.url):
            raise ValueError("`url` must start with http:// or https://")
        return self


class Receiver(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    slack: OneOrMany[Slack] = Field(default_factory=list)
    email: OneOrMany[Email] = Field(default_factory=list)
    pagerduty: OneOrMany[PagerDuty] = Field(default_factory=list)
    webhook: OneOrMany[Webhook] = Field(default_factory=list)

    @property
    def sends(self) -> bool:
        return bool(self.slack or self.email or self.pagerduty or self.webhook)


LabelMatch = dict[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")], str]


class Route(Strict):
    match: LabelMatch = Field(default_factory=dict, description="label: value, all equal")
    match_re: LabelMatch = Field(default_factory=dict, description="label: regex, all matching (anchored)")
    receiver: str
    continue_: bool = Field(False, alias="continue")
    group_by: list[str] | None = None
    group_wait: DurationField | None = None
    group_interval: DurationField | None = None
    repeat_interval: DurationField | None = None
    routes: list["Route"] = Field(default_factory=list)

    @model_validator(mode="after")
    def _regexes(self) -> "Route":
        for label, pattern in self.match_re.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"match_re.{label}: invalid regex {pattern!r}: {exc}") from None
        return self


class Inhibit(Strict):
    """While an alert matching `when` fires, mute alerts matching `mute` that share the `equal` labels."""

    when: LabelMatch = Field(min_length=1)
    mute: LabelMatch = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class Routing(Strict):
    receiver: str = Field(description="the default receiver (root route)")
    group_by: list[str] = Field(default_factory=lambda: ["alertname", "service"])
    group_wait: DurationField = "30s"
    group_interval: DurationField = "5m"
    repeat_interval: DurationField = "4h"
    resolve_timeout: DurationField = "5m"
    receivers: list[Receiver] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    inhibit: list[Inhibit] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list, description="extra notification template files")

    @model_validator(mode="after")
    def _no_spam(self) -> "Routing":
        if self.group_interval.seconds < 60:
            raise ValueError(f"group_interval {self.group_interval} re-notifies a group more than once a minute; "
                             "use 1m or more (5m is usual)")
        return self

