"""alertmanager/alertmanager.yml: routes, receivers and inhibitions, in Alertmanager's modern syntax.

Matchers are `matchers:` strings (not the deprecated `match`/`source_match`), and every secret is a `*_file`
field: Alertmanager expands no environment variables, so an `env:` secret is read from its compose secret file.
"""

from __future__ import annotations

import json

from ..model import Model
from ..spec.routing import Email, Inhibit, PagerDuty, Receiver, Route, SecretRef, Slack, Webhook
from .common import Stamp, dump_yaml

PATH = "alertmanager/alertmanager.yml"

SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
               "{{ .CommonLabels.alertname }}")
SLACK_TEXT = ("{{ range .Alerts }}*{{ .Labels.severity | toUpper }}* {{ .Annotations.summary }}\n"
              "{{ .Annotations.description }}\n{{ end }}")
EMAIL_SUBJECT = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})'
PAGERDUTY_DESCRIPTION = "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}"


def matcher(label: str, value: str, op: str = "=") -> str:
    """`label="value"` in Alertmanager's matcher syntax, the value quoted and escaped."""
    return f"{label}{op}{json.dumps(value, ensure_ascii=False)}"


def matchers(equal: dict[str, str], regex: dict[str, str] | None = None) -> list[str]:
    out = [matcher(k, v) for k, v in equal.items()]
    out += [matcher(k, v, "=~") for k, v in (regex or {}).items()]
    return out


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
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
    if routing.inhibit:
        config["inhibit_rules"] = [_inhibit(i) for i in routing.inhibit]
    if routing.templates:
        config["templates"] = list(routing.templates)
    return {PATH: dump_yaml(config, stamp)}


def _route(route: Route) -> dict:
    out: dict = {"receiver": route.receiver, "matchers": matchers(route.match, route.match_re)}
    if route.group_by is not None:
        out["group_by"] = list(route.group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        value = getattr(route, key)
        if value is not None:
            out[key] = str(value)
    if route.continue_:
        out["continue"] = True
    if route.routes:
        out["routes"] = [_route(r) for r in route.routes]
    return out


def _inhibit(rule: Inhibit) -> dict:
    out: dict = {"source_matchers": matchers(rule.when), "target_matchers": matchers(rule.mute)}
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def _receiver(receiver: Receiver) -> dict:
    out: dict = {"name": receiver.name}
    if receiver.slack:
        out["slack_configs"] = [_slack(c) for c in receiver.slack]
    if receiver.email:
        out["email_configs"] = [_email(c) for c in receiver.email]
    if receiver.pagerduty:
        out["pagerduty_configs"] = [_pagerduty(c) for c in receiver.pagerduty]
    if receiver.webhook:
        out["webhook_configs"] = [_webhook(c) for c in receiver.webhook]
    return out


def _slack(c: Slack) -> dict:
    return {"send_resolved": c.send_resolved, "api_url_file": c.api_url.path, "channel": c.channel,
            "title": c.title or SLACK_TITLE, "text": c.text or SLACK_TEXT}


def _email(c: Email) -> dict:
    out: dict = {"send_resolved": c.send_resolved, "to": c.to, "from": c.from_, "smarthost": c.smarthost}
    if c.auth_username:
        out["auth_username"] = c.auth_username
    if c.auth_password:
        out["auth_password_file"] = c.auth_password.path
    out["require_tls"] = c.require_tls
    out["headers"] = {"Subject": c.subject or EMAIL_SUBJECT}
    return out


def _pagerduty(c: PagerDuty) -> dict:
    return {"send_resolved": c.send_resolved, "routing_key_file": c.routing_key.path,
            "description": c.description or PAGERDUTY_DESCRIPTION}


def _webhook(c: Webhook) -> dict:
    out: dict = {"send_resolved": c.send_resolved}
    if isinstance(c.url, str):
        out["url"] = c.url
    else:
        out["url_file"] = c.url.path
    if c.max_alerts:
        out["max_alerts"] = c.max_alerts
    return out


def secret_refs(model: Model) -> list[SecretRef]:
    """Every secret the generated alertmanager.yml reads from a file, once each, in a stable order.

    Deployment mounts an `env:` secret as a compose secret at `SecretRef.path`; a `file:` secret is the
    operator's to provide at that path.
    """
    refs: dict[str, SecretRef] = {}
    for receiver in model.spec.routing.receivers:
        found = [c.api_url for c in receiver.slack] + [c.auth_password for c in receiver.email if c.auth_password]
        found += [c.routing_key for c in receiver.pagerduty]
        found += [c.url for c in receiver.webhook if not isinstance(c.url, str)]
        for ref in found:
            refs.setdefault(ref.path, ref)
    return [refs[path] for path in sorted(refs)]
