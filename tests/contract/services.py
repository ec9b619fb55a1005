"""Real services on loopback for the metrics-contract suite: each runs in its own process group and is always
stopped (the group is signalled, then killed), so that no test leaves an orphan behind.

The Stack starts what the example spec scrapes: node_exporter, redis-server + redis_exporter, PostgreSQL (as user
postgres, in a temporary folder, socket there too) + postgres_exporter, the stand-in application, Alertmanager
(its /metrics: the alertmanager job) and Prometheus with the generated prometheus.yml whose addresses are
rewritten to the loopback ports. Not started: celery-exporter (no Debian package): nothing listens on the celery
job's port and the suite skips its references.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from monstack.drill import processes
from monstack.drill.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".tools" / "bin"
# Debian's postgresql-NN (bookworm: 15); the newest installed
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit()
             else 0, default=Path("/usr/lib/postgresql/15/bin"))
HERE = Path(__file__).resolve().parent


def missing_programs() -> list[str]:
    """What the suite needs and this machine lacks (installed by .ci/run / `make contract-deps`)."""
    needed = [BIN / name for name in ("prometheus", "alertmanager", "node_exporter", "redis_exporter",
                                      "postgres_exporter")]
    needed += [Path(shutil.which("redis-server") or "redis-server"), PG_BIN / "initdb", PG_BIN / "postgres",
               Path(shutil.which("runuser") or "runuser")]
    out = [str(p) for p in needed if not (p.is_file() and os.access(p, os.X_OK))]
    try:
        import prometheus_client  # noqa: F401, PLC0415
    except ImportError:
        out.append("prometheus_client (pip install -e '.[test]')")
    return out


def alertmanager_argv() -> list[str]:
    """The drill's way to start Debian's unpacked Alertmanager (see monstack.drill.processes)."""
    return processes.alertmanager_argv(str(BIN / "alertmanager"))[0]


def version(program: str | Path, *args: str) -> str:
    run = subprocess.run([str(program), *(args or ("--version",))], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    lines = (run.stdout + run.stderr).strip().splitlines()
    return lines[0] if lines else "?"


class Service:
    """One program in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, *, env: dict | None = None,
                 stop_signal: int = signal.SIGTERM) -> None:
        self.name, self.argv, self.stop_signal = name, argv, stop_signal
        self.log = log_dir / f"{name}.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env={**os.environ, **(env or {})})

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """Signal the whole group, wait, then SIGKILL whatever is left of it."""
        pgid = self.proc.pid
        try:
            os.killpg(pgid, self.stop_signal)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + timeout
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.wait(5)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for(check, what: str, timeout: float, services: list[Service] = ()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for service in services:
            if not service.running():
                raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.tail()}")
        time.sleep(0.2)
    logs = "\n".join(f"--- {s.name}\n{s.tail()}" for s in services)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}\n{logs}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Group:
    """Services started together in one temporary folder and all stopped on leaving; use as a context manager
    (subclasses define start())."""

    prefix = "monstack-services-"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=self.prefix))  # in /tmp: users postgres/mysql can enter it
        self.services: dict[str, Service] = {}
        self.ports: dict[str, int] = {}

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _start(self, name: str, argv: list[str], **kwargs) -> Service:
        self.services[name] = Service(name, argv, self.dir, **kwargs)
        return self.services[name]

    def port(self, name: str) -> int:
        """The loopback port of `name`, picked free on first use."""
        if name not in self.ports:
            self.ports[name] = free_port()
        return self.ports[name]

    def _wait_http(self, name: str, url: str, timeout: float = 30) -> None:
        wait_for(lambda: http_ok(url), f"{name} at {url}", timeout, list(self.services.values()))

    def _start_postgres(self, name: str = "postgresql", port_name: str = "postgres") -> None:
        pg = self.dir / name  # owned by postgres, which refuses to run as root
        pg.mkdir()
        shutil.chown(pg, "postgres", "postgres")
        self.dir.chmod(0o711)  # postgres may pass through
        data = pg / "data"
        init = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data),
                               "-A", "trust", "-U", "postgres", "--no-sync"],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if init.returncode:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        self._run_postgres(name, data, self.port(port_name))

    def _run_postgres(self, name: str, data: Path, port: int) -> None:
        # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for the exporter's connection to end)
        self._start(name, ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"), "-D", str(data),
                           "-k", str(data.parent), "-p", str(port), "-c", "listen_addresses=127.0.0.1"],
                    stop_signal=signal.SIGINT)
        wait_for(lambda: port_open(port), f"PostgreSQL ({name})", 60, [self.services[name]])


class Stack(Group):
    """The example's scrape targets and a Prometheus scraping them; use as a context manager."""

    prefix = "monstack-contract-"

    def __init__(self, generated: Path, *, rules_for: str = "0s", rules_interval: str = "1s") -> None:
        super().__init__()
        self.generated, self.rules_for, self.rules_interval = generated, rules_for, rules_interval
        self.prometheus_url = ""

    # --- the services --------------------------------------------------------------------------------------

    def start(self) -> None:
        p = self.ports = {name: free_port() for name in (
            "node", "redis", "redis_exporter", "postgres", "postgres_exporter", "app", "alertmanager",
            "prometheus")}
        self._start_postgres()
        self._start("redis-server", ["redis-server", "--port", str(p["redis"]), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", str(self.dir)])
        self._start("node_exporter", [str(BIN / "node_exporter"), f"--web.listen-address=127.0.0.1:{p['node']}"])
        self._start("redis_exporter", [str(BIN / "redis_exporter"), f"--redis.addr=redis://127.0.0.1:{p['redis']}",
                                       f"--web.listen-address=127.0.0.1:{p['redis_exporter']}"])
        dsn = f"postgresql://postgres@127.0.0.1:{p['postgres']}/postgres?sslmode=disable"
        self._start("postgres_exporter", [str(BIN / "postgres_exporter"),
                                          f"--web.listen-address=127.0.0.1:{p['postgres_exporter']}"],
                    env={"DATA_SOURCE_NAME": dsn})
        self._start("app", [sys.executable, str(HERE / "standin.py"),
                            str(ROOT / "specs" / "real-estate-scraper.yaml"), str(p["app"])])
        am_config = self.dir / "alertmanager.yml"
        am_config.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
        self._start("alertmanager", alertmanager_argv() + [
            f"--config.file={am_config}", f"--storage.path={self.dir / 'alertmanager'}",
            f"--web.listen-address=127.0.0.1:{p['alertmanager']}", "--cluster.listen-address="])
        checks = [("alertmanager", p["alertmanager"]), ("node_exporter", p["node"]), ("redis_exporter", p["redis_exporter"]),
                  ("postgres_exporter", p["postgres_exporter"]), ("app", p["app"])]
        for name, port in checks:
            wait_for(lambda port=port: http_ok(f"http://127.0.0.1:{port}/metrics"), f"{name} on :{port}", 30,
                     list(self.services.values()))
        self._start_prometheus()

    def _start_prometheus(self) -> None:
        p = self.ports
        loopback = {"fastapi": p["app"], "postgresql": p["postgres_exporter"], "redis": p["redis_exporter"],
                    "node": p["node"], "celery": free_port(),  # nothing listens there
                    "prometheus": p["prometheus"], "alertmanager": p["alertmanager"]}
        config = yaml.safe_load((self.generated / "prometheus" / "prometheus.yml").read_text())
        for job in config["scrape_configs"]:  # addresses rewritten to loopback, nothing else
            for static in job.get("static_configs", []):
                static["targets"] = [f"127.0.0.1:{loopback[job['job_name']]}" for _ in static["targets"]]
        for am in config.get("alerting", {}).get("alertmanagers", []):
            for static in am.get("static_configs", []):
                static["targets"] = [f"127.0.0.1:{p['alertmanager']}" for _ in static["targets"]]
        prom = self.dir / "prometheus"
        (prom / "rules").mkdir(parents=True)
        (prom / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        for rules in sorted((self.generated / "prometheus" / "rules").glob("*.yml")):
            (prom / "rules" / rules.name).write_text(yaml.safe_dump(self._shortened(rules), sort_keys=False))
        self._start("prometheus", [str(BIN / "prometheus"), f"--config.file={prom / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={prom / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{p['prometheus']}"])
        self.prometheus_url = f"http://127.0.0.1:{p['prometheus']}"
        wait_for(lambda: http_ok(f"{self.prometheus_url}/-/ready"), "Prometheus ready", 60,
                 [self.services["prometheus"]])

    def _shortened(self, path: Path) -> dict:
        """A copy of a generated rule file with `for` shortened and a short evaluation interval."""
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            group["interval"] = self.rules_interval
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = self.rules_for
        return doc


# --- every Debian-packaged exporter kind, for the catalogue (tests/test_catalogue.py, scripts/measure-exporters.py) --

MARIADB_BIN = Path("/usr/sbin/mariadbd")
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
CATALOGUE_EXPORTERS = ("node_exporter", "postgres_exporter", "redis_exporter", "mysqld_exporter", "nginx_exporter",
                       "blackbox_exporter", "pushgateway", "prometheus", "alertmanager")


def catalogue_missing_programs() -> list[str]:
    """What the catalogue's services need and this machine lacks (installed by .ci/run / `make contract-deps`)."""
    needed = [BIN / name for name in CATALOGUE_EXPORTERS]
    needed += [PG_BIN / "initdb", PG_BIN / "postgres", PG_BIN / "pg_basebackup", MARIADB_BIN,
               RABBITMQ_BIN / "rabbitmq-server", RABBITMQ_BIN / "rabbitmqctl"]
    needed += [Path(shutil.which(name) or name) for name in (
        "redis-server", "redis-cli", "runuser", "mariadb-install-db", "mariadb", "nginx", "epmd", "openssl")]
    return [str(p) for p in needed if not (p.is_file() and os.access(p, os.X_OK))]


@dataclass(frozen=True)
class Scrape:
    """One HTTP endpoint of a kind: its families go to the catalogue file's `key` (metrics, per_object_metrics,
    exporter_metrics)."""

    kind: str
    url: str
    key: str = "metrics"
    what: str = ""  # e.g. "replica", "https probe"


class Catalogue(Group):
    """Every exporter kind Debian packages, each against a real service where it watches one, on loopback:

    node_exporter; PostgreSQL 15 primary + streaming replica, a postgres_exporter on each; redis-server primary +
    replica, redis_exporter on the primary and its multi-target /scrape on the replica; MariaDB primary + replica
    (binlog replication), one mysqld_exporter serving the primary on /metrics and both through /probe?target=
    with auth_module; nginx with stub_status + nginx-prometheus-exporter; an HTTP and a self-signed HTTPS endpoint
    probed by blackbox_exporter (http_2xx, tcp_connect); Pushgateway with one pushed group; rabbitmq-server with
    the rabbitmq_prometheus plugin, a declared queue and a connected AMQP client; Prometheus (one rule group, notifying the Alertmanager)
    and Alertmanager. `scrapes` lists the endpoints to read, `versions` what was run."""

    prefix = "monstack-catalogue-"
    PUSHED_JOB = "nightly_backup"
    PUSHED = "backup_last_success_timestamp_seconds"
    QUEUE = "orders"

    def __init__(self, *, replicas: bool = True) -> None:
        super().__init__()
        self.replicas = replicas
        self.scrapes: list[Scrape] = []
        self.secret = secrets.token_hex(12)  # the MariaDB users' password, this run only
        self.rabbit_env: dict[str, str] = {}

    def url(self, name: str, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.port(name)}{path}"

    def start(self) -> None:
        # slow starters first, so that their start-up overlaps with the others'
        self._start_rabbitmq()
        self._start_postgres()
        self._start_mariadb("mariadb", server_id=1)
        if self.replicas:
            self._start_postgres_replica()
            self._start_mariadb("mariadb-replica", server_id=2)
        self._start_redis()
        self._start_nginx()
        self._start_endpoints()
        self._start_exporters()
        self._start_prometheus_pair()
        self._setup_mariadb()
        self._push()
        self._wait_rabbitmq()
        self._declare_queue()
        self._start_amqp_client()
        if self.replicas:
            self._wait_replication()

    # --- PostgreSQL ---------------------------------------------------------------------------------------

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

    # --- Redis --------------------------------------------------------------------------------------------

    def _start_redis(self) -> None:
        for name, extra in (("redis-server", []),
                            ("redis-replica", ["--replicaof", "127.0.0.1", str(self.port("redis-server"))])):
            if name == "redis-replica" and not self.replicas:
                continue
            self._start(name, ["redis-server", "--port", str(self.port(name)), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(self.dir), "--dbfilename", f"{name}.rdb", *extra])
        wait_for(lambda: port_open(self.port("redis-server")), "redis-server", 30, [self.services["redis-server"]])
        cli = ["redis-cli", "-p", str(self.port("redis-server"))]
        for args in (["SET", "order:1", "paid"], ["SET", "session:1", "x", "EX", "3600"], ["LPUSH", "jobs", "a"]):
            subprocess.run(cli + args, check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)

    # --- MariaDB ------------------------------------------------------------------------------------------

    def _mariadb_socket(self, name: str) -> Path:
        return self.dir / name / "mysqld.sock"

    def _start_mariadb(self, name: str, server_id: int) -> None:
        folder = self.dir / name
        folder.mkdir()
        data = folder / "data"
        init = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                               "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve"],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if init.returncode:
            raise RuntimeError(f"mariadb-install-db failed:\n{init.stdout}\n{init.stderr}")
        self._start(name, [str(MARIADB_BIN), "--no-defaults", f"--datadir={data}", "--user=root",
                           f"--socket={self._mariadb_socket(name)}", f"--pid-file={folder / 'mysqld.pid'}",
                           f"--port={self.port(name)}", "--bind-address=127.0.0.1", "--skip-name-resolve",
                           f"--server-id={server_id}", "--log-bin=mysql-bin", "--innodb-buffer-pool-size=32M",
                           "--performance-schema=OFF", f"--log-error={folder / 'error.log'}"])

    def sql(self, name: str, statements: str, *, column_names: bool = False) -> str:
        """Run SQL on a MariaDB as its root (socket authentication: this process runs as root); the output is
        tab-separated."""
        run = subprocess.run(["mariadb", "--no-defaults", f"--socket={self._mariadb_socket(name)}", "-uroot",
                              "--batch", *([] if column_names else ["--skip-column-names"]), "-e", statements],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if run.returncode:
            raise RuntimeError(f"SQL on {name} failed: {run.stderr.strip()}\n{statements}")
        return run.stdout

    def _setup_mariadb(self) -> None:
        names = ["mariadb"] + (["mariadb-replica"] if self.replicas else [])
        for name in names:
            wait_for(lambda name=name: self._mariadb_socket(name).exists() and port_open(self.port(name)),
                     f"MariaDB ({name})", 60, [self.services[name]])
        pw = self.secret
        # the grants mysqld_exporter's documentation asks for (SLAVE MONITOR: SHOW SLAVE STATUS on MariaDB >= 10.5)
        self.sql("mariadb", f"""
            CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY '{pw}' WITH MAX_USER_CONNECTIONS 3;
            GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';
            CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{pw}';
            GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
            CREATE DATABASE shop;
            CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, total DECIMAL(10, 2)) ENGINE=InnoDB;
            INSERT INTO shop.orders (total) VALUES (10.50), (20.00);
            SELECT COUNT(*) FROM shop.orders;""")
        if self.replicas:  # from the start of the primary's first binlog: the users above replicate too
            self.sql("mariadb-replica", f"""
                CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.port('mariadb')}, MASTER_USER='repl',
                  MASTER_PASSWORD='{pw}', MASTER_USE_GTID=no;
                START SLAVE;""")

    def _replica_caught_up(self) -> bool:
        users = self.sql("mariadb-replica", "SELECT COUNT(*) FROM mysql.user WHERE user = 'exporter'").strip()
        names, *values = self.sql("mariadb-replica", "SHOW SLAVE STATUS", column_names=True).splitlines() or [""]
        status = dict(zip(names.split("\t"), values[0].split("\t"))) if values else {}
        return users == "1" and status.get("Slave_IO_Running") == status.get("Slave_SQL_Running") == "Yes"

    def _wait_replication(self) -> None:
        wait_for(self._replica_caught_up, "the MariaDB replica replicating", 60, list(self.services.values()))
        lag = f"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        wait_for(lambda: subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "psql"), "-h", "127.0.0.1",
                                         "-p", str(self.port("postgres")), "-Atc", lag], capture_output=True,
                                        text=True, timeout=30).stdout.strip() == "1",
                 "the PostgreSQL replica streaming", 60, list(self.services.values()))
        wait_for(lambda: "master_link_status:up" in subprocess.run(
            ["redis-cli", "-p", str(self.port("redis-replica")), "INFO", "replication"], capture_output=True,
            text=True, timeout=30).stdout, "the Redis replica linked", 60, list(self.services.values()))

    def _my_cnf(self) -> Path:
        """mysqld_exporter's credentials: [client] for /metrics (the primary), [client.replica] an auth_module for
        /probe?target=...&auth_module=client.replica (the host/port come from the target)."""
        path = self.dir / "mysqld_exporter.cnf"
        path.write_text(f"[client]\nuser=exporter\npassword={self.secret}\nhost=127.0.0.1\n"
                        f"port={self.port('mariadb')}\n\n[client.replica]\nuser=exporter\npassword={self.secret}\n")
        path.chmod(0o600)
        return path

    # --- nginx, the probed endpoints ----------------------------------------------------------------------

    def _start_nginx(self) -> None:
        prefix = self.dir / "nginx"
        prefix.mkdir()
        temps = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in
                          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temps}
    server {{
        listen 127.0.0.1:{self.port('nginx')};
        location = /stub_status {{ stub_status; }}
        location / {{ return 200 "ok\\n"; }}
    }}
}}
""")
        self._start("nginx", ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"])

    def _start_endpoints(self) -> None:
        tls = self.dir / "tls"
        tls.mkdir()
        cert, key = tls / "cert.pem", tls / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "30", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        self.cert = cert
        self._start("http-endpoint", [sys.executable, str(HERE / "endpoint.py"), str(self.port("http-endpoint"))])
        self._start("https-endpoint", [sys.executable, str(HERE / "endpoint.py"), str(self.port("https-endpoint")),
                                       str(cert), str(key)])

    # --- the exporters ------------------------------------------------------------------------------------

    def _start_exporters(self) -> None:
        listen = lambda name: f"--web.listen-address=127.0.0.1:{self.port(name)}"  # noqa: E731
        self._start("node_exporter", [str(BIN / "node_exporter"), listen("node_exporter")])
        dsn = "postgresql://postgres@127.0.0.1:{}/postgres?sslmode=disable"
        self._start("postgres_exporter", [str(BIN / "postgres_exporter"), listen("postgres_exporter")],
                    env={"DATA_SOURCE_NAME": dsn.format(self.port("postgres"))})
        self._start("redis_exporter", [str(BIN / "redis_exporter"), listen("redis_exporter"),
                                       f"--redis.addr=redis://127.0.0.1:{self.port('redis-server')}"])
        self._start("mysqld_exporter", [str(BIN / "mysqld_exporter"), listen("mysqld_exporter"),
                                        f"--config.my-cnf={self._my_cnf()}"])
        self._start("nginx_exporter", [str(BIN / "nginx_exporter"), listen("nginx_exporter"),
                                       f"--nginx.scrape-uri=http://127.0.0.1:{self.port('nginx')}/stub_status"])
        modules = self.dir / "blackbox.yml"
        modules.write_text(yaml.safe_dump({"modules": {
            "http_2xx": {"prober": "http", "timeout": "5s",
                         "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(self.cert)}}},
            "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}}}}))
        self._start("blackbox_exporter", [str(BIN / "blackbox_exporter"), listen("blackbox_exporter"),
                                          f"--config.file={modules}"])
        assets = BIN.parent / "root" / "usr" / "share" / "prometheus" / "pushgateway"
        self._start("pushgateway", [str(BIN / "pushgateway"), listen("pushgateway")]
                    + ([f"--web.local-assets={assets}"] if assets.is_dir() else []))
        if self.replicas:
            self._start("postgres_exporter-replica", [str(BIN / "postgres_exporter"),
                                                      listen("postgres_exporter-replica")],
                        env={"DATA_SOURCE_NAME": dsn.format(self.port("postgres-replica"))})
        for name in ("node_exporter", "postgres_exporter", "redis_exporter", "mysqld_exporter", "nginx_exporter",
                     "blackbox_exporter", "pushgateway") + (("postgres_exporter-replica",) if self.replicas else ()):
            self._wait_http(name, self.url(name))
        for name in ("nginx", "http-endpoint", "https-endpoint"):
            wait_for(lambda name=name: port_open(self.port(name)), name, 30, [self.services[name]])
        q = urllib.parse.urlencode
        mysql_primary, mysql_replica = (f"127.0.0.1:{self.port(n)}" for n in ("mariadb", "mariadb-replica"))
        self.scrapes += [
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
            self.scrapes += [
                Scrape("postgres", self.url("postgres_exporter-replica"), what="replica"),
                Scrape("redis", self.url("redis_exporter", "/scrape?" + q(
                    {"target": f"redis://127.0.0.1:{self.port('redis-replica')}"})), what="replica"),
                Scrape("mysql", self.url("mysqld_exporter", "/probe?" + q(
                    {"target": mysql_replica, "auth_module": "client.replica"})), what="replica"),
            ]

    def _push(self) -> None:
        body = (f"# TYPE {self.PUSHED} gauge\n# HELP {self.PUSHED} When the nightly backup last succeeded.\n"
                f"{self.PUSHED} {int(time.time())}\n").encode()
        request = urllib.request.Request(self.url("pushgateway", f"/metrics/job/{self.PUSHED_JOB}/instance/batch-1"),
                                         data=body, method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status in (200, 202), response.status

    # --- Prometheus and Alertmanager ----------------------------------------------------------------------

    def _start_prometheus_pair(self) -> None:
        am = self.dir / "alertmanager"
        am.mkdir()
        # one webhook receiver to a port nobody listens on: the notification families get their integration
        (am / "alertmanager.yml").write_text(yaml.safe_dump({
            "route": {"receiver": "hook", "group_wait": "1s", "group_interval": "1s"},
            "receivers": [{"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{free_port()}/"}]}]}))
        self._start("alertmanager", alertmanager_argv() + [
            f"--config.file={am / 'alertmanager.yml'}", f"--storage.path={am / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port('alertmanager')}",  # a cluster of one, as deployed
            f"--cluster.listen-address=127.0.0.1:{self.port('alertmanager-cluster')}"])
        prom = self.dir / "prometheus"
        prom.mkdir()
        (prom / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "catalogue", "interval": "1s", "rules": [
            {"alert": "Always", "expr": "vector(1)", "labels": {"severity": "info"}},
            {"record": "job:up:sum", "expr": "sum by (job) (up)"}]}]}))
        (prom / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(prom / "rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{self.port('alertmanager')}"]}]}]},
            "scrape_configs": [{"job_name": "prometheus",
                                "static_configs": [{"targets": [f"127.0.0.1:{self.port('prometheus')}"]}]}]}))
        self._start("prometheus", [str(BIN / "prometheus"), f"--config.file={prom / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={prom / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{self.port('prometheus')}"])
        self._wait_http("alertmanager", self.url("alertmanager"))
        self._wait_http("prometheus", self.url("prometheus", "/-/ready"), 60)

    def settled(self) -> bool:
        """Families that appear a little after start-up are there: Prometheus's per-Alertmanager notification
        counters and rule group families, the Alertmanager's cluster families, RabbitMQ's channel families."""
        try:
            with urllib.request.urlopen(self.url("prometheus"), timeout=5) as response:
                prometheus = response.read().decode()
            with urllib.request.urlopen(self.url("alertmanager"), timeout=5) as response:
                alertmanager = response.read().decode()
        except OSError:
            return False
        try:
            with urllib.request.urlopen(self.url("rabbitmq", "/metrics/per-object"), timeout=5) as response:
                rabbitmq = response.read().decode()
        except OSError:
            return False
        return ("prometheus_notifications_sent_total{" in prometheus
                and "rabbitmq_channel_messages_unacked{" in rabbitmq
                and "prometheus_rule_group_last_evaluation_timestamp_seconds{" in prometheus
                and "\nalertmanager_cluster_members " in alertmanager)

    def wait_settled(self, timeout: float = 60) -> None:
        wait_for(self.settled, "Prometheus's notifier and rules, Alertmanager's cluster", timeout,
                 list(self.services.values()))

    # --- RabbitMQ -----------------------------------------------------------------------------------------

    def _start_rabbitmq(self) -> None:
        """rabbitmq-server as root with everything in the temporary folder: its own epmd on a free port (RabbitMQ
        would otherwise start a machine-wide one on 4369 that outlives it), a unique node name, the plugin
        enabled through the enabled_plugins file, the AMQP and Prometheus listeners on loopback."""
        base = self.dir / "rabbitmq"
        base.mkdir()
        (base / "enabled_plugins").write_text("[rabbitmq_prometheus].\n")
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port('amqp')}\nprometheus.tcp.port = {self.port('rabbitmq')}\n"
            "prometheus.tcp.ip = 127.0.0.1\nloopback_users.guest = true\n")
        self.rabbit_env = {
            "HOME": str(base), "ERL_EPMD_PORT": str(self.port("epmd")), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": f"monstack-{secrets.token_hex(4)}@localhost",
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_LOGS": "-", "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins-expand"),
            "RABBITMQ_DIST_PORT": str(self.port("rabbitmq-dist")), "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid")}
        self._start("epmd", ["epmd", "-port", str(self.port("epmd")), "-address", "127.0.0.1"], env=self.rabbit_env)
        wait_for(lambda: port_open(self.port("epmd")), "epmd", 30, [self.services["epmd"]])
        self._start("rabbitmq-server", [str(RABBITMQ_BIN / "rabbitmq-server")], env=self.rabbit_env)

    def _wait_rabbitmq(self) -> None:
        self._wait_http("rabbitmq-server", self.url("rabbitmq"), 120)

    def rabbitmqctl(self, *args: str) -> str:
        run = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), *args], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **self.rabbit_env}, stdin=subprocess.DEVNULL)
        if run.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {run.stdout}\n{run.stderr}")
        return run.stdout

    def _declare_queue(self) -> None:
        """A durable classic queue (so the queue families appear), declared through rabbitmqctl eval: no AMQP
        client is needed."""
        self.rabbitmqctl("eval", f'rabbit_amqqueue:declare(rabbit_misc:r(<<"/">>, queue, <<"{self.QUEUE}">>), '
                                 'true, false, [], none, <<"monstack">>).')

    def _start_amqp_client(self) -> None:
        """A connected client (tests/contract/amqp.py): one channel, 3 published messages, a consumer holding one
        unacknowledged: the connection, channel and consumer families then have samples."""
        client = self._start("amqp-client", [sys.executable, str(HERE / "amqp.py"), str(self.port("amqp")),
                                             self.QUEUE, "3"])
        wait_for(lambda: "ready" in client.tail(), "the AMQP client connected and consuming", 30, [client])

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
