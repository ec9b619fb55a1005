"""The example specs' generated prometheus.yml, run by the real Prometheus against real exporters on loopback.

`loopback_config` rewrites a generated prometheus.yml's addresses and nothing else; `Stack` runs the first example
(real-estate-scraper), `Fleet` the second (checkout). Both copy the generated rules with `for` shortened and a
short evaluation interval (the expressions stay as generated) and point the Alertmanager at one with no receiver.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import yaml

from .servers import Servers
from .services import MARIADB_BIN, PG_BIN, RABBITMQ_BIN, ROOT, Group, absent, free_port, without_prometheus_client

NO_RECEIVER = {"route": {"receiver": "none"}, "receivers": [{"name": "none"}]}


def loopback_config(config: dict, addresses: dict[str, str]) -> dict:
    """A copy of a generated prometheus.yml (as loaded YAML) in which exactly these are rewritten, each through
    `addresses` (generated address -> the loopback one):

    - every static target of every scrape job: a scraped address, or what a multi-target job probes (a server
      address, a URL), which its relabelling turns into the `target` parameter and the `instance` label;
    - the `replacement` of a relabel rule writing `__address__`: the exporter a multi-target job asks;
    - every Alertmanager static target.

    Nothing else changes: job names, metrics_path, scheme, params, honor_labels, relabelling, intervals, labels.
    An address missing from `addresses` fails with its name, so that a job added to the spec is noticed here.
    """
    out = copy.deepcopy(config)

    def loopback(address: str) -> str:
        if address not in addresses:
            raise KeyError(f"no loopback address for {address!r} (of the generated prometheus.yml)")
        return addresses[address]

    _each_address(out, loopback)
    return out


def addresses_of(config: dict) -> list[str]:
    """The addresses loopback_config rewrites, in the order of the file."""
    seen: list[str] = []
    _each_address(copy.deepcopy(config), lambda address: seen.append(address) or address)
    return seen


def _each_address(config: dict, change) -> None:
    for job in config.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            static["targets"] = [change(target) for target in static["targets"]]
        for rule in job.get("relabel_configs", []):
            if rule.get("target_label") == "__address__" and "replacement" in rule:
                rule["replacement"] = change(rule["replacement"])
    for alertmanager in config.get("alerting", {}).get("alertmanagers", []):
        for static in alertmanager.get("static_configs", []):
            static["targets"] = [change(target) for target in static["targets"]]


def shortened_rules(path: Path, rules_for: str, interval: str) -> dict:
    """A copy of a generated rule file with `for` shortened and a short evaluation interval."""
    doc = yaml.safe_load(path.read_text())
    for group in doc["groups"]:
        group["interval"] = interval
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = rules_for
    return doc


class Generated(Group):
    """A Group that ends with Prometheus running a generated folder's prometheus.yml and rules."""

    def __init__(self, generated: Path, *, rules_for: str = "0s", rules_interval: str = "1s", **kwargs) -> None:
        super().__init__(**kwargs)
        self.generated, self.rules_for, self.rules_interval = generated, rules_for, rules_interval
        self.prometheus_url = ""
        self.addresses: dict[str, str] = {}

    def _start_generated_prometheus(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        config = yaml.safe_load((self.generated / "prometheus" / "prometheus.yml").read_text())
        prom = self.dir / "prometheus"
        (prom / "rules").mkdir(parents=True)
        (prom / "prometheus.yml").write_text(yaml.safe_dump(loopback_config(config, addresses), sort_keys=False))
        for rules in sorted((self.generated / "prometheus" / "rules").glob("*.yml")):
            doc = shortened_rules(rules, self.rules_for, self.rules_interval)
            (prom / "rules" / rules.name).write_text(yaml.safe_dump(doc, sort_keys=False))
        self._start_prometheus(prom / "prometheus.yml")
        self.prometheus_url = self.url("prometheus", "")


# --- the first example ------------------------------------------------------------------------------------------

def missing_programs() -> list[str]:
    """What Stack needs and this machine lacks (installed by .ci/run / `make contract-deps`)."""
    return absent(("prometheus", "alertmanager", "node_exporter", "redis_exporter", "postgres_exporter"),
                  (PG_BIN / "initdb", PG_BIN / "postgres"), ("redis-server", "runuser")) + without_prometheus_client()


class Stack(Generated):
    """The first example's scrape targets and a Prometheus scraping them: node_exporter, redis-server +
    redis_exporter, PostgreSQL (as user postgres, in a temporary folder, socket there too) + postgres_exporter,
    the stand-in application, Alertmanager (its /metrics: the alertmanager job). Not started: celery-exporter (no
    Debian package): nothing listens on the celery job's port and the suite skips its references."""

    prefix = "monstack-contract-"

    def start(self) -> None:
        self._start_postgres()
        self._start_redis("redis-server")
        self._start_exporter("node_exporter", "node_exporter")
        self._start_exporter("redis_exporter", "redis_exporter",
                             f"--redis.addr=redis://{self.address('redis-server')}")
        dsn = f"postgresql://postgres@{self.address('postgres')}/postgres?sslmode=disable"
        self._start_exporter("postgres_exporter", "postgres_exporter", env={"DATA_SOURCE_NAME": dsn})
        self._start_standin("app", ROOT / "specs" / "real-estate-scraper.yaml")
        self._start_alertmanager(NO_RECEIVER)
        for name in ("alertmanager", "node_exporter", "redis_exporter", "postgres_exporter", "app"):
            self._wait_http(name, self.url(name))
        a = self.address
        self._start_generated_prometheus({
            "api:8000": a("app"), "postgres-exporter:9187": a("postgres_exporter"),
            "redis-exporter:9121": a("redis_exporter"), "node-exporter:9100": a("node_exporter"),
            "celery-exporter:9808": f"127.0.0.1:{free_port()}",  # nothing listens there
            "prometheus:9090": a("prometheus"), "alertmanager:9093": a("alertmanager")})


# --- the second example -----------------------------------------------------------------------------------------

def fleet_missing_programs() -> list[str]:
    """What Fleet needs and this machine lacks (installed by .ci/run / `make contract-deps`)."""
    return absent(("prometheus", "alertmanager", "node_exporter", "mysqld_exporter", "nginx_exporter",
                   "blackbox_exporter", "pushgateway"),
                  (MARIADB_BIN, RABBITMQ_BIN / "rabbitmq-server", RABBITMQ_BIN / "rabbitmqctl"),
                  ("mariadb-install-db", "mariadb", "nginx", "epmd", "openssl")) + without_prometheus_client()


class Fleet(Generated, Servers):
    """The checkout example (specs/checkout.yaml), every target real: two stand-ins of the API (app-1, app-2),
    a node_exporter for each host, MariaDB primary + binlog replica asked through one mysqld_exporter's /probe
    (credentials in its [client] section, as the generated compose writes them), nginx with stub_status +
    nginx-prometheus-exporter, RabbitMQ with rabbitmq_prometheus and one queue, two self-signed HTTPS endpoints
    for the `sites` probes through blackbox_exporter, a Pushgateway holding the nightly backup's pushed group,
    Alertmanager, and Prometheus with generated/checkout's prometheus.yml through loopback_config."""

    prefix = "monstack-fleet-"
    SPEC = ROOT / "specs" / "checkout.yaml"
    PUSHED_JOB, PUSHED_INSTANCE = "nightly-backup", "db-backup"
    QUEUE = "orders"

    def start(self) -> None:
        self._start_rabbitmq()  # the slowest first: its start-up overlaps with the others'
        self._start_mariadbs()
        self._start_nginx()
        self._make_cert()
        for site in ("site-shop", "site-api"):
            self._start_endpoint(site, https=True)
        for host in ("app-1", "app-2"):
            self._start_standin(host, self.SPEC, "checkout")
            self._start_exporter(f"node_exporter-{host}", "node_exporter")
        self._start_mysqld_exporter()
        self._start_nginx_exporter()
        self._start_blackbox_exporter()
        self._start_pushgateway()
        self._start_alertmanager(NO_RECEIVER)
        for name in ("app-1", "app-2", "node_exporter-app-1", "node_exporter-app-2", "mysqld_exporter",
                     "nginx_exporter", "blackbox_exporter", "pushgateway", "alertmanager"):
            self._wait_http(name, self.url(name))
        for name in ("nginx", "site-shop", "site-api"):
            self._wait_port(name)
        self._setup_mariadb()
        self.push(self.PUSHED_JOB, self.PUSHED_INSTANCE, {
            "backup_last_success_timestamp_seconds": ("Unix time of the last successful backup", int(time.time())),
            "backup_duration_seconds": ("Duration of the last backup", 42)})
        self._wait_rabbitmq()
        self._declare_queue(self.QUEUE)
        self._wait_mariadb_replication()
        a = self.address
        self._start_generated_prometheus({
            "app-1:8000": a("app-1"), "app-2:8000": a("app-2"),
            "app-1:9100": a("node_exporter-app-1"), "app-2:9100": a("node_exporter-app-2"),
            "db-primary:3306": a("mariadb"), "db-replica:3306": a("mariadb-replica"),
            "mysqld-exporter:9104": a("mysqld_exporter"),
            "nginx-exporter:9113": a("nginx_exporter"),
            "rabbitmq:15692": a("rabbitmq"),
            "https://shop.example.com/": f"https://{a('site-shop')}/",
            "https://api.shop.example.com/health": f"https://{a('site-api')}/health",
            "blackbox-exporter:9115": a("blackbox_exporter"),
            "pushgateway:9091": a("pushgateway"),
            "prometheus:9090": a("prometheus"), "alertmanager:9093": a("alertmanager")})
