"""Lint of grouping labels: a `by:` label the metric does not carry is a mistake promtool cannot see (the rule
is valid PromQL; it just groups everything under an empty label)."""

from __future__ import annotations

from conftest import EXAMPLE


def variant(tmp_path, old: str, new: str) -> tuple[str, int]:
    """The example with one line changed: the spec's path and the changed line's number."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    changed = text.replace(old, new)
    spec = tmp_path / "spec.yaml"
    spec.write_text(changed, encoding="utf-8")
    return str(spec), changed[:changed.index(new)].count("\n") + 1


def test_a_label_a_declared_metric_does_not_carry_is_an_error(tmp_path, cli):
    old = "ratio: {part: 'http_requests_total{status=~\"5..\"}', whole: http_requests_total}"
    spec, line = variant(tmp_path, old, old[:-1] + ", by: [handlr]}")  # HighErrorRate
    proc = cli("validate", spec, "--offline")
    assert proc.returncode == 1
    assert f"spec.yaml:{line}:" in proc.stderr
    assert "error: alerts[3].when.ratio.by[0]: label 'handlr' is not on http_requests_total: metrics: " \
           "http_requests_total declares handler, instance, job, method, status" in proc.stderr
    assert "did you mean 'handler'?" in proc.stderr


def test_a_label_an_exporter_metric_is_not_known_to_carry_is_a_warning(tmp_path, cli):
    # HighCPUUsage (instance stays: its summary reads $labels.instance)
    spec, line = variant(tmp_path, "        by: [instance]\n", "        by: [instance, cpux]\n")
    proc = cli("validate", spec, "--offline")
    assert proc.returncode == 0, proc.stderr  # monstack knows the exporter's labels, not all of them
    assert f"spec.yaml:{line}:" in proc.stderr
    assert "warning: alerts[8].when.ratio.by[1]: label 'cpux' is not on node_cpu_seconds_total" in proc.stderr
    assert "did you mean 'cpu'?" in proc.stderr
