"""How diagnostics reach people and CI: `file:line:col: severity: path: message (check)`, the source line with a
caret, and a hint (stderr); or, on stdout, JSON, SARIF 2.1.0 or GitHub annotations.

Whatever the format, no secret reaches the output: every text goes through `checks.secrets.mask`, and the source
line of a problem in a secret field (which may hold a pasted value) is not shown."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Iterable

from .syntax.secrets import SECRET_FIELDS, mask
from .errors import Diagnostic, format_path
from .load import MAX_BYTES

_lines_cache: dict[str, list[str] | None] = {}


def _source_line(diagnostic: Diagnostic) -> str | None:
    if not diagnostic.file or diagnostic.line is None:
        return None
    if diagnostic.file not in _lines_cache:
        path = Path(diagnostic.file)
        try:
            ok = path.is_file() and path.stat().st_size <= MAX_BYTES
            text = path.read_bytes().decode("utf-8", errors="replace") if ok else None
            _lines_cache[diagnostic.file] = text.splitlines() if text is not None else None
        except OSError:
            _lines_cache[diagnostic.file] = None
    lines = _lines_cache[diagnostic.file]
    if lines and 0 < diagnostic.line <= len(lines):
        return lines[diagnostic.line - 1]
    return None


def _masked(d: Diagnostic) -> Diagnostic:
    from dataclasses import replace  # noqa: PLC0415

    return replace(d, message=mask(d.message), hint=mask(d.hint) if d.hint else d.hint,
                   file=mask(d.file) if d.file else d.file)


def text(diagnostic: Diagnostic) -> str:
    diagnostic = _masked(diagnostic)
    out = [diagnostic.headline()]
    line = _source_line(diagnostic)
    if line is not None and SECRET_FIELDS.isdisjoint(p for p in diagnostic.path if isinstance(p, str)):
        line = mask(line)
        out.append(f"    {line}")
        if diagnostic.column:
            out.append("    " + " " * (diagnostic.column - 1) + "^")
    if diagnostic.hint:
        out.append(f"    hint: {diagnostic.hint}")
    return "\n".join(out)


def as_dict(diagnostic: Diagnostic) -> dict:
    diagnostic = _masked(diagnostic)
    return {"file": diagnostic.file, "line": diagnostic.line, "column": diagnostic.column,
            "path": format_path(diagnostic.path), "message": diagnostic.message, "hint": diagnostic.hint,
            "check": diagnostic.check, "severity": diagnostic.severity}


def github(diagnostic: Diagnostic) -> str:
    diagnostic = _masked(diagnostic)
    level = {"error": "error", "note": "notice"}.get(diagnostic.severity, "warning")
    props = [f"file={_property(diagnostic.file)}"] if diagnostic.file and not diagnostic.file.startswith("(") \
        else []
    if diagnostic.line:
        props.append(f"line={diagnostic.line}")
    if diagnostic.column:
        props.append(f"col={diagnostic.column}")
    props.append(f"title=monstack {diagnostic.check}")
    message = f"{format_path(diagnostic.path)}: {diagnostic.message}" if diagnostic.path else diagnostic.message
    if diagnostic.hint:
        message += f" (hint: {diagnostic.hint})"
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} {','.join(props)}::{message}"


def _property(value: str) -> str:
    """A GitHub annotation property, escaped as the runner reads it."""
    return (value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A")
            .replace(",", "%2C"))


def sarif(diagnostics: list[Diagnostic]) -> dict:
    """A SARIF 2.1.0 log of one run: each finding a result with its rule (the check name), level and the spec's
    file, line and column; the rules are the check names that occur, with their help text."""
    from . import __version__  # noqa: PLC0415

    diagnostics = [_masked(d) for d in diagnostics]
    checks = sorted({d.check for d in diagnostics})
    results = []
    for d in diagnostics:
        text = f"{format_path(d.path)}: {d.message}" if d.path else d.message
        result: dict = {"ruleId": d.check, "ruleIndex": checks.index(d.check),
                        "level": {"error": "error", "warning": "warning"}.get(d.severity, "note"),
                        "message": {"text": text + (f" (hint: {d.hint})" if d.hint else "")}}
        if d.file and not d.file.startswith("("):
            location: dict = {"artifactLocation": {"uri": _uri(d.file)}}
            if d.line:
                location["region"] = {"startLine": d.line, **({"startColumn": d.column} if d.column else {})}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    from .check_names import DESCRIPTIONS  # noqa: PLC0415

    rules = [{"id": check, "name": check.replace("/", "-"),
              "shortDescription": {"text": DESCRIPTIONS.get(check, f"monstack check {check}")}} for check in checks]
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "monstack", "version": __version__, "rules": rules}},
                      "results": results}]}


def _uri(file: str) -> str:
    """A file as a SARIF artifact URI: relative paths stay relative (resolved against the checkout by CI)."""
    from urllib.parse import quote  # noqa: PLC0415

    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


MACHINE = ("json", "sarif", "github")  # formats written to stdout (human text goes to stderr)


def emit(diagnostics: Iterable[Diagnostic], fmt: str, stream: IO[str]) -> None:
    """Write the diagnostics: text to `stream`; a machine format to stdout, whatever `stream` is (one document for
    json and sarif, so `monstack validate --format json | jq` works whether the spec is valid or not)."""
    diagnostics = list(diagnostics)
    if fmt in MACHINE:
        stream = sys.stdout
    if fmt == "json":
        stream.write(json.dumps([as_dict(d) for d in diagnostics], indent=2) + "\n")
        return
    if fmt == "sarif":
        stream.write(json.dumps(sarif(diagnostics), indent=2) + "\n")
        return
    for d in diagnostics:
        stream.write((github(d) if fmt == "github" else text(d)) + "\n")
    errors = sum(d.severity == "error" for d in diagnostics)
    if errors and fmt == "text":
        warnings = sum(d.severity == "warning" for d in diagnostics)
        stream.write(f"{errors} error{'s' * (errors != 1)}"
                     + (f", {warnings} warning{'s' * (warnings != 1)}" if warnings else "") + "\n")


def say(message: str, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(mask(message) + "\n")
