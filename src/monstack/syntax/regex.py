"""Regular expressions as Prometheus and Alertmanager read them: Go's `regexp` package, RE2 syntax.

Python's `re` is the wrong judge both ways: it refuses `\\z` (RE2's end of text) and accepts what RE2 refuses
(look-arounds `(?!...)`, backreferences `\\1`, possessive quantifiers). The `google-re2` package (C++ RE2, whose
syntax Go's regexp implements) decides here; the few escapes C++ RE2 knows and Go does not (`\\C`) are refused
on top. Matching is anchored as both tools anchor it: `^(?s:PATTERN)$`.
"""

from __future__ import annotations

import functools
import re

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # C++ RE2 logs every parse error on stderr otherwise
_GO_ONLY_REFUSES = re.compile(r"(?<!\\)(?:\\\\)*\\C")  # `\C` (any byte): C++ RE2 has it, Go does not
MAX_LENGTH = 4096  # a label matcher is a few dozen characters; bounded so a check stays cheap


class RegexError(ValueError):
    """A pattern Go's regexp (and so Prometheus or Alertmanager) refuses; the message says why."""


def _explain(raw: str) -> str:
    if "invalid perl operator" in raw:
        return (f"{raw}: look-arounds such as (?=...) and (?!...) are Perl syntax that RE2 (Prometheus, "
                "Alertmanager) does not support")
    if "invalid escape sequence" in raw and re.search(r"\\[1-9]", raw):
        return f"{raw}: backreferences are not supported by RE2"
    return raw


@functools.lru_cache(maxsize=4096)
def compile_go(pattern: str):
    """The anchored RE2 program of `pattern`, or `RegexError` saying why Go's regexp refuses it."""
    if len(pattern) > MAX_LENGTH:
        raise RegexError(f"the pattern is {len(pattern)} characters long; at most {MAX_LENGTH}")
    if _GO_ONLY_REFUSES.search(pattern):
        raise RegexError(r"invalid escape sequence: \C (Go's RE2 has no single-byte match)")
    try:
        re2.compile(pattern, _OPTIONS)
        return re2.compile(f"^(?s:{pattern})$", _OPTIONS)
    except re2.error as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise RegexError(_explain(message.decode() if isinstance(message, bytes) else str(message))) from None


def error(pattern: str) -> str | None:
    """Why Go's regexp refuses `pattern`, or None when it is valid."""
    try:
        compile_go(pattern)
    except RegexError as exc:
        return str(exc)
    return None


def fullmatch(pattern: str, value: str) -> bool:
    """Whether `value` matches `pattern` as a Prometheus matcher or an Alertmanager `match_re` does (anchored)."""
    return compile_go(pattern).search(value) is not None
