"""VictoriaMetrics' vmalert and vmalert-tool: `vmalert -dryRun` on the rendered rule files (MetricsQL's parser and
vmalert's template checks), and `vmalert-tool unittest` on test files (see proof/vmalert.py for the conversion).

vmalert stops at its first fatal error with one log line that lists every invalid group, e.g.
`... fatal ... failed to parse "[...]": errors(1): \ninvalid group "api" in file "/x/rules/api.yml": invalid
expression for rule "Down": bad MetricsQL expr: ...`. Each becomes one diagnostic in promtool's rule-line form
(`rules/api.yml: group "api", rule 1, "Down": ...`), so the pipeline moves it to the alert's line in the spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import Diagnostic
from . import Tool, find  # noqa: F401 - find("vmalert"), find("vmalert-tool") are this module's lookup

INVALID_GROUP = re.compile(r'invalid group "(?P<group>[^"]*)" in file "(?P<file>[^"]*)": (?P<message>.*)')
INVALID_RULE = re.compile(r'^invalid (?P<what>[\w ]*?) ?for rule "(?P<rule>[^"]*)": ?(?P<message>.*)$')


def dry_run(tool: Tool, files: list[Path], cwd: Path) -> list[Diagnostic]:
    """`vmalert -dryRun -rule=<file> ...` for every rendered rule file in one call."""
    if not files:
        return []
    proc = tool.run("-dryRun", "-loggerLevel=ERROR", *[f"-rule={f.relative_to(cwd).as_posix()}" for f in files],
                    cwd=cwd)
    if proc.returncode == 0:
        return []
    origin = f"from vmalert -dryRun (vmalert {tool.version}, {tool.source}: {tool.path})"
    return [Diagnostic(_as_rule_line(cwd, message), file="(rendered) rules", check="vmalert", hint=origin)
            for message in _errors(proc.stderr or proc.stdout) or [f"exit code {proc.returncode}"]]


def _errors(text: str) -> list[str]:
    """The errors vmalert listed after `errors(N):`, each with its continuation lines; else its fatal line."""
    head, sep, rest = text.partition("): \n") if re.search(r"errors\(\d+\): \n", text) else ("", "", "")
    if sep:
        out: list[str] = []
        for line in rest.splitlines():
            if not line.strip():
                continue
            if out and not re.match(r"^(invalid group|failed to parse)", line):
                out[-1] += " " + line.strip()
            else:
                out.append(line.strip())
        return out
    lines = [re.sub(r"^\S+\s+(fatal|error)\s+\S+\s+", "", line).strip() for line in text.splitlines()]
    return ["\n    ".join(line for line in lines if line and not re.match(r"^\S+\s+info\s", line))]


def _as_rule_line(cwd: Path, message: str) -> str:
    match = INVALID_GROUP.match(message)
    if not match:
        return message
    file = Path(match["file"])
    shown = (file.relative_to(cwd) if file.is_absolute() and file.is_relative_to(cwd) else file).as_posix()
    return _rule_line(cwd / file, shown, match["group"], match["message"].strip())


def _rule_line(path: Path, shown: str, group: str, message: str) -> str:
    """promtool's form of a rule's complaint, with the rule's number in its group (1-based, as promtool counts)."""
    match = INVALID_RULE.match(message)
    if not match:
        return f"{shown}: group {group!r}: {message}"
    number = 0
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rules = next((g.get("rules") or [] for g in doc.get("groups") or [] if g.get("name") == group), [])
        number = next((i + 1 for i, r in enumerate(rules) if match["rule"] in (r.get("alert"), r.get("record"))), 0)
    except (OSError, yaml.YAMLError, AttributeError):
        pass
    key = re.search(r'\(key: "(\w+)"', match["message"]) if match["what"] == "annotations" else None
    what = f'annotation "{key[1]}"' if key else f"invalid {match['what']}"  # the pipeline points at the field
    return f'{shown}: group "{group}", rule {number}, "{match["rule"]}": {what}: {match["message"]}'


@dataclass
class UnitRun:
    file: Path
    ok: bool
    output: str  # vmalert-tool's report for this file (empty when it passed)


def unittest(tool: Tool, file: Path) -> UnitRun:
    """`vmalert-tool unittest --files <file>`: one file a call, since vmalert-tool stops at the first failing file.
    `--disableAlertgroupLabel`: alerts carry the labels Prometheus gives them (no `alertgroup`)."""
    proc = tool.run("unittest", "--disableAlertgroupLabel", f"--files={file.name}", cwd=file.parent)
    output = (proc.stdout + proc.stderr).strip()
    return UnitRun(file, proc.returncode == 0, "" if proc.returncode == 0 else output)
