"""Proofs that cannot lie: a generated test feeds Prometheus only series that the declared targets can produce.

A defect the checker refuses, slipped past it with `disable:`, must make the alert's own generated test fail
(the mutation test of issue 11): the proof gives each series the job and instance of the exporter that really
serves it, so a rule that cannot match in production cannot match in its test either. And the reverse: what
validate accepts, `monstack test` passes (here the per-mountpoint disk share of two nodes, matched on
instance and mountpoint, whose generated test once expected labels `/ on (...)` drops).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, real_tool, run_cli

CORPUS = ROOT / "tests" / "data" / "semantic"

# corpus spec -> the check whose error it triggers (disabled here to see what the proof says)
SLIPPED = {
    "labels/cross-job-fraction": "promql/vector-matching",
    "labels/cross-job-guard": "promql/vector-matching",
}


def disabled(text: str, check: str) -> str:
    """The corpus spec with its first alert's `check` turned off, with a reason."""
    head, tail = text.split("    severity:", 1)
    return f"{head}    disable: [{{check: {check}, reason: mutation test}}]\n    severity:{tail}"


@pytest.mark.tools
@pytest.mark.parametrize("name", SLIPPED, ids=list(SLIPPED))
def test_a_defect_slipped_past_the_checker_fails_its_own_generated_test(name: str, tmp_path: Path):
    real_tool("promtool")
    spec = tmp_path / "spec.yaml"
    spec.write_text(disabled((CORPUS / f"{name}.yaml").read_text(), SLIPPED[name]))
    checked = run_cli("validate", str(spec), "--offline")
    assert checked.returncode == 0, checked.stderr  # the checker was told to look away ...
    assert f"disabled by the spec: {SLIPPED[name]}" in checked.stderr
    tested = run_cli("test", str(spec), timeout=180)
    assert tested.returncode == 1, tested.stdout + tested.stderr  # ... and the proof still fails
    assert "got:[]" in tested.stderr.replace(" ", ""), tested.stderr  # the alert never fired in its test


NODES = """\
version: monstack/v1
project: {name: shop, environment: production}
targets:
  - {name: node, kind: node, instances: ["node-1:9100", "node-2:9100"]}
routing:
  receiver: ops
  receivers:
    - name: ops
      webhook: {url: "http://hooks:5000/alerts"}
alerts:
  - name: DiskFull
    severity: warning
    when:
      fraction: {free: node_filesystem_avail_bytes, of: node_filesystem_size_bytes, by: BY}
    above: 90%
    for: 5m
    summary: "{{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full"
    description: "x"
"""


def test_matching_on_mountpoint_alone_across_two_nodes_is_refused(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(NODES.replace("BY", "[mountpoint]").replace(" on {{ $labels.instance }}", ""))
    proc = run_cli("validate", str(spec), "--offline")
    assert proc.returncode == 1, proc.stderr
    assert "error: alerts[0].when.fraction.by: " in proc.stderr and "(promql/vector-matching)" in proc.stderr
    assert "more than one instance" in proc.stderr and "duplicate series" in proc.stderr


@pytest.mark.tools
def test_what_validate_accepts_its_generated_tests_pass(tmp_path: Path):
    real_tool("promtool")
    spec = tmp_path / "spec.yaml"
    spec.write_text(NODES.replace("BY", "[instance, mountpoint]"))
    checked = run_cli("validate", str(spec), "--offline")
    assert checked.returncode == 0, checked.stderr
    tested = run_cli("test", str(spec), timeout=180)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed, 0 failed" in tested.stdout


@pytest.mark.parametrize("spec", ["real-estate-scraper", "checkout"])
def test_the_proof_expects_the_labels_the_label_flow_says_the_alert_carries(spec: str):
    """One model: the labels a generated firing case expects (besides the fixed ones) are those the label flow
    (alert_labels, used by alerts/template and the routing checks) says the expression keeps. Where the flow is open
    (an exporter's metric may carry labels monstack cannot list), the proof may know more of them, never fewer."""
    from monstack.alert_labels import alert_labels
    from monstack.pipeline import resolve
    from monstack.proof import plan

    model = resolve(ROOT / "specs" / f"{spec}.yaml").model
    flow = {a.index: a for a in alert_labels(model)}
    compared = 0
    for coverage in plan(model):
        carried = flow[coverage.index]
        firing = next((c for c in coverage.generated if c.expect == "firing"), None)
        if firing is None:
            continue
        kept = set(firing.labels) - set(carried.fixed)
        if carried.open:
            assert set(carried.dynamic) <= kept, (coverage.alert, kept, carried.dynamic)
        else:
            assert kept == set(carried.dynamic), (coverage.alert, kept, carried.dynamic)
            compared += 1
    assert compared >= 10
