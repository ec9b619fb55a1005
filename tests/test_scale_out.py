"""Scaled out, for real: the example's Prometheus remote-writes (its rendered `remote_write:`, pointed at loopback)
to a real VictoriaMetrics single node, and a real vmalert evaluates the generated rule files there and sends to
the real Alertmanager with the generated configuration. The drill's stand-ins and drivers cross each alert's
threshold (`monstack drill --engine vmalert`); each alert must fire in vmalert (its rules API), reach the
receiver the spec routes it to (through Alertmanager, to the drill's sink) and resolve. Prometheus has no rules
and no Alertmanager in this run, so every notification came through VictoriaMetrics and vmalert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monstack import drill, tools
from monstack.drill.sink import Sink

from conftest import EXAMPLE
from test_drill import drill_processes

needs_engine = pytest.mark.skipif(
    any(tools.find(name) is None for name in ("prometheus", "alertmanager", "victoria-metrics", "vmalert")),
    reason="prometheus/alertmanager/victoria-metrics/vmalert not installed (scripts/install-tools.sh --victoriametrics)")

CENTRAL = """
remote_write:
  - url: http://victoria-metrics:8428/api/v1/write
    name: central
    tenant: real-estate-scraper
    queue: {batch_send_deadline: 5s}
    drop: ['go_gc_.*']

defaults:
"""


def central_spec(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace("\ndefaults:\n", CENTRAL, 1)
    text = text.replace("\ndeployment:\n", "\ndeployment:\n  ruler: {kind: vmalert}\n", 1)
    spec = tmp_path / "central.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_unknown_engine_is_refused(tmp_path):
    with pytest.raises(Exception, match="unknown drill engine"):
        drill.run(central_spec(tmp_path), ["Watchdog"], engine="mimir")


@pytest.mark.tools
@needs_engine
def test_alerts_fire_through_victoriametrics_and_vmalert(tmp_path, monkeypatch):
    sinks: list[Sink] = []

    class Recording(Sink):
        def __init__(self) -> None:
            super().__init__()
            sinks.append(self)

    monkeypatch.setattr(drill, "Sink", Recording)
    # down (a stopped target; an exporter's *_up gauge), always, threshold above and below, ratio: five kinds
    alerts = ["APIDown", "DatabaseDown", "Watchdog", "CeleryQueueBacklog", "LowActiveUsers", "HighErrorRate"]
    report = drill.run(central_spec(tmp_path), alerts, engine="vmalert", total_timeout=150)
    print(report.text())
    assert report.ok, report.text()
    by = {r.alert: r for r in report.results}
    for name in alerts:
        assert by[name].fired is not None and by[name].delivered, name
    for name in ("APIDown", "DatabaseDown", "CeleryQueueBacklog", "LowActiveUsers", "HighErrorRate"):
        assert by[name].safe is not None and by[name].resolved is not None, name  # inactive, driven, resolved
    assert "the spec's 1 remote_write(s) -> the drill's VictoriaMetrics" in report.text()
    assert "no rule_files and no alerting" in report.text()
    # the warning receiver is a webhook: its JSON shows the alerts' labels, with the project's external labels that
    # vmalert's -external.label flags added (no Prometheus external labels reach a central ruler's alerts)
    notices = [n for n in sinks[0].notices if n.receiver == "warning" and n.channel == "webhook"]
    labels = [a["labels"] for n in notices for a in json.loads(n.body)["alerts"]]
    low = [x for x in labels if x["alertname"] == "LowActiveUsers"]
    assert low and all(x["project"] == "real-estate-scraper" and x["environment"] == "production"
                       and x["cluster"] == "prod-eu" for x in low), labels
    assert "alertgroup" not in low[0]
    assert len(report.pids) == 4 and drill_processes(report.pids) == []  # victoria-metrics, prometheus, vmalert, am


@pytest.mark.tools
@needs_engine
def test_one_alert_of_every_condition_kind_fires_through_victoriametrics_and_vmalert(tmp_path):
    """The default drill (one alert of every drivable condition kind of the example, both ways of being down, and
    an SLO's page) on the scaled-out engine."""
    from monstack import pipeline

    spec = central_spec(tmp_path)
    alerts = drill.default_alerts(pipeline.resolve(spec).model) + ["APIRequestsBurnRate1h"]
    assert len(alerts) >= 12
    report = drill.run(spec, alerts, engine="vmalert", total_timeout=300)
    print(report.text())
    assert report.ok, report.text()
    assert {r.alert for r in report.results} == set(alerts)
    assert len(report.pids) == 4 and drill_processes(report.pids) == []
