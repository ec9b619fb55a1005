"""Go `text/template` syntax, checked in-process as Go's parser checks it (Prometheus parses alert annotations
and labels with it, Alertmanager its notification fields), so a bad template is refused in milliseconds at the
spec's line instead of by promtool (slowly) or by Alertmanager at notification time (silently).

What is checked, as `text/template/parse` does: actions `{{ ... }}` closed; trim markers `{{- ` and ` -}}`;
comments `{{/* ... */}}` closed and alone in their action; strings, raw strings and characters terminated;
parentheses balanced; `if`/`range`/`with`/`define`/`block` closed by `end`, `else` only inside them (and once),
`break`/`continue` only inside `range`; no empty command or pipeline stage; variables declared before use; and,
where the function set is known (Prometheus), functions defined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GO_BUILTINS = frozenset({"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
                         "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"})
# Prometheus 3.5's template functions (template/template.go); a function missing here would be refused wrongly,
# so the list is checked against promtool 3.5 (tests/test_gotemplate_check.py).
PROMETHEUS_FUNCTIONS = GO_BUILTINS | {
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix",
    "externalURL", "parseDuration", "stripPort", "stripDomain"}
# What Prometheus declares before expanding an alert's annotation or label.
PROMETHEUS_VARIABLES = frozenset({"$labels", "$externalLabels", "$externalURL", "$value"})

KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "block", "template", "break", "continue",
                      "nil", "true", "false"})
BLOCKS = frozenset({"if", "range", "with", "define", "block"})
MAX_LENGTH = 64 * 1024
_NUMBER = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?"
                     r"|\.[0-9_]+([eE][+-]?[0-9]+)?)i?")


class TemplateError(ValueError):
    """A template Go's parser refuses; `offset` is where in the text (0-based)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: str  # word | var | field | string | number | char | pipe | lparen | rparen | declare | assign | comma
    text: str
    offset: int


@dataclass
class _Block:
    keyword: str
    offset: int
    has_else: bool = False


def check(text: str, *, functions: frozenset[str] | None = PROMETHEUS_FUNCTIONS,
          variables: frozenset[str] = PROMETHEUS_VARIABLES) -> None:
    """Raise `TemplateError` when Go's template parser would refuse `text`. `functions=None` skips the function
    check (a set not known here)."""
    if len(text) > MAX_LENGTH:
        raise TemplateError(f"the text is {len(text)} characters long; at most {MAX_LENGTH}", 0)
    stack: list[_Block] = []
    scopes: list[set[str]] = [set(variables) | {"$"}]
    for start, tokens in _actions(text):
        _action(tokens, start, stack, scopes, functions)
    if stack:
        block = stack[-1]
        raise TemplateError(f"{{{{{block.keyword}}}}} is never closed: add {{{{end}}}}", block.offset)


def error(text: str, **kwargs) -> str | None:
    """Why Go's template parser refuses `text` (with where), or None."""
    try:
        check(text, **kwargs)
    except TemplateError as exc:
        return f"{exc} (at character {exc.offset + 1})"
    return None


def has_actions(text: str) -> bool:
    return "{{" in text


# --- lexing -------------------------------------------------------------------------------------------------

def _actions(text: str):
    """(offset of `{{`, tokens) for every action that is not a comment."""
    i = 0
    while True:
        start = text.find("{{", i)
        if start < 0:
            return
        j = start + 2
        if text.startswith("-", j) and j + 1 < len(text) and text[j + 1] in " \t\r\n":
            j += 2  # a left trim marker
        if text.startswith("/*", j):  # a comment starts right after the delimiter (and its trim marker)
            i = _comment(text, start, j)
            continue
        tokens, i = _lex_action(text, start, j)
        yield start, tokens


def _comment(text: str, start: int, j: int) -> int:
    end = text.find("*/", j + 2)
    if end < 0:
        raise TemplateError("unclosed comment: `/*` without `*/`", start)
    k = end + 2
    if text.startswith("}}", k):
        return k + 2
    if text.startswith(" -}}", k) or (k < len(text) and text[k] in " \t\r\n" and text[k + 1:k + 4] == "-}}"):
        return k + 4
    raise TemplateError("a comment must end its action: write `*/}}`", end)


def _lex_action(text: str, start: int, i: int) -> tuple[list[Token], int]:
    tokens: list[Token] = []
    depth = 0
    n = len(text)
    while True:
        if i >= n:
            raise TemplateError("unclosed action: `{{` without `}}`", start)
        c = text[i]
        if c in " \t\r\n":
            j = i
            while j < n and text[j] in " \t\r\n":
                j += 1
            if text.startswith("-}}", j):
                i = j + 3
                break
            i = j
            continue
        if text.startswith("}}", i):
            i += 2
            break
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\n":
                    break
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != '"':
                raise TemplateError("unterminated quoted string", i)
            tokens.append(Token("string", text[i:j + 1], i))
            i = j + 1
        elif c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise TemplateError("unterminated raw quoted string", i)
            tokens.append(Token("string", text[i:j + 1], i))
            i = j + 1
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'" and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != "'" or j == i + 1:
                raise TemplateError("unterminated character constant", i)
            tokens.append(Token("char", text[i:j + 1], i))
            i = j + 1
        elif c == "(":
            depth += 1
            tokens.append(Token("lparen", c, i))
            i += 1
        elif c == ")":
            if depth == 0:
                raise TemplateError("unexpected right paren `)`", i)
            depth -= 1
            tokens.append(Token("rparen", c, i))
            i += 1
        elif c == "|":
            tokens.append(Token("pipe", c, i))
            i += 1
        elif c == ",":
            tokens.append(Token("comma", c, i))
            i += 1
        elif text.startswith(":=", i):
            tokens.append(Token("declare", ":=", i))
            i += 2
        elif c == "=":
            tokens.append(Token("assign", "=", i))
            i += 1
        elif c == "$" or c == ".":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            kind = "var" if c == "$" else "field"
            if c == "." and j == i + 1 and j < n and text[j].isdigit():
                kind = "number"
            tokens.append(Token(kind, text[i:j], i))
            i = j
        elif c.isdigit() or (c in "+-" and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "._+-") and not text.startswith("-}}", j):
                if text[j] in "+-" and text[j - 1] not in "eEpP":
                    break
                j += 1
            if not _NUMBER.fullmatch(text[i:j]):
                raise TemplateError(f"bad number syntax: {text[i:j]!r}", i)
            tokens.append(Token("number", text[i:j], i))
            i = j
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("word", text[i:j], i))
            i = j
        else:
            raise TemplateError(f"unrecognized character in action: {c!r}", i)
        # a field chain goes on without spaces: `$labels.instance`, `(x).Y`
        while i < n and text[i] == "." and tokens and tokens[-1].kind in ("var", "field", "rparen", "word"):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if j == i + 1:
                raise TemplateError("a field name must follow `.`", i)
            i = j
    if depth:
        raise TemplateError("unclosed left paren `(`", start)
    return tokens, i


# --- parsing ------------------------------------------------------------------------------------------------

def _action(tokens: list[Token], start: int, stack: list[_Block], scopes: list[set[str]],
            functions: frozenset[str] | None) -> None:
    if not tokens:
        raise TemplateError("empty action `{{ }}`: missing value for command", start)
    head = tokens[0]
    word = head.text if head.kind == "word" else None
    rest = tokens[1:]
    if word in ("if", "with", "range", "block", "define"):
        if word in ("define", "block"):
            if not rest or rest[0].kind != "string":
                raise TemplateError(f"{{{{{word}}}}} needs a template name in quotes", head.offset)
            if word == "define":
                if stack:
                    raise TemplateError("{{define}} is only allowed at the top level", head.offset)
                if len(rest) > 1:
                    raise TemplateError("unexpected text after the name in {{define}}", rest[1].offset)
                stack.append(_Block(word, start))
                scopes.append({"$"})
                return
            rest = rest[1:]
        stack.append(_Block(word, start))
        scopes.append(set())
        _pipeline(rest, head, scopes, functions, allow_two=word == "range", required=word != "block")
        return
    if word == "else":
        if not stack or stack[-1].keyword not in ("if", "with", "range"):
            raise TemplateError("{{else}} outside {{if}}, {{with}} or {{range}}", head.offset)
        if stack[-1].has_else:
            raise TemplateError("a second {{else}}: expected {{end}}", head.offset)
        if rest and rest[0].kind == "word" and rest[0].text in ("if", "with"):
            if rest[0].text != stack[-1].keyword:
                raise TemplateError(f"{{{{else {rest[0].text}}}}} inside {{{{{stack[-1].keyword}}}}}", head.offset)
            _pipeline(rest[1:], rest[0], scopes, functions)
            return
        if rest:
            raise TemplateError("unexpected text after {{else}}", rest[0].offset)
        stack[-1].has_else = True
        return
    if word == "end":
        if rest:
            raise TemplateError("unexpected text in {{end}}", rest[0].offset)
        if not stack:
            raise TemplateError("unexpected {{end}}: nothing to close", head.offset)
        stack.pop()
        scopes.pop()
        return
    if word in ("break", "continue"):
        if not any(b.keyword == "range" for b in stack):
            raise TemplateError(f"{{{{{word}}}}} outside {{{{range}}}}", head.offset)
        if rest:
            raise TemplateError(f"unexpected text in {{{{{word}}}}}", rest[0].offset)
        return
    if word == "template":
        if not rest or rest[0].kind != "string":
            raise TemplateError("{{template}} needs a template name in quotes", head.offset)
        if rest[1:]:
            _pipeline(rest[1:], head, scopes, functions)
        return
    _pipeline(tokens, head, scopes, functions)


def _pipeline(tokens: list[Token], where: Token, scopes: list[set[str]], functions: frozenset[str] | None, *,
              allow_two: bool = False, required: bool = True) -> None:
    declared: list[str] = []
    # declarations: `$x :=`, `$x =`, and in range `$i, $e :=`
    if len(tokens) >= 2 and tokens[0].kind == "var" and tokens[1].kind in ("declare", "assign", "comma"):
        if tokens[1].kind == "comma":
            if not allow_two or len(tokens) < 4 or tokens[2].kind != "var" or tokens[3].kind not in ("declare", "assign"):
                raise TemplateError("too many declarations", tokens[1].offset)
            names, op, tokens = [tokens[0], tokens[2]], tokens[3], tokens[4:]
        else:
            names, op, tokens = [tokens[0]], tokens[1], tokens[2:]
        for name in names:
            if "." in name.text:
                raise TemplateError(f"cannot declare a field: {name.text}", name.offset)
        declared = [n.text for n in names]  # Go's parser declares on `=` as on `:=`
    if not tokens:
        if required or declared:
            raise TemplateError("missing value for command", where.offset)
        return
    stage, first = [], True
    for token in tokens + [Token("pipe", "|", -1)]:
        if token.kind == "pipe":
            if not stage and token.offset < 0 and not first:
                break  # a trailing `|` is accepted by Go's parser
            if not stage:
                raise TemplateError("missing command in a pipeline stage (`|` with nothing around it)",
                                    token.offset if token.offset >= 0 else where.offset)
            if not first and stage[0].kind in ("string", "number", "char") or (
                    not first and stage[0].kind == "word" and stage[0].text in ("true", "false", "nil")):
                raise TemplateError(f"non executable command in pipeline stage: {stage[0].text}", stage[0].offset)
            stage, first = [], False
            continue
        _operand(token, scopes, functions)
        stage.append(token)
    scopes[-1].update(declared)  # a block's own scope when called for if/with/range


def _operand(token: Token, scopes: list[set[str]], functions: frozenset[str] | None) -> None:
    if token.kind == "var":
        name = token.text
        if not _defined(name, scopes):
            raise TemplateError(f"undefined variable {name!r}", token.offset)
    elif token.kind == "word":
        if token.text in KEYWORDS - {"nil", "true", "false"}:
            raise TemplateError(f"unexpected {{{{{token.text}}}}} inside an action", token.offset)
        if token.text not in KEYWORDS and functions is not None and token.text not in functions:
            raise TemplateError(f"function {token.text!r} not defined", token.offset)
    elif token.kind in ("declare", "assign", "comma"):
        raise TemplateError(f"unexpected {token.text!r} in command", token.offset)


def _defined(name: str, scopes: list[set[str]]) -> bool:
    return any(name in scope for scope in scopes)
