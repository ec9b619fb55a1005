"""The one error type of monstack, and the diagnostics it carries.

Every step of the pipeline reports problems as `Diagnostic`s (file, line, column, YAML path, message, hint) and
raises a single `MonstackError` holding all of them, so `validate` can show every problem at once.
`cli.py` is the only place that turns a `MonstackError` into text and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

# Exit codes, shared by every command.
EXIT_OK = 0
EXIT_FINDINGS = 1  # the input was read, and something in it is wrong
EXIT_UNUSABLE = 2  # the input could not be read at all, or the command was misused

Path_ = tuple[str | int, ...]


def format_path(path: Path_) -> str:
    """`("alerts", 3, "for")` -> `alerts[3].for`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class Diagnostic:
    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: Path_ = ()
    hint: str | None = None
    check: str = "spec"  # which step found it: yaml, spec, model, promql, promtool, amtool, ...
    severity: str = "error"  # error | warning

    def location(self) -> str:
        parts = [self.file or "monstack"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def headline(self) -> str:
        where = format_path(self.path)
        text = f"{where}: {self.message}" if where else self.message
        return f"{self.location()}: {self.severity}: {text} ({self.check})"


@dataclass
class MonstackError(Exception):
    """Raised with every diagnostic found; `exit_code` says whether the input was unusable (2) or wrong (1)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    exit_code: int = EXIT_FINDINGS

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        return "; ".join(d.headline() for d in self.diagnostics) or "monstack failed"

    @classmethod
    def single(cls, message: str, *, exit_code: int = EXIT_FINDINGS, **kwargs) -> "MonstackError":
        return cls([Diagnostic(message, **kwargs)], exit_code=exit_code)


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]
