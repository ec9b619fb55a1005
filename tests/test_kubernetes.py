"""The Kubernetes output (`deployment: {kind: kubernetes}`), checked against what the cluster would check: every
object against prometheus-operator v0.93's real CRD schemas (tests/data/prometheus-operator-crds, as the API
server validates custom resources), every embedded rule group by the real `promtool check rules`, no secret value
anywhere, the dashboard ConfigMap size limits, and a kustomization.yaml that lists every object.

No Kubernetes API server is packaged here: objects are validated offline (schemas + metadata rules), not applied."""

from __future__ import annotations

import contextlib
import json
import os
import re
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
import re2
from jsonschema import Draft7Validator, ValidationError, validators

from conftest import ROOT, real_tool
from monstack import pipeline
from monstack.errors import MonstackError
from monstack.render.kubernetes import KUSTOMIZATION
from monstack.tools import promtool

CRDS = ROOT / "tests" / "data" / "prometheus-operator-crds"
SCHEMAS = {("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-v1.json",
           ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-v1.json",
           ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor-v1.json",
           ("monitoring.coreos.com/v1", "Probe"): "probe-v1.json",
           ("monitoring.coreos.com/v1alpha1", "ScrapeConfig"): "scrapeconfig-v1alpha1.json",
           ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): "alertmanagerconfig-v1alpha1.json"}
DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
# distinctive values for every secret of the examples: none may appear in any generated file
SECRET_VALUES = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/s3cr3t-slack-value",
                 "PAGERDUTY_ROUTING_KEY": "pd-s3cr3t-routing-key-value", "SMTP_PASSWORD": "smtp-s3cr3t-password",
                 "DEADMANSSWITCH_URL": "https://dms.example.com/s3cr3t-dms-token",
                 "GRAFANA_ADMIN_PASSWORD": "grafana-s3cr3t-admin", "POSTGRES_EXPORTER_PASSWORD": "pg-s3cr3t-pass",
                 "MYSQL_EXPORTER_PASSWORD": "mysql-s3cr3t-pass", "SCRAPE_TOKEN": "scrape-s3cr3t-bearer",
                 "SCRAPE_PASSWORD": "scrape-s3cr3t-basic", "OPSGENIE_KEY": "opsgenie-s3cr3t-key",
                 "TELEGRAM_TOKEN": "telegram-s3cr3t-token", "TEAMS_URL": "https://teams.example.com/s3cr3t-teams",
                 "HOOK_TOKEN": "hook-s3cr3t-bearer"}


# --- helpers --------------------------------------------------------------------------------------------------

def _re2_pattern(validator, pattern, instance, schema):
    """`pattern` as the API server applies it: Go's regexp (RE2), which takes `(?i)` mid-expression."""
    if validator.is_type(instance, "string") and not re2.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


KubernetesValidator = validators.extend(Draft7Validator, {"pattern": _re2_pattern})


@lru_cache(maxsize=None)
def validator(api_version: str, kind: str):
    """The CRD's openAPIV3Schema as JSON Schema (x-kubernetes-* keywords are unknown to it, hence ignored)."""
    schema = json.loads((CRDS / SCHEMAS[api_version, kind]).read_text(encoding="utf-8"))
    schema = schema.get("spec", {}).get("versions", [{}])[0].get("schema", {}).get("openAPIV3Schema", schema)
    return KubernetesValidator(schema)


def unknown_fields(schema: dict, value, path: str = "") -> list[str]:
    """Fields the schema does not declare: the API server drops them, and `kubectl apply` (strict field validation,
    its default) refuses them."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    out = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                out += unknown_fields(schema["properties"][key], item, f"{path}.{key}")
            elif not schema.get("additionalProperties"):
                out.append(f"{path}.{key}: unknown field")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            out += unknown_fields(schema["additionalProperties"], item, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += unknown_fields(schema["items"], item, f"{path}[{i}]")
    return out


def objects(files: dict[str, bytes]) -> dict[str, dict]:
    return {rel: yaml.safe_load(data) for rel, data in files.items()
            if rel.startswith("kubernetes/") and rel != KUSTOMIZATION}


def object_errors(obj: dict, namespace: str = "monitoring") -> list[str]:
    """What the API server would refuse: schema (custom resources), metadata, ConfigMap/Secret data keys."""
    meta = obj.get("metadata", {})
    errors = []
    if not DNS_NAME.match(meta.get("name", "")) or len(meta["name"]) > 253:
        errors.append(f"name {meta.get('name')!r}")
    if meta.get("namespace") != namespace or not DNS_LABEL.match(meta["namespace"]):
        errors.append(f"namespace {meta.get('namespace')!r}")
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or not LABEL_VALUE.match(value) or len(value) > 63:
            errors.append(f"label {key}={value!r}")
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in SCHEMAS:
        errors += [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                   for e in validator(*key).iter_errors(obj)]
        errors += unknown_fields(validator(*key).schema["properties"]["spec"], obj["spec"], "spec")
    elif key in (("v1", "ConfigMap"), ("v1", "Secret")):
        data = obj.get("data") or obj.get("stringData") or {}
        errors += [f"data key {k!r}" for k in data if not DATA_KEY.match(k)]
        errors += [f"data {k} is not a string" for k, v in data.items() if not isinstance(v, str)]
    else:
        errors.append(f"unexpected kind {key}")
    return errors


def kubernetes_copy(tmp_path: Path, name: str, options: str = "") -> Path:
    """specs/<name>.yaml with the deployment switched to Kubernetes (and `options` under deployment.kubernetes)."""
    text = (ROOT / "specs" / f"{name}.yaml").read_text(encoding="utf-8")
    block = "\ndeployment:\n  kind: kubernetes\n"
    if options:
        block += "  kubernetes:\n" + textwrap.indent(textwrap.dedent(options), "    ")
    assert "\ndeployment:\n" in text
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("\ndeployment:\n", block, 1), encoding="utf-8")
    return path


def generate(path: Path) -> tuple[pipeline.Resolved, dict[str, bytes]]:
    resolved = pipeline.resolve(path)
    return resolved, pipeline.render(resolved, path.parent / "out")


def assert_all_valid(files: dict[str, bytes]) -> None:
    problems = {rel: errors for rel, obj in objects(files).items() if (errors := object_errors(obj))}
    assert not problems


def kinds(files: dict[str, bytes]) -> dict[str, int]:
    out: dict[str, int] = {}
    for obj in objects(files).values():
        out[obj["kind"]] = out.get(obj["kind"], 0) + 1
    return out


@pytest.fixture(autouse=True)
def secret_environment(monkeypatch):
    for name, value in SECRET_VALUES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return generate(kubernetes_copy(tmp_path_factory.mktemp("checkout"), "checkout"))


@pytest.fixture(scope="module")
def scraper(tmp_path_factory):
    return generate(kubernetes_copy(tmp_path_factory.mktemp("scraper"), "real-estate-scraper",
                                    "alertmanager: secret\n"))


# --- both examples --------------------------------------------------------------------------------------------

def test_checkout_objects_validate_against_the_crds(checkout):
    _, files = checkout
    assert kinds(files) == {"PrometheusRule": 7, "ScrapeConfig": 8, "Probe": 1, "AlertmanagerConfig": 1,
                            "ConfigMap": 2}
    assert_all_valid(files)
    assert "docker-compose.yml" not in files and "prometheus/rules/api.yml" in files


def test_scraper_objects_validate_against_the_crds(scraper):
    _, files = scraper
    # 9 rule groups and the 3 of the SLOs
    assert kinds(files) == {"PrometheusRule": 12, "ScrapeConfig": 7, "Secret": 1, "ConfigMap": 5}  # + SLO board
    assert_all_valid(files)


@pytest.mark.parametrize("example", ["checkout", "scraper"])
def test_prometheus_rules_carry_exactly_the_rule_files(example, request):
    resolved, files = request.getfixturevalue(example)
    rules = {rel: obj for rel, obj in objects(files).items() if obj["kind"] == "PrometheusRule"}
    embedded = {group["name"]: group for obj in rules.values() for group in obj["spec"]["groups"]}
    on_disk = {yaml.safe_load(data)["groups"][0]["name"]: yaml.safe_load(data)["groups"][0]
               for rel, data in files.items() if rel.startswith("prometheus/rules/")}
    assert embedded == on_disk
    assert set(embedded) == set(resolved.model.groups)
    for obj in rules.values():
        assert obj["metadata"]["labels"] == {"release": "kube-prometheus-stack"}
        assert obj["metadata"]["namespace"] == "monitoring"


@pytest.mark.parametrize("example", ["checkout", "scraper"])
def test_embedded_rule_groups_pass_promtool(example, request, tmp_path):
    tool = real_tool("promtool")
    _, files = request.getfixturevalue(example)
    extracted = []
    for rel, obj in objects(files).items():
        if obj["kind"] == "PrometheusRule":
            path = tmp_path / "rules" / Path(rel).name
            path.parent.mkdir(exist_ok=True)
            path.write_text(yaml.safe_dump({"groups": obj["spec"]["groups"]}), encoding="utf-8")
            extracted.append(path)
    assert len(extracted) == len(request.getfixturevalue(example)[0].model.groups)
    assert promtool.check_rules(tool, sorted(extracted), tmp_path) == []


@pytest.mark.parametrize("example", ["checkout", "scraper"])
def test_kustomization_lists_every_object(example, request):
    _, files = request.getfixturevalue(example)
    kustomization = yaml.safe_load(files[KUSTOMIZATION])
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert listed == sorted(listed)
    assert {f"kubernetes/{p}" for p in listed} == set(objects(files))


@pytest.mark.parametrize("example", ["checkout", "scraper"])
def test_no_secret_value_in_any_generated_file(example, request):
    _, files = request.getfixturevalue(example)
    for rel, data in files.items():
        for name, value in SECRET_VALUES.items():
            assert value.encode() not in data, f"{name} in {rel}"
    assert all(obj["kind"] != "Secret" or "data" not in obj for obj in objects(files).values())


def test_every_file_is_stamped_and_output_is_stable(checkout, tmp_path):
    resolved, files = checkout
    for rel, data in files.items():
        if rel.startswith("kubernetes/"):
            assert data.startswith(b"# generated by monstack from "), rel
    again = pipeline.render(pipeline.resolve(Path(resolved.source.file)), Path(resolved.source.file).parent / "out")
    assert again == files


def test_probe_scrapes_through_the_blackbox_exporter(checkout):
    _, files = checkout
    probe = yaml.safe_load(files["kubernetes/probes/sites.yaml"])["spec"]
    assert probe["jobName"] == "sites"
    assert probe["prober"] == {"url": "blackbox-exporter:9115", "scheme": "http", "path": "/probe"}
    assert probe["module"] == "http_2xx"
    assert probe["targets"]["staticConfig"]["static"] == ["https://shop.example.com/",
                                                          "https://api.shop.example.com/health"]


def test_static_and_multi_target_jobs_are_scrape_configs(checkout):
    _, files = checkout
    mysql = yaml.safe_load(files["kubernetes/scrapeconfigs/mysql.yaml"])["spec"]
    assert mysql["jobName"] == "mysql" and mysql["params"] == {"auth_module": ["client"]}
    assert mysql["staticConfigs"] == [{"targets": ["db-primary:3306", "db-replica:3306"]}]
    assert {"targetLabel": "__address__", "replacement": "mysqld-exporter:9104"} in mysql["relabelings"]
    api = yaml.safe_load(files["kubernetes/scrapeconfigs/checkout.yaml"])["spec"]
    assert api["staticConfigs"] == [{"targets": ["app-1:8000"], "labels": {"instance": "app-1"}},
                                    {"targets": ["app-2:8000"], "labels": {"instance": "app-2"}}]
    assert yaml.safe_load(files["kubernetes/scrapeconfigs/pushgateway.yaml"])["spec"]["honorLabels"] is True


def test_alertmanager_config_references_the_credentials_secret(checkout):
    _, files = checkout
    config = yaml.safe_load(files["kubernetes/alertmanager/checkout.yaml"])["spec"]
    default = next(r for r in config["receivers"] if r["name"] == "default")
    assert default["slackConfigs"][0]["apiURL"] == {"name": "checkout-monitoring-credentials",
                                                    "key": "slack_webhook_url"}
    assert config["route"]["routes"][0]["matchers"] == [{"name": "alertname", "value": "Watchdog", "matchType": "="}]
    assert config["inhibitRules"][0]["equal"] == ["service"]


def test_alertmanager_secret_keeps_file_references_into_the_mounted_secret(scraper):
    _, files = scraper
    secret = yaml.safe_load(files["kubernetes/alertmanager/alertmanager-real-estate-scraper.yaml"])
    assert secret["kind"] == "Secret" and set(secret["stringData"]) == {"alertmanager.yaml"}
    text = secret["stringData"]["alertmanager.yaml"]
    assert text.startswith("# generated by monstack from ")
    config = yaml.safe_load(text)
    on_disk = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    mount = "/etc/alertmanager/secrets/real-estate-scraper-monitoring-credentials/"
    assert config["receivers"][0]["slack_configs"][0]["api_url_file"] == mount + "slack_webhook_url"
    assert config["route"] == on_disk["route"] and config["time_intervals"] == on_disk["time_intervals"]
    assert "/run/secrets/" not in text


def test_alertmanager_secret_passes_amtool(scraper, tmp_path):
    tool = real_tool("amtool")
    _, files = scraper
    secret = yaml.safe_load(files["kubernetes/alertmanager/alertmanager-real-estate-scraper.yaml"])
    path = tmp_path / "alertmanager.yaml"
    path.write_text(secret["stringData"]["alertmanager.yaml"], encoding="utf-8")
    from monstack.tools import amtool  # noqa: PLC0415
    assert amtool.check_config(tool, path) == []


def test_dashboard_configmaps_are_the_dashboard_files_labelled_for_the_sidecar(scraper):
    _, files = scraper
    for rel, obj in objects(files).items():
        if obj["kind"] == "ConfigMap":
            assert obj["metadata"]["labels"] == {"grafana_dashboard": "1"}
            (key, text), = obj["data"].items()
            assert files[f"grafana/dashboards/{key}"].decode() == text


def test_the_validation_refuses_what_the_api_server_refuses(checkout):
    _, files = checkout
    probe = yaml.safe_load(files["kubernetes/probes/sites.yaml"])
    probe["spec"]["prober"]["scheme"] = "ftp"
    probe["spec"]["interval"] = "5 minutes"
    probe["spec"]["targets"]["staticConfig"]["statik"] = []
    probe["metadata"]["name"] = "Sites"
    errors = object_errors(probe)
    assert len(errors) == 4, errors
    config = yaml.safe_load(files["kubernetes/alertmanager/checkout.yaml"])
    config["spec"]["muteTimeIntervals"] = [{"name": "x", "timeIntervals": [{"weekdays": ["mondays"]}]}]
    assert len(object_errors(config)) == 1


# --- the checks -----------------------------------------------------------------------------------------------

def test_time_zone_of_a_time_interval_is_refused_in_an_alertmanager_config(tmp_path):
    with pytest.raises(MonstackError) as caught:
        pipeline.resolve(kubernetes_copy(tmp_path, "real-estate-scraper"))
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert [d.check for d in errors] == ["kubernetes/time-zone"]
    assert errors[0].path == ("routing", "time_intervals", 0, "location") and errors[0].line


def test_namespace_matcher_warning_names_the_alerts_and_goes_with_the_label(tmp_path):
    resolved, _ = generate(kubernetes_copy(tmp_path, "checkout"))
    found = [d for d in resolved.warnings if d.check == "kubernetes/namespace-matcher"]
    assert len(found) == 1 and "none of the 21 alerts" in found[0].message and found[0].line
    quiet, _ = generate(kubernetes_copy(tmp_path, "checkout", "matcher_strategy: None\n"))
    assert not [d for d in quiet.warnings if d.check == "kubernetes/namespace-matcher"]
    secret, _ = generate(kubernetes_copy(tmp_path, "checkout", "alertmanager: secret\n"))
    assert not [d for d in secret.warnings if d.check == "kubernetes/namespace-matcher"]


def test_namespace_label_on_some_alerts(tmp_path):
    path = kubernetes_copy(tmp_path, "checkout")
    text = path.read_text(encoding="utf-8").replace(
        "    when: {down: {target: checkout}}\n", "    when: {down: {target: checkout}}\n"
        "    labels: {namespace: monitoring}\n", 1)
    path.write_text(text, encoding="utf-8")
    resolved, files = generate(path)
    (found,) = [d for d in resolved.warnings if d.check == "kubernetes/namespace-matcher"]
    assert "20 alert(s)" in found.message and "CheckoutInstanceDown" not in found.message


def test_options_are_configurable(tmp_path):
    resolved, files = generate(kubernetes_copy(tmp_path, "checkout", """\
        namespace: observability
        labels: {release: prom}
        rule_labels: {role: alert-rules}
        dashboard_labels: {grafana_dashboard: 1}
        credentials_secret: shop-secrets
        """))
    found = objects(files)
    assert {rel: errs for rel, obj in found.items() if (errs := object_errors(obj, "observability"))} == {}
    by_kind = {obj["kind"]: obj for obj in found.values()}
    assert by_kind["PrometheusRule"]["metadata"]["labels"] == {"role": "alert-rules"}
    assert by_kind["ScrapeConfig"]["metadata"]["labels"] == {"release": "prom"}
    assert by_kind["ConfigMap"]["metadata"]["labels"] == {"grafana_dashboard": "1"}
    assert b"name: shop-secrets" in files["kubernetes/alertmanager/checkout.yaml"]


@pytest.mark.parametrize("options, where", [
    ("namespace: Monitoring\n", ("deployment", "kubernetes", "namespace")),
    ("alertmanager: global\n", ("deployment", "kubernetes", "alertmanager")),
    ("labels: {release: 'a b'}\n", ("deployment", "kubernetes", "labels", "release")),
    ("selector: {}\n", ("deployment", "kubernetes", "selector")),
])
def test_bad_options_are_positioned_diagnostics(tmp_path, options, where):
    with pytest.raises(MonstackError) as caught:
        pipeline.resolve(kubernetes_copy(tmp_path, "checkout", options))
    (d,) = caught.value.diagnostics
    assert d.path[:len(where)] == where and d.line


def test_kubernetes_options_without_the_kind_are_refused(tmp_path):
    path = tmp_path / "spec.yaml"
    text = (ROOT / "specs" / "checkout.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("\ndeployment:\n", "\ndeployment:\n  kubernetes: {namespace: monitoring}\n", 1),
                    encoding="utf-8")
    with pytest.raises(MonstackError) as caught:
        pipeline.resolve(path)
    (d,) = caught.value.diagnostics
    assert "kind: kubernetes" in d.message and d.path[0] == "deployment" and d.line


# --- discovered targets, credentials -------------------------------------------------------------------------

TARGETS = """\
version: monstack/v1
project: {name: shop}
targets:
  - name: api
    kind: app
    discovery: {kubernetes: {role: endpoints, namespaces: [shop], selector: {app: api}, port: http-metrics}}
    scrape_interval: 30s
    scrape_timeout: 5s
    scheme: https
    metrics_path: /internal/metrics
    params: {format: [prometheus]}
    bearer_token: {env: SCRAPE_TOKEN}
    tls: {ca_file: /var/run/ca/ca.crt, cert_file: /var/run/tls/tls.crt, key_file: /var/run/tls/tls.key,
          server_name: api.shop.svc}
    labels: {team: shop}
  - name: workers
    kind: custom
    discovery: {kubernetes: {role: pod, selector: {app: worker}, port: metrics}}
    basic_auth: {username: prometheus, password: {env: SCRAPE_PASSWORD}}
  - name: slices
    kind: custom
    discovery: {kubernetes: {role: endpointslice, selector: {app: web}}}
  - name: nodes
    kind: node
    discovery: {kubernetes: {role: node}}
  - name: files
    kind: custom
    discovery: {file: {files: [/etc/targets/shop.json]}}
  - name: dns
    kind: custom
    discovery: {dns: {names: [_metrics._tcp.shop.example.com]}}
alerts:
  - {name: ApiDown, severity: critical, service: api, when: {down: {target: api}}, summary: down,
     description: it is down}
  - {name: WorkersDown, severity: warning, service: api, when: {down: {target: workers}}, summary: down,
     description: they are down}
routing:
  receiver: default
  receivers:
    - name: default
      webhook: {url: "http://hook:9000/", bearer_token: {env: HOOK_TOKEN}}
      opsgenie: {api_key: {env: OPSGENIE_KEY}, responders: [{type: team, name: ops}, {type: user, name: ann}]}
      telegram: {bot_token: {env: TELEGRAM_TOKEN}, chat_id: -100123}
      msteams: {webhook_url: {env: TEAMS_URL}}
    - name: mail
      email: {to: [a@example.com, b@example.com], from: am@example.com, smarthost: "smtp.example.com:587",
              auth_username: am@example.com, auth_password: {file: /var/secrets/smtp}}
      webhook: {url: "http://hook:9000/", basic_auth: {username: am, password: {env: SCRAPE_PASSWORD}}}
  routes:
    - {match: {severity: critical}, match_re: {service: "api|web"}, receiver: mail, continue: true,
       mute_time_intervals: [nights]}
  time_intervals:
    - {name: nights, times: ["00:00-06:00"], days_of_month: ["1:7", "-1"], months: ["1:3"], years: ["2025:2030"]}
  inhibit:
    - {when: {severity: critical}, mute: {severity: warning}, equal: [service]}
deployment:
  kind: kubernetes
  kubernetes: {matcher_strategy: None}
"""


@pytest.fixture
def discovered(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(TARGETS, encoding="utf-8")
    return generate(path)


def test_discovered_targets_become_monitors(discovered):
    _, files = discovered
    assert kinds(files) == {"PrometheusRule": 1, "ServiceMonitor": 2, "PodMonitor": 1, "ScrapeConfig": 3,
                            "AlertmanagerConfig": 1, "ConfigMap": 1, "Secret": 2}
    assert_all_valid(files)
    found = objects(files)
    monitor = found["kubernetes/servicemonitors/api.yaml"]["spec"]
    assert monitor["selector"] == {"matchLabels": {"app": "api"}}
    assert monitor["namespaceSelector"] == {"matchNames": ["shop"]}
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] == "http-metrics" and endpoint["interval"] == "30s" and endpoint["scrapeTimeout"] == "5s"
    assert endpoint["scheme"] == "https" and endpoint["path"] == "/internal/metrics"
    assert endpoint["params"] == {"format": ["prometheus"]}
    assert endpoint["authorization"] == {"type": "Bearer",
                                         "credentials": {"name": "shop-monitoring-credentials", "key": "scrape_token"}}
    assert endpoint["tlsConfig"]["ca"] == {"secret": {"name": "shop-monitoring-credentials",
                                                      "key": "file_var_run_ca_ca_crt"}}
    assert endpoint["tlsConfig"]["serverName"] == "api.shop.svc"
    assert endpoint["relabelings"][:2] == [{"targetLabel": "job", "replacement": "api", "action": "replace"},
                                           {"targetLabel": "team", "replacement": "shop", "action": "replace"}]
    pods = found["kubernetes/podmonitors/workers.yaml"]["spec"]
    assert pods["namespaceSelector"] == {"any": True}
    assert pods["podMetricsEndpoints"][0]["basicAuth"]["username"] == {"name": "shop-scrape-usernames",
                                                                       "key": "workers"}
    assert found["kubernetes/secrets/shop-scrape-usernames.yaml"]["stringData"] == {"workers": "prometheus"}
    assert found["kubernetes/servicemonitors/slices.yaml"]["spec"]["serviceDiscoveryRole"] == "EndpointSlice"
    nodes = found["kubernetes/scrapeconfigs/nodes.yaml"]["spec"]
    assert nodes["kubernetesSDConfigs"] == [{"role": "Node"}]
    assert found["kubernetes/scrapeconfigs/dns.yaml"]["spec"]["dnsSDConfigs"][0]["type"] == "SRV"


def test_every_receiver_kind_converts(discovered):
    _, files = discovered
    config = objects(files)["kubernetes/alertmanager/shop.yaml"]["spec"]
    default, mail = config["receivers"]
    assert default["webhookConfigs"][0]["httpConfig"]["authorization"]["credentials"]["key"] == "hook_token"
    assert default["opsgenieConfigs"][0]["responders"] == [{"type": "team", "name": "ops"},
                                                           {"type": "user", "username": "ann"}]
    assert default["telegramConfigs"][0]["chatID"] == -100123
    assert default["msteamsv2Configs"][0]["webhookURL"]["key"] == "teams_url"
    assert mail["emailConfigs"][0]["to"] == "a@example.com, b@example.com"
    assert mail["emailConfigs"][0]["authPassword"]["key"] == "file_var_secrets_smtp"
    assert mail["webhookConfigs"][0]["httpConfig"]["basicAuth"]["username"]["name"] == "shop-alertmanager-usernames"
    (interval,) = config["muteTimeIntervals"][0]["timeIntervals"]
    assert interval["daysOfMonth"] == [{"start": 1, "end": 7}, {"start": -1, "end": -1}]
    route = config["route"]["routes"][0]
    assert route["continue"] is True and {"name": "service", "value": "api|web", "matchType": "=~"} in route["matchers"]


def test_no_secret_value_with_credentials_everywhere(discovered):
    _, files = discovered
    for rel, data in files.items():
        for name, value in SECRET_VALUES.items():
            assert value.encode() not in data, f"{name} in {rel}"


# --- dashboard sizes ------------------------------------------------------------------------------------------

def inflated(tmp_path: Path, panels: int) -> Path:
    path = kubernetes_copy(tmp_path, "checkout", "matcher_strategy: None\n")
    rows = "".join(f"          - {{expr: 'sum(rate(http_requests_total{{handler=\"/p{i}\"}}[5m]))', title: P{i}}}\n"
                   for i in range(panels))
    text = path.read_text(encoding="utf-8").replace(
        "dashboards:\n", "dashboards:\n  - name: inflated\n    rows:\n      - title: Many\n        panels:\n"
        + rows, 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_dashboard_past_262144_bytes_warns(tmp_path):
    from monstack.render.kubernetes import dashboards  # noqa: PLC0415

    resolved, files = generate(inflated(tmp_path, 300))
    (found,) = [d for d in resolved.warnings if d.check == "kubernetes/configmap-size"]
    assert found.severity == "warning" and "--server-side" in (found.hint or "")
    assert found.path == ("dashboards", 0) and found.line
    size = dashboards.size(objects(files)["kubernetes/dashboards/dashboard-checkout-inflated.yaml"])
    assert dashboards.APPLY_LIMIT < size < dashboards.OBJECT_LIMIT


def test_dashboard_past_1_mib_is_an_error(tmp_path):
    with pytest.raises(MonstackError) as caught:
        pipeline.resolve(inflated(tmp_path, 1300))
    (found,) = [d for d in caught.value.diagnostics if d.check == "kubernetes/configmap-size"]
    assert found.severity == "error" and "1 MiB" in found.message and found.path == ("dashboards", 0)


def test_validate_runs_the_tools_and_skips_docker_compose(tmp_path):
    real_tool("promtool")
    with contextlib.chdir(ROOT):
        result = pipeline.validate(kubernetes_copy(tmp_path, "checkout", "matcher_strategy: None\n"))
    status = {run.name: run.status for run in result.tools}
    assert status["promtool"] == "ok"
    assert status["docker-compose"] in ("skipped", "missing")
