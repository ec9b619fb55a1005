"""Step 7: the real external tools (promtool, amtool, docker-compose, vmalert), found, versioned and run in batches.

Lookup order for a tool: an explicit path (a CLI flag), the environment variable `MONSTACK_<TOOL>` (e.g.
MONSTACK_PROMTOOL), `$MONSTACK_TOOLS_DIR/bin`, `.tools/bin` in the current folder or any parent (where
scripts/install-tools.sh puts them), then PATH. `Tool.source` says which one was used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_UNUSABLE, MonstackError

# tool -> (names to look for on PATH, minimum version, version command)
KNOWN: dict[str, tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]] = {
    "promtool": (("promtool",), (3, 5, 0), ("--version",)),
    "amtool": (("amtool",), (0, 33, 0), ("--version",)),
    "prometheus": (("prometheus",), (3, 5, 0), ("--version",)),
    "alertmanager": (("alertmanager", "prometheus-alertmanager"), (0, 33, 0), ("--version",)),
    "docker-compose": (("docker-compose",), (2, 40, 0), ("version", "--short")),
    # VictoriaMetrics (scripts/install-tools.sh --victoriametrics); Debian's builds print no version (no command:
    # it is read from the package's changelog beside the binary)
    "vmalert": (("vmalert",), (1, 145, 0), ()),
    "vmalert-tool": (("vmalert-tool",), (1, 145, 0), ()),
    "victoria-metrics": (("victoria-metrics",), (1, 145, 0), ()),
}
OPTIONAL = frozenset({"vmalert", "vmalert-tool", "victoria-metrics"})  # a second engine: missing is no failure
TIMEOUT = 120


@dataclass(frozen=True)
class Tool:
    name: str
    path: str
    source: str  # flag | env | tools-dir | PATH
    version: str | None

    @property
    def version_ok(self) -> bool:
        minimum = KNOWN[self.name][1]
        return self.version is not None and parse_version(self.version) >= minimum

    def run(self, *args: str, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([self.path, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise MonstackError.single(f"{self.name} did not finish within {TIMEOUT}s", check=self.name) from None
        except OSError as exc:
            raise MonstackError.single(f"cannot run {self.path}: {exc.strerror}", check=self.name,
                                       exit_code=EXIT_UNUSABLE) from None


def parse_version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in match.groups()) if match else (0,)


def _tools_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("MONSTACK_TOOLS_DIR"):
        dirs.append(Path(os.environ["MONSTACK_TOOLS_DIR"]) / "bin")
    here = Path.cwd().resolve()
    dirs += [folder / ".tools" / "bin" for folder in (here, *here.parents)]
    return dirs


def _candidates(name: str, explicit: str | None):
    names = KNOWN[name][0]
    if explicit:
        yield explicit, "flag"
    env = os.environ.get(env_var(name))
    if env:
        yield env, "env"
    for folder in _tools_dirs():
        for n in names:
            if (folder / n).exists():
                yield str(folder / n), "tools-dir"
    for n in names:
        found = shutil.which(n)
        if found:
            yield found, "PATH"


def env_var(name: str) -> str:
    """The environment variable naming a tool's path: MONSTACK_PROMTOOL, MONSTACK_DOCKER_COMPOSE, ..."""
    return "MONSTACK_" + name.upper().replace("-", "_")


def find(name: str, explicit: str | None = None) -> Tool | None:
    """The first usable candidate for `name`, with its version; None when there is none."""
    for path, source in _candidates(name, explicit):
        if not os.access(path, os.X_OK):
            if source in ("flag", "env"):
                raise MonstackError.single(f"{name}: {path} (from {source}) is not an executable file",
                                           check="tools", exit_code=EXIT_UNUSABLE)
            continue
        try:
            if KNOWN[name][2]:
                proc = subprocess.run([path, *KNOWN[name][2]], capture_output=True, text=True, timeout=30,
                                      stdin=subprocess.DEVNULL)
                text = proc.stdout + proc.stderr
            else:
                text = _debian_changelog_version(Path(path), "victoria-metrics")
            version = ".".join(map(str, parse_version(text))) or None
        except (OSError, subprocess.TimeoutExpired):
            version = None
        return Tool(name, path, source, version if version != "0" else None)
    return None


def _debian_changelog_version(binary: Path, package: str) -> str:
    """The version on the first line of the package's changelog (`victoriametrics (1.145.0+ds1-2) unstable; ...`),
    found beside the binary as dpkg lays it out: <prefix>/bin/x and <prefix>/share/doc/<package>/."""
    import gzip  # noqa: PLC0415

    log = binary.resolve().parent.parent / "share" / "doc" / package / "changelog.Debian.gz"
    try:
        with gzip.open(log, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.readline()
    except (OSError, EOFError):
        return ""


def minimum(name: str) -> str:
    return ".".join(map(str, KNOWN[name][1]))
