"""The real daemons of a drill: started in their own process group on a free loopback port, always stopped.

`Daemons` is a context manager: leaving it (success, failure, timeout, Ctrl-C or SIGTERM turned into an exception
by `signals_as_exceptions`) terminates every process group it started, then kills what is left after 5 s.
"""

from __future__ import annotations

import contextlib
import shutil
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_UNUSABLE, MonstackError


DEBIAN_TEMPLATES = Path("/usr/share/prometheus/alertmanager/default.tmpl")


def alertmanager_argv(path: str) -> tuple[list[str], str | None]:
    """How to start the Alertmanager at `path`, and a note when it needs a wrapper.

    Debian's Alertmanager reads its default templates from /usr/share/prometheus/alertmanager only. When the
    binary is an unpacked package (.tools/root/usr/bin) and that file is absent, it runs in a private mount
    namespace where the package's own usr/share is bound over /usr/share (nothing changes on the machine)."""
    share = Path(path).resolve().parent.parent / "share"
    if DEBIAN_TEMPLATES.exists() or not (share / "prometheus" / "alertmanager" / "default.tmpl").exists():
        return [path], None
    unshare = shutil.which("unshare")
    if unshare is None:
        raise MonstackError.single(f"{path} is Debian's Alertmanager, which needs {DEBIAN_TEMPLATES}; it is absent "
                                   "and `unshare` (util-linux) is not available to provide it", check="drill",
                                   exit_code=EXIT_UNUSABLE)
    note = f"alertmanager runs under `unshare -rm` with {share} bound over /usr/share (Debian's default templates)"
    return [unshare, "-rm", "sh", "-c", f'mount --bind "{share}" /usr/share && exec "$0" "$@"', path], note


def free_port() -> int:
    """A loopback port nobody listens on now (the daemon binding it later is checked by its readiness)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    except OSError as exc:
        raise MonstackError.single(f"cannot get a free loopback port: {exc.strerror}", check="drill",
                                   exit_code=EXIT_UNUSABLE) from None


@dataclass
class Daemon:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class Daemons:
    def __init__(self) -> None:
        self.started: list[Daemon] = []
        self.pids: list[int] = []  # every process started, each the leader of its own session and group

    def __enter__(self) -> "Daemons":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], port: int, log: Path, ready_path: str, timeout: float = 20) -> Daemon:
        with open(log, "wb") as out:
            try:
                process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
            except OSError as exc:
                raise MonstackError.single(f"cannot run {argv[0]}: {exc.strerror}", check="drill",
                                           exit_code=EXIT_UNUSABLE) from None
        daemon = Daemon(name, port, process, log)
        self.started.append(daemon)
        self.pids.append(process.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = daemon.log_tail()
                hint = "another process may hold the port" if "address already in use" in tail else None
                raise MonstackError.single(f"{name} exited at start (code {process.returncode}): {tail}",
                                           check="drill", hint=hint)
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(daemon.url + ready_path, timeout=1) as response:
                    if response.status == 200:
                        return daemon
            time.sleep(0.1)
        raise MonstackError.single(f"{name} was not ready on 127.0.0.1:{port} within {timeout:.0f}s: "
                                   f"{daemon.log_tail()}", check="drill")

    def stop_all(self) -> None:
        for daemon in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(daemon.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for daemon in self.started:
            try:
                daemon.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(daemon.process.pid, signal.SIGKILL)
                daemon.process.wait(5)
        self.started.clear()


class Interrupted(Exception):
    """SIGTERM/SIGHUP received during a drill."""


@contextlib.contextmanager
def signals_as_exceptions():
    """SIGTERM and SIGHUP raise `Interrupted` in the main thread (Ctrl-C already raises KeyboardInterrupt), so
    that every `finally` runs and no daemon outlives the drill."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
