"""Every exporter kind Debian packages, each against a real service where it watches one, on loopback, for the
measured catalogue (tests/test_catalogue.py, scripts/measure-exporters.py): `Catalogue` starts them and lists the
endpoints to read (`scrapes`) and what ran (`versions`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import yaml

from .servers import Servers
from .services import BIN, MARIADB_BIN, PG_BIN, RABBITMQ_BIN, absent, free_port, version, wait_for

CATALOGUE_EXPORTERS = ("node_exporter", "postgres_exporter", "redis_exporter", "mysqld_exporter", "nginx_exporter",
                       "blackbox_exporter", "pushgateway", "prometheus", "alertmanager")


def catalogue_missing_programs() -> list[str]:
    """What the catalogue's services need and this machine lacks (installed by .ci/run / `make contract-deps`)."""
    return absent(CATALOGUE_EXPORTERS, (PG_BIN / "initdb", PG_BIN / "postgres", PG_BIN / "pg_basebackup", MARIADB_BIN,
                                        RABBITMQ_BIN / "rabbitmq-server", RABBITMQ_BIN / "rabbitmqctl"),
                  ("redis-server", "redis-cli", "runuser", "mariadb-install-db", "mariadb", "nginx", "epmd", "openssl"))


@dataclass(frozen=True)
class Scrape:
    """One HTTP endpoint of a kind: its families go to the catalogue file's `key` (metrics, per_object_metrics,
    exporter_metrics)."""

    kind: str
    url: str
    key: str = "metrics"
    what: str = ""  # e.g. "replica", "https probe"


class Catalogue(Servers):
    """Every exporter kind Debian packages, each against a real service where it watches one, on loopback:

    node_exporter; PostgreSQL 15 primary + streaming replica, a postgres_exporter on each; redis-server primary +
    replica, redis_exporter on the primary and its multi-target /scrape on the replica; MariaDB primary + replica
    (binlog replication), one mysqld_exporter serving the primary on /metrics and both through /probe?target=
    with auth_module; nginx with stub_status + nginx-prometheus-exporter; an HTTP and a self-signed HTTPS endpoint
    probed by blackbox_exporter (http_2xx, tcp_connect); Pushgateway with one pushed group; rabbitmq-server with
    the rabbitmq_prometheus plugin, a declared queue and a connected AMQP client; Prometheus (one rule group,
    notifying the Alertmanager) and Alertmanager. `scrapes` lists the endpoints to read, `versions` what was run."""

    prefix = "monstack-catalogue-"
    PUSHED_JOB = "nightly_backup"
    PUSHED = "backup_last_success_timestamp_seconds"
    QUEUE = "orders"

    def __init__(self, *, replicas: bool = True) -> None:
        super().__init__(replicas=replicas)
        self.scrapes: list[Scrape] = []

    def start(self) -> None:
        # slow starters first, so that their start-up overlaps with the others'
        self._start_rabbitmq()
        self._start_postgres()
        self._start_mariadbs()
        if self.replicas:
            self._start_postgres_replica()
        self._start_redises()
        self._start_nginx()
        self._make_cert()
        self._start_endpoint("http-endpoint", https=False)
        self._start_endpoint("https-endpoint", https=True)
        self._start_exporters()
        self._start_prometheus_pair()
        self._setup_mariadb()
        self.push(self.PUSHED_JOB, "batch-1", {self.PUSHED: ("When the nightly backup last succeeded.",
                                                             int(time.time()))})
        self._wait_rabbitmq()
        self._declare_queue(self.QUEUE)
        self._start_amqp_client(self.QUEUE)
        if self.replicas:
            self._wait_replication()

    # --- PostgreSQL, Redis --------------------------------------------------------------------------------

    def _start_postgres_replica(self) -> None:
        pg = self.dir / "postgresql-replica"
        pg.mkdir()
        shutil.chown(pg, "postgres", "postgres")
        data = pg / "data"
        # initdb's -A trust lets the replication connection in from loopback; -R writes standby.signal
        backup = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1",
                                 "-p", str(self.port("postgres")), "-U", "postgres", "-D", str(data), "-R",
                                 "-X", "stream", "--no-sync"],
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if backup.returncode:
            raise RuntimeError(f"pg_basebackup failed:\n{backup.stdout}\n{backup.stderr}")
        self._run_postgres("postgresql-replica", data, self.port("postgres-replica"))

    def _start_redises(self) -> None:
        self._start_redis("redis-server")
        if self.replicas:
            self._start_redis("redis-replica", "--replicaof", "127.0.0.1", str(self.port("redis-server")))
        self._wait_port("redis-server")
        cli = ["redis-cli", "-p", str(self.port("redis-server"))]
        for args in (["SET", "order:1", "paid"], ["SET", "session:1", "x", "EX", "3600"], ["LPUSH", "jobs", "a"]):
            subprocess.run(cli + args, check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)

    def _wait_replication(self) -> None:
        self._wait_mariadb_replication()
        lag = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        wait_for(lambda: subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "psql"), "-h", "127.0.0.1",
                                         "-p", str(self.port("postgres")), "-Atc", lag], capture_output=True,
                                        text=True, timeout=30).stdout.strip() == "1",
                 "the PostgreSQL replica streaming", 60, list(self.services.values()))
        wait_for(lambda: "master_link_status:up" in subprocess.run(
            ["redis-cli", "-p", str(self.port("redis-replica")), "INFO", "replication"], capture_output=True,
            text=True, timeout=30).stdout, "the Redis replica linked", 60, list(self.services.values()))

    # --- the exporters ------------------------------------------------------------------------------------

    def _start_exporters(self) -> None:
        dsn = "postgresql://postgres@127.0.0.1:{}/postgres?sslmode=disable"
        self._start_exporter("node_exporter", "node_exporter")
        self._start_exporter("postgres_exporter", "postgres_exporter",
                             env={"DATA_SOURCE_NAME": dsn.format(self.port("postgres"))})
        self._start_exporter("redis_exporter", "redis_exporter",
                             f"--redis.addr=redis://127.0.0.1:{self.port('redis-server')}")
        self._start_mysqld_exporter()
        self._start_nginx_exporter()
        self._start_blackbox_exporter()
        self._start_pushgateway()
        if self.replicas:
            self._start_exporter("postgres_exporter-replica", "postgres_exporter",
                                 env={"DATA_SOURCE_NAME": dsn.format(self.port("postgres-replica"))})
        for name in ("node_exporter", "postgres_exporter", "redis_exporter", "mysqld_exporter", "nginx_exporter",
                     "blackbox_exporter", "pushgateway") + (("postgres_exporter-replica",) if self.replicas else ()):
            self._wait_http(name, self.url(name))
        for name in ("nginx", "http-endpoint", "https-endpoint"):
            self._wait_port(name)
        self.scrapes += self._scrapes()

    def _scrapes(self) -> list[Scrape]:
        q = urllib.parse.urlencode
        mysql_primary, mysql_replica = (f"127.0.0.1:{self.port(n)}" for n in ("mariadb", "mariadb-replica"))
        out = [
            Scrape("node", self.url("node_exporter")),
            Scrape("postgres", self.url("postgres_exporter")),
            Scrape("redis", self.url("redis_exporter")),
            Scrape("mysql", self.url("mysqld_exporter")),
            Scrape("mysql", self.url("mysqld_exporter", "/probe?" + q({"target": mysql_primary})), what="probe"),
            Scrape("nginx", self.url("nginx_exporter")),
            Scrape("probe", self.url("blackbox_exporter", "/probe?" + q(
                {"target": f"http://127.0.0.1:{self.port('http-endpoint')}/", "module": "http_2xx"})), what="http"),
            Scrape("probe", self.url("blackbox_exporter", "/probe?" + q(
                {"target": f"https://127.0.0.1:{self.port('https-endpoint')}/", "module": "http_2xx"})),
                what="https"),
            Scrape("probe", self.url("blackbox_exporter", "/probe?" + q(
                {"target": f"127.0.0.1:{self.port('https-endpoint')}", "module": "tcp_connect"})), what="tcp"),
            Scrape("probe", self.url("blackbox_exporter"), key="exporter_metrics"),
            Scrape("pushgateway", self.url("pushgateway")),
            Scrape("rabbitmq", self.url("rabbitmq")),
            Scrape("rabbitmq", self.url("rabbitmq", "/metrics/per-object"), key="per_object_metrics"),
            Scrape("prometheus", self.url("prometheus")),
            Scrape("alertmanager", self.url("alertmanager")),
        ]
        if self.replicas:
            out += [
                Scrape("postgres", self.url("postgres_exporter-replica"), what="replica"),
                Scrape("redis", self.url("redis_exporter", "/scrape?" + q(
                    {"target": f"redis://127.0.0.1:{self.port('redis-replica')}"})), what="replica"),
                Scrape("mysql", self.url("mysqld_exporter", "/probe?" + q(
                    {"target": mysql_replica, "auth_module": "client.replica"})), what="replica"),
            ]
        return out

    # --- Prometheus and Alertmanager ----------------------------------------------------------------------

    def _start_prometheus_pair(self) -> None:
        # one webhook receiver to a port nobody listens on: the notification families get their integration
        self._start_alertmanager({
            "route": {"receiver": "hook", "group_wait": "1s", "group_interval": "1s"},
            "receivers": [{"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{free_port()}/"}]}]},
            cluster=True)
        prom = self.dir / "prometheus"
        prom.mkdir()
        (prom / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "catalogue", "interval": "1s", "rules": [
            {"alert": "Always", "expr": "vector(1)", "labels": {"severity": "info"}},
            {"record": "job:up:sum", "expr": "sum by (job) (up)"}]}]}))
        (prom / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(prom / "rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [self.address("alertmanager")]}]}]},
            "scrape_configs": [{"job_name": "prometheus",
                                "static_configs": [{"targets": [self.address("prometheus")]}]}]}))
        self._wait_http("alertmanager", self.url("alertmanager"))
        self._start_prometheus(prom / "prometheus.yml")

    def settled(self) -> bool:
        """Families that appear a little after start-up are there: Prometheus's per-Alertmanager notification
        counters, rule group families and scrape interval summary (after its second scrape), the Alertmanager's
        cluster families, RabbitMQ's channel families."""
        try:
            with urllib.request.urlopen(self.url("prometheus"), timeout=5) as response:
                prometheus = response.read().decode()
            with urllib.request.urlopen(self.url("alertmanager"), timeout=5) as response:
                alertmanager = response.read().decode()
            with urllib.request.urlopen(self.url("rabbitmq", "/metrics/per-object"), timeout=5) as response:
                rabbitmq = response.read().decode()
        except OSError:
            return False
        return ("prometheus_notifications_sent_total{" in prometheus
                and "rabbitmq_channel_messages_unacked{" in rabbitmq
                and "prometheus_rule_group_last_evaluation_timestamp_seconds{" in prometheus
                and "prometheus_target_interval_length_seconds{" in prometheus
                and "\nalertmanager_cluster_members " in alertmanager)

    def wait_settled(self, timeout: float = 60) -> None:
        wait_for(self.settled, "Prometheus's notifier, rules and scrapes, Alertmanager's cluster", timeout,
                 list(self.services.values()))

    # --- what ran -----------------------------------------------------------------------------------------

    def versions(self) -> dict[str, str]:
        """program -> its x.y.z version, as the programs say."""
        def first(text: str, pattern: str = r"(\d+\.\d+\.\d+)") -> str:
            found = re.search(pattern, text)
            return found.group(1) if found else "?"

        out = {name: first(version(BIN / name)) for name in CATALOGUE_EXPORTERS}
        out["PostgreSQL"] = first(version(PG_BIN / "postgres"), r"(\d+\.\d+)")
        out["Redis"] = first(version("redis-server"))
        out["MariaDB"] = first(version(MARIADB_BIN), r"Ver (\d+\.\d+\.\d+)")
        out["nginx"] = first(version("nginx", "-v"))
        out["RabbitMQ"] = first(self.rabbitmqctl("version")) if self.rabbit_env else "?"
        return out
