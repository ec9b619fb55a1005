"""`monstack drill`: the real Prometheus and Alertmanager, started on loopback with the generated configuration
(shortened, see `rewrite`), stand-in targets driven across each drilled alert's threshold, and a sink that every
receiver reaches through its own secret files and URL fields. Per alert: fired, delivered to the receiver the
spec routes it to, resolved; or the step that failed and what Prometheus/Alertmanager said.

Alerts run in waves: two alerts share a wave unless one stops a stand-in the other needs, or one can inhibit
the other. Everything runs in a temporary folder that is removed, and every daemon is stopped, whatever happens.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from ..errors import EXIT_UNUSABLE, MonstackError
from . import choose
from . import drivers as drv
from . import engines, rewrite
from .processes import Daemons, alertmanager_argv, free_port, signals_as_exceptions
from .sink import Sink
from .standin import Pushed, StandIn

WAVE_TIMEOUT = 45.0
TOTAL_TIMEOUT = 110.0


@dataclass
class AlertResult:
    alert: str
    receivers: list[str]
    how: str = ""
    fired: float | None = None
    delivered: dict[str, float] = field(default_factory=dict)
    resolved: float | None = None
    resolve_expected: bool = True
    failed: str | None = None  # the step: fire | deliver | resolve | drive
    reason: str = ""
    restored_at: float | None = None
    safe: float | None = None  # seconds from the wave's start until the alert was seen inactive, then driven
    tripped_at: float | None = None
    quiet_since: float | None = None
    was_active: bool = False

    @property
    def ok(self) -> bool:
        return self.failed is None

    def line(self) -> str:
        def s(v):
            return f"{v:.1f}s"
        if self.failed:
            return f"FAIL {self.alert}: step '{self.failed}' failed: {self.reason}"
        always = self.how == drv.Always().how
        parts = [("" if always else f"inactive at {s(self.safe)}, then driven: ") + f"fired {s(self.fired)}",
                 "delivered to " + ", ".join(f"{r} ({s(t)})" for r, t in self.delivered.items())]
        parts.append(f"resolved {s(self.resolved)}" if self.resolved is not None else "resolved: not expected"
                     + (" (no send_resolved)" if self.resolve_expected is False and self.how != drv.Always().how
                        else " (always firing)" if self.how == drv.Always().how else ""))
        return f"ok   {self.alert}: " + "; ".join(parts)


@dataclass
class DrillReport:
    results: list[AlertResult]
    notes: list[str]
    seconds: float
    pids: list[int] = field(default_factory=list)  # the daemons it started (each its own session): leak checks

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def text(self) -> str:
        lines = [r.line() for r in self.results]
        lines.append("changed for the drill: " + "; ".join(dict.fromkeys(self.notes)))
        lines.append(f"drill {'passed' if self.ok else 'FAILED'} in {self.seconds:.1f}s "
                     f"({sum(r.ok for r in self.results)}/{len(self.results)} alerts)")
        return "\n".join(lines)


def default_alerts(model) -> list[str]:
    """One alert per drivable condition kind (and per way of being down: stopped target, `*_up` gauge), in the
    order of the spec."""
    chosen: dict[str, str] = {}
    for rule in model.rules:
        d = choose.driver(model, rule)
        if d is None or choose.kind_of(model, rule) == "slo":  # an SLO's alerts are drilled when asked for
            continue
        key = d.kind + ("-stop" if d.stops else "")
        chosen.setdefault(key, rule.name)
    return list(chosen.values())


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


def run(spec_path: Path, alerts: list[str] | None = None, *, progress: Callable[[str], None] | None = None,
        prometheus: str | None = None, alertmanager: str | None = None, keep: bool = False,
        total_timeout: float = TOTAL_TIMEOUT, wave_timeout: float = WAVE_TIMEOUT, engine: str = "prometheus",
        _tmp_hook: Callable[[Path], None] | None = None) -> DrillReport:
    """Drill `alerts` (default: one per condition kind). `engine`: who evaluates the rules (drill/engines.py):
    prometheus, or vmalert on a VictoriaMetrics that Prometheus remote-writes to."""
    from .. import pipeline, routes, tools  # noqa: PLC0415
    from ..render.alertmanager import secret_refs  # noqa: PLC0415

    started = time.monotonic()
    if engine not in engines.ENGINES:
        raise MonstackError.single(f"unknown drill engine {engine!r}: use {' or '.join(engines.ENGINES)}",
                                   check="usage", exit_code=EXIT_UNUSABLE)
    resolved = pipeline.resolve(spec_path)
    model = resolved.model
    found = {name: tools.find(name, explicit) for name, explicit in
             (("prometheus", prometheus), ("alertmanager", alertmanager),
              *((name, None) for name in engines.ENGINE_TOOLS[engine]))}
    for name, tool in found.items():
        if tool is None:
            raise MonstackError.single(f"{name} not found ({tools.env_var(name)}, .tools/bin or PATH)",
                                       check="drill", exit_code=EXIT_UNUSABLE,
                                       hint="run scripts/install-tools.sh (--victoriametrics for vmalert)")
    rules = {r.name: r for r in model.rules}
    names = alerts or default_alerts(model)
    unknown = [n for n in names if n not in rules]
    if unknown:
        raise MonstackError.single(f"no such alert in the spec: {', '.join(unknown)}", check="drill",
                                   exit_code=EXIT_UNUSABLE, hint="known: " + ", ".join(rules))
    expected = routes.expected_receivers(model)
    results = {n: AlertResult(n, expected.get(n, [])) for n in names}
    drivers: dict[str, drv.Driver] = {}
    for n in names:
        d = choose.driver(model, rules[n])
        if d is None:
            results[n].failed, results[n].reason = "drive", (
                f"no driver for this '{choose.kind_of(model, rules[n])}' condition (drivable: always, down, "
                "availability, threshold, fraction, ratio, quantile, increase, count, average, age, absent, on the "
                "stand-ins; "
                "not a raw expr, nor series only the real Prometheus / Alertmanager expose)")
        else:
            drivers[n], results[n].how = d, d.how
    tmp = Path(tempfile.mkdtemp(prefix="monstack-drill-"))
    pids: list[int] = []
    try:
        with signals_as_exceptions(), Sink() as sink, Daemons() as daemons:
            pids = daemons.pids
            jobs = [j.name for j in model.jobs if j.name not in ("prometheus", "alertmanager")]
            standins = {job: StandIn(job, free_port()) for job in jobs}
            views = {**standins, **{pushed: Pushed(standins[job.name], pushed) for job in model.jobs
                                    if job.honor_labels and job.name in standins for pushed in job.pushed_jobs}}
            plan = rewrite.Plan(tmp, list(drivers), free_port(), free_port(),
                                {j: s.port for j, s in standins.items()}, sink.url,
                                {ref.path for ref in secret_refs(model)})
            plan.discovered = {job for d in drivers.values() if d.discovered for job in d.jobs}
            plan.store_port = free_port() if engines.central(engine) else None
            send_resolved = _write(pipeline.render(resolved, tmp / "out"), tmp, plan)
            for job, entry in plan.discovery.items():
                standins[job].discovery = entry
            if _tmp_hook:
                _tmp_hook(tmp)
            for d in drivers.values():
                d.baseline(views)
            for s in standins.values():
                s.start()
            try:
                am = daemons.start("alertmanager", [
                    *_debian_templates(found["alertmanager"].path, plan), f"--config.file={tmp / 'alertmanager' / 'alertmanager.yml'}",
                    f"--storage.path={tmp / 'data' / 'alertmanager'}",
                    f"--web.listen-address=127.0.0.1:{plan.alertmanager_port}", "--cluster.listen-address="],
                    plan.alertmanager_port, tmp / "alertmanager.log", "/-/ready")
                # the rule engine (Prometheus, or VictoriaMetrics + Prometheus + vmalert) sends to Alertmanager
                prom = engines.start(engine, daemons, found, tmp, plan, model.external_labels)
                for wave in _waves(model, drivers):
                    left = total_timeout - (time.monotonic() - started)
                    if left <= 0:
                        for n in wave:
                            results[n].failed, results[n].reason = "fire", "not run: the drill's time was up"
                        continue
                    _drill_wave(wave, drivers, results, views, sink, prom, am, send_resolved, plan.channels,
                                min(wave_timeout, left), progress)
            finally:
                for s in standins.values():
                    s.stop()
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return DrillReport([results[n] for n in names], plan.notes, time.monotonic() - started, list(pids))


def _debian_templates(path: str, plan: rewrite.Plan) -> list[str]:
    argv, note = alertmanager_argv(path)
    if note:
        plan.notes.append(note)
    return argv


def _write(files: dict[str, bytes], tmp: Path, plan: rewrite.Plan) -> dict[str, bool]:
    """The drill's configuration under `tmp`; returns receiver -> whether any of its channels sends resolved."""
    out: dict[str, bytes] = {"prometheus/prometheus.yml": rewrite.prometheus(files["prometheus/prometheus.yml"], plan),
                             "alertmanager/alertmanager.yml": rewrite.alertmanager(
                                 files["alertmanager/alertmanager.yml"], plan)}
    for path, data in files.items():
        if path.startswith("prometheus/rules/"):
            kept = rewrite.rules(data, plan)
            if kept is not None:
                out[path] = kept
    plan.notes.append(f"rules: only the drilled alerts; `for` / windows divided by {rewrite.SCALE} "
                      "(for 2-10s, windows 10-20s)")
    for path, data in out.items():
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_bytes(data)
    config = yaml.safe_load(out["alertmanager/alertmanager.yml"])
    plan.channels = {r["name"]: {k.removesuffix("_configs") for k in r if k.endswith("_configs")}
                     for r in config.get("receivers", [])}
    return {r["name"]: any(c.get("send_resolved") for k, v in r.items() if k.endswith("_configs") for c in v)
            for r in config.get("receivers", [])}


def _waves(model, drivers: dict[str, drv.Driver]) -> list[list[str]]:
    labels = {}
    for alert in model.spec.alerts:
        labels[alert.name] = {"alertname": alert.name, "severity": str(alert.severity),
                              "service": str(getattr(alert, "service", "") or ""), **dict(alert.labels or {})}

    def inhibits(a: str, b: str) -> bool:
        la, lb = labels.get(a, {}), labels.get(b, {})
        for rule in model.spec.routing.inhibit:
            if all(la.get(k) == v for k, v in rule.when.items()) and all(lb.get(k) == v for k, v in rule.mute.items()) \
                    and all(la.get(k) == lb.get(k) for k in rule.equal):
                return True
        return False

    def conflict(a: str, b: str) -> bool:
        da, db = drivers[a], drivers[b]
        shared = da.jobs & db.jobs
        return bool(shared and (da.stops or db.stops)) or bool(da.series & db.series) or inhibits(a, b) \
            or inhibits(b, a)

    # an availability alert first: a target stopped by an earlier wave would stay in its window for a while
    waves: list[list[str]] = []
    for name in sorted(drivers, key=lambda n: drivers[n].kind != "availability"):
        for wave in waves:
            if not any(conflict(name, other) for other in wave):
                wave.append(name)
                break
        else:
            waves.append([name])
    return waves


def _rule_states(prom) -> dict[str, str]:
    """Alert rule -> inactive | pending | firing; `unevaluated` before Prometheus evaluated it once."""
    states = {}
    for group in _get(prom.url + "/api/v1/rules?type=alert")["data"]["groups"]:
        for rule in group["rules"]:
            evaluated = not str(rule.get("lastEvaluation", "")).startswith("0001")
            states[rule["name"]] = rule.get("state", "?") if evaluated else "unevaluated"
    return states


def _drill_wave(wave, drivers, results, standins, sink, prom, am, send_resolved, channels, timeout, progress) -> None:
    """Per alert: wait until Prometheus has evaluated it inactive in its safe state for a moment (longer when it
    was active: Alertmanager must have flushed the resolution), drive it across, wait for firing, delivery,
    restore, resolution."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    pending = set(wave)
    last_progress = 0.0
    states: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        now = time.monotonic()
        try:
            states = _rule_states(prom)
        except (OSError, KeyError, ValueError):
            states = {}
        firing = {n for n, state in states.items() if state == "firing"}
        for n in sorted(pending):
            r = results[n]
            if r.tripped_at is None:
                state = states.get(n, "unevaluated")
                if not drivers[n].resolves:  # always firing: nothing to wait for
                    r.quiet_since = now - 2
                elif state != "inactive":
                    r.quiet_since, r.was_active = None, r.was_active or state in ("pending", "firing")
                    continue
                r.quiet_since = r.quiet_since or now
                if now - r.quiet_since >= (5 if r.was_active else 2):
                    drivers[n].trip(standins)
                    r.tripped_at, r.safe = time.monotonic(), now - t0
                continue
            t1 = r.tripped_at
            if r.fired is None and n in firing:
                r.fired = now - t1
            if r.fired is not None and r.restored_at is None:
                for receiver in r.receivers:
                    heard = {x.channel for x in sink.find(n, "firing", t1) if x.receiver == receiver}
                    if receiver not in r.delivered and heard >= channels.get(receiver, {"?"}):
                        r.delivered[receiver] = now - t1
                if r.receivers and all(x in r.delivered for x in r.receivers):
                    drivers[n].restore(standins)
                    r.restored_at = now
                    r.resolve_expected = drivers[n].resolves and any(send_resolved.get(x) for x in r.receivers)
                    if not r.resolve_expected:
                        pending.discard(n)
            elif r.restored_at is not None:
                if n not in firing and any(send_resolved.get(x) and
                                           any(y.receiver == x for y in sink.find(n, "resolved", r.restored_at))
                                           for x in r.receivers):
                    r.resolved = now - t1
                    pending.discard(n)
        if progress and now - last_progress >= 2:
            last_progress = now
            progress(f"[{now - t0:4.0f}s] " + ", ".join(f"{n}: {_state(results[n])}" for n in wave))
        time.sleep(0.5)
    for n in pending:
        r = results[n]
        if r.tripped_at is None:
            r.failed, r.reason = "drive", (f"still not inactive in its safe state after {timeout:.0f}s (Prometheus: "
                                           f"rule {states.get(n, 'not evaluated')})")
            continue
        _explain(r, sink, prom, am, r.tripped_at, channels)
        if r.restored_at is None:
            drivers[n].restore(standins)


def _state(r: AlertResult) -> str:
    if r.tripped_at is None:
        return "waiting until inactive"
    if r.fired is None:
        return "waiting to fire"
    if r.restored_at is None:
        return "fired, waiting for delivery"
    return "delivered, waiting for resolution" if r.resolved is None else "done"


def _explain(r: AlertResult, sink: Sink, prom, am, t0: float, channels: dict) -> None:
    """What Prometheus / Alertmanager say about a step that did not complete."""
    if r.fired is None:
        r.failed = "fire"
        try:
            alerts = [a for a in _get(prom.url + "/api/v1/alerts")["data"]["alerts"]
                      if a["labels"].get("alertname") == r.alert]
            rules = [x for g in _get(prom.url + "/api/v1/rules?type=alert")["data"]["groups"] for x in g["rules"]
                     if x["name"] == r.alert]
            rule = rules[0] if rules else {}
            value = _get(prom.url + "/api/v1/query?" + urllib.parse.urlencode({"query": rule.get("query", "")}))
        except (OSError, KeyError, ValueError) as exc:
            r.reason = f"Prometheus did not answer: {exc}"
            return
        r.reason = (f"Prometheus: rule state '{rule.get('state', 'missing')}', health '{rule.get('health')}'"
                    f"{', error ' + rule['lastError'] if rule.get('lastError') else ''}; "
                    f"{len(alerts)} active alert(s); the expression returns {len(value['data']['result'])} series")
    elif r.restored_at is None:
        r.failed = "deliver"
        got = sorted({x.receiver for x in sink.find(r.alert, "firing", t0)})
        missing = [x for x in r.receivers if x not in r.delivered]
        heard = {x.receiver + "/" + x.channel for x in sink.find(r.alert, "firing", t0)}
        silent = [f"{x}/{c}" for x in missing for c in sorted(channels.get(x, ())) if f"{x}/{c}" not in heard]
        words = [f"expected receiver(s) {', '.join(missing)}: nothing from " + (", ".join(silent) or "any channel")]
        if got:
            words.append(f"the sink heard it from: {', '.join(got)}")
        try:
            amalerts = [a for a in _get(am.url + "/api/v2/alerts") if a["labels"].get("alertname") == r.alert]
            words.append("Alertmanager: " + ("; ".join(
                f"state {a['status']['state']}, receivers {[x['name'] for x in a['receivers']]}" for a in amalerts)
                or "alert not received"))
        except (OSError, ValueError) as exc:
            words.append(f"Alertmanager did not answer: {exc}")
        errors = [line for line in am.log_tail(200).splitlines() if ("level=ERROR" in line or "level=WARN" in line) and r.alert in line]
        if errors:
            words.append("its log: " + errors[-1][-600:])
        r.reason = "; ".join(words)
    else:
        r.failed = "resolve"
        r.reason = f"no resolved notice within the wave (Prometheus still firing: {r.alert})"
