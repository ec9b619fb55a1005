"""Real servers the contract suite watches, and their exporters, on loopback ports of a Group: MariaDB primary and
binlog replica (with the grants mysqld_exporter's documentation asks for), nginx with stub_status, plain and
self-signed HTTPS endpoints for blackbox_exporter, a Pushgateway and pushes to it, rabbitmq-server with the
rabbitmq_prometheus plugin and its own epmd. Shared by the catalogue's services (catalogue_services.py) and the
checkout example's fleet (stacks.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from .services import BIN, HERE, MARIADB_BIN, RABBITMQ_BIN, Group, port_open, wait_for


class Servers(Group):
    """A Group that can start the servers above; `replicas`: a MariaDB replica beside the primary."""

    def __init__(self, *, replicas: bool = True) -> None:
        super().__init__()
        self.replicas = replicas
        self.secret = secrets.token_hex(12)  # the MariaDB users' password, this run only
        self.rabbit_env: dict[str, str] = {}
        self.cert: Path | None = None

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

    def _start_mariadbs(self) -> None:
        """The primary ("mariadb"), and the replica ("mariadb-replica") when `replicas`."""
        self._start_mariadb("mariadb", server_id=1)
        if self.replicas:
            self._start_mariadb("mariadb-replica", server_id=2)

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

    def _wait_mariadb_replication(self) -> None:
        wait_for(self._replica_caught_up, "the MariaDB replica replicating", 60, list(self.services.values()))

    def _my_cnf(self) -> Path:
        """mysqld_exporter's credentials: [client] for /metrics (the primary) and for /probe?target=...
        &auth_module=client (the host/port come from the target), [client.replica] another auth_module."""
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

    def _make_cert(self) -> None:
        """A self-signed certificate for 127.0.0.1 and localhost (`self.cert`; blackbox's http_2xx trusts it)."""
        tls = self.dir / "tls"
        tls.mkdir()
        self.cert, self.key = tls / "cert.pem", tls / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "30", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)

    def _start_endpoint(self, name: str, *, https: bool) -> None:
        """tests/contract/endpoint.py on the port of `name`: 200 "ok" on every path (HTTPS with self.cert)."""
        tls = [str(self.cert), str(self.key)] if https else []
        self._start(name, [sys.executable, str(HERE / "endpoint.py"), str(self.port(name)), *tls])

    # --- the exporters ------------------------------------------------------------------------------------

    def _start_mysqld_exporter(self) -> None:
        self._start_exporter("mysqld_exporter", "mysqld_exporter", f"--config.my-cnf={self._my_cnf()}")

    def _start_nginx_exporter(self) -> None:
        self._start_exporter("nginx_exporter", "nginx_exporter",
                             f"--nginx.scrape-uri=http://127.0.0.1:{self.port('nginx')}/stub_status")

    def _start_blackbox_exporter(self) -> None:
        """Modules named as in blackbox_exporter's example configuration; http_2xx trusts the local certificate."""
        modules = self.dir / "blackbox.yml"
        modules.write_text(yaml.safe_dump({"modules": {
            "http_2xx": {"prober": "http", "timeout": "5s",
                         "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(self.cert)}}},
            "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}}}}))
        self._start_exporter("blackbox_exporter", "blackbox_exporter", f"--config.file={modules}")

    def _start_pushgateway(self) -> None:
        assets = BIN.parent / "root" / "usr" / "share" / "prometheus" / "pushgateway"
        self._start_exporter("pushgateway", "pushgateway",
                             *([f"--web.local-assets={assets}"] if assets.is_dir() else []))

    def push(self, job: str, instance: str, gauges: dict[str, tuple[str, float]]) -> None:
        """PUT one group (job, instance) of gauges {name: (help, value)} to the Pushgateway, as a batch job does."""
        body = "".join(f"# TYPE {name} gauge\n# HELP {name} {help_}\n{name} {value}\n"
                       for name, (help_, value) in gauges.items()).encode()
        request = urllib.request.Request(self.url("pushgateway", f"/metrics/job/{job}/instance/{instance}"),
                                         data=body, method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status in (200, 202), response.status

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
        self._wait_port("epmd")
        self._start("rabbitmq-server", [str(RABBITMQ_BIN / "rabbitmq-server")], env=self.rabbit_env)

    def _wait_rabbitmq(self) -> None:
        self._wait_http("rabbitmq-server", self.url("rabbitmq"), 120)

    def rabbitmqctl(self, *args: str) -> str:
        run = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), *args], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **self.rabbit_env}, stdin=subprocess.DEVNULL)
        if run.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {run.stdout}\n{run.stderr}")
        return run.stdout

    def _declare_queue(self, queue: str) -> None:
        """A durable classic queue (so the queue families appear), declared through rabbitmqctl eval: no AMQP
        client is needed."""
        self.rabbitmqctl("eval", f'rabbit_amqqueue:declare(rabbit_misc:r(<<"/">>, queue, <<"{queue}">>), '
                                 'true, false, [], none, <<"monstack">>).')

    def _start_amqp_client(self, queue: str) -> None:
        """A connected client (tests/contract/amqp.py): one channel, 3 published messages, a consumer holding one
        unacknowledged: the connection, channel and consumer families then have samples."""
        client = self._start("amqp-client", [sys.executable, str(HERE / "amqp.py"), str(self.port("amqp")),
                                             queue, "3"])
        wait_for(lambda: "ready" in client.tail(), "the AMQP client connected and consuming", 30, [client])
