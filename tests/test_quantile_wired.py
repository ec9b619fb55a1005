"""A quantile alert at a declared bucket bound, wired through the whole pipeline (issue 11): the rule shows the
quantile and is decided by the exact bucket share, the spec validates, and its generated proofs (a firing case with
the quantile as $value, a silent one just under) pass with the real promtool, the top finite bound included. A
histogram without declared buckets keeps `histogram_quantile(...) > t`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import real_tool, run_cli
from monstack import pipeline, tools, write
from monstack.drill import run as drill
from monstack.proof import plan
from monstack.proof.run import run

SPEC = """\
version: monstack/v1
project: {name: shop}
defaults: {scrape_interval: 15s, evaluation_interval: 30s}
targets:
  - {name: api, kind: app, address: "api:8000"}
metrics:
  - {name: http_request_duration_seconds, type: histogram, help: latency, target: api, labels: [handler],
     buckets: [0.1, 0.5, 1]}
  - {name: job_duration_seconds, type: histogram, help: latency of an exporter, target: api}
routing:
  receiver: team
  receivers: [{name: team, webhook: {url: "http://hook:5000/"}}]
alerts:
  - name: SlowAtTheTop
    severity: warning
    every: 5m
    when: {quantile: {histogram: http_request_duration_seconds, q: 0.95}}
    above: 1s
    summary: "P95 is {{ $value | humanizeDuration }}"
    description: d
  - name: SlowAtTheTopByHandler
    severity: warning
    every: 5m
    when: {quantile: {histogram: http_request_duration_seconds, q: 0.99, by: [handler], min_count: 100}}
    above: 1s
    summary: "P99 of {{ $labels.handler }} is {{ $value | humanizeDuration }}"
    description: d
  - name: SlowInTheMiddle
    severity: warning
    every: 5m
    when: {quantile: {histogram: http_request_duration_seconds, q: 0.9}}
    above: 500ms
    summary: "P90 is {{ $value | humanizeDuration }}"
    description: d
  - name: FastBelow
    severity: info
    every: 5m
    when: {quantile: {histogram: http_request_duration_seconds, q: 0.5}}
    below: 500ms
    summary: "P50 is {{ $value | humanizeDuration }}"
    description: d
  - name: SlowJobs
    severity: warning
    every: 5m
    when: {quantile: {histogram: job_duration_seconds, q: 0.95}}
    above: 1s
    summary: "P95 is {{ $value | humanizeDuration }}"
    description: d
"""

QUANTILE = "histogram_quantile({q}, sum by (le{by}) (rate({h}_bucket[5m])))"
SHARE = 'sum{by}(rate({h}_bucket{{le="{le}"}}[5m])) / (sum{by}(rate({h}_count[5m])) > 0) {op} {q}'
H = "http_request_duration_seconds"


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wired") / "shop.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_declared_bounds_render_the_quantile_filtered_by_the_exact_share(spec):
    rules = {r.name: r.expr for r in pipeline.resolve(spec).model.rules}
    assert rules["SlowAtTheTop"] == (QUANTILE.format(q=0.95, by="", h=H) + " and "
                                     + SHARE.format(by="", h=H, le="1.0", op="<", q=0.95))
    assert rules["SlowAtTheTopByHandler"] == (
        QUANTILE.format(q=0.99, by=", handler", h=H) + " and "
        + SHARE.format(by=" by (handler) ", h=H, le="1.0", op="<", q=0.99)
        + f" and on (handler) sum by (handler) (increase({H}_count[5m])) >= 100")
    assert rules["SlowInTheMiddle"].endswith(" and " + SHARE.format(by="", h=H, le="0.5", op="<", q=0.9))
    assert rules["FastBelow"].endswith(" and " + SHARE.format(by="", h=H, le="0.5", op=">", q=0.5))


def test_a_histogram_without_declared_buckets_keeps_histogram_quantile_compared(spec):
    rules = {r.name: r.expr for r in pipeline.resolve(spec).model.rules}
    assert rules["SlowJobs"] == QUANTILE.format(q=0.95, by="", h="job_duration_seconds") + " > 1"


def test_the_top_bound_is_proven_with_the_bound_as_value(spec):
    cases = {c.alert: c.generated for c in plan(pipeline.resolve(spec).model)}
    for alert in ("SlowAtTheTop", "SlowAtTheTopByHandler"):
        firing = [c for c in cases[alert] if c.expect == "firing"]
        assert firing and all(c.value == 1.0 for c in firing), alert  # the rank falls in +Inf: the top bound
        assert any(c.expect == "silent" and "4%" in c.title for c in cases[alert]) if alert == "SlowAtTheTop" else \
            any(c.expect == "silent" and "under the traffic floor" in c.title for c in cases[alert])
    below = {c.expect: c.title for c in cases["FastBelow"]}
    assert "49%" in below["firing"] and "51%" in below["silent"]  # fires with fewer than half above 500ms


def test_validate_is_clean(spec):
    proc = run_cli("validate", str(spec), "--offline", cwd=spec.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{spec.name}: valid" in proc.stdout
    assert not re.search(r": (error|warning):", proc.stdout + proc.stderr), proc.stdout + proc.stderr


@pytest.mark.tools
def test_generated_tests_pass_with_the_real_promtool(spec):
    promtool = real_tool("promtool")
    proc = run_cli("test", str(spec), "--promtool", str(promtool.path), cwd=spec.parent, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for alert in ("SlowAtTheTop", "SlowAtTheTopByHandler", "SlowInTheMiddle", "FastBelow", "SlowJobs"):
        assert re.search(rf"^{alert}\s+\d+ cases\s+passed$", proc.stdout, re.M), proc.stdout
    assert "5 alerts: 5 passed, 0 failed" in proc.stdout


@pytest.mark.tools
def test_the_old_comparison_at_the_top_bound_fails_the_same_proof(spec, tmp_path):
    """`histogram_quantile(...) > 1` at the top finite bound never fires: its firing case fails, where the exact
    form's passes (the proof is not loose enough to accept either)."""
    resolved = pipeline.resolve(spec)
    out = tmp_path / "out"
    write.write(pipeline.render(resolved, out), out)
    rules = next((out / "prometheus" / "rules").glob("*.yml"))
    exact = " and " + SHARE.format(by="", h=H, le="1.0", op="<", q=0.95)
    text = rules.read_text(encoding="utf-8")
    assert exact in text
    rules.write_text(text.replace(exact, " > 1"), encoding="utf-8")
    report = run(resolved.model, real_tool("promtool"), out / "prometheus")
    status = {r.alert: r.status for r in report.results}
    assert status["SlowAtTheTop"] == "failed" and status["SlowInTheMiddle"] == "passed", report.promtool_output[-2000:]


@pytest.mark.tools
@pytest.mark.skipif(tools.find("prometheus") is None or tools.find("alertmanager") is None,
                    reason="prometheus/alertmanager not installed (scripts/install-tools.sh)")
def test_the_drill_fires_and_resolves_at_the_top_bound(spec):
    """The real Prometheus: observations at twice the top finite bound (the +Inf bucket) fire it, fast ones resolve
    it (`histogram_quantile(...) > 1` would have stayed silent)."""
    report = drill(spec, ["SlowAtTheTop", "SlowAtTheTopByHandler"])
    assert report.ok, report.text()
    for result in report.results:
        assert result.safe is not None and result.delivered and result.resolved is not None, result.alert
        assert "0.05s -> 2s -> 0.05s" in result.how, result.how
