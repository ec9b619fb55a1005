"""promtool: `check config` and `check rules`, one call each for all rendered files."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Diagnostic
from . import Tool

# `rules/api.yml: 5:15: group "api", rule 1, "APIDown": annotation "summary": template: ...`
RULE_LINE = re.compile(r'^(?P<file>\S+\.yml):(?: \d+:\d+:)? group "(?P<group>[^"]*)", rule \d+, "(?P<rule>[^"]*)": '
                       r'(?P<message>.*)$')


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
    """What the tool reported (nothing when it passed): one diagnostic per rule it names, one for the rest."""
    if proc.returncode == 0:
        return []
    lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines()]
    lines = [line for line in lines if line and line != "FAILED:"] or [f"exit code {proc.returncode}"]
    about_rules = [line for line in lines if RULE_LINE.match(line)]
    rest = [line for line in lines if not RULE_LINE.match(line)]
    messages = about_rules + (["\n    ".join(rest)] if rest else [])
    origin = f"from {tool.name} {what} ({tool.name} {tool.version}, {tool.source}: {tool.path})"
    return [Diagnostic(m, file=f"(rendered) {target}", check=tool.name, hint=origin) for m in messages]
