"""kubernetes/alertmanager/: the routing tree as an AlertmanagerConfig, or the whole alertmanager.yaml in a Secret.

Both are converted from `render.alertmanager.config` (what alertmanager/alertmanager.yml carries), so the
defaults, titles and texts are the same; no secret value is in either:

- `alertmanager: config` (the default): an AlertmanagerConfig (monitoring.coreos.com/v1alpha1) with the route,
  receivers, mute time intervals and inhibition rules; every credential is a `secretKeyRef` into the credentials
  Secret (the user creates it, in the same namespace). The operator merges it under its own route and, with the
  default `alertmanagerConfigMatcherStrategy` (OnNamespace), adds `namespace="<namespace>"` to its route and
  inhibition rules: `checks.namespace_matcher` says which alerts that keeps away. A basic-auth user name (read
  from a Secret by the operator too, and no secret) goes into a generated `<project>-alertmanager-usernames`.
- `alertmanager: secret`: a Secret `alertmanager-<project>` (`config_secret`) whose `alertmanager.yaml` is the
  file itself, every `*_file` reference pointing into `/etc/alertmanager/secrets/<credentials Secret>/<key>`, where
  the operator mounts the Secrets listed in the Alertmanager's `spec.secrets`. The operator reads the global
  configuration from it (the Alertmanager's `configSecret`); no namespace matcher is added.
"""

from __future__ import annotations

from ...model import Model
from ...spec.routing import Route
from .. import alertmanager as am
from ..common import Stamp, dump_yaml
from . import objects as K

KIND = "AlertmanagerConfig"
SECRETS_MOUNT = "/etc/alertmanager/secrets"  # where the operator mounts the Alertmanager's spec.secrets
SNAKE = {"send_resolved": "sendResolved", "auth_username": "authUsername", "require_tls": "requireTLS",
         "max_alerts": "maxAlerts", "api_url": "apiURL", "chat_id": "chatID", "message_thread_id": "messageThreadID",
         "parse_mode": "parseMode", "disable_notifications": "disableNotifications"}
SECRET_FIELDS = {"api_url_file": "apiURL", "auth_password_file": "authPassword", "routing_key_file": "routingKey",
                 "url_file": "urlSecret", "webhook_url_file": "webhookURL", "api_key_file": "apiKey",
                 "bot_token_file": "botToken"}
CHANNELS = {"slack_configs": "slackConfigs", "email_configs": "emailConfigs", "pagerduty_configs": "pagerdutyConfigs",
            "webhook_configs": "webhookConfigs", "msteamsv2_configs": "msteamsv2Configs",
            "opsgenie_configs": "opsgenieConfigs", "telegram_configs": "telegramConfigs"}


def name(model: Model) -> str:
    return K.slug(model.spec.project.name, limit=253)


def usernames_secret(model: Model) -> str:
    return K.slug(model.spec.project.name, "alertmanager-usernames", limit=253)


def objects(model: Model, stamp: Stamp) -> dict[str, dict]:
    if K.options(model).alertmanager == "secret":
        return {K.path("alertmanager", f"{K.config_secret(model)}.yaml"): _config_secret(model, stamp)}
    users: dict[str, str] = {}
    spec = _spec(model, users)
    meta = K.metadata(model, name(model), K.operator_labels(model))
    out = {K.path("alertmanager", f"{name(model)}.yaml"): K.resource(K.MONITORING_V1ALPHA1, KIND, meta, "spec", spec)}
    if users:
        out[K.path("secrets", f"{usernames_secret(model)}.yaml")] = {
            "apiVersion": "v1", "kind": "Secret", "metadata": K.metadata(model, usernames_secret(model)),
            "type": "Opaque", "stringData": dict(sorted(users.items()))}
    return out


# --- alertmanager: secret -------------------------------------------------------------------------------------

def mounted_path(model: Model, ref) -> str:
    return f"{SECRETS_MOUNT}/{K.credentials_secret(model)}/{K.secret_key(ref)}"


def _config_secret(model: Model, stamp: Stamp) -> dict:
    refs = {ref.path: ref for ref in am.secret_refs(model)}

    def moved(value):
        if isinstance(value, dict):
            return {k: (mounted_path(model, refs[v]) if k.endswith("_file") and v in refs else moved(v))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v) for v in value]
        return value

    text = dump_yaml(moved(am.config(model)), stamp).decode()
    return {"apiVersion": "v1", "kind": "Secret", "metadata": K.metadata(model, K.config_secret(model)),
            "type": "Opaque", "stringData": {"alertmanager.yaml": text}}


# --- alertmanager: config -------------------------------------------------------------------------------------

def _spec(model: Model, users: dict[str, str]) -> dict:
    routing = model.spec.routing
    data = am.config(model)
    route = _route(data["route"], None)
    if routing.routes:
        route["routes"] = [_route(d, r) for d, r in zip(data["route"]["routes"], routing.routes)]
    out: dict = {"route": route}
    refs = {ref.path: ref for ref in am.secret_refs(model)}
    out["receivers"] = [_receiver(model, r, refs, users) for r in data["receivers"]]
    if data.get("time_intervals"):
        out["muteTimeIntervals"] = [_time_interval(t) for t in data["time_intervals"]]
    if routing.inhibit:
        out["inhibitRules"] = [_inhibit(data_rule, rule) for data_rule, rule in zip(data["inhibit_rules"],
                                                                                  routing.inhibit)]
    return out


def matchers(equal: dict[str, str], regex: dict[str, str] | None = None) -> list[dict]:
    out = [{"name": k, "value": v, "matchType": "="} for k, v in equal.items()]
    out += [{"name": k, "value": v, "matchType": "=~"} for k, v in (regex or {}).items()]
    return out


def _route(data: dict, route: Route | None) -> dict:
    out: dict = {"receiver": data["receiver"]}
    if route is not None and (route.match or route.match_re):
        out["matchers"] = matchers(route.match, route.match_re)
    for key, camel in (("group_by", "groupBy"), ("group_wait", "groupWait"), ("group_interval", "groupInterval"),
                       ("repeat_interval", "repeatInterval"), ("mute_time_intervals", "muteTimeIntervals"),
                       ("active_time_intervals", "activeTimeIntervals"), ("continue", "continue")):
        if key in data:
            out[camel] = data[key]
    if route is not None and route.routes:
        out["routes"] = [_route(d, r) for d, r in zip(data["routes"], route.routes)]
    return out


def _receiver(model: Model, data: dict, refs: dict, users: dict[str, str]) -> dict:
    out: dict = {"name": data["name"]}
    for key, camel in CHANNELS.items():
        if key in data:
            out[camel] = [_channel(model, key, c, refs, users, f"{data['name']}-{i}")
                          for i, c in enumerate(data[key], 1)]
    return out


def _channel(model: Model, channel: str, data: dict, refs: dict, users: dict[str, str], user_key: str) -> dict:
    out: dict = {}
    for key, value in data.items():
        if key in SECRET_FIELDS:
            out[SECRET_FIELDS[key]] = K.secret_key_ref(model, refs[value])
        elif key == "http_config":
            out["httpConfig"] = _http_config(model, value, refs, users, user_key)
        elif key == "to" and isinstance(value, list):
            out["to"] = ", ".join(value)
        elif key == "headers":
            out["headers"] = [{"key": k, "value": v} for k, v in value.items()]
        elif key == "responders":
            out["responders"] = value
        else:
            out[SNAKE.get(key, key)] = value
    return out


def _http_config(model: Model, data: dict, refs: dict, users: dict[str, str], user_key: str) -> dict:
    if "authorization" in data:
        auth = data["authorization"]
        return {"authorization": {"type": auth["type"], "credentials": K.secret_key_ref(model, refs[auth["credentials_file"]])}}
    basic = data["basic_auth"]
    key = K.slug(user_key, limit=253)
    users[key] = basic["username"]
    return {"basicAuth": {"username": {"name": usernames_secret(model), "key": key},
                          "password": K.secret_key_ref(model, refs[basic["password_file"]])}}


def _time_interval(data: dict) -> dict:
    periods = []
    for period in data["time_intervals"]:
        out: dict = {}
        if "times" in period:
            out["times"] = [{"startTime": t["start_time"], "endTime": t["end_time"]} for t in period["times"]]
        for key in ("weekdays", "months", "years"):
            if key in period:
                out[key] = period[key]
        if "days_of_month" in period:
            out["daysOfMonth"] = [_days(v) for v in period["days_of_month"]]
        periods.append(out)  # `location` has no field here: checks.time_zones refuses it
    return {"name": data["name"], "timeIntervals": periods}


def _days(value: str) -> dict:
    begin, _, end = value.partition(":")
    return {"start": int(begin), "end": int(end or begin)}


def _inhibit(data: dict, rule) -> dict:
    out: dict = {"sourceMatch": matchers(rule.when), "targetMatch": matchers(rule.mute)}
    if "equal" in data:
        out["equal"] = data["equal"]
    return out
