"""amtool: `check-config` on the rendered alertmanager.yml."""

from __future__ import annotations

from pathlib import Path

from ..errors import Diagnostic
from . import Tool
from .promtool import failure


def check_config(tool: Tool, config: Path) -> list[Diagnostic]:
    proc = tool.run("check-config", config.name, cwd=config.parent)
    if proc.returncode != 0 and "FAILED" in proc.stdout:  # amtool prints the reason on stdout
        proc.stderr = "\n".join(line for line in proc.stdout.splitlines() if "FAILED" in line)
    return failure(tool, "check-config", proc, config.name)
