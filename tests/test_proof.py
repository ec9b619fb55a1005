"""Generated promtool tests (monstack.proof, render/unit_tests.py) and `monstack test`: every example alert is
proven, the proof can fail (mutated rules fail their generated tests, for each condition kind), raw `expr` alerts
carry their own cases or a waiver, and results map back to the spec."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, ROOT, real_tool
from monstack import pipeline, tools, write
from monstack.proof import plan
from monstack.proof.run import run

# One alert of the example per condition kind.
BY_KIND = {
    "down": "DatabaseDown", "availability": "APIUptimeBelowSLO", "threshold": "LowActiveUsers",
    "fraction": "HighRedisMemory", "ratio": "HighErrorRate", "increase": "UserAlertsNotSent",
    "quantile": "SlowResponseTime", "average": "SlowScraping", "count": "AgenciesNotScraped",
}
COMPARISON = re.compile(r" (>|<|==) (\S+)$")


@pytest.fixture(scope="module")
def promtool() -> tools.Tool:
    return real_tool("promtool")


@pytest.fixture(scope="module")
def example():
    return pipeline.resolve(EXAMPLE)


def test_every_example_alert_has_firing_and_silent_generated_cases(example):
    alerts = {a.name: a for a in example.model.spec.alerts}
    for coverage in plan(example.model):
        # an SLO's burn-rate alert carries the cases monstack.slo generated from its SLI (as `tests:`)
        kinds = {case.expect for case in coverage.generated} | {case.expect for case in alerts[coverage.alert].tests}
        assert "firing" in kinds, coverage.alert
        if coverage.alert != "Watchdog":  # always fires: there is no safe side
            assert "silent" in kinds, coverage.alert


def test_pending_cases_exist_where_for_allows(example):
    pending = {c.alert for c in plan(example.model) for case in c.generated if case.expect == "pending"}
    # instant conditions with a `for`: pending at the first evaluation
    assert {"APIDown", "DatabaseDown", "HighMemoryUsage", "LowActiveUsers", "CeleryQueueBacklog"} <= pending
    # windowed with a 5m `for` after a 5m window: pending once the rate exists, before `for`
    assert "HighCPUUsage" in pending
    # no `for`: nothing can be pending
    assert not pending & {"HighErrorRate", "SlowQueries", "Watchdog", "FavoritesLost"}


def test_monstack_test_passes_on_the_example(cli, tmp_path):
    junit = tmp_path / "report.xml"
    proc = cli("test", "specs/real-estate-scraper.yaml", "--junit", str(junit), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    alerts = [a.name for a in pipeline.resolve(EXAMPLE).model.spec.alerts]
    for name in alerts:
        assert re.search(rf"^{name}\s+\d+ cases\s+passed$", proc.stdout, re.M), name
    assert f"{len(alerts)} alerts: {len(alerts)} passed, 0 failed, 0 waived, 0 uncovered" in proc.stdout
    cases = list(ET.parse(junit).iter("testcase"))
    assert sorted(c.get("name") for c in cases) == sorted(alerts)
    assert not any(c.find("failure") is not None for c in cases)


def mutate(out: Path, model, change) -> set[str]:
    """Apply `change(expr) -> expr | None` to one alert per condition kind in the rendered rules."""
    mutated = set()
    for path in (out / "prometheus" / "rules").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in data["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") in BY_KIND.values():  # records (an SLO's) are left as they are
                    new = change(rule["expr"])
                    if new is not None and new != rule["expr"]:
                        rule["expr"] = new
                        mutated.add(rule["alert"])
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return mutated


def flip(expr: str) -> str:
    return COMPARISON.sub(lambda m: f" {({'>': '<', '<': '>', '==': '!='})[m[1]]} {m[2]}", expr)


def times_ten(expr: str) -> str | None:
    match = COMPARISON.search(expr)
    if not match or float(match[2]) == 0:
        return None
    return expr[:match.start(2)] + repr(float(match[2]) * 10)


def drop_sum_by_le(expr: str) -> str | None:
    return expr.replace("sum by (le) (", "(") if "sum by (le)" in expr else None


@pytest.mark.parametrize("change,expected", [
    (flip, set(BY_KIND.values())),
    (times_ten, set(BY_KIND.values()) - {"DatabaseDown"}),  # `== 0` has no scale
    (drop_sum_by_le, {"SlowResponseTime"}),
])
def test_mutated_rules_fail_their_generated_tests(tmp_path, promtool, example, change, expected):
    out = tmp_path / "out"
    write.write(pipeline.render(example, out), out)
    mutated = mutate(out, example.model, change)
    assert mutated == expected
    report = run(example.model, promtool, out / "prometheus")
    status = {r.alert: r.status for r in report.results}
    assert {a for a, s in status.items() if s == "failed"} == mutated, report.promtool_output[-3000:]
    assert all(s == "passed" for a, s in status.items() if a not in mutated)


RAW = """
version: monstack/v1
project: {name: raw}
targets: [{name: celery, kind: celery, address: "redis:6379"}]
routing: {receiver: r, receivers: [{name: r, webhook: {url: "http://hook:5000/"}}]}
alerts:
  - name: QueueGrows
    severity: warning
    expr: deriv(celery_queue_length[10m]) > 1
    for: 5m
    summary: "Queue {{ $labels.queue_name }} grows"
    description: d
"""
CASES = """    tests:
      - name: a queue growing by 120 a minute
        interval: 1m
        series: {'celery_queue_length{job="celery",instance="celery-exporter:9808",queue_name="celery"}': '0+120x30'}
        at: 20m
        expect: firing
        labels: {job: celery, instance: "celery-exporter:9808", queue_name: celery}
      - name: a steady queue
        interval: 1m
        series: {'celery_queue_length{job="celery",instance="celery-exporter:9808",queue_name="celery"}': '50x30'}
        at: 20m
        expect: silent
"""


def run_raw(cli, tmp_path: Path, extra: str) -> tuple[int, str, str]:
    (tmp_path / "raw.yaml").write_text(RAW + extra, encoding="utf-8")
    proc = cli("test", "raw.yaml", "--promtool", str(ROOT / ".tools" / "bin" / "promtool"), cwd=tmp_path)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_raw_expr_alert_with_its_own_cases_is_tested(cli, tmp_path, promtool):
    code, out, err = run_raw(cli, tmp_path, CASES)
    assert code == 0, out + err
    assert re.search(r"^QueueGrows\s+2 cases\s+passed$", out, re.M)


def test_a_wrong_handwritten_expectation_fails_at_the_alerts_line(cli, tmp_path, promtool):
    code, out, err = run_raw(cli, tmp_path, CASES.replace("expect: silent", "expect: firing"))
    assert code == 1
    assert re.search(r"^QueueGrows\s+2 cases\s+failed$", out, re.M)
    line = (RAW + CASES).splitlines().index("  - name: QueueGrows") + 1
    assert f"raw.yaml:{line}:5: error: alerts[0]: QueueGrows: test 'a steady queue' failed" in err, err


def test_a_raw_expr_alert_without_cases_fails_the_coverage_gate(cli, tmp_path, promtool):
    code, out, err = run_raw(cli, tmp_path, "")
    assert code == 1
    assert "uncovered" in out and "not covered by any test" in err and "waive" in err


def test_a_waived_alert_passes_the_gate_and_says_why(cli, tmp_path, promtool):
    code, out, err = run_raw(cli, tmp_path, "    waive: deriv() of a queue needs a hand-made scenario\n")
    assert code == 0, out + err
    assert re.search(r"^QueueGrows\s+0 cases\s+waived\s+\(deriv\(\) of a queue", out, re.M)


def test_generated_tests_run_with_plain_promtool(tmp_path, promtool, example):
    """No monstack needed: the committed tests/ folder next to the rules is a plain promtool suite."""
    files = sorted((ROOT / "generated" / "real-estate-scraper" / "prometheus" / "tests").glob("*.yml"))
    assert files
    proc = promtool.run("test", "rules", *[f.name for f in files], cwd=files[0].parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(files)


def test_a_route_amtool_resolves_differently_fails_the_alert(tmp_path, promtool, example):
    """The rendered alertmanager.yml is checked against the spec's routing, alert by alert, with the real amtool."""
    amtool = real_tool("amtool")
    out = tmp_path / "out"
    write.write(pipeline.render(example, out), out)
    config = out / "alertmanager" / "alertmanager.yml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    critical = next(r for r in data["route"]["routes"] if r.get("matchers") == ['severity="critical"'])
    critical["receiver"] = "warning"  # a renderer bug: criticals would reach Slack #warnings, no one paged
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    report = run(example.model, promtool, out / "prometheus", amtool, config)
    failed = {r.alert for r in report.results if r.status == "failed"}
    criticals = {a.name for a in example.model.spec.alerts if a.severity == "critical"}
    assert failed == criticals
    message = next(r for r in report.results if r.alert == "APIDown").failures[0][1]
    assert message.startswith("routed to warning") and "critical" in message
