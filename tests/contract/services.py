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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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


class Stack:
    """The example's scrape targets and a Prometheus scraping them; use as a context manager."""

    def __init__(self, generated: Path, *, rules_for: str = "0s", rules_interval: str = "1s") -> None:
        self.generated, self.rules_for, self.rules_interval = generated, rules_for, rules_interval
        self.dir = Path(tempfile.mkdtemp(prefix="monstack-contract-"))  # in /tmp: user postgres can enter it
        self.services: dict[str, Service] = {}
        self.ports: dict[str, int] = {}
        self.prometheus_url = ""

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _start(self, name: str, argv: list[str], **kwargs) -> Service:
        self.services[name] = Service(name, argv, self.dir, **kwargs)
        return self.services[name]

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

    def _start_postgres(self) -> None:
        pg = self.dir / "postgresql"  # owned by postgres, which refuses to run as root
        pg.mkdir()
        shutil.chown(pg, "postgres", "postgres")
        self.dir.chmod(0o711)  # postgres may pass through
        data = pg / "data"
        init = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data),
                               "-A", "trust", "-U", "postgres", "--no-sync"],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if init.returncode:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for the exporter's connection to end)
        self._start("postgresql", ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"), "-D", str(data),
                                   "-k", str(pg), "-p", str(self.ports["postgres"]),
                                   "-c", "listen_addresses=127.0.0.1"], stop_signal=signal.SIGINT)
        wait_for(lambda: port_open(self.ports["postgres"]), "PostgreSQL", 60, [self.services["postgresql"]])

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
