"""The metrics contract of the second example (specs/checkout.yaml): every Debian-packaged exporter kind it
scrapes, real, behind generated/checkout/prometheus/prometheus.yml with only its addresses rewritten to loopback
(tests/contract/stacks.py: loopback_config, Fleet). The real Prometheus finds every metric and label the rules
and panels reference; the relabelled `instance` of a blackbox probe and of the multi-target mysqld_exporter is
the probed thing, never the exporter; the Pushgateway's pushed series keep their job (honor_labels); stopping a
probed endpoint fires SiteDown, stopping the MariaDB primary fires MySQLDown through mysql_up while the
exporter's `up` stays 1.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest
import yaml

from conftest import ROOT
from monstack import contract, pipeline

SPEC = ROOT / "specs" / "checkout.yaml"
GENERATED = ROOT / "generated" / "checkout"
WAIT = 180  # generous: the generated scrape interval (15s) stays, on a busy machine


def generated_config() -> dict:
    return yaml.safe_load((GENERATED / "prometheus" / "prometheus.yml").read_text())


@pytest.fixture(scope="module")
def model():
    return pipeline.resolve(SPEC).model


# --- fast: the rewrite -------------------------------------------------------------------------------------------

def test_loopback_config_rewrites_the_addresses_and_nothing_else():
    from contract.stacks import addresses_of, loopback_config  # noqa: PLC0415

    config = generated_config()
    addresses = addresses_of(config)
    assert {"db-primary:3306", "mysqld-exporter:9104", "https://shop.example.com/", "blackbox-exporter:9115",
            "pushgateway:9091", "alertmanager:9093", "app-1:8000"} <= set(addresses)
    assert loopback_config(config, {a: a for a in addresses}) == config
    loopback = {a: f"127.0.0.1:{10000 + i}" for i, a in enumerate(addresses)}
    rewritten = loopback_config(config, loopback)
    text = yaml.safe_dump(rewritten)
    assert not [a for a in addresses if a in text], "an address was not rewritten"
    assert addresses_of(rewritten) == [loopback[a] for a in addresses]
    # back again: exactly the original, so nothing but the addresses moved
    assert loopback_config(rewritten, {v: k for k, v in loopback.items()}) == config
    with pytest.raises(KeyError, match="'nginx-exporter:9113'"):
        loopback_config(config, {a: a for a in addresses if a != "nginx-exporter:9113"})


BACKUP_ALERT = """  - name: BackupSlow
    group: meta
    service: monitoring
    severity: warning
    when: {threshold: {metric: backup_duration_seconds}}
    above: 1h
    summary: "The nightly backup took {{ $value | humanizeDuration }}"
    description: "The backup pushes its duration to the Pushgateway as job nightly-backup."

routing:
"""


def pushed_metric_model(tmp_path):
    """The checkout spec with one alert over a pushed metric, with no job matcher: its owner is the pushgateway
    target, but Prometheus stores it under the pushed job (honor_labels)."""
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("\nrouting:\n", "\n" + BACKUP_ALERT, 1), encoding="utf-8")
    return pipeline.resolve(spec).model


def test_a_pushed_metric_is_looked_for_under_its_pushed_job(tmp_path):
    from test_contract import FakeAPI, everything  # noqa: PLC0415

    model = pushed_metric_model(tmp_path)
    series = everything(model)
    assert "backup_duration_seconds" in series["pushgateway"]
    pushed = series.setdefault("nightly-backup", {})  # the example's own backup alerts name the job already
    pushed["backup_duration_seconds"] = series["pushgateway"].pop("backup_duration_seconds")
    result = contract.verify(model, FakeAPI(series))
    assert result.ok, [f.message() for f in result.findings]
    del pushed["backup_duration_seconds"]  # pushed by nobody: missing, named under the Pushgateway's job
    [finding] = contract.verify(model, FakeAPI(series)).findings
    assert (finding.metric, finding.job) == ("backup_duration_seconds", "pushgateway")
    assert "alert BackupSlow" in finding.where


# --- slow: the real fleet ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fleet():
    from contract.services import require, wait_for  # noqa: PLC0415
    from contract.stacks import Fleet, fleet_missing_programs  # noqa: PLC0415

    require(fleet_missing_programs(), "the checkout contract needs (make contract-deps)")
    started = time.monotonic()
    running = Fleet(GENERATED)
    with running:
        api = contract.PrometheusAPI(running.prometheus_url)
        expected = len(addresses_of_scraped(generated_config()))

        def all_up() -> bool:
            targets = api.get("/api/v1/targets", state="active")["activeTargets"]
            return len(targets) == expected and all(t["health"] == "up" for t in targets)

        wait_for(all_up, f"all {expected} targets of the generated prometheus.yml up", WAIT,
                 list(running.services.values()))
        print(f"\ncheckout fleet up and every target scraped in {time.monotonic() - started:.1f}s")
        yield running, api
    assert not running.leftovers(), f"process groups outlived the fleet: {running.leftovers()}"
    print(f"checkout fleet: {time.monotonic() - started:.1f}s from start to stopped")


def addresses_of_scraped(config: dict) -> list[str]:
    """The scrape targets (one per static target of every job)."""
    return [t for job in config["scrape_configs"] for static in job.get("static_configs", [])
            for t in static["targets"]]


def _values(api, query: str, label: str) -> dict[str, str]:
    """label value -> sample value of the series `query` returns."""
    return {r["metric"].get(label, ""): r["value"][1] for r in api.get("/api/v1/query", query=query)["result"]}


@pytest.mark.slow
def test_every_referenced_metric_and_label_is_really_scraped(fleet, model):
    _, api = fleet
    result = contract.verify(model, api)
    assert result.ok, "\n".join(f.message() for f in result.findings)
    assert not result.skipped
    assert {ref.job for ref in result.checked} >= {"checkout", "node", "mysql", "nginx", "rabbitmq", "sites",
                                                    "pushgateway", "prometheus", "alertmanager"}


@pytest.mark.slow
def test_every_selector_of_every_rule_matches_scraped_series(fleet, model):
    from contract.series_match import empty_selectors  # noqa: PLC0415

    _, api = fleet
    empty = empty_selectors(model, api)
    assert not empty, "selectors matching no scraped series:\n" + "\n".join(empty)


@pytest.mark.slow
def test_instance_is_the_probed_target_not_the_exporter(fleet):
    running, api = fleet
    a = running.addresses
    sites = {a["https://shop.example.com/"], a["https://api.shop.example.com/health"]}
    servers = {a["db-primary:3306"], a["db-replica:3306"]}
    assert _values(api, 'probe_success{job="sites"}', "instance") == dict.fromkeys(sites, "1")
    assert _values(api, 'mysql_up{job="mysql"}', "instance") == dict.fromkeys(servers, "1")
    assert set(_values(api, 'up{job="checkout"}', "instance")) == {"app-1", "app-2"}  # the spec's own labels
    assert set(_values(api, 'up{job="node"}', "instance")) == {a["app-1:9100"], a["app-2:9100"]}
    # Prometheus asks the exporter, with the generated parameters, about the probed thing
    targets = api.get("/api/v1/targets", state="active")["activeTargets"]
    asked = {(t["labels"]["job"], t["labels"]["instance"]): urllib.parse.urlsplit(t["scrapeUrl"]) for t in targets}
    for server in servers:
        url = asked[("mysql", server)]
        assert (url.netloc, url.path) == (a["mysqld-exporter:9104"], "/probe")
        assert urllib.parse.parse_qs(url.query) == {"auth_module": ["client"], "target": [server]}
    for site in sites:
        url = asked[("sites", site)]
        assert (url.netloc, url.path) == (a["blackbox-exporter:9115"], "/probe")
        assert urllib.parse.parse_qs(url.query) == {"module": ["http_2xx"], "target": [site]}


@pytest.mark.slow
def test_pushed_series_keep_their_job(fleet):
    running, api = fleet
    for metric in ("backup_last_success_timestamp_seconds", "backup_duration_seconds"):
        series = api.get("/api/v1/query", query=metric)["result"]
        assert [(s["metric"]["job"], s["metric"]["instance"]) for s in series] == \
            [(running.PUSHED_JOB, running.PUSHED_INSTANCE)], series
    assert set(_values(api, "pushgateway_build_info", "job")) == {"pushgateway"}  # its own series: the scrape job


@pytest.mark.slow
def test_a_pushed_metric_is_found_under_its_pushed_job(fleet, tmp_path):
    _, api = fleet
    result = contract.verify(pushed_metric_model(tmp_path), api)
    assert result.ok, "\n".join(f.message() for f in result.findings)
    assert [ref.job for ref in result.checked if ref.metric == "backup_duration_seconds"][:1] == ["pushgateway"]


def _firing(api, alert: str) -> dict[str, dict]:
    """instance -> the firing alert `alert`."""
    return {a["labels"].get("instance", ""): a for a in api.alerts()
            if a["labels"].get("alertname") == alert and a["state"] == "firing"}


def _wait_firing(fleet, alert: str, instance: str, stopped: str) -> float:
    from contract.services import wait_for  # noqa: PLC0415

    running, api = fleet
    started = time.monotonic()
    others = [s for name, s in running.services.items() if name != stopped and s.running()]  # what still runs
    wait_for(lambda: instance in _firing(api, alert), f"{alert} firing for {instance} after stopping {stopped}",
             WAIT, others)
    return time.monotonic() - started


@pytest.mark.slow
def test_stopping_the_probed_endpoint_fires_site_down(fleet, model):
    running, api = fleet
    assert next(r for r in model.rules if r.name == "SiteDown").expr == 'probe_success{job="sites"} == 0'
    shop = running.addresses["https://shop.example.com/"]
    assert not _firing(api, "SiteDown")
    running.services["site-shop"].stop()
    took = _wait_firing(fleet, "SiteDown", shop, "site-shop")
    print(f"SiteDown fired for {shop} {took:.1f}s after stopping it")
    assert set(_firing(api, "SiteDown")) == {shop}, "only the stopped endpoint is down"
    assert _values(api, f'up{{job="sites",instance="{shop}"}}', "instance") == {shop: "1"}  # blackbox answered


@pytest.mark.slow
def test_stopping_mariadb_fires_mysql_down_through_mysql_up_not_up(fleet, model):
    running, api = fleet
    assert next(r for r in model.rules if r.name == "MySQLDown").expr == 'mysql_up{job="mysql"} == 0'
    primary, replica = running.addresses["db-primary:3306"], running.addresses["db-replica:3306"]
    assert not _firing(api, "MySQLDown")
    running.services["mariadb"].stop()
    took = _wait_firing(fleet, "MySQLDown", primary, "mariadb")
    print(f"MySQLDown fired for {primary} {took:.1f}s after stopping it")
    assert set(_firing(api, "MySQLDown")) == {primary}, "the replica is still up"
    assert _values(api, f'mysql_up{{job="mysql",instance="{primary}"}}', "instance") == {primary: "0"}
    assert _values(api, f'up{{job="mysql",instance="{primary}"}}', "instance") == {primary: "1"}, \
        "mysqld_exporter still answers the probe: the scrape is up, only mysql_up says the server is down"
    assert _values(api, f'mysql_up{{job="mysql",instance="{replica}"}}', "instance") == {replica: "1"}
