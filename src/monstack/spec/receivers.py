"""Notification channels of a receiver in `monstack/v1`: Slack, email, PagerDuty, webhook, Microsoft Teams,
Opsgenie and Telegram (Alertmanager 0.33).

Secrets are never literal: a `SecretRef` names a file or an environment variable, and is rendered as the
channel's `*_file` field. Alertmanager expands no environment variables, so an `env:` secret reaches it as a file
(a compose secret mounted at /run/secrets/<name>). A URL field that carries a credential is refused with the way
to reference it instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import Strict

SECRET_HINT = "reference it instead: `{env: NAME}` (an environment variable) or `{file: /path/to/secret}`"
# Folders the generated stack mounts in its containers (render/compose.py; a test keeps the two in step), and
# system folders: a `{file: ...}` secret is mounted at its own path, so one there would shadow a configuration
# file (or be shadowed by it).
RESERVED_FOLDERS = ("/etc/prometheus", "/etc/alertmanager", "/etc/grafana", "/prometheus", "/alertmanager",
                    "/var/lib/grafana", "/data", "/run/secrets", "/host", "/bin", "/sbin", "/lib", "/usr", "/proc",
                    "/sys", "/dev")


class SecretRef(Strict):
    """A secret by reference: exactly one of `env` or `file`."""

    env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable holding it")
    file: str | None = Field(None, pattern=r"^/", description="absolute path of a file holding it")

    @model_validator(mode="before")
    @classmethod
    def _no_literal(cls, value: Any) -> Any:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            raise ValueError(f"a secret must not be written in the spec; {SECRET_HINT}")
        return value

    @field_validator("file")
    @classmethod
    def _own_path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.split("/")
        if ".." in parts or "." in parts or "//" in value or value.endswith("/"):
            raise ValueError(f"{value!r}: give the secret file's plain absolute path (no `.`, `..` or trailing /)")
        for folder in RESERVED_FOLDERS:
            if value == folder or value.startswith(folder + "/") or folder.startswith(value + "/"):
                raise ValueError(f"{value!r} is inside {folder}, which the generated stack mounts or the system "
                                 "owns: the secret would shadow (or be shadowed by) the files there")
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

def plain_url(value: Any) -> Any:
    """A URL written in the spec: refused when it carries a credential (`checks.secrets`, the one detector),
    and it must be http(s)."""
    from ..syntax import secrets  # noqa: PLC0415 - a leaf module of pure text rules

    if isinstance(value, str):
        found = secrets.find(value)
        if found:
            raise ValueError(f"this URL carries a credential ({found.what}); {SECRET_HINT}")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("a URL must start with http:// or https:// and name a host")
    return value


PlainURL = Annotated[str, BeforeValidator(plain_url)]
EMAIL = r"^[^@\s,]+@[^@\s,]+$"


class Slack(Strict):
    api_url: SecretRef = Field(description="the incoming-webhook URL (it embeds a token)")
    channel: str = Field(pattern=r"^[#@]?[\w.-]+$")
    title: str | None = Field(None, description="default: [FIRING:n] alertname")
    text: str | None = Field(None, description="default: each alert's severity, summary and description")
    send_resolved: bool = True


class Email(Strict):
    """SMTP: STARTTLS is required by default (port 465 is TLS from the first byte)."""

    to: Annotated[str, Field(pattern=EMAIL)] | list[Annotated[str, Field(pattern=EMAIL)]]
    from_: str = Field(alias="from", pattern=EMAIL)
    smarthost: str = Field(pattern=r"^[A-Za-z0-9._-]+:\d{1,5}$")
    auth_username: str | None = None
    auth_password: SecretRef | None = None
    require_tls: bool = True
    subject: str | None = Field(None, description="default: [FIRING] alertname (severity)")
    send_resolved: bool = False

    @field_validator("smarthost")
    @classmethod
    def _port(cls, value: str) -> str:
        if not 1 <= int(value.rsplit(":", 1)[1]) <= 65535:
            raise ValueError(f"{value!r}: port {int(value.rsplit(':', 1)[1])} is outside 1-65535")
        return value

    @model_validator(mode="after")
    def _password_over_tls(self) -> "Email":
        if self.auth_password is not None and not self.require_tls and not self.smarthost.endswith(":465"):
            raise ValueError("auth_password with require_tls: false would send the password in clear (and Go's "
                             "SMTP client refuses to); keep require_tls: true or use port 465")
        return self

    @property
    def recipients(self) -> str:
        return self.to if isinstance(self.to, str) else ", ".join(self.to)


class PagerDuty(Strict):
    routing_key: SecretRef = Field(description="Events API v2 integration key")
    description: str | None = Field(None, description="default: alertname: summary")
    severity: str | None = Field(None, description="default: the alert's severity (critical, warning, info)")
    url: PlainURL | None = Field(None, description="Events API URL, e.g. https://events.eu.pagerduty.com/v2/enqueue")
    send_resolved: bool = True


class BasicAuth(Strict):
    username: str = Field(min_length=1)
    password: SecretRef


class Webhook(Strict):
    url: str | SecretRef = Field(description="a plain URL, or a SecretRef when it carries a token")
    bearer_token: SecretRef | None = Field(None, description="sent as `Authorization: Bearer ...`")
    basic_auth: BasicAuth | None = None
    send_resolved: bool = True
    max_alerts: int = Field(0, ge=0)

    @field_validator("url", mode="before")
    @classmethod
    def _no_credential(cls, value: Any) -> Any:
        return plain_url(value)  # before the union: one clear error, not one per alternative

    @model_validator(mode="after")
    def _one_auth(self) -> "Webhook":
        if self.bearer_token is not None and self.basic_auth is not None:
            raise ValueError("give at most one of `bearer_token` or `basic_auth`")
        return self


class MSTeams(Strict):
    """Microsoft Teams through a Workflows (Power Automate) webhook: `msteamsv2_configs`. The Office 365
    connector webhooks of `msteams_configs` are retired."""

    webhook_url: SecretRef = Field(description="the workflow's URL (it embeds a signature)")
    title: str | None = Field(None, description="default: [FIRING:n] alertname")
    text: str | None = Field(None, description="default: each alert's severity, summary and description")
    send_resolved: bool = True


class Responder(Strict):
    type: Literal["team", "user", "escalation", "schedule"]
    name: str = Field(min_length=1, description="team, escalation or schedule name; the user's e-mail address")


class Opsgenie(Strict):
    api_key: SecretRef = Field(description="the API integration's key")
    api_url: PlainURL | None = Field(None, description="e.g. https://api.eu.opsgenie.com/ for the EU instance")
    message: str | None = Field(None, description="default: alertname: summary")
    description: str | None = Field(None, description="default: every alert's summary and description")
    priority: str | None = Field(None, description="default: P1 critical, P3 warning, P5 otherwise")
    responders: list[Responder] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    send_resolved: bool = True


class Telegram(Strict):
    bot_token: SecretRef = Field(description="the bot's token from @BotFather")
    chat_id: int = Field(description="the chat's numeric id (negative for groups and channels)")
    message_thread_id: int | None = Field(None, description="a topic of a forum group")
    message: str | None = Field(None, description="default: each alert's severity and summary (HTML)")
    parse_mode: Literal["HTML", "MarkdownV2", "Markdown"] = "HTML"
    disable_notifications: bool = False
    send_resolved: bool = True

    @model_validator(mode="after")
    def _message_for_markdown(self) -> "Telegram":
        if self.parse_mode != "HTML" and self.message is None:
            raise ValueError(f"the default message is HTML: give `message` for parse_mode {self.parse_mode}")
        return self

    @field_validator("chat_id", mode="before")
    @classmethod
    def _numeric(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"-?\d+", value):
            raise ValueError("chat_id must be the chat's numeric id (e.g. -1001234567890), not its @name")
        return value


CHANNELS = ("slack", "email", "pagerduty", "webhook", "msteams", "opsgenie", "telegram")


class Receiver(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    slack: OneOrMany[Slack] = Field(default_factory=list)
    email: OneOrMany[Email] = Field(default_factory=list)
    pagerduty: OneOrMany[PagerDuty] = Field(default_factory=list)
    webhook: OneOrMany[Webhook] = Field(default_factory=list)
    msteams: OneOrMany[MSTeams] = Field(default_factory=list)
    opsgenie: OneOrMany[Opsgenie] = Field(default_factory=list)
    telegram: OneOrMany[Telegram] = Field(default_factory=list)

    @property
    def sends(self) -> bool:
        return any(getattr(self, channel) for channel in CHANNELS)

    def secrets(self) -> list[SecretRef]:
        """Every secret this receiver's channels read, in channel order."""
        found: list[SecretRef | None] = [c.api_url for c in self.slack]
        found += [c.auth_password for c in self.email]
        found += [c.routing_key for c in self.pagerduty]
        for hook in self.webhook:
            found += [hook.url if isinstance(hook.url, SecretRef) else None, hook.bearer_token,
                      hook.basic_auth.password if hook.basic_auth else None]
        found += [c.webhook_url for c in self.msteams]
        found += [c.api_key for c in self.opsgenie]
        found += [c.bot_token for c in self.telegram]
        return [ref for ref in found if ref is not None]
