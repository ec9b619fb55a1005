"""VictoriaMetrics as a second engine: the real vmalert -dryRun in validate, the real vmalert-tool running the
generated proofs (converted from promtool's format). The tests skip without the tools (CI installs them:
scripts/install-tools.sh --victoriametrics)."""

from __future__ import annotations

import yaml

from conftest import ROOT, real_tool
from monstack import pipeline
from monstack.proof.vmalert import convert, run
from monstack.tools import vmalert


def test_convert_renames_promql_expr_test_and_expects_the_alertgroup_label(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "g.yml").write_text("groups:\n  - name: grp\n    rules:\n      - alert: A\n        expr: up == 0\n")
    doc = {"rule_files": ["rules/g.yml"], "tests": [{"name": "A: x", "promql_expr_test": [
        {"expr": 'ALERTS{alertname="A"}', "eval_time": "0s",
         "exp_samples": [{"labels": 'ALERTS{alertname="A",alertstate="pending"}', "value": 1}]}]}]}
    out = convert(doc, tmp_path)
    assert out["rule_files"] == [str(tmp_path / "rules" / "g.yml")]
    (test,) = out["tests"]
    assert "promql_expr_test" not in test
    assert test["metricsql_expr_test"][0]["exp_samples"][0]["labels"] == \
        'ALERTS{alertgroup="grp",alertname="A",alertstate="pending"}'
    assert "promql_expr_test" in doc["tests"][0]  # the input is not changed


def test_both_examples_are_proven_on_vmalert_tool(cli):
    real_tool("vmalert-tool")
    for spec in ("specs/real-estate-scraper.yaml", "specs/checkout.yaml"):
        proc = cli("test", spec, "--engine", "vmalert", cwd=ROOT, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "0 failed, 0 waived, 0 uncovered  (vmalert-tool 1.145" in proc.stdout


def test_a_broken_rule_fails_on_vmalert_tool_at_its_alert(tmp_path):
    tool = real_tool("vmalert-tool")
    resolved = pipeline.resolve(ROOT / "specs" / "checkout.yaml")
    from monstack import write  # noqa: PLC0415

    write.write(pipeline.render(resolved, tmp_path), tmp_path)
    rules = tmp_path / "prometheus" / "rules" / "api.yml"
    doc = yaml.safe_load(rules.read_text())
    broken = doc["groups"][0]["rules"][0]
    broken["expr"] = broken["expr"].replace("== 0", "== 7")
    rules.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = run(resolved.model, tool, tmp_path / "prometheus")
    failed = {r.alert for r in report.results if r.status == "failed"}
    assert failed == {broken["alert"]}, [(r.alert, r.failures) for r in report.results if r.failures]
    assert not report.ok


def test_vmalert_dry_run_rejects_bad_metricsql_in_promtools_rule_line_form(tmp_path):
    tool = real_tool("vmalert")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "g.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Fine\n        expr: up == 0\n"
        "      - alert: Broken\n        expr: 'sum((up)'\n")
    (found,) = vmalert.dry_run(tool, [tmp_path / "rules" / "g.yml"], tmp_path)
    assert found.message.startswith('rules/g.yml: group "g", rule 2, "Broken": invalid expression: bad MetricsQL')
    assert found.check == "vmalert" and "vmalert 1.145" in found.hint
    (tmp_path / "rules" / "g.yml").write_text("groups:\n  - name: g\n    rules:\n      - alert: Fine\n"
                                              "        expr: up == 0\n")
    assert vmalert.dry_run(tool, [tmp_path / "rules" / "g.yml"], tmp_path) == []


def test_validate_runs_vmalert_on_the_example_and_reports_it(cli):
    real_tool("vmalert")
    proc = cli("validate", "specs/checkout.yaml", "--require-tools", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "vmalert: ok 1.145" in proc.stdout
