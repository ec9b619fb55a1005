"""monstack drill: the real Prometheus and Alertmanager, end to end, on the example spec; a broken chain is found
and the failing step named; no daemon outlives a drill."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monstack import tools
from monstack.drill import rewrite, run
from monstack.drill.sink import parse_notice

from conftest import EXAMPLE

needs_daemons = pytest.mark.skipif(tools.find("prometheus") is None or tools.find("alertmanager") is None,
                                   reason="prometheus/alertmanager not installed (scripts/install-tools.sh)")


def _stat(pid: str) -> tuple[int, int, int, str] | None:
    """(parent, process group, session, state) of a live process, from /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[2]), int(fields[3]), fields[0]


def drill_processes(started: list[int]) -> list[str]:
    """Live processes this test started: a drill daemon (by the pids the drill reports, each the leader of its
    own session, so its children too) or any descendant of this test process started in a drill folder. Other
    processes on the machine, another checkout's drill included, are not looked at."""
    started = set(started)
    table = {pid: stat for pid in filter(str.isdigit, os.listdir("/proc")) if (stat := _stat(pid))}
    mine = {os.getpid()}
    grew = True
    while grew:  # the descendants of this process
        grew = False
        for pid, (parent, *_rest) in table.items():
            if parent in mine and int(pid) not in mine:
                mine.add(int(pid))
                grew = True
    found = []
    for pid, (_parent, group, session, state) in table.items():
        if state == "Z":
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ours = int(pid) in started or group in started or session in started
        if (ours or int(pid) in mine) and "monstack-drill-" in cmdline:
            found.append(cmdline)
    return found


def test_durations_are_shortened():
    assert rewrite.shorten_windows("rate(x[5m]) / rate(y[1h]) + avg_over_time(up[1d])") == \
        "rate(x[10s]) / rate(y[20s]) + avg_over_time(up[20s])"
    assert rewrite.shorten_for("1m") == "2s" and rewrite.shorten_for("5m") == "10s" and rewrite.shorten_for("0s") == "0s"


def test_sink_reads_status_and_alert():
    n = parse_notice("/critical/pagerduty", '{"event_action": "resolve", "payload": {"summary": "APIDown: x"}}', 0)
    assert (n.receiver, n.channel, n.status) == ("critical", "pagerduty", "resolved") and "APIDown" in n.alerts
    n = parse_notice("/default/slack", '{"attachments": [{"title": "[FIRING:1] HighErrorRate"}]}', 0)
    assert n.status == "firing" and "HighErrorRate" in n.alerts


@pytest.mark.tools
@needs_daemons
def test_drill_example_end_to_end():
    # down (stopped target, *_up gauge), ratio, always, and the level kinds: threshold above and below, fraction,
    # increase, count (below), average; they fit in two waves
    alerts = ["APIDown", "HighErrorRate", "DatabaseDown", "Watchdog", "CeleryQueueBacklog", "LowActiveUsers",
              "HighRedisMemory", "PostgresDeadlocks", "CeleryNoWorkers", "SlowScraping"]
    report = run(EXAMPLE, alerts)
    print(report.text())
    assert report.ok, report.text()
    by = {r.alert: r for r in report.results}
    assert set(by["APIDown"].delivered) == {"critical"} and by["APIDown"].resolved is not None
    assert set(by["Watchdog"].delivered) == {"deadmansswitch"}
    for name in alerts[4:]:  # each was seen inactive in its safe state before it was driven, and resolved
        assert by[name].safe is not None and by[name].resolved is not None, name
    assert "app_active_users on fastapi: 10 -> 9 -> 10" in by["LowActiveUsers"].how
    assert "path rewrite" in report.text() and "email" in report.text()
    assert len(report.pids) == 2 and drill_processes(report.pids) == []


@pytest.mark.tools
@needs_daemons
def test_drill_new_condition_kinds_end_to_end():
    """age, absent (a series the stand-in stops exposing; a target that leaves file_sd discovery), the difference
    of two counters, and a ratio and a quantile with traffic floors: one wave."""
    spec = Path(__file__).parent / "data" / "conditions" / "new-kinds.yaml"
    alerts = ["BackupTooOld", "BackupMetricsLost", "PaymentsVanished", "ConnectionsDropped",
              "HighErrorRateWithTraffic", "SlowWithTraffic"]
    report = run(spec, alerts)
    print(report.text())
    assert report.ok, report.text()
    by = {r.alert: r for r in report.results}
    for name in alerts:  # seen inactive in the safe state, driven, fired, delivered, resolved
        assert by[name].safe is not None and by[name].resolved is not None, name
    assert "file_sd file" in by["PaymentsVanished"].how and "file_sd file in the drill folder" in report.text()
    assert "not exposed" in by["BackupMetricsLost"].how
    assert len(report.pids) == 2 and drill_processes(report.pids) == []


@pytest.mark.tools
@needs_daemons
def test_drill_names_the_failing_step(tmp_path, monkeypatch):
    text = EXAMPLE.read_text(encoding="utf-8")
    # wrong receiver: the alert carries job="fastapi" at runtime, and a route sends that to `warning`
    text = text.replace("    - match: {alertname: Watchdog}",
                        "    - match: {job: fastapi}\n      receiver: warning\n    - match: {alertname: Watchdog}", 1)
    # a rule that can never fire: a 5xx share above 100%
    head, tail = text.split("  - name: HighErrorRate", 1)
    # (validate refuses it as promql/impossible; the spec turns that check off to see what the drill says)
    tail = tail.replace("above: 5%", "above: 150%\n    disable: [{check: promql/impossible, reason: drill test}, "
                        "{check: proof/coverage, reason: drill test}]", 1)
    text = head + "  - name: HighErrorRate" + tail
    spec = tmp_path / "broken.yaml"
    spec.write_text(text, encoding="utf-8")
    # a secret the deployment does not provide: the dead man's switch URL
    from monstack.render import alertmanager

    real = alertmanager.secret_refs
    monkeypatch.setattr(alertmanager, "secret_refs",
                        lambda model: [r for r in real(model) if "deadmansswitch" not in r.path])
    report = run(spec, ["APIDown", "HighErrorRate", "Watchdog"], wave_timeout=15)
    print(report.text())
    assert not report.ok
    by = {r.alert: r for r in report.results}
    assert by["APIDown"].failed == "deliver" and "warning" in by["APIDown"].reason
    assert by["HighErrorRate"].failed == "fire" and "Prometheus" in by["HighErrorRate"].reason
    assert by["Watchdog"].failed == "deliver" and "deadmansswitch" in by["Watchdog"].reason
    assert "NOT provided" in report.text()
    assert len(report.pids) == 2 and drill_processes(report.pids) == []


def test_every_kind_of_the_example_has_a_driver():
    from monstack import pipeline
    from monstack.drill import choose as drivers, default_alerts

    model = pipeline.resolve(EXAMPLE).model
    rules = {r.name: r for r in model.rules}
    kinds = {drivers.kind_of(model, r) for r in model.rules}
    chosen = default_alerts(model)
    assert {drivers.driver(model, rules[n]).kind for n in chosen} == kinds - {"slo"}  # SLOs: drilled when asked
    assert drivers.driver(model, rules["APIAvailabilityBurnRate1h"]).stops  # its SLI's target stopped
    lag = drivers.driver(model, rules["PostgresReplicationLag"])
    assert "pg_replication_is_replica = 1" in lag.how and (lag.safe, lag.crossing) == (10, 11)
    listings = drivers.driver(model, rules["NoListingsFound"])  # below: the window counts twice, then half
    assert listings.safe > 100 > listings.crossing
    # series only the real Prometheus / Alertmanager expose cannot be driven
    assert drivers.driver(model, rules["PrometheusRuleEvaluationFailures"]) is None


def test_every_alert_of_the_examples_has_a_driver_but_the_servers_own():
    """What validate accepts and `monstack test` proves, the drill can drive: the only alerts of the example
    specs without a driver are those on series only the real Prometheus / Alertmanager expose."""
    import re

    from monstack import pipeline
    from monstack.drill import choose as drivers

    for spec in sorted((EXAMPLE.parent).glob("*.yaml")):
        model = pipeline.resolve(spec).model
        for rule in model.rules:
            if drivers.driver(model, rule) is None:
                assert re.search(r'\b(prometheus|alertmanager)_\w+|job="(prometheus|alertmanager)"', rule.expr), \
                    (spec.name, rule.name, rule.expr)


@pytest.mark.tools
@needs_daemons
def test_drill_drives_a_job_pushed_to_the_pushgateway():
    """The checkout example's backup metrics are pushed (job="nightly-backup", kept by honor_labels): the
    Pushgateway's stand-in serves them with their own job, and takes them away for the absent alert."""
    report = run(EXAMPLE.parent / "checkout.yaml", ["NightlyBackupStale", "BackupMetricsMissing"])
    print(report.text())
    assert report.ok, report.text()
    by = {r.alert: r for r in report.results}
    assert "nightly-backup" in by["NightlyBackupStale"].how and "not exposed" in by["BackupMetricsMissing"].how
    assert len(report.pids) == 2 and drill_processes(report.pids) == []


def test_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    from monstack.errors import MonstackError

    monkeypatch.setattr(tools, "find", lambda name, explicit=None: None)
    with pytest.raises(MonstackError, match="prometheus not found"):
        run(EXAMPLE, ["Watchdog"])
