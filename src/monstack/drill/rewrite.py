"""What a drill changes in the generated configuration, and nothing else: the rendered YAML is post-processed
(not re-rendered), so the drill runs the files `generate` writes, with these edits, each one listed in the report:

- prometheus.yml: scrape and evaluation intervals 1s; every job's target -> its loopback stand-in (the
  `prometheus` and `alertmanager` jobs -> the drill's own daemons); the Alertmanager -> the drill's; a job whose
  target a drilled `absent: {target}` alert must see vanish -> a file_sd file in the drill folder.
- rules: only the drilled alerts are kept; `for` and `keep_firing_for` divided by 30 (between 2s and 10s);
  every range window divided by 30, between 10s and 20s (>= 4 scrape intervals, so rate() has samples).
- alertmanager.yml: group_wait 1s, group_interval 2s, repeat_interval 1h (everywhere they are set); time
  intervals dropped (the drill must not depend on the clock); every `*_file` secret path -> a file in the drill
  folder (a *path* rewrite: the receiver keeps its channel and reads the secret the way it does in production);
  URL fields that a channel has (PagerDuty `url`, Opsgenie `api_url`, Telegram `api_url`, a plain webhook `url`)
  -> the sink. What cannot be pointed at an HTTP sink (e-mail) is removed, and said.

A secret the deployment does not provide (not among `secret_refs(model)`) gets no file: Alertmanager fails to
read it, and the drill reports the failed delivery with Alertmanager's words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
SCALE = 30
URL_SECRETS = {"api_url_file", "webhook_url_file", "url_file"}  # secrets that are the channel's URL


def seconds(text: str) -> float:
    return sum(float(n) * UNITS[u] for n, u in DURATION.findall(str(text)))


def _short(value: float, low: float, high: float) -> str:
    return f"{int(round(min(high, max(low, value / SCALE))))}s"


def shorten_for(text: str) -> str:
    return "0s" if seconds(text) == 0 else _short(seconds(text), 2, 10)


def shorten_windows(expr: str) -> str:
    """`[5m]` -> `[10s]`, `[1h]` -> `[20s]`, `[5m:1m]` -> `[10s:1s]`."""
    def one(match: re.Match) -> str:
        window = _short(seconds(match[1]), 10, 20)
        return f"[{window}:1s]" if match[2] is not None else f"[{window}]"

    return re.sub(r"\[((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+)(:[^\]]*)?\]", one, expr)


@dataclass
class Plan:
    root: Path
    alerts: list[str]
    prometheus_port: int
    alertmanager_port: int
    standins: dict[str, int]  # job -> port
    sink_url: object  # (receiver, channel) -> URL
    provided: set[str]  # secret paths the deployment provides (secret_refs)
    notes: list[str] = field(default_factory=list)
    secrets: dict[str, Path] = field(default_factory=dict)  # original path -> drill file (written or missing)
    channels: dict[str, set[str]] = field(default_factory=dict)  # receiver -> its channels in the drill config
    discovered: set[str] = field(default_factory=set)  # jobs whose targets the drill must be able to withdraw
    discovery: dict[str, tuple[Path, list]] = field(default_factory=dict)  # job -> its file_sd file and groups
    store_port: int | None = None  # a central engine (drill/engines.py): the store Prometheus remote-writes to


def prometheus(text: bytes, plan: Plan) -> bytes:
    config = yaml.safe_load(text)
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{plan.alertmanager_port}"]}]}]}
    for job in config.get("scrape_configs", []):
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
        name = job["job_name"]
        port = {"prometheus": plan.prometheus_port, "alertmanager": plan.alertmanager_port}.get(
            name, plan.standins.get(name))
        job["scheme"] = "http"
        job["metrics_path"] = "/metrics"
        _to_standin(job, port)
        if name in plan.discovered:
            _file_sd(job, plan)
    plan.notes.append("prometheus.yml: scrape/evaluation interval 1s; targets -> loopback stand-ins, one per job "
                      "(jobs prometheus/alertmanager -> the drill's daemons; discovery, probes' relabelling, "
                      "credentials and TLS dropped); alertmanager -> the drill's")
    if plan.store_port is not None:
        _remote_write(config, plan)
    return yaml.safe_dump(config, sort_keys=False).encode()


def _remote_write(config: dict, plan: Plan) -> None:
    """A central engine: every remote_write to the drill's store (credentials and TLS dropped, the queue flushed
    every second), one added when the spec has none; no rules, no Alertmanager: the ruler does both."""
    added = not config.get("remote_write")
    writes = config.get("remote_write") or [{}]
    for entry in writes:
        for key in ("basic_auth", "authorization", "tls_config"):
            entry.pop(key, None)
        entry["url"] = f"http://127.0.0.1:{plan.store_port}/api/v1/write"
        entry.setdefault("queue_config", {})["batch_send_deadline"] = "1s"
    config["remote_write"] = writes
    config.pop("rule_files", None)
    config.pop("alerting", None)
    plan.notes.append(("prometheus.yml: a remote_write added" if added else
                       f"prometheus.yml: the spec's {len(writes)} remote_write(s)") + " -> the drill's VictoriaMetrics "
                      "(/api/v1/write; credentials and TLS dropped, batch_send_deadline 1s); no rule_files and no "
                      "alerting: vmalert evaluates the rules on VictoriaMetrics and sends to Alertmanager")


def _to_standin(job: dict, port) -> None:
    """One static target, the job's stand-in, with the labels the job gives its series (static or relabelled)."""
    labels = dict((job.get("static_configs") or [{}])[0].get("labels") or {})
    for relabel in job.get("relabel_configs") or ():
        target = relabel.get("target_label", "")
        if "source_labels" not in relabel and "replacement" in relabel and not target.startswith("__"):
            labels[target] = relabel["replacement"]  # a discovered job's own labels
    for key in [k for k in job if k.endswith("_sd_configs")] + ["relabel_configs", "metric_relabel_configs",
                                                                 "params", "basic_auth", "authorization",
                                                                 "tls_config", "static_configs"]:
        job.pop(key, None)
    job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"], **({"labels": labels} if labels else {})}]


def _file_sd(job: dict, plan: Plan) -> None:
    """The job's static targets moved to a file_sd file in the drill folder, so that a driver can empty it (the
    target vanishes from discovery, as when a service is withdrawn) and fill it again."""
    name = job["job_name"]
    groups = [{k: v for k, v in static.items() if k in ("targets", "labels")} for static in job.pop("static_configs")]
    path = plan.root / "file_sd" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(groups), encoding="utf-8")
    job["file_sd_configs"] = [{"files": [str(path)], "refresh_interval": "1s"}]
    plan.discovery[name] = (path, groups)
    plan.notes.append(f"prometheus.yml: job {name}'s targets -> a file_sd file in the drill folder (emptied to make "
                      "the target vanish from discovery)")


def rules(text: bytes, plan: Plan) -> bytes | None:
    config = yaml.safe_load(text)
    groups = []
    for group in config.get("groups", []):
        kept = [r for r in group.get("rules", []) if r.get("alert") in plan.alerts]
        if kept:  # the group's recording rules too (an SLO's error ratios), in their place before the alerts
            kept = [r for r in group["rules"] if r in kept or "record" in r]
        for rule in kept:
            rule["expr"] = shorten_windows(rule["expr"])
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = shorten_for(rule[key])
        if kept:
            group.pop("interval", None)
            groups.append({**group, "rules": kept})
    return yaml.safe_dump({"groups": groups}, sort_keys=False).encode() if groups else None


def alertmanager(text: bytes, plan: Plan) -> bytes:
    config = yaml.safe_load(text)
    _timings(config["route"], root=True)
    if config.pop("time_intervals", None):
        plan.notes.append("alertmanager.yml: time intervals dropped (mute/active), so delivery does not depend on "
                          "the hour of the drill")
    plan.notes.append("alertmanager.yml: group_wait 1s, group_interval 2s, repeat_interval 1h")
    removed: list[str] = []
    for receiver in config.get("receivers", []):
        name = receiver["name"]
        for key in [k for k in receiver if k.endswith("_configs")]:
            channel = key.removesuffix("_configs")
            if key == "email_configs":
                removed.append(f"{name}/email")
                del receiver[key]
                continue
            for i, conf in enumerate(receiver[key]):
                _point(conf, name, channel, i, plan)
    missing = sorted(k for k, f in plan.secrets.items() if not f.exists())
    plan.notes.append(f"alertmanager.yml: {len(plan.secrets)} `*_file` secret path(s) -> files in the drill folder "
                      "holding the sink URL (a path rewrite; receivers and channels unchanged)"
                      + (f"; NOT provided by the deployment, left missing: {', '.join(missing)}" if missing else ""))
    if removed:
        plan.notes.append(f"not drilled (no SMTP sink): {', '.join(removed)} removed from the drill's config")
    return yaml.safe_dump(config, sort_keys=False).encode()


def _timings(route: dict, root: bool = False) -> None:
    for key, value in (("group_wait", "1s"), ("group_interval", "2s"), ("repeat_interval", "1h")):
        if root or key in route:
            route[key] = value
    route.pop("mute_time_intervals", None)
    route.pop("active_time_intervals", None)
    for child in route.get("routes", []):
        _timings(child)


def _point(conf: dict, receiver: str, channel: str, index: int, plan: Plan) -> None:
    url = plan.sink_url(receiver, channel)
    for key, value in list(_file_fields(conf)):
        holder, field_name = key
        drill_file = plan.root / "secrets" / f"{receiver}.{channel}.{index}.{field_name}" / Path(value).name
        drill_file.parent.mkdir(parents=True, exist_ok=True)
        holder[field_name] = str(drill_file)
        plan.secrets[f"{receiver}/{channel}: {value}"] = drill_file
        if value in plan.provided:
            content = url if field_name in URL_SECRETS else f"drill-{Path(value).name}"
            drill_file.write_text(content + "\n", encoding="utf-8")
    if channel == "pagerduty":
        conf["url"] = url
        plan.notes.append(f"{receiver}/pagerduty: url -> sink")
    elif channel in ("opsgenie", "telegram"):
        conf["api_url"] = url + "/"
        plan.notes.append(f"{receiver}/{channel}: api_url -> sink")
    elif channel == "webhook" and "url" in conf:
        conf["url"] = url
        plan.notes.append(f"{receiver}/webhook: plain url rewritten to the sink (it has no secret file to point)")


def _file_fields(node):
    """(holder, key) and path of every `*_file` field, nested ones (http_config) included."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_file") and isinstance(value, str):
                yield (node, key), value
            else:
                yield from _file_fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _file_fields(item)
