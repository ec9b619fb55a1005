"""The SLO dashboards: one per service with SLOs, one for the SLOs without a service, a row per SLO with the SLI
against the objective, the error budget left over the period and the burn rate at every window with the alerts'
factors; Grafana's schemas accept them, provisioning and the Kubernetes ConfigMaps carry them, and a period longer
than the retention is one warning at the SLO."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from monstack import pipeline
from test_dashboards import (DATASOURCE, by_title, check_layout, check_queries, check_schemas, colour, panels,
                             shown, steps)

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
    service: api
    objective: 99%
    period: 7d
    sli: {latency: {histogram: http_request_duration_seconds, slower_than: 500ms}}
  - name: APIUp
    objective: 99.5%
    period: 28d
    sli: {availability: {target: api}}
routing:
  receiver: ops
  receivers:
    - name: ops
      webhook: {url: "http://hooks:5000/alerts"}
"""
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")  # every record of a default SLO, shortest first


def resolve(tmp_path: Path, text: str = SPEC):
    (tmp_path / "spec.yaml").write_text(text)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        resolved = pipeline.resolve(Path("spec.yaml"))
        return resolved, pipeline.render(resolved, Path("out"))
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return resolve(tmp_path_factory.mktemp("slo-board"))


@pytest.fixture(scope="module")
def boards(generated) -> dict[str, dict]:
    _, files = generated
    return {rel.removeprefix("grafana/dashboards/"): json.loads(data) for rel, data in files.items()
            if rel.startswith("grafana/dashboards/")}


def rows(board: dict) -> list[str]:
    return [p["title"] for p in panels(board) if p["type"] == "row"]


def queries(panel: dict) -> list[tuple[str, str, str]]:
    return [(t["refId"], t["expr"], t["legendFormat"]) for t in panel["targets"]]


def test_one_dashboard_per_service_and_one_for_the_slos_without(boards):
    assert set(boards) == {"shop-alerts.json", "shop-slos-api.json", "shop-slos.json"}
    api, rest = boards["shop-slos-api.json"], boards["shop-slos.json"]
    assert (api["uid"], api["title"], rest["uid"], rest["title"]) == (
        "shop-slos-api", "Shop - api SLOs", "shop-slos", "Shop - SLOs")
    assert api["tags"] == ["monstack", "shop", "slo", "api"] and rest["tags"] == ["monstack", "shop", "slo"]
    assert rows(api) == ["APIRequests: 99.9% over 30d", "APILatency: 99% over 7d"]
    assert rows(rest) == ["APIUp: 99.5% over 28d"]
    assert (api["time"], api["refresh"]) == ({"from": "now-1w", "to": "now"}, "5m")
    assert [v["name"] for v in api["templating"]["list"]] == ["datasource"]


def test_grafana_schemas_queries_and_layout(generated, boards):
    resolved, _ = generated
    for name in ("shop-slos-api.json", "shop-slos.json"):
        board = boards[name]
        check_schemas(board)
        check_queries(resolved.model, board)  # the records are known series
        check_layout(board)
        assert board["editable"] is False and board["schemaVersion"] >= 39
        for panel in shown(board):
            assert panel["datasource"] == DATASOURCE
            assert all(t["datasource"] == DATASOURCE for t in panel["targets"])
            values = [s["value"] for s in steps(panel)]
            assert values[0] is None and values[1:] == sorted(values[1:])


def test_the_sli_against_the_objective(boards):
    panel = by_title(boards["shop-slos-api.json"], "APIRequests SLI")
    assert panel["type"] == "timeseries"
    assert queries(panel) == [("A", '1 - slo:sli_error:ratio_rate1h{slo="APIRequests"}', "SLI over 1h")]
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert steps(panel) == [{"color": "red", "value": None}, {"color": "green", "value": 0.999}]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line+area"}
    assert (colour(panel, 0.9989), colour(panel, 0.999)) == ("red", "green")
    latency = by_title(boards["shop-slos-api.json"], "APILatency SLI")
    assert queries(latency) == [("A", '1 - slo:sli_error:ratio_rate1h{slo="APILatency"}', "SLI over 1h")]
    assert steps(latency)[1]["value"] == 0.99


def test_the_error_budget_left_over_the_period(boards):
    panel = by_title(boards["shop-slos-api.json"], "APIRequests error budget left (30d)")
    assert panel["type"] == "stat"
    assert queries(panel) == [
        ("A", '1 - (avg_over_time(slo:sli_error:ratio_rate1h{slo="APIRequests"}[30d]) / 0.001)', "budget left")]
    [target] = panel["targets"]
    assert (target["instant"], target["range"]) == (True, False)  # one evaluation, not 30 days at every step
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert (colour(panel, -0.01), colour(panel, 0), colour(panel, 0.5)) == ("red", "green", "green")
    assert "retention of at least 30d" in panel["description"] and "defaults.retention is 15d" in panel["description"]
    latency = by_title(boards["shop-slos-api.json"], "APILatency error budget left (7d)")
    assert queries(latency)[0][1] == \
        '1 - (avg_over_time(slo:sli_error:ratio_rate1h{slo="APILatency"}[7d]) / 0.01)'
    assert "defaults.retention is" not in latency["description"]  # 7d fit in 15d
    up = by_title(boards["shop-slos.json"], "APIUp error budget left (28d)")
    assert queries(up)[0][1] == '1 - (avg_over_time(slo:sli_error:ratio_rate1h{slo="APIUp"}[28d]) / 0.005)'


def test_the_burn_rate_at_every_window_with_the_alert_factors(boards):
    panel = by_title(boards["shop-slos-api.json"], "APIRequests burn rate")
    assert panel["type"] == "timeseries"
    assert queries(panel) == [
        ("A", 'slo:sli_error:ratio_rate5m{slo="APIRequests"} / 0.001', "burn rate over 5m"),
        ("B", 'slo:sli_error:ratio_rate30m{slo="APIRequests"} / 0.001', "burn rate over 30m"),
        ("C", 'slo:sli_error:ratio_rate1h{slo="APIRequests"} / 0.001', "burn rate over 1h"),
        ("D", 'slo:sli_error:ratio_rate2h{slo="APIRequests"} / 0.001', "burn rate over 2h"),
        ("E", 'slo:sli_error:ratio_rate6h{slo="APIRequests"} / 0.001', "burn rate over 6h"),
        ("F", 'slo:sli_error:ratio_rate1d{slo="APIRequests"} / 0.001', "burn rate over 1d"),
        ("G", 'slo:sli_error:ratio_rate3d{slo="APIRequests"} / 0.001', "burn rate over 3d"),
    ]
    # the workbook's factors for 30d: tickets (3d: 1, 1d: 3) orange, pages (6h: 6, 1h: 14.4) red
    assert steps(panel) == [{"color": "green", "value": None}, {"color": "orange", "value": 1},
                            {"color": "orange", "value": 3}, {"color": "red", "value": 6},
                            {"color": "red", "value": 14.4}]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line+area"}
    assert "14.4 (1h and 5m, critical)" in panel["description"]
    latency = by_title(boards["shop-slos-api.json"], "APILatency burn rate")
    assert [q[1] for q in queries(latency)] == [
        f'slo:sli_error:ratio_rate{w}{{slo="APILatency"}} / 0.01' for w in WINDOWS]
    assert [s["value"] for s in steps(latency)[1:]] == [0.98, 1.4, 3.5, 13.44]  # 7d: Sloth's factors


def test_the_queries_read_the_records_the_slo_generates(generated, boards):
    resolved, _ = generated
    records = {(r.record, r.labels.get("slo")) for r in resolved.model.spec.records}
    for name in ("shop-slos-api.json", "shop-slos.json"):
        for panel in shown(boards[name]):
            for target in panel["targets"]:
                slo = target["expr"].split('slo="')[1].split('"')[0]
                record = target["expr"].split("slo:sli_error:")[1].split("{")[0]
                assert (f"slo:sli_error:{record}", slo) in records, target["expr"]


def test_a_period_longer_than_the_retention_is_one_warning_at_the_slo(generated):
    resolved, _ = generated
    found = [(d.path, d.severity) for d in resolved.warnings if d.check == "promql/range-retention"]
    assert found == [(("slos", 0, "period"), "warning"), (("slos", 2, "period"), "warning")]
    [first] = [d for d in resolved.warnings if d.path == ("slos", 0, "period")]
    assert "APIRequests" in first.message and "30d" in first.message and "15d" in first.message
    assert "defaults.retention" in first.hint


def test_a_retention_of_the_period_warns_of_nothing(tmp_path):
    text = SPEC.replace("project: {name: shop, environment: production}\n",
                        "project: {name: shop, environment: production}\ndefaults: {retention: 30d}\n")
    resolved, files = resolve(tmp_path, text)
    assert not [d for d in resolved.warnings if d.check == "promql/range-retention"]
    board = json.loads(files["grafana/dashboards/shop-slos-api.json"])
    assert "defaults.retention is" not in by_title(board, "APIRequests error budget left (30d)")["description"]


def test_validate_and_generate_accept_the_spec(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    proc = run_cli("validate", str(tmp_path / "spec.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("(promql/range-retention)") == 2
    proc = run_cli("generate", str(tmp_path / "spec.yaml"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "out" / "grafana" / "dashboards").iterdir()} == {
        "shop-alerts.json", "shop-slos-api.json", "shop-slos.json"}


def test_provisioning_serves_the_folder_the_slo_dashboards_are_in(generated):
    _, files = generated
    [provider] = yaml.safe_load(files["grafana/provisioning/dashboards/monstack.yml"])["providers"]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"  # compose mounts ./grafana/dashboards there
    assert "grafana/dashboards/shop-slos-api.json" in files and "grafana/dashboards/shop-slos.json" in files


def test_kubernetes_configmaps_carry_the_slo_dashboards(tmp_path):
    resolved, files = resolve(tmp_path, SPEC + "deployment:\n  kind: kubernetes\n")
    carried = {}
    for rel, data in files.items():
        if rel.startswith("kubernetes/dashboards/"):
            configmap = yaml.safe_load(data)
            carried.update(configmap["data"])
    assert set(carried) == {"shop-alerts.json", "shop-slos-api.json", "shop-slos.json"}
    for name, text in carried.items():
        assert text.encode() == files[f"grafana/dashboards/{name}"]


def test_custom_windows_without_1h_read_the_shortest_long_window(tmp_path):
    text = SPEC.replace("    sli: {availability: {target: api}}\n", "    sli: {availability: {target: api}}\n"
                        "    windows: [{long: 2h, short: 10m, factor: 10, severity: critical}]\n")
    _, files = resolve(tmp_path, text)
    board = json.loads(files["grafana/dashboards/shop-slos.json"])
    assert queries(by_title(board, "APIUp SLI")) == [
        ("A", '1 - slo:sli_error:ratio_rate2h{slo="APIUp"}', "SLI over 2h")]
    assert queries(by_title(board, "APIUp error budget left (28d)"))[0][1] == \
        '1 - (avg_over_time(slo:sli_error:ratio_rate2h{slo="APIUp"}[28d]) / 0.005)'
    burn = by_title(board, "APIUp burn rate")
    assert [q[1] for q in queries(burn)] == ['slo:sli_error:ratio_rate10m{slo="APIUp"} / 0.005',
                                             'slo:sli_error:ratio_rate2h{slo="APIUp"} / 0.005']
    assert steps(burn) == [{"color": "green", "value": None}, {"color": "red", "value": 10}]
