"""The machinery of the metrics-contract suite's real services on loopback: each program runs in its own process
group and is always stopped (the group is signalled, then killed), so that no test leaves an orphan behind.

`Group` is the base of every set of services started together (a context manager, one temporary folder, free
ports by name) and starts the parts more than one set uses: an exporter from .tools/bin, PostgreSQL, redis-server,
Alertmanager and Prometheus. The sets themselves: tests/contract/servers.py (MariaDB, nginx, endpoints, RabbitMQ
and their exporters), catalogue_services.py (every kind, for the catalogue), stacks.py (the examples' generated
prometheus.yml against real exporters).
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
MARIADB_BIN = Path("/usr/sbin/mariadbd")
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
HERE = Path(__file__).resolve().parent


def absent(tools: tuple[str, ...] = (), paths: tuple[Path, ...] = (), commands: tuple[str, ...] = ()) -> list[str]:
    """Which of these programs (names in .tools/bin, paths, commands on PATH) are not executable here."""
    needed = [BIN / name for name in tools] + list(paths) + [Path(shutil.which(c) or c) for c in commands]
    return [str(p) for p in needed if not (p.is_file() and os.access(p, os.X_OK))]


def without_prometheus_client() -> list[str]:
    try:
        import prometheus_client  # noqa: F401, PLC0415
    except ImportError:
        return ["prometheus_client (pip install -e '.[test]')"]
    return []


def require(missing: list[str], needs: str) -> None:
    """Skip the calling test when programs are `missing`; fail instead when MONSTACK_CONTRACT_REQUIRED is set
    (CI installs them all)."""
    import pytest  # noqa: PLC0415

    if missing and os.environ.get("MONSTACK_CONTRACT_REQUIRED"):
        pytest.fail("MONSTACK_CONTRACT_REQUIRED is set and these are missing: " + ", ".join(missing))
    if missing:
        pytest.skip(f"{needs}: " + ", ".join(missing))


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

    def alive(self) -> bool:
        """Is anything of its process group still there (the program, or what it started)?"""
        return group_alive(self.proc.pid)

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
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_alive(pgid):
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


def group_alive(pgid: int) -> bool:
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

    def leftovers(self) -> list[str]:
        """The services whose process group outlived close() (a leak check of what this group started)."""
        return [name for name, service in self.services.items() if service.alive()]

    def _start(self, name: str, argv: list[str], **kwargs) -> Service:
        self.services[name] = Service(name, argv, self.dir, **kwargs)
        return self.services[name]

    def port(self, name: str) -> int:
        """The loopback port of `name`, picked free on first use."""
        if name not in self.ports:
            self.ports[name] = free_port()
        return self.ports[name]

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.port(name)}"

    def url(self, name: str, path: str = "/metrics") -> str:
        return f"http://{self.address(name)}{path}"

    def _wait_http(self, name: str, url: str, timeout: float = 30) -> None:
        wait_for(lambda: http_ok(url), f"{name} at {url}", timeout, list(self.services.values()))

    def _wait_port(self, name: str, timeout: float = 30) -> None:
        wait_for(lambda: port_open(self.port(name)), f"{name} on :{self.port(name)}", timeout, [self.services[name]])

    def _start_exporter(self, name: str, program: str, *args: str, env: dict | None = None) -> Service:
        """.tools/bin/PROGRAM listening on the loopback port of `name`."""
        return self._start(name, [str(BIN / program), f"--web.listen-address={self.address(name)}", *args], env=env)

    def _start_standin(self, name: str, spec: Path, target: str | None = None) -> Service:
        """tests/contract/standin.py: the spec's declared metrics (of `target`), on the port of `name`."""
        return self._start(name, [sys.executable, str(HERE / "standin.py"), str(spec), str(self.port(name)),
                                  *([target] if target else [])])

    # --- PostgreSQL, Redis ------------------------------------------------------------------------------------

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

    def _start_redis(self, name: str = "redis-server", *extra: str) -> None:
        self._start(name, ["redis-server", "--port", str(self.port(name)), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", str(self.dir), "--dbfilename", f"{name}.rdb", *extra])

    # --- Alertmanager, Prometheus -----------------------------------------------------------------------------

    def _start_alertmanager(self, config: dict, *, cluster: bool = False) -> None:
        """Alertmanager on the port of "alertmanager"; a cluster of one (as deployed) when `cluster`, else none."""
        am = self.dir / "alertmanager"
        am.mkdir()
        (am / "alertmanager.yml").write_text(yaml.safe_dump(config))
        peer = f"127.0.0.1:{self.port('alertmanager-cluster')}" if cluster else ""
        self._start("alertmanager", alertmanager_argv() + [
            f"--config.file={am / 'alertmanager.yml'}", f"--storage.path={am / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port('alertmanager')}", f"--cluster.listen-address={peer}"])

    def _start_prometheus(self, config: Path) -> None:
        """Prometheus with `config` (its data beside it) on the port of "prometheus", waited for until ready."""
        self._start("prometheus", [str(BIN / "prometheus"), f"--config.file={config}",
                                   f"--storage.tsdb.path={config.parent / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{self.port('prometheus')}"])
        self._wait_http("prometheus", self.url("prometheus", "/-/ready"), 60)
