"""promtool: `check config` and `check rules`, one call each for all rendered files."""

from __future__ import annotations

from pathlib import Path

from ..errors import Diagnostic
from . import Tool


def check_config(tool: Tool, config: Path) -> list[Diagnostic]:
    """prometheus.yml, with existence checks of the files it names (rule files, credentials)."""
    proc = tool.run("check", "config", "--lint=all", "--lint-fatal", config.name, cwd=config.parent)
    return failure(tool, "check config", proc, config.name)


def check_rules(tool: Tool, files: list[Path], cwd: Path) -> list[Diagnostic]:
    """Every rule file in one call; `--lint=all --lint-fatal` also fails on duplicate rules."""
    if not files:
        return []
    proc = tool.run("check", "rules", "--lint=all", "--lint-fatal",
                    *[f.relative_to(cwd).as_posix() for f in files], cwd=cwd)
    return failure(tool, "check rules", proc, "rules")


def failure(tool: Tool, what: str, proc, target: str) -> list[Diagnostic]:
    if proc.returncode == 0:
        return []
    lines = [line.rstrip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
    return [Diagnostic(f"{tool.name} {what} failed ({tool.name} {tool.version} from {tool.source}: {tool.path}):\n"
                       + "\n".join(f"    {line.strip()}" for line in lines),
                       file=f"(rendered) {target}", check=tool.name)]
