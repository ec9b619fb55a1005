"""Step 2: validate loaded data against the `monstack/v1` models, turning pydantic's errors into Diagnostics
that point at the spec's own lines and say what was expected."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..syntax.secrets import SECRET_FIELDS
from ..errors import Diagnostic, MonstackError
from ..load import Source
from .models import Spec


def parse(source: Source) -> Spec:
    try:
        return Spec.model_validate(source.data)
    except ValidationError as exc:
        raise MonstackError(diagnostics_of(exc, source)) from None


class _Hidden:
    def __repr__(self) -> str:
        return "(a value in a secret field, not shown)"


_HIDDEN = _Hidden()
_TYPE_ERRORS = {"string_type", "int_type", "float_type", "bool_type", "model_type", "dict_type", "list_type"}


def diagnostics_of(exc: ValidationError, source: Source) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple] = set()
    errors = exc.errors(include_url=False)
    located = [_data_path(source.data, e["loc"])[0] for e in errors]
    for error, at in zip(errors, located):
        # a union's branch of the wrong type says nothing when another branch found the real problem deeper
        if error["type"] in _TYPE_ERRORS and any(len(p) > len(at) and p[:len(at)] == at for p in located):
            continue
        path, leftover = _data_path(source.data, error["loc"])
        if any(isinstance(part, str) and part in SECRET_FIELDS for part in error["loc"]) \
                and isinstance(error.get("input"), (str, int, float)):
            error = {**error, "input": _HIDDEN}  # a secret field: never repeat what was pasted into it
        message, hint, key = _message(error, leftover)
        name = next((part for part in reversed(error["loc"]) if isinstance(part, str)), None)
        if key and name is not None and (not path or path[-1] != name):
            path = path + (name,)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        out.append(source.diagnostic(path, message, key=key, hint=hint, check="spec"))
    return out


def _data_path(data: Any, loc: tuple) -> tuple[tuple, list]:
    """Follow pydantic's `loc` through the data; drop the parts that name union branches or validators."""
    path: list = []
    leftover: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        else:
            leftover.append(part)
    return tuple(path), leftover


def _message(error: dict, leftover: list) -> tuple[str, str | None, bool]:
    kind, msg, value = error["type"], error["msg"], error.get("input")
    names = [p for p in leftover if isinstance(p, str)]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        here = _keys_at(error["loc"][:-1])
        close = difflib.get_close_matches(key, here or _vocabulary(), n=1, cutoff=0.6)
        if close:
            return f"unknown key {key!r}", f"did you mean {close[0]!r}?", True
        return f"unknown key {key!r}", (f"the keys here are {', '.join(here)}" if here else None), True
    if kind == "missing":
        key = names[-1] if names else "?"
        return f"missing required key {key!r}", None, False
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("literal_error", "enum"):
        return f"{value!r}: {msg[0].lower() + msg[1:]}", None, False
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        return f"invalid value {value!r}", f"it must match {pattern}", False
    if kind in ("model_type", "dict_type"):
        return f"expected a mapping, got {_kind(value)}", None, False
    if kind == "list_type":
        return f"expected a list, got {_kind(value)}", None, False
    if kind in ("string_type", "int_type", "float_type", "bool_type", "int_parsing", "float_parsing", "bool_parsing"):
        return f"{msg[0].lower() + msg[1:]}, got {value!r}", None, False
    return msg[0].lower() + msg[1:] if msg else kind, None, False


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


_VOCABULARY: list[str] = []


def _keys_at(loc: tuple) -> list[str]:
    """The keys valid where pydantic's `loc` points: the fields of the model(s) found by following it from Spec
    (list indexes and union branch tags keep the current models), so a hint never names a key of another object."""
    current: list[type[BaseModel]] = [Spec]
    for part in loc:
        if not isinstance(part, str):
            continue
        found = [sub for model in current for name, field in model.model_fields.items()
                 if part in (name, field.alias) for sub in _models_in(field.annotation)]
        named = [model for model in current if part == model.__name__]
        if found:
            current = found
        elif named:
            current = named
    return sorted({field.alias or name for model in current for name, field in model.model_fields.items()})


def _vocabulary() -> list[str]:
    """Every key the spec knows, for "did you mean" hints."""
    if not _VOCABULARY:
        seen: set[type] = set()

        def walk(model: type[BaseModel]) -> None:
            if model in seen:
                return
            seen.add(model)
            for name, field in model.model_fields.items():
                _VOCABULARY.append(field.alias or name)
                for sub in _models_in(field.annotation):
                    walk(sub)

        walk(Spec)
    return _VOCABULARY


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
