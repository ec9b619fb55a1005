"""Targets as Prometheus has them: many instances, service discovery, probes (multi-target exporters), a
Pushgateway, credentials by reference; and `validate` refusing what the scrape configuration cannot produce.

Expected scrape configs are written out here from Prometheus' documentation of each mechanism (the multi-target
relabelling is the one blackbox_exporter's README gives), not copied from monstack's output; promtool then checks
the rendered file for real.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import real_tool, run_cli

from monstack import pipeline
from monstack.errors import MonstackError

HEAD = """\
version: monstack/v1
project: {name: shop}
"""
ROUTING = """\
routing:
  receiver: default
  receivers: [{name: default, webhook: {url: "http://hook:9000/"}}]
"""
DOWN = """\
  - {name: %s, severity: critical, when: {down: {target: %s}}, summary: down, description: it is down}
"""


def spec(tmp_path: Path, targets: str, alerts: str = "", extra: str = "") -> Path:
    text = HEAD + "targets:\n" + textwrap.indent(textwrap.dedent(targets), "  ") + extra
    if alerts:
        text += "alerts:\n" + alerts
    path = tmp_path / "spec.yaml"
    path.write_text(text + ROUTING, encoding="utf-8")
    return path


def scrape_configs(path: Path) -> dict[str, dict]:
    files = pipeline.render(pipeline.resolve(path), path.parent / "out")
    config = yaml.safe_load(files["prometheus/prometheus.yml"])
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_instances_group_by_label_set(tmp_path):
    jobs = scrape_configs(spec(tmp_path, """\
        - name: checkout
          kind: app
          instances: [api-1:8000, api-2:8000, {address: api-3:8000, labels: {zone: b}}]
          labels: {team: shop}
        """))
    assert jobs["checkout"]["static_configs"] == [
        {"targets": ["api-1:8000", "api-2:8000"], "labels": {"team": "shop"}},
        {"targets": ["api-3:8000"], "labels": {"team": "shop", "zone": "b"}},
    ]


def test_probe_relabelling_makes_the_probed_url_the_instance(tmp_path):
    jobs = scrape_configs(spec(tmp_path, """\
        - {name: sites, kind: probe, probe: ["https://shop.example.com/", "https://api.example.com/health"],
           exporter: "blackbox:9115"}
        """))
    job = jobs["sites"]
    assert job["metrics_path"] == "/probe"
    assert job["params"] == {"module": ["http_2xx"]}
    assert job["static_configs"] == [{"targets": ["https://shop.example.com/", "https://api.example.com/health"]}]
    assert job["relabel_configs"] == [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"target_label": "__address__", "replacement": "blackbox:9115"},
    ]


def test_mysql_multi_target_with_auth_module(tmp_path):
    jobs = scrape_configs(spec(tmp_path, """\
        - {name: mysql, kind: mysql, probe: ["db-primary:3306", "db-replica:3306"], module: client.servers}
        """))
    job = jobs["mysql"]
    assert job["metrics_path"] == "/probe"
    assert job["params"] == {"auth_module": ["client.servers"]}
    assert job["relabel_configs"][-1] == {"target_label": "__address__", "replacement": "mysqld-exporter:9104"}


def test_discovery_mechanisms(tmp_path):
    jobs = scrape_configs(spec(tmp_path, """\
        - {name: files, kind: app, discovery: {file: {files: [/etc/prometheus/targets/*.json], refresh_interval: 1m}}}
        - {name: srv, kind: app, discovery: {dns: {names: [_metrics._tcp.shop.internal]}}, labels: {team: shop}}
        - {name: a, kind: node, discovery: {dns: {names: [nodes.shop.internal], type: A, port: 9100}}}
        - {name: http, kind: app, discovery: {http: {url: "https://sd.shop.internal/targets"}}}
        - {name: k8s, kind: custom, discovery: {kubernetes: {role: pod, namespaces: [shop], selector: {app: checkout},
                                                              port: metrics}}}
        """))
    assert jobs["files"]["file_sd_configs"] == [{"files": ["/etc/prometheus/targets/*.json"], "refresh_interval": "1m"}]
    assert jobs["srv"]["dns_sd_configs"] == [{"names": ["_metrics._tcp.shop.internal"], "type": "SRV"}]
    assert jobs["srv"]["relabel_configs"] == [{"target_label": "team", "replacement": "shop"}]
    assert jobs["a"]["dns_sd_configs"] == [{"names": ["nodes.shop.internal"], "type": "A", "port": 9100}]
    assert jobs["http"]["http_sd_configs"] == [{"url": "https://sd.shop.internal/targets"}]
    assert jobs["k8s"]["kubernetes_sd_configs"] == [
        {"role": "pod", "namespaces": {"names": ["shop"]}, "selectors": [{"role": "pod", "label": "app=checkout"}]}]
    assert jobs["k8s"]["relabel_configs"] == [
        {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": "metrics", "action": "keep"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ]
    for job in jobs.values():
        assert "static_configs" not in job


def test_credentials_are_files_mounted_into_prometheus(tmp_path):
    path = spec(tmp_path, """\
        - name: api
          kind: app
          address: api:8443
          scheme: https
          basic_auth: {username: prom, password: {env: API_SCRAPE_PASSWORD}}
          tls: {ca_file: /etc/prometheus/ca.pem, server_name: api.shop.internal}
        - {name: admin, kind: app, address: "admin:8000", bearer_token: {file: /srv/shop/admin.token}}
        """)
    files = pipeline.render(pipeline.resolve(path), tmp_path / "out")
    jobs = {j["job_name"]: j for j in yaml.safe_load(files["prometheus/prometheus.yml"])["scrape_configs"]}
    assert jobs["api"]["basic_auth"] == {"username": "prom", "password_file": "/run/secrets/api_scrape_password"}
    assert jobs["api"]["tls_config"] == {"ca_file": "/etc/prometheus/ca.pem", "server_name": "api.shop.internal"}
    assert jobs["admin"]["authorization"] == {"type": "Bearer", "credentials_file": "/srv/shop/admin.token"}
    compose = yaml.safe_load(files["docker-compose.yml"])
    mounted = {s["target"] for s in compose["services"]["prometheus"]["secrets"]}
    assert mounted == {"/run/secrets/api_scrape_password", "/srv/shop/admin.token"}
    assert compose["secrets"]["api_scrape_password"] == {"environment": "API_SCRAPE_PASSWORD"}


def test_pushgateway_honours_pushed_labels_by_default(tmp_path):
    jobs = scrape_configs(spec(tmp_path, """\
        - {name: pushgateway, kind: pushgateway, pushed_jobs: [nightly-backup]}
        - {name: legacy, kind: pushgateway, address: "legacy-gw:9091", honor_labels: false}
        """))
    assert jobs["pushgateway"]["honor_labels"] is True
    assert jobs["pushgateway"]["static_configs"] == [{"targets": ["pushgateway:9091"]}]
    assert "honor_labels" not in jobs["legacy"]


def test_every_mechanism_passes_promtool(tmp_path):
    real_tool("promtool")
    path = spec(tmp_path, """\
        - {name: checkout, kind: app, instances: [api-1:8000, api-2:8000]}
        - {name: sites, kind: probe, probe: ["https://shop.example.com/"]}
        - {name: mysql, kind: mysql, probe: ["db:3306"]}
        - {name: nodes, kind: node, discovery: {dns: {names: [nodes.shop.internal], type: A, port: 9100}}}
        - {name: k8s, kind: custom, discovery: {kubernetes: {role: endpoints, selector: {app: shop}, port: web}}}
        - {name: files, kind: app, discovery: {file: {files: [/etc/prometheus/targets/*.yml]}}}
        - {name: pushgateway, kind: pushgateway, pushed_jobs: [nightly-backup]}
        - {name: nginx, kind: nginx, address: "web:8080"}
        """, alerts=DOWN % ("CheckoutDown", "checkout") + DOWN % ("SiteDown", "sites") + DOWN % ("MySQLDown", "mysql"))
    result = run_cli("validate", str(path), "--require-tools")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout + result.stderr


def test_down_uses_the_exporters_own_gauge(tmp_path):
    path = spec(tmp_path, """\
        - {name: sites, kind: probe, probe: ["https://shop.example.com/"]}
        - {name: mysql, kind: mysql, address: "db:3306"}
        - {name: web, kind: nginx}
        """, alerts=DOWN % ("SiteDown", "sites") + DOWN % ("MySQLDown", "mysql") + DOWN % ("NginxDown", "web"))
    rules = {r.name: r.expr for r in pipeline.resolve(path).model.rules}
    assert rules == {"SiteDown": 'probe_success{job="sites"} == 0', "MySQLDown": 'mysql_up{job="mysql"} == 0',
                     "NginxDown": 'nginx_up{job="web"} == 0'}


def test_proofs_use_the_labels_prometheus_stores(tmp_path):
    """A probe's series carry the probed URL as instance, a pushed series its pushed job and no instance; the
    generated tests pass on the real promtool."""
    real_tool("promtool")
    path = spec(tmp_path, """\
        - {name: sites, kind: probe, probe: ["https://shop.example.com/"]}
        - {name: pushgateway, kind: pushgateway, pushed_jobs: [nightly-backup]}
        """, alerts=DOWN % ("SiteDown", "sites") + """\
  - name: BackupFailed
    severity: warning
    when: {threshold: {metric: 'backup_last_status{job="nightly-backup"}'}}
    below: 1
    summary: the backup failed
    description: the last backup did not succeed
""", extra="metrics:\n  - {name: backup_last_status, type: gauge, help: 1 when the last backup succeeded, "
           "target: pushgateway}\n")
    files = pipeline.render(pipeline.resolve(path), tmp_path / "out")
    tests = files["prometheus/tests/alerts.yml"].decode()
    assert 'probe_success{instance="https://shop.example.com/",job="sites"}' in tests
    assert 'backup_last_status{job="nightly-backup"}' in tests
    result = run_cli("test", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- validate refuses what cannot scrape --------------------------------------------------------------------

REFUSED = {
    "probe-without-targets": ("""\
        - {name: sites, kind: probe}
        """, "", "has nothing to probe"),
    "probe-on-single-target-kind": ("""\
        - {name: web, kind: nginx, probe: ["web:8080"]}
        """, "", "has no multi-target mode"),
    "module-without-probe": ("""\
        - {name: db, kind: mysql, address: "db:3306", module: client}
        """, "", "`module` applies to each probe"),
    "pushed-job-without-honor-labels": ("""\
        - {name: pushgateway, kind: pushgateway, honor_labels: false, pushed_jobs: [nightly-backup]}
        """, """\
  - {name: BackupStale, severity: warning, expr: 'time() - push_time_seconds{job="nightly-backup"} > 93600',
     waive: a raw expression for this test, summary: stale, description: the backup did not push}
""", "does not keep the pushed labels"),
    "unknown-job": ("""\
        - {name: checkout, kind: app, address: "api:8000"}
        """, """\
  - {name: Typo, severity: warning, expr: 'up{job="chekout"} == 0', waive: a raw expression for this test,
     summary: down, description: down}
""", 'no scrape job stores series with job="chekout"'),
    "metric-of-another-job": ("""\
        - {name: checkout, kind: app, address: "api:8000"}
        - {name: db, kind: mysql, address: "db:3306"}
        """, """\
  - {name: Wrong, severity: warning, expr: 'mysql_up{job="checkout"} == 0', waive: a raw expression for this test,
     summary: down, description: down}
""", "job 'checkout' (app) does not serve mysql_up"),
    "query-in-metrics-path": ("""\
        - {name: api, kind: app, address: "api:8000", metrics_path: "/metrics?format=prometheus"}
        """, "", "put query parameters under `params`"),
    "credential-in-params": ("""\
        - {name: api, kind: app, address: "api:8000", params: {token: abc}}
        """, "", "a credential in a URL"),
    "unknown-kind": ("""\
        - {name: db, kind: mysqll, address: "db:3306"}
        """, "", "did you mean 'mysql'?"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_validate_refuses_what_cannot_scrape(tmp_path, case):
    targets, alerts, expected = REFUSED[case]
    path = spec(tmp_path, targets, alerts)
    out = tmp_path / "out"
    result = run_cli("generate", str(path), "-o", str(out))
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert expected in text
    assert "Traceback" not in text
    assert not out.exists()
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1)
                if ("alerts[" in text and "expr:" in l) or ("targets[" in text and "name:" in l and "kind" in l))
    assert f"spec.yaml:{line}:" in text


def test_the_refusals_are_errors_in_process(tmp_path):
    path = spec(tmp_path, REFUSED["unknown-job"][0], REFUSED["unknown-job"][1])
    with pytest.raises(MonstackError) as info:
        pipeline.resolve(path)
    assert [d.check for d in info.value.diagnostics if d.severity == "error"] == ["scrape"]
