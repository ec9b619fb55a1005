"""The deployable stack: docker-compose.yml as the real docker-compose reads it (`config`, no engine needed),
every scraped host:port served by a service, only the UIs published, secrets mounted where the programs read them
and never written, the generated README, and validate's docker-compose step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, ROOT, real_tool
from monstack import tools
from monstack.errors import MonstackError
from monstack.tools import compose as compose_tool

UIS = {"prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
EXAMPLE_ENV = ("SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "SMTP_PASSWORD", "DEADMANSSWITCH_URL",
               "GRAFANA_ADMIN_PASSWORD", "POSTGRES_EXPORTER_PASSWORD")


def docker_compose() -> tools.Tool:
    return real_tool("docker-compose")


def generate(cli, spec: Path, out: Path) -> dict:
    proc = cli("generate", str(spec), "-o", str(out), cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load((out / "docker-compose.yml").read_text())


def compose_config(out: Path, env: dict[str, str]) -> dict:
    """The file as docker-compose itself reads it: `config --quiet` must pass, then the normalised JSON."""
    tool = docker_compose()
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    quiet = subprocess.run([tool.path, "-f", "docker-compose.yml", "config", "--quiet"], cwd=out, env=base,
                           capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0, quiet.stderr
    full = subprocess.run([tool.path, "-f", "docker-compose.yml", "config", "--format", "json"], cwd=out, env=base,
                          capture_output=True, text=True, timeout=60)
    assert full.returncode == 0, full.stderr
    return json.loads(full.stdout)


def write_spec(path: Path, deployment: dict | None = None, targets: list | None = None,
               receivers: list | None = None) -> Path:
    document = {
        "version": "monstack/v1",
        "project": {"name": "shop"},
        "targets": targets if targets is not None else [
            {"name": "api", "kind": "app", "address": "api:8000"},
            {"name": "pg", "kind": "postgres", "address": "db:5432"},
            {"name": "cache", "kind": "redis", "address": "cache:6379"},
            {"name": "tasks", "kind": "celery", "address": "broker:6379"},
            {"name": "host", "kind": "node"},
            {"name": "prometheus", "kind": "prometheus"},
            {"name": "alertmanager", "kind": "alertmanager"},
        ],
        "routing": {"receiver": "team",
                    "receivers": receivers or [{"name": "team", "webhook": {"url": "http://hook:5000/"}}]},
    }
    if deployment is not None:
        document["deployment"] = deployment
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def listening_port(name: str, service: dict) -> int:
    """The port a generated service serves on: its listen flag, else the image's default."""
    args = (service.get("command") or []) + (service.get("entrypoint") or [])
    for arg in args:
        if m := re.search(r"(?:--web\.listen-address=:|--port=)(\d+)", arg):
            return int(m.group(1))
    return UIS[name]


def secret_targets(service: dict) -> set[str]:
    return {s["target"] for s in service.get("secrets", [])}


# --- the example, through the real docker-compose ---------------------------------------------------------------

@pytest.fixture(scope="module")
def example_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example") / "out"
    proc = subprocess.run([sys.executable, "-m", "monstack", "generate", str(EXAMPLE), "-o", str(out)],
                          capture_output=True, text=True, timeout=60, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


def test_docker_compose_accepts_the_example(example_out):
    config = compose_config(example_out, {name: "dummy" for name in EXAMPLE_ENV})
    assert set(config["services"]) == {"prometheus", "alertmanager", "grafana", "node-exporter", "postgres-exporter",
                                       "redis-exporter", "celery-exporter"}


def test_every_scrape_target_has_a_service_listening_there(example_out):
    services = yaml.safe_load((example_out / "docker-compose.yml").read_text())["services"]
    prometheus = yaml.safe_load((example_out / "prometheus" / "prometheus.yml").read_text())
    scraped = [t for job in prometheus["scrape_configs"] for group in job["static_configs"] for t in group["targets"]]
    scraped += prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    for provisioned in sorted((example_out / "grafana" / "provisioning" / "datasources").glob("*.yml")):
        for source in yaml.safe_load(provisioned.read_text())["datasources"]:
            scraped.append(re.fullmatch(r"https?://([^/]+)/?", source["url"]).group(1))  # what Grafana queries
    assert "prometheus:9090" in scraped
    own = []
    for address in scraped:
        host, port = address.rsplit(":", 1)
        if host in services:
            assert listening_port(host, services[host]) == int(port), address
        else:
            own.append(address)
    assert own == ["api:8000"]  # the application itself is the user's, not generated
    readme = (example_out / "README.md").read_text()
    assert "| api:8000 | fastapi | scraped by Prometheus |" in readme
    for watched in ("db:5432", "redis:6379"):
        assert f"| {watched} |" in readme
    assert "postgres-exporter" in services and services["postgres-exporter"]["environment"]["DATA_SOURCE_URI"] \
        .startswith("db:5432/")
    assert services["redis-exporter"]["environment"]["REDIS_ADDR"] == "redis://redis:6379"
    assert "--broker-url=redis://redis:6379/0" in services["celery-exporter"]["command"]


def test_only_the_uis_are_published_on_localhost(example_out):
    services = yaml.safe_load((example_out / "docker-compose.yml").read_text())["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert set(published) == set(UIS)
    for name, ports in published.items():
        assert ports == [{"target": UIS[name], "published": str(UIS[name]), "host_ip": "127.0.0.1",
                          "protocol": "tcp"}]
    assert not any("expose" in s for s in services.values())


def test_images_are_pinned_and_services_hardened(example_out):
    document = yaml.safe_load((example_out / "docker-compose.yml").read_text())
    for name, service in document["services"].items():
        image = service["image"]
        assert re.fullmatch(r"[a-z0-9./_-]+:v?\d+\.\d+\.\d+", image), image
        assert service["restart"] == "unless-stopped" and service["networks"] == ["monitoring"], name
    assert "internal" not in document["networks"]["monitoring"]
    assert document["networks"]["monitoring"]["name"] == "real-estate-scraper-monitoring"
    assert document["services"]["prometheus"]["image"].startswith("prom/prometheus:v3.5.")


def test_prometheus_keeps_the_spec_retention_and_mounts_read_only(example_out):
    document = yaml.safe_load((example_out / "docker-compose.yml").read_text())
    prometheus = document["services"]["prometheus"]
    assert "--storage.tsdb.retention.time=4w2d" in prometheus["command"]  # defaults.retention: 30d
    assert "--web.enable-lifecycle" in prometheus["command"]
    assert "./prometheus:/etc/prometheus:ro" in prometheus["volumes"]  # rule_files: [rules/*.yml] resolves there
    assert "./alertmanager:/etc/alertmanager:ro" in document["services"]["alertmanager"]["volumes"]
    grafana = document["services"]["grafana"]
    assert {"./grafana/provisioning:/etc/grafana/provisioning:ro",
            "./grafana/dashboards:/etc/grafana/dashboards:ro"} <= set(grafana["volumes"])
    assert set(document["volumes"]) == {"prometheus-data", "alertmanager-data", "grafana-data"}


def test_node_exporter_sees_the_host(example_out):
    node = yaml.safe_load((example_out / "docker-compose.yml").read_text())["services"]["node-exporter"]
    assert node["pid"] == "host"
    assert "/:/host:ro,rslave" in node["volumes"] and "--path.rootfs=/host" in node["command"]


def test_alertmanager_reads_every_secret_of_its_config_from_a_mounted_compose_secret(example_out):
    document = yaml.safe_load((example_out / "docker-compose.yml").read_text())
    config = yaml.safe_load((example_out / "alertmanager" / "alertmanager.yml").read_text())
    paths = set(re.findall(r"_file: (\S+)", yaml.safe_dump(config)))
    assert paths == {"/run/secrets/slack_webhook_url", "/run/secrets/pagerduty_routing_key",
                     "/run/secrets/smtp_password", "/run/secrets/deadmansswitch_url"}
    mounts = {s["target"]: s["source"] for s in document["services"]["alertmanager"]["secrets"]}
    for path in paths:
        name = path.rsplit("/", 1)[1]
        assert document["secrets"][mounts[path]] == {"environment": name.upper()}
    grafana = document["services"]["grafana"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] in secret_targets(grafana)
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana["environment"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    postgres = document["services"]["postgres-exporter"]
    assert postgres["environment"]["DATA_SOURCE_PASS_FILE"] in secret_targets(postgres)
    assert "DATA_SOURCE_NAME" not in postgres["environment"]


def test_the_readme_tells_how_to_start_and_names_every_alert_and_secret(example_out):
    readme = (example_out / "README.md").read_text()
    spec = yaml.safe_load(EXAMPLE.read_text())
    for alert in spec["alerts"]:
        assert re.search(rf"^\| {alert['name']} \| {alert['severity']} \|", readme, re.M), alert["name"]
    for name in EXAMPLE_ENV:
        assert f"environment variable {name}" in readme and f"/run/secrets/{name.lower()}" in readme
    for name, port in UIS.items():
        assert f"| {name} | http://127.0.0.1:{port}/ |" in readme
    assert "docker compose up -d" in readme and "GRANT pg_monitor TO postgres_exporter" in readme
    assert "name: real-estate-scraper-monitoring" in readme  # the network an operator's services join
    assert readme.startswith("<!-- generated by monstack from ")


# --- other specs -------------------------------------------------------------------------------------------------

def test_a_spec_without_deployment_gets_a_working_stack(tmp_path, cli):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("version: monstack/v1\nproject: {name: tiny}\ntargets:\n  - {name: api, kind: app, address: "
                    "\"api:8000\"}\nrouting:\n  receiver: team\n  receivers:\n    - {name: team, webhook: {url: "
                    "\"http://hook:5000/\"}}\n")
    document = generate(cli, spec, tmp_path / "out")
    config = compose_config(tmp_path / "out", {"GRAFANA_ADMIN_PASSWORD": "x"})
    assert set(config["services"]) == {"prometheus", "alertmanager", "grafana"}
    assert document["secrets"] == {"grafana_admin_password": {"environment": "GRAFANA_ADMIN_PASSWORD"}}
    assert document["networks"]["monitoring"] == {"name": "tiny-monitoring", "driver": "bridge"}


def test_secret_values_never_reach_the_output(tmp_path, cli, monkeypatch):
    values = {"SLACK_URL": "https://hooks.slack.com/services/T0/B0/slack-Zq8Xv", "PD_KEY": "pd-key-Zq8Xv",
              "BROKER_URL": "redis://:broker-pw-Zq8Xv@broker:6379/0"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    files = {name: tmp_path / "secrets" / name for name in ("smtp", "grafana", "redis-map")}
    files["smtp"].parent.mkdir()
    for name, path in files.items():
        path.write_text(f"file-secret-{name}-Zq8Xv")
    receivers = [{"name": "team", "slack": {"api_url": {"env": "SLACK_URL"}, "channel": "#ops"},
                  "pagerduty": {"routing_key": {"env": "PD_KEY"}},
                  "email": {"to": "a@b.c", "from": "d@b.c", "smarthost": "smtp:587", "auth_username": "u",
                            "auth_password": {"file": str(files["smtp"])}}}]
    deployment = {"grafana": {"admin_password": {"file": str(files["grafana"])}},
                  "redis": {"user": "monitor", "password": {"file": str(files["redis-map"])}},
                  "celery": {"broker_url": {"env": "BROKER_URL"}}}
    spec = write_spec(tmp_path / "shop.yaml", deployment, receivers=receivers)
    document = generate(cli, spec, tmp_path / "out")
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert "Zq8Xv" not in path.read_text(), path
    config = compose_config(tmp_path / "out", values)
    services = config["services"]
    smtp = str(files["smtp"])
    assert smtp in secret_targets(services["alertmanager"])  # a file secret is read where the spec says
    assert {"/run/secrets/slack_url", "/run/secrets/pd_key"} <= secret_targets(services["alertmanager"])
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == str(files["grafana"])
    redis = services["redis-exporter"]["environment"]
    assert redis["REDIS_PASSWORD_FILE"] == str(files["redis-map"]) and redis["REDIS_USER"] == "monitor"
    celery = services["celery-exporter"]
    assert celery["entrypoint"][:2] == ["/bin/sh", "-c"]  # the shell reads the secret when the container starts
    script = '--broker-url="$$(cat /run/secrets/broker_url)" --port=9808'  # `$$`: a literal `$` for compose
    assert script in celery["entrypoint"][2] and script in document["services"]["celery-exporter"]["entrypoint"][2]
    assert document["secrets"]["broker_url"] == {"environment": "BROKER_URL"}
    readme = (tmp_path / "out" / "README.md").read_text()
    assert '{"redis://monitor@cache:6379": "<password>"}' in readme
    for path in files.values():
        assert f"file {path}" in readme


def test_an_external_network_and_another_bind_address(tmp_path, cli):
    spec = write_spec(tmp_path / "shop.yaml", {"bind_address": "0.0.0.0", "ports": {"grafana": 3300},
                                               "network": {"name": "shop_default", "external": True}})
    document = generate(cli, spec, tmp_path / "out")
    compose_config(tmp_path / "out", {"GRAFANA_ADMIN_PASSWORD": "x"})
    assert document["networks"]["monitoring"] == {"name": "shop_default", "external": True}
    assert document["services"]["grafana"]["ports"][0] == {"target": 3000, "published": "3300", "host_ip": "0.0.0.0",
                                                           "protocol": "tcp"}
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "docker network create shop_default" in readme and "http://<this host>:3300/" in readme
    assert "no login" in readme


@pytest.mark.parametrize("deployment, message", [
    ({"images": {"grafana": "grafana/grafana:latest"}}, "`latest` is not a version"),
    ({"images": {"prometheus": "prom/prometheus"}}, "deployment.images.prometheus: invalid value"),
    ({"bind_address": "localhost"}, "is not an IP address"),
    ({"grafana": {"admin_password": "admin"}}, "a secret must not be written in the spec"),
    ({"ports": {"grafana": 9090}}, "three different host ports"),
    ({"network": {"internal": True}}, "unknown key 'internal'"),
])
def test_deployment_settings_are_checked(tmp_path, cli, deployment, message):
    spec = write_spec(tmp_path / "shop.yaml", deployment)
    proc = cli("validate", str(spec), "--offline", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in proc.stderr, proc.stderr


@pytest.mark.parametrize("targets, message, at", [
    ([{"name": "main", "kind": "postgres", "address": "db:5432"}, {"name": "replica", "kind": "postgres",
                                                                   "address": "replica:5432"}],
     "exporter postgres-exporter is already the postgres exporter of target 'main' (targets[0])", "replica:5432"),
    ([{"name": "pg", "kind": "postgres", "address": "db:5432", "exporter": "grafana:9187"}],
     "exporter host 'grafana' is the stack's grafana service", "grafana:9187"),
    ([{"name": "prometheus", "kind": "prometheus", "address": "prometheus:9999"}],
     "the stack's prometheus service listens on prometheus:9090, not 9999", "prometheus:9999"),
])
def test_targets_the_stack_cannot_serve_are_errors_at_their_line(tmp_path, cli, targets, message, at):
    spec = write_spec(tmp_path / "shop.yaml", targets=targets)
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), 1) if text.endswith(at))
    proc = cli("validate", str(spec), "--offline", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(rf"shop\.yaml:{line}:\d+: error: targets\[\d\]\.\w+: {re.escape(message)}", proc.stderr), \
        proc.stderr


def test_two_postgres_targets_with_their_own_exporters(tmp_path, cli):
    targets = [{"name": "main", "kind": "postgres", "address": "db:5432"},
               {"name": "replica", "kind": "postgres", "address": "replica:5432", "exporter": "pg-replica:9188"},
               {"name": "defaulted", "kind": "redis"}]
    spec = write_spec(tmp_path / "shop.yaml", targets=targets)
    proc = cli("validate", str(spec), "--offline", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning: targets[2]: no `address`: the stack's redis-exporter watches redis:6379" in proc.stderr
    services = generate(cli, spec, tmp_path / "out")["services"]
    assert services["pg-replica"]["environment"]["DATA_SOURCE_URI"].startswith("replica:5432/")
    assert services["pg-replica"]["command"] == ["--web.listen-address=:9188"]
    assert services["postgres-exporter"]["environment"]["DATA_SOURCE_URI"].startswith("db:5432/")


# --- validate runs docker-compose ----------------------------------------------------------------------------------

@pytest.fixture
def no_compose(tmp_path, monkeypatch) -> Path:
    (tmp_path / "empty" / "bin").mkdir(parents=True)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    monkeypatch.setenv("MONSTACK_TOOLS_DIR", str(tmp_path / "empty"))
    for name in ("MONSTACK_PROMTOOL", "MONSTACK_AMTOOL", "MONSTACK_DOCKER_COMPOSE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def real_tools() -> list[str]:
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        found = {name: tools.find(name) for name in ("promtool", "amtool", "vmalert")}
    finally:
        os.chdir(here)
    if None in found.values():
        pytest.skip("promtool/amtool/vmalert not installed")
    return [arg for name, tool in found.items() for arg in (f"--{name}", tool.path)]


def test_validate_reports_docker_compose_with_its_version(cli):
    tool = docker_compose()
    proc = cli("validate", "specs/real-estate-scraper.yaml", "--require-tools", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert f"docker-compose: ok {tool.version} ({tool.source}: {tool.path})" in proc.stdout


def test_require_tools_fails_when_only_docker_compose_is_missing(no_compose, cli):
    proc = cli("validate", str(EXAMPLE), "--require-tools", *real_tools(), cwd=no_compose)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "docker-compose not found (flag, MONSTACK_DOCKER_COMPOSE" in proc.stderr
    assert "promtool not found" not in proc.stderr and "valid" not in proc.stdout
    relaxed = cli("validate", str(EXAMPLE), *real_tools(), cwd=no_compose)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "warning: docker-compose not found" in relaxed.stderr and "docker-compose: missing" in relaxed.stdout


def test_a_docker_compose_rejection_fails_validate(no_compose, cli):
    fake = no_compose / "docker-compose"
    fake.write_text('#!/bin/sh\nif [ "$1" = version ]; then echo 2.40.9; exit 0; fi\n'
                    'echo "services.grafana additional properties \'x\' not allowed" >&2; exit 15\n')
    fake.chmod(0o755)
    proc = cli("validate", str(EXAMPLE), "--require-tools", *real_tools(), "--docker-compose", str(fake),
               cwd=no_compose)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: services.grafana additional properties 'x' not allowed (docker-compose)" in proc.stderr


def test_check_config_turns_the_real_verdict_into_a_diagnostic(tmp_path):
    tool = docker_compose()
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: x:1\n    networks: [nope]\n")
    found = compose_tool.check_config(tool, tmp_path / "docker-compose.yml")
    assert len(found) == 1 and "undefined network nope" in found[0].message and found[0].check == "docker-compose"
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: x:1\n")
    assert compose_tool.check_config(tool, tmp_path / "docker-compose.yml") == []


def test_find_docker_compose_refuses_a_bad_flag(tmp_path):
    with pytest.raises(MonstackError):
        tools.find("docker-compose", str(tmp_path / "nope"))


def test_the_users_own_app_may_listen_on_any_host_and_port(tmp_path, cli):
    """Only prometheus, alertmanager and grafana are the stack's services; `app` targets are the team's own."""
    spec = write_spec(tmp_path / "spec.yaml", targets=[{"name": "app", "kind": "app", "address": "app:8080"},
                                                       {"name": "web", "kind": "custom", "address": "web:9000"}])
    proc = cli("validate", str(spec), "--offline")
    assert proc.returncode == 0, proc.stderr
    document = generate(cli, spec, tmp_path / "out")
    assert set(document["services"]) == {"prometheus", "alertmanager", "grafana"}
