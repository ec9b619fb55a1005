"""Step 1 of the pipeline: read a spec file into plain data plus the source position of every node.

PyYAML alone is not safe enough for a tool run on every commit:
- it silently keeps the last of two duplicate keys: here that is an error at the second key;
- it expands aliases lazily, so an "alias bomb" explodes in whoever walks the data: here the walk that builds
  the data counts nodes and stops at `MAX_NODES`;
- it spends seconds per megabyte: files over `MAX_BYTES` are refused before parsing;
- it honours YAML tags (`!!float "text"` raises, `!!binary` makes bytes, `!vault`/`!include` have no
  constructor): here a tag other than `!!str` (and the implicit ones) is an error at its position;
- a double-quoted escape can make any code point, a lone surrogate (`"\ud800"`, which no UTF-8 writer can
  encode) or a control character that breaks the YAML, JSON and notifications monstack writes: refused here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re

import yaml

from .errors import EXIT_UNUSABLE, Diagnostic, MonstackError, Path_

MAX_BYTES = 1024 * 1024  # a spec is a few KiB; 1 MiB is generous and still parses in well under a second
MAX_NODES = 100_000  # nodes after alias expansion

_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")}
# Lone surrogates, and control characters other than tab and newline (C0, DEL, C1).
_BAD_CHAR = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Source:
    """A loaded document: its data, and where each YAML path starts in the file."""

    file: str
    text: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # path -> (line, col) of the value
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # path -> (line, col) of the mapping key
    # paths of things the spec did not write but generated (an SLO's burn-rate alerts) -> the path that did
    aliases: dict[Path_, Path_] = field(default_factory=dict)

    def alias(self, generated: Path_, written: Path_) -> None:
        """Report what is found at `generated` (and below it) at `written`, the spec element it comes from."""
        self.aliases[tuple(generated)] = tuple(written)

    def written(self, path: Path_) -> tuple:
        """`path` with a generated prefix replaced by the spec path it comes from."""
        path = tuple(path)
        for size in range(len(path), 0, -1):
            if path[:size] in self.aliases:
                return self.aliases[path[:size]] + path[size:]
        return path

    def position(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        """The nearest known position of `path` (walking up to its parents when it has none)."""
        path = self.written(path)
        while True:
            table = (self.keys, self.values) if key else (self.values, self.keys)
            for positions in table:
                if path in positions:
                    return positions[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def diagnostic(self, path: Path_, message: str, *, key: bool = False, **kwargs: Any) -> Diagnostic:
        path = self.written(path)
        line, col = self.position(path, key=key)
        return Diagnostic(message, file=self.file, line=line, column=col, path=path, **kwargs)

    def source_line(self, line: int | None) -> str | None:
        if line is None:
            return None
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None


def read_text(path: Path, display: str) -> str:
    """Read and decode a spec file, refusing what cannot be a spec before any parsing."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise MonstackError.single("not a regular file", file=display, check="read", exit_code=EXIT_UNUSABLE)
        if size > MAX_BYTES:
            raise MonstackError.single(
                f"file is {size:,} bytes; a spec may be at most {MAX_BYTES:,} bytes",
                file=display, check="read", exit_code=EXIT_UNUSABLE,
                hint="a spec describes a stack in a few KiB; split generated or pasted data out of it",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MonstackError.single("no such file", file=display, check="read", exit_code=EXIT_UNUSABLE) from None
    except OSError as exc:
        raise MonstackError.single(
            f"cannot read: {exc.strerror}", file=display, check="read", exit_code=EXIT_UNUSABLE
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise MonstackError.single(
            f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
            file=display, line=line, column=col, check="yaml", hint="save the spec as UTF-8",
        ) from None


def load_file(path: Path, display: str | None = None) -> Source:
    display = display or str(path)
    return load_text(read_text(path, display), display)


def load_text(text: str, file: str = "<input>") -> Source:
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "malformed YAML"
        start = exc.context_mark
        if start is not None and mark is not None and (start.line, start.column) != (mark.line, mark.column):
            message += f" (the construct started at line {start.line + 1}, column {start.column + 1})"
        raise MonstackError.single(
            f"malformed YAML: {message}", file=file, check="yaml",
            line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML marks nearly everything
        raise MonstackError.single(f"malformed YAML: {exc}", file=file, check="yaml") from None
    except RecursionError:
        raise MonstackError.single("the document is nested too deeply", file=file, check="yaml") from None
    if node is None:
        raise MonstackError.single(
            "the file is empty" + (" (only comments)" if text.strip() else ""), file=file, line=1, column=1,
            check="yaml",
            hint="start from `monstack init`, which writes a commented starter spec",
        )
    source = Source(file=file, text=text, data=None)
    builder = _Builder(source)
    try:
        source.data = builder.build(node, ())
    except RecursionError:
        raise MonstackError.single("the document is nested too deeply", file=file, check="yaml") from None
    if builder.problems:
        raise MonstackError(builder.problems)
    if not isinstance(source.data, dict):
        raise MonstackError.single(
            f"the document is a {_kind(source.data)}, expected a mapping (version:, project:, targets:, ...)",
            file=file, line=node.start_mark.line + 1, column=node.start_mark.column + 1, check="yaml",
        )
    return source


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "scalar")


class _Builder:
    """Turns a composed YAML node graph into Python data, recording positions and rejecting duplicates."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.count = 0
        self.problems: list[Diagnostic] = []
        self.constructor = yaml.SafeLoader("")  # for scalar resolution (ints, floats, bools, nulls)
        self._merged: dict[int, list[tuple[yaml.Node, yaml.Node]]] = {}

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            mark = node.start_mark
            raise MonstackError.single(
                f"the document expands to more than {MAX_NODES:,} nodes (an alias bomb?)",
                file=self.source.file, line=mark.line + 1, column=mark.column + 1, check="yaml",
                hint="anchors and aliases may repeat small parts; a spec never needs that many nodes",
            )
        self.source.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if not self._tag_ok(node, path):
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag == _YAML + "str":
            value: Any = node.value  # `!!str 5` (or any quoted or plain text resolved as a string)
        else:
            try:
                value = self.constructor.construct_object(node, deep=True)
            except (ValueError, TypeError, yaml.YAMLError):  # e.g. a timestamp that is no date
                self._problem(node, path, f"cannot read {node.value!r} as a {node.tag.rsplit(':', 1)[-1]}",
                              "quote it to make it a string")
                return None
        if isinstance(value, str) and (bad := _BAD_CHAR.search(value)):
            self._bad_char(node, path, bad.group())
            return None
        return value

    def _bad_char(self, node: yaml.Node, path: Path_, char: str) -> None:
        code = f"U+{ord(char):04X}"
        if 0xD800 <= ord(char) <= 0xDFFF:
            self._problem(node, path, f"a lone surrogate ({code}) is not a character: it cannot be written as "
                          "UTF-8", "a \\uD800-\\uDFFF escape must be one half of a pair; write the character itself")
        else:
            self._problem(node, path, f"control character {code} in a string: it would break the files, "
                          "queries and notifications made from it",
                          "remove it (a newline is written \\n, a tab \\t)")

    def _tag_ok(self, node: yaml.Node, path: Path_) -> bool:
        """Plain YAML only: implicit types and `!!str`; any other explicit tag is an error at its position."""
        if node.tag in _PLAIN_TAGS:
            if isinstance(node, yaml.ScalarNode) and node.tag != _YAML + "str":
                implicit = self.constructor.resolve(yaml.ScalarNode, node.value, (True, False))
                if node.tag != implicit and not (node.tag == _YAML + "merge" or implicit == node.tag):
                    short = "!!" + node.tag.rsplit(":", 1)[-1]
                    self._problem(node, path, f"YAML tag {short} on {node.value!r}: monstack reads plain YAML, "
                                  "the type comes from each field", "drop the tag (quote the value for a string)")
                    return False
            return True
        tag = node.tag.replace(_YAML, "!!")
        if tag == "!include":
            hint = "includes are not supported yet: put the whole spec in one file (anchors and aliases can share parts)"
        elif tag.startswith("!!"):
            hint = "drop the tag: the type comes from each field (quote a value to make it a string)"
        else:
            hint = ("monstack reads plain YAML, without custom tags; a secret is a reference: `{env: NAME}` or "
                    "`{file: /path}`")
        self._problem(node, path, f"unsupported YAML tag {tag!r}", hint)
        return False

    def _problem(self, node: yaml.Node, path: Path_, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(Diagnostic(message, file=self.source.file, line=mark.line + 1, column=mark.column + 1,
                                        path=path, check="yaml", hint=hint))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in self._pairs(node):
            key = None
            if isinstance(key_node, yaml.ScalarNode) and self._tag_ok(key_node, path):
                key = self._scalar(key_node, path)
                if key is None:
                    continue  # reported
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                self.problems.append(Diagnostic(
                    "mapping keys must be plain strings", file=self.source.file, line=line, column=col,
                    path=path, check="yaml"))
                continue
            key = str(key)
            if key in out:
                first = self.source.keys.get(path + (key,))
                where = f" (first at line {first[0]})" if first else ""
                self.problems.append(Diagnostic(
                    f"duplicate key {key!r}{where}", file=self.source.file, line=line, column=col,
                    path=path + (key,), check="yaml", hint="YAML keeps only one of them: remove or rename one"))
                continue
            self.source.keys[path + (key,)] = (line, col)
            out[key] = self.build(value_node, path + (key,))
        return out

    def _pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value pairs, with YAML merge keys (`<<: *base`) expanded; explicit keys win over merged ones.

        Each mapping's expansion is computed once (an alias used many times costs nothing more) and every merged
        pair counts towards MAX_NODES, so nested merges cannot blow up either.
        """
        if id(node) in self._merged:
            return self._merged[id(node)]
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(self._pairs(src))
            else:
                own.append((key_node, value_node))
        self.count += len(merged)
        if self.count > MAX_NODES:
            mark = node.start_mark
            raise MonstackError.single(
                f"the document expands to more than {MAX_NODES:,} nodes (merge keys nested too deeply?)",
                file=self.source.file, line=mark.line + 1, column=mark.column + 1, check="yaml")
        taken = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        for key_node, value_node in merged:  # the first merged mapping that has a key wins, as in YAML 1.1
            if getattr(key_node, "value", None) not in taken:
                taken.add(key_node.value)
                own.append((key_node, value_node))
        self._merged[id(node)] = own
        return own
