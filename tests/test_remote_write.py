"""Scaling out (issue 17): `remote_write:` rendered into prometheus.yml (and its credentials into compose secrets),
the central ruler's files under ruler/ (Mimir namespace file, Thanos rule files), each group checked by the real
promtool once the ruler's own keys are taken out, and the `ruler/*` checks at the spec's lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from monstack import pipeline
from monstack.errors import MonstackError

from conftest import EXAMPLE, real_tool
from test_hostile import BASE

REMOTE = """\
remote_write:
  - url: https://mimir.example.com/api/v1/push
    name: mimir
    tenant: my-app
    remote_timeout: 10s
    basic_auth: {username: my-app, password: {env: MIMIR_PASSWORD}}
    queue: {max_shards: 10, batch_send_deadline: 10s, retry_on_http_429: true}
    drop: ['go_.*', 'process_(cpu|open)_.*']
  - url: http://victoria-metrics:8428/api/v1/write
    bearer_token: {file: /var/run/secrets/vm-token}
defaults:
"""


def spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rendered(path: Path) -> dict[str, bytes]:
    return pipeline.render(pipeline.resolve(path), path.parent / "out")


def with_remote(tmp_path: Path, ruler: str | None = None, remote: str = REMOTE, base: str = BASE) -> Path:
    text = base.replace("defaults:\n", remote, 1)
    if ruler is not None:
        text += f"deployment:\n  ruler: {ruler}\n"
    return spec(tmp_path, text)


def test_remote_write_block_as_reasoned_by_hand(tmp_path):
    config = yaml.safe_load(rendered(with_remote(tmp_path))["prometheus/prometheus.yml"])
    # written after the scrape jobs, in the spec's order; the tenant as Mimir's header; each drop regexp its own
    # drop rule on __name__ (Prometheus anchors it); the password as a file (the compose secret's mount point);
    # only the queue settings the spec gives; the second store with a bearer token read from its file
    assert list(config)[-1] == "remote_write"
    assert config["remote_write"] == [
        {"url": "https://mimir.example.com/api/v1/push", "name": "mimir", "remote_timeout": "10s",
         "headers": {"X-Scope-OrgID": "my-app"},
         "write_relabel_configs": [
             {"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"},
             {"source_labels": ["__name__"], "regex": "process_(cpu|open)_.*", "action": "drop"}],
         "basic_auth": {"username": "my-app", "password_file": "/run/secrets/mimir_password"},
         "queue_config": {"max_shards": 10, "batch_send_deadline": "10s", "retry_on_http_429": True}},
        {"url": "http://victoria-metrics:8428/api/v1/write",
         "authorization": {"type": "Bearer", "credentials_file": "/var/run/secrets/vm-token"}},
    ]
    # the external labels a central store keeps, to tell projects and environments apart
    assert config["global"]["external_labels"] == {"project": "my-app", "environment": "production", "cluster": "eu"}


def test_no_remote_write_no_block(tmp_path):
    config = yaml.safe_load(rendered(spec(tmp_path, BASE))["prometheus/prometheus.yml"])
    assert "remote_write" not in config


def test_remote_write_credentials_are_compose_secrets_of_prometheus(tmp_path):
    files = rendered(with_remote(tmp_path))
    compose = yaml.safe_load(files["docker-compose.yml"])
    assert compose["secrets"]["mimir_password"] == {"environment": "MIMIR_PASSWORD"}
    assert compose["secrets"]["file_var_run_secrets_vm_token"] == {"file": "/var/run/secrets/vm-token"}
    mounted = {s["source"]: s["target"] for s in compose["services"]["prometheus"]["secrets"]}
    assert mounted == {"mimir_password": "/run/secrets/mimir_password",
                       "file_var_run_secrets_vm_token": "/var/run/secrets/vm-token"}
    for data in files.values():
        assert b"SEKRIT" not in data


@pytest.mark.parametrize("remote, says", [
    ("remote_write:\n  - {url: 'http://a:1/w', name: x}\n  - {url: 'http://b:1/w', name: x}\n", "given twice"),
    ("remote_write:\n  - {url: 'http://a:1/w', drop: ['.*']}\n", "matches every metric"),
    ("remote_write:\n  - {url: 'http://a:1/w', tenant: 'a b'}\n", "invalid value 'a b'"),
    ("remote_write:\n  - {url: 'http://a:1/w', queue: {min_shards: 5, max_shards: 2}}\n", "above max_shards"),
    ("remote_write:\n  - url: http://a:1/w\n    bearer_token: {env: T}\n    basic_auth: {username: u, password: {env: P}}\n",
     "one of `basic_auth` or `bearer_token`"),
    ("remote_write:\n  - {url: 'ftp://a/w'}\n", "http:// or https://"),
])
def test_remote_write_refusals(tmp_path, remote, says):
    with pytest.raises(MonstackError) as exc:
        pipeline.resolve(with_remote(tmp_path, remote=remote + "defaults:\n"))
    assert any(says in d.message and d.path[:1] == ("remote_write",) for d in exc.value.diagnostics), \
        [d.message for d in exc.value.diagnostics]


@pytest.mark.tools
def test_promtool_accepts_the_rendered_remote_write(tmp_path):
    promtool = real_tool("promtool")
    out = tmp_path / "out"
    pipeline.generate(with_remote(tmp_path), out)
    proc = subprocess.run([promtool.path, "check", "config", "--syntax-only", str(out / "prometheus/prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the central ruler -------------------------------------------------------------------------------------------

def _promtool_check_groups(tmp_path: Path, groups: list[dict]) -> None:
    """Every group, written alone as a plain Prometheus rule file, passes `promtool check rules`."""
    promtool = real_tool("promtool")
    files = []
    for i, group in enumerate(groups):
        path = tmp_path / "extracted" / f"{i}.yml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump({"groups": [group]}), encoding="utf-8")
        files.append(str(path))
    proc = subprocess.run([promtool.path, "check", "rules", *files], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.tools
def test_mimir_namespace_file_of_the_example(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("\ndeployment:\n", "\ndeployment:\n  ruler: {kind: mimir}\n", 1)
    text = text.replace("\ndefaults:\n", "\nremote_write:\n  - {url: 'http://mimir:9009/api/v1/push', "
                        "tenant: real-estate}\n\ndefaults:\n", 1)
    files = rendered(spec(tmp_path, text))
    ruler = [p for p in files if p.startswith("ruler/")]
    assert ruler == ["ruler/mimir/real-estate-scraper-production.yaml"]
    data = files[ruler[0]]
    assert data.startswith(b"# generated by monstack from ")
    doc = yaml.safe_load(data)
    assert list(doc) == ["namespace", "groups"] and doc["namespace"] == "real-estate-scraper-production"
    plain = {g["name"]: g for p, d in files.items() if p.startswith("prometheus/rules/")
             for g in yaml.safe_load(d)["groups"]}
    assert [g["name"] for g in doc["groups"]] == sorted(plain)
    for group in doc["groups"]:  # the same rules, with the external labels a central ruler has no other way to add
        for rule, same in zip(group["rules"], plain[group["name"]]["rules"], strict=True):
            assert rule["expr"] == same["expr"] and rule.get("annotations") == same.get("annotations")
            assert rule["labels"] == {"project": "real-estate-scraper", "environment": "production",
                                      "cluster": "prod-eu", **same.get("labels", {})}
    _promtool_check_groups(tmp_path, doc["groups"])


@pytest.mark.tools
def test_thanos_rule_files_carry_partial_response_strategy(tmp_path):
    files = rendered(with_remote(tmp_path, "{kind: thanos, partial_response_strategy: warn}"))
    ruler = {p: yaml.safe_load(d) for p, d in files.items() if p.startswith("ruler/")}
    assert sorted(ruler) == ["ruler/thanos/alerts.yml"]
    groups = ruler["ruler/thanos/alerts.yml"]["groups"]
    assert [list(g)[:2] for g in groups] == [["name", "partial_response_strategy"]]
    assert all(g["partial_response_strategy"] == "warn" for g in groups)
    assert {r["alert"]: r["labels"]["project"] for r in groups[0]["rules"]} == \
        {"APIDown": "my-app", "HighErrorRate": "my-app", "Watchdog": "my-app"}
    # promtool knows no partial_response_strategy: taken out, the groups are plain Prometheus groups
    _promtool_check_groups(tmp_path, [{k: v for k, v in g.items() if k != "partial_response_strategy"}
                                      for g in groups])


def test_vmalert_ruler_writes_no_extra_files_and_namespace_is_for_mimir(tmp_path):
    files = rendered(with_remote(tmp_path, "{kind: vmalert}"))
    assert not [p for p in files if p.startswith("ruler/")]
    with pytest.raises(MonstackError) as exc:
        pipeline.resolve(with_remote(tmp_path, "{kind: thanos, namespace: x}"))
    assert any("`namespace` is for `kind: mimir`" in d.message for d in exc.value.diagnostics)


def test_ruler_checks_at_the_alerts_lines(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("\ndeployment:\n", "\ndeployment:\n  ruler: {kind: mimir}\n", 1)
    warnings = pipeline.resolve(spec(tmp_path, text)).warnings
    ruler = [d for d in warnings if d.check.startswith("ruler/")]
    assert [d.check for d in ruler if d.check == "ruler/no-remote-write"] == ["ruler/no-remote-write"]
    local = {d.message.split()[1]: d for d in ruler if d.check == "ruler/local-only"}
    # the local rule engine and notifier; not up, not alertmanager_* (scraped and remote-written like any series)
    assert sorted(local) == ["PrometheusNotificationsFailing", "PrometheusRuleEvaluationFailures"]
    lines = text.splitlines()
    for name, d in local.items():
        assert d.severity == "warning" and lines[d.line - 1].strip() == f"- name: {name}", (name, d.line)
        assert "cortex_prometheus_rule_evaluation_failures_total" in d.hint

    # a metric the drop list keeps from the store: an error at the alert that reads it
    dropped = text.replace("\ndefaults:\n", "\nremote_write:\n  - {url: 'http://mimir:9009/api/v1/push', "
                           "drop: ['http_requests_.*']}\n\ndefaults:\n", 1)
    with pytest.raises(MonstackError) as exc:
        pipeline.resolve(spec(tmp_path, dropped, "dropped.yaml"))
    errors = [d for d in exc.value.diagnostics if d.severity == "error"]
    assert errors and all(d.check == "ruler/local-only" and "http_requests_total" in d.message for d in errors)
    assert "HighErrorRate" in {d.message.split()[1] for d in errors}


def test_ruler_local_only_can_be_disabled_with_a_reason(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("\ndeployment:\n", "\ndeployment:\n  ruler: {kind: vmalert}\n", 1)
    text = text.replace("\ndefaults:\n", "\nremote_write:\n  - {url: 'http://vm:8428/api/v1/write'}\n\ndefaults:\n", 1)
    text = text.replace("    when: {increase: {counter: prometheus_notifications_errors_total}}",
                        "    when: {increase: {counter: prometheus_notifications_errors_total}}\n"
                        "    disable: [{check: ruler/local-only, reason: Prometheus keeps its own rules too}]", 1)
    warnings = pipeline.resolve(spec(tmp_path, text)).warnings
    ruler = [(d.severity, d.message.split()[1] if d.severity == "warning" else "") for d in warnings
             if d.check == "ruler/local-only"]
    assert sorted(ruler) == [("note", ""), ("warning", "PrometheusRuleEvaluationFailures")]
    assert not [d for d in warnings if d.check == "ruler/no-remote-write"]
