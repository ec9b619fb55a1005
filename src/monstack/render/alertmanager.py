"""alertmanager/alertmanager.yml: routes, receivers, time intervals and inhibitions, in Alertmanager's modern syntax.

Matchers are `matchers:` strings (not the deprecated `match`/`source_match`), and every secret is a `*_file`
field: Alertmanager expands no environment variables, so an `env:` secret is read from its compose secret file.
Every channel gets a readable default title and text; the spec can override each.
"""

from __future__ import annotations

import json

from ..model import Model
from ..spec.routing import (Email, Inhibit, MSTeams, Opsgenie, PagerDuty, Receiver, Route, SecretRef, Slack,
                            Telegram, TimeInterval, Webhook)
from .common import Stamp, dump_yaml

PATH = "alertmanager/alertmanager.yml"

TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
         "{{ .CommonLabels.alertname }}")
SLACK_TITLE = TITLE
SLACK_TEXT = ("{{ range .Alerts }}*{{ .Labels.severity | toUpper }}* {{ .Annotations.summary }}\n"
              "{{ .Annotations.description }}\n{{ end }}")
TEAMS_TEXT = ("{{ range .Alerts }}**{{ .Labels.severity | toUpper }}** {{ .Annotations.summary }}\n\n"
              "{{ .Annotations.description }}\n\n{{ end }}")
EMAIL_SUBJECT = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})'
SUMMARY = "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}"
PAGERDUTY_DESCRIPTION = SUMMARY
PAGERDUTY_SEVERITY = ('{{ if eq .CommonLabels.severity "critical" }}critical'
                      '{{ else if eq .CommonLabels.severity "warning" }}warning{{ else }}info{{ end }}')
OPSGENIE_DESCRIPTION = ("{{ range .Alerts }}{{ .Labels.severity | toUpper }} {{ .Annotations.summary }}\n"
                        "{{ .Annotations.description }}\n\n{{ end }}")
OPSGENIE_PRIORITY = ('{{ if eq .CommonLabels.severity "critical" }}P1'
                     '{{ else if eq .CommonLabels.severity "warning" }}P3{{ else }}P5{{ end }}')
TELEGRAM_MESSAGE = ('<b>[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
                    "{{ .CommonLabels.alertname | html }}</b>\n"
                    "{{ range .Alerts }}{{ .Labels.severity | toUpper }} {{ .Annotations.summary | html }}\n{{ end }}")
DEFAULT_TEMPLATES = (TITLE, SLACK_TEXT, TEAMS_TEXT, EMAIL_SUBJECT, SUMMARY, PAGERDUTY_SEVERITY,
                     OPSGENIE_DESCRIPTION, OPSGENIE_PRIORITY, TELEGRAM_MESSAGE)


def matcher(label: str, value: str, op: str = "=") -> str:
    """`label="value"` in Alertmanager's matcher syntax, the value quoted and escaped."""
    return f"{label}{op}{json.dumps(value, ensure_ascii=False)}"


def matchers(equal: dict[str, str], regex: dict[str, str] | None = None) -> list[str]:
    out = [matcher(k, v) for k, v in equal.items()]
    out += [matcher(k, v, "=~") for k, v in (regex or {}).items()]
    return out


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    return {PATH: dump_yaml(config(model), stamp)}


def config(model: Model) -> dict:
    """alertmanager.yml as data (also what the Kubernetes output converts or embeds)."""
    routing = model.spec.routing
    config: dict = {
        "global": {"resolve_timeout": str(routing.resolve_timeout)},
        "route": {
            "receiver": routing.receiver,
            "group_by": list(routing.group_by),
            "group_wait": str(routing.group_wait),
            "group_interval": str(routing.group_interval),
            "repeat_interval": str(routing.repeat_interval),
        },
    }
    if routing.routes:
        config["route"]["routes"] = [_route(r) for r in routing.routes]
    config["receivers"] = [_receiver(r) for r in routing.receivers]
    if routing.time_intervals:
        config["time_intervals"] = [_time_interval(t) for t in routing.time_intervals]
    if routing.inhibit:
        config["inhibit_rules"] = [_inhibit(i) for i in routing.inhibit]
    if routing.templates:
        config["templates"] = list(routing.templates)
    return config


def _route(route: Route) -> dict:
    out: dict = {"receiver": route.receiver, "matchers": matchers(route.match, route.match_re)}
    if route.group_by is not None:
        out["group_by"] = list(route.group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        value = getattr(route, key)
        if value is not None:
            out[key] = str(value)
    for key in ("mute_time_intervals", "active_time_intervals"):
        if getattr(route, key):
            out[key] = list(getattr(route, key))
    if route.continue_:
        out["continue"] = True
    if route.routes:
        out["routes"] = [_route(r) for r in route.routes]
    return out


def _time_interval(interval: TimeInterval) -> dict:
    period: dict = {}
    if interval.times:
        period["times"] = [{"start_time": start, "end_time": end}
                           for start, end in (t.replace(" ", "").split("-") for t in interval.times)]
    for key in ("weekdays", "days_of_month", "months", "years"):
        if getattr(interval, key):
            period[key] = [str(v) for v in getattr(interval, key)]
    if interval.location:
        period["location"] = interval.location
    return {"name": interval.name, "time_intervals": [period]}


def _inhibit(rule: Inhibit) -> dict:
    out: dict = {"source_matchers": matchers(rule.when), "target_matchers": matchers(rule.mute)}
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def _receiver(receiver: Receiver) -> dict:
    out: dict = {"name": receiver.name}
    for channel, key, render_one in _CHANNELS:
        configs = getattr(receiver, channel)
        if configs:
            out[key] = [render_one(c) for c in configs]
    return out


def _slack(c: Slack) -> dict:
    return {"send_resolved": c.send_resolved, "api_url_file": c.api_url.path, "channel": c.channel,
            "title": c.title or SLACK_TITLE, "text": c.text or SLACK_TEXT}


def _email(c: Email) -> dict:
    out: dict = {"send_resolved": c.send_resolved, "to": c.recipients, "from": c.from_, "smarthost": c.smarthost}
    if c.auth_username:
        out["auth_username"] = c.auth_username
    if c.auth_password:
        out["auth_password_file"] = c.auth_password.path
    out["require_tls"] = c.require_tls
    out["headers"] = {"Subject": c.subject or EMAIL_SUBJECT}
    return out


def _pagerduty(c: PagerDuty) -> dict:
    out = {"send_resolved": c.send_resolved, "routing_key_file": c.routing_key.path,
           "description": c.description or PAGERDUTY_DESCRIPTION, "severity": c.severity or PAGERDUTY_SEVERITY}
    if c.url:
        out["url"] = c.url
    return out


def _webhook(c: Webhook) -> dict:
    out: dict = {"send_resolved": c.send_resolved}
    if isinstance(c.url, str):
        out["url"] = c.url
    else:
        out["url_file"] = c.url.path
    if c.max_alerts:
        out["max_alerts"] = c.max_alerts
    if c.bearer_token:
        out["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": c.bearer_token.path}}
    elif c.basic_auth:
        out["http_config"] = {"basic_auth": {"username": c.basic_auth.username,
                                             "password_file": c.basic_auth.password.path}}
    return out


def _msteams(c: MSTeams) -> dict:
    return {"send_resolved": c.send_resolved, "webhook_url_file": c.webhook_url.path, "title": c.title or TITLE,
            "text": c.text or TEAMS_TEXT}


def _opsgenie(c: Opsgenie) -> dict:
    out: dict = {"send_resolved": c.send_resolved, "api_key_file": c.api_key.path}
    if c.api_url:
        out["api_url"] = c.api_url
    out |= {"message": c.message or SUMMARY, "description": c.description or OPSGENIE_DESCRIPTION,
            "priority": c.priority or OPSGENIE_PRIORITY}
    if c.responders:
        out["responders"] = [{"type": r.type, ("username" if r.type == "user" else "name"): r.name}
                             for r in c.responders]
    if c.tags:
        out["tags"] = ",".join(c.tags)
    return out


def _telegram(c: Telegram) -> dict:
    out: dict = {"send_resolved": c.send_resolved, "bot_token_file": c.bot_token.path, "chat_id": c.chat_id}
    if c.message_thread_id is not None:
        out["message_thread_id"] = c.message_thread_id
    out |= {"message": c.message or TELEGRAM_MESSAGE, "parse_mode": c.parse_mode,
            "disable_notifications": c.disable_notifications}
    return out


# spec field -> Alertmanager key -> renderer, in the order receivers list them
_CHANNELS = (("slack", "slack_configs", _slack), ("email", "email_configs", _email),
             ("pagerduty", "pagerduty_configs", _pagerduty), ("webhook", "webhook_configs", _webhook),
             ("msteams", "msteamsv2_configs", _msteams), ("opsgenie", "opsgenie_configs", _opsgenie),
             ("telegram", "telegram_configs", _telegram))


def secret_refs(model: Model) -> list[SecretRef]:
    """Every secret the generated alertmanager.yml reads from a file, once each, in a stable order.

    Deployment mounts an `env:` secret as a compose secret at `SecretRef.path`; a `file:` secret is the
    operator's to provide at that path.
    """
    refs: dict[str, SecretRef] = {}
    for receiver in model.spec.routing.receivers:
        for ref in receiver.secrets():
            refs.setdefault(ref.path, ref)
    return [refs[path] for path in sorted(refs)]
