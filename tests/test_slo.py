"""SLOs with proofs: multiwindow, multi-burn-rate alerts (Google SRE workbook), their records, their generated
promtool proofs, and the windows and factors beside Sloth's documented catalogue."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import real_tool, run_cli
from monstack.slo.windows import windows
from monstack.spec.slos import SLO

SPEC = """\
version: monstack/v1
project: {name: shop, environment: production}
targets:
  - {name: api, kind: app, address: "api:8000"}
metrics:
  - {name: http_requests_total, type: counter, target: api, labels: [status], help: "requests"}
  - {name: http_request_duration_seconds, type: histogram, target: api, buckets: [0.1, 0.5, 1], help: "latency"}
slos:
  - name: APIRequests
    service: api
    objective: 99.9%
    sli: {ratio: {bad: 'http_requests_total{status=~"5.."}', total: http_requests_total}}
  - name: APILatency
    objective: 99%
    period: 28d
    sli: {latency: {histogram: http_request_duration_seconds, slower_than: 500ms}}
    min_rate: 1/min
  - name: APIUp
    objective: 99.5%
    sli: {availability: {target: api}}
routing:
  receiver: ops
  receivers:
    - name: ops
      webhook: {url: "http://hooks:5000/alerts"}
"""

# Sloth's documented catalogue (AlertWindows v1, "30 day: SRE workbook month"): window pairs and the share of the
# error budget each spends; the factor is share x period / long window (14.4 = 2% x 720h / 1h).
SLOTH_30D = [("1h", "5m", 14.4, "critical"), ("6h", "30m", 6.0, "critical"), ("1d", "2h", 3.0, "warning"),
             ("3d", "6h", 1.0, "warning")]
SLOTH_28D = [("1h", "5m", 13.44, "critical"), ("6h", "30m", 5.6, "critical"), ("1d", "2h", 2.8, "warning"),
             ("3d", "6h", 0.933333, "warning")]
SLOTH_7D = [("1h", "5m", 13.44, "critical"), ("6h", "30m", 3.5, "critical"), ("1d", "2h", 1.4, "warning"),
            ("3d", "6h", 0.98, "warning")]  # spends 8%, 12.5%, 20%, 42%


def slo(period: str = "30d", **extra) -> SLO:
    return SLO.model_validate({"name": "X", "objective": "99.9%", "period": period,
                               "sli": {"ratio": {"bad": "x_total{code='5'}", "total": "x_total"}}, **extra})


@pytest.mark.parametrize(("period", "expected"), [("30d", SLOTH_30D), ("28d", SLOTH_28D), ("7d", SLOTH_7D)])
def test_windows_and_factors_are_those_of_the_workbook_and_sloth(period, expected):
    found = [(str(w.long), str(w.short), w.factor, w.severity) for w in windows(slo(period))]
    assert found == expected


def test_detection_time_of_a_total_outage_is_factor_times_budget_times_long_window():
    detect = {str(w.long): w.detection(0.001) for w in windows(slo())}
    assert detect == pytest.approx({"1h": 51.84, "6h": 129.6, "1d": 259.2, "3d": 259.2})


def test_custom_windows_replace_the_default_ones():
    found = windows(slo(windows=[{"long": "2h", "short": "10m", "factor": 10, "severity": "critical"}]))
    assert [(str(w.long), str(w.short), w.factor) for w in found] == [("2h", "10m", 10.0)]


def generated(tmp_path: Path, text: str = SPEC) -> Path:
    (tmp_path / "spec.yaml").write_text(text)
    proc = run_cli("generate", str(tmp_path / "spec.yaml"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out"


def test_records_alerts_and_inhibitions_are_rendered(tmp_path: Path):
    out = generated(tmp_path)
    group = yaml.safe_load((out / "prometheus/rules/slo-apirequests.yml").read_text())["groups"][0]
    records = {r["record"]: r["expr"] for r in group["rules"] if "record" in r}
    assert set(records) == {f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")}
    assert records["slo:sli_error:ratio_rate1h"] == \
        'sum(rate(http_requests_total{status=~"5.."}[1h])) / sum(rate(http_requests_total[1h]))'
    alerts = {r["alert"]: r for r in group["rules"] if "alert" in r}
    page = alerts["APIRequestsBurnRate1h"]
    assert page["expr"] == ('slo:sli_error:ratio_rate1h{slo="APIRequests"} > 0.0144 and '
                            'slo:sli_error:ratio_rate5m{slo="APIRequests"} > 0.0144')  # 14.4 x 0.1%
    assert page["labels"] == {"severity": "critical", "service": "api", "slo": "APIRequests", "long_window": "1h"}
    assert alerts["APIRequestsBurnRate3d"]["labels"]["severity"] == "warning"
    # records first: a group evaluates in order, so the alerts read this evaluation's records
    kinds = ["record" if "record" in r else "alert" for r in group["rules"]]
    assert kinds == sorted(kinds, reverse=True)
    latency = yaml.safe_load((out / "prometheus/rules/slo-apilatency.yml").read_text())["groups"][0]["rules"]
    floor = next(r for r in latency if r.get("alert") == "APILatencyBurnRate1h")["expr"]
    assert floor.endswith(' and slo:sli_total:rate1h{slo="APILatency"} >= 0.016666666666666666)')
    am = yaml.safe_load((out / "alertmanager/alertmanager.yml").read_text())
    mutes = [(r["source_matchers"], r["target_matchers"]) for r in am["inhibit_rules"] if "slo" in r.get("equal", [])]
    assert (['long_window="1h"', 'slo="APIRequests"'], ['long_window="6h"', 'slo="APIRequests"']) in \
        [(sorted(a), sorted(b)) for a, b in mutes]
    assert len(mutes) == 3 * 6  # every faster window of an SLO mutes each slower one


@pytest.mark.tools
def test_every_burn_rate_alert_is_proven_by_its_generated_tests(tmp_path: Path):
    real_tool("promtool")
    (tmp_path / "spec.yaml").write_text(SPEC)
    proc = run_cli("test", str(tmp_path / "spec.yaml"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "12 alerts: 12 passed, 0 failed, 0 waived, 0 uncovered" in proc.stdout
    cases = dict(re.findall(r"^(\w+BurnRate\w+)\s+(\d+) cases", proc.stdout, re.M))
    assert int(cases["APIRequestsBurnRate1h"]) >= 6  # above, below, 1x, outage, reset, spike


MUTATIONS = {
    "factor": ("> 0.0144", "> 0.00144"),  # a page at a tenth of the burn
    "long window": ("slo:sli_error:ratio_rate1h{", "slo:sli_error:ratio_rate6h{"),
    "short window": ("slo:sli_error:ratio_rate5m{", "slo:sli_error:ratio_rate30m{"),
}


@pytest.mark.tools
@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_a_changed_window_or_factor_fails_the_generated_tests(tmp_path: Path, mutation: str):
    promtool = real_tool("promtool")
    out = generated(tmp_path)
    rules = out / "prometheus/rules/slo-apirequests.yml"
    old, new = MUTATIONS[mutation]
    text = rules.read_text()
    assert text.count(old) >= 1
    head, alert, tail = text.partition("- alert: APIRequestsBurnRate1h")  # only the 1h page alert changes
    rules.write_text(head + alert + tail.replace(old, new, 1))
    files = sorted(p.name for p in (out / "prometheus/tests").glob("slo-apirequests*.yml"))
    proc = subprocess.run([promtool.path, "test", "rules", *files],
                          cwd=out / "prometheus/tests", capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "APIRequestsBurnRate1h" in proc.stdout + proc.stderr, proc.stdout


def test_an_slo_problem_is_reported_at_the_slo(tmp_path: Path):
    text = SPEC.replace("sli: {availability: {target: api}}", "sli: {availability: {target: apx}}")
    (tmp_path / "spec.yaml").write_text(text)
    proc = run_cli("validate", str(tmp_path / "spec.yaml"), "--offline")
    assert proc.returncode == 1
    line = text.splitlines().index("  - name: APIUp") + 1
    assert f"spec.yaml:{line}:" in proc.stderr or f"spec.yaml:{line + 2}:" in proc.stderr, proc.stderr


@pytest.mark.parametrize(("field", "value", "says"), [
    ("objective", "100%", "under 100%"), ("objective", "0.999", "percentage"), ("period", "90d", "30d"),
    ("min_rate", "5", "rate of events"),
])
def test_bad_slo_fields_are_refused_at_their_line(tmp_path: Path, field, value, says):
    text = SPEC.replace("    objective: 99.9%\n", f"    objective: 99.9%\n    {field}: {value}\n", 1) \
        if field != "objective" else SPEC.replace("    objective: 99.9%", f"    objective: {value}", 1)
    (tmp_path / "spec.yaml").write_text(text)
    proc = run_cli("validate", str(tmp_path / "spec.yaml"), "--offline")
    assert proc.returncode == 1 and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.tools
def test_the_drill_drives_an_slo_page_alert_end_to_end():
    """On the example: the request SLO's 1h page (0% -> 90% 5xx of the API's requests) and the latency SLO's
    (observations above the 1s bound) fire in the real Prometheus, reach the receiver the spec routes them to and
    resolve; the records they read are kept by the drill's rule rewrite."""
    from conftest import EXAMPLE
    from monstack import tools
    from monstack.drill import run

    if tools.find("prometheus") is None or tools.find("alertmanager") is None:
        pytest.skip("prometheus/alertmanager not installed (scripts/install-tools.sh)")
    report = run(EXAMPLE, ["APIRequestsBurnRate1h", "APILatencyBurnRate1h"])
    print(report.text())
    assert report.ok, report.text()
    assert {r.alert for r in report.results} == {"APIRequestsBurnRate1h", "APILatencyBurnRate1h"}
