"""Every string of a spec checked for the context it reaches, before anything is rendered:

- alert annotations (summary, description, `annotations:`) are Go templates for Prometheus, and Alertmanager's
  notification fields (titles, texts, recipients, messages) Go templates for Alertmanager: parsed as Go does;
- alert label values must not be templates (Prometheus expands them: a label that follows the value makes a new
  alert at every change), nor empty (the spec types refuse those);
- the PromQL fragments of typed conditions: no `#` outside a string (it comments out the rest of the query that
  monstack writes around it), metric and label names by Prometheus' name rules;
- runbook text: a Markdown code fence that is opened is closed;
- `metrics_path` is a path (no `?query` nor `#fragment`);
- no string anywhere looks like a credential (`checks.secrets`), and the message does not repeat it.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ..errors import Diagnostic
from ..load import Source
from ..spec.models import Spec
from ..syntax import gotemplate, secrets

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
PROMQL_FIELDS = ("metric", "only_if", "part", "whole", "counter", "used", "free", "of", "series")
# Receiver fields Alertmanager renders as templates (per channel config).
AM_TEMPLATED = ("title", "text", "channel", "to", "from", "subject", "description", "severity", "message",
                "priority", "tags", "name")


def check(spec: Spec, source: Source) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out += _secrets(source)
    for i, alert in enumerate(spec.alerts):
        where = ("alerts", i)
        for field, text in [("summary", alert.summary), ("description", alert.description),
                            *((("annotations", k), v) for k, v in alert.annotations.items())]:
            out += _template(source, where + (field if isinstance(field, tuple) else (field,)), text, "prometheus")
        for label, value in alert.labels.items():
            if "{{" in value:
                out.append(source.diagnostic(
                    where + ("labels", label), "an alert label value is a Go template for Prometheus: this one "
                    "would change with what it expands to, making a new alert each time", check="text",
                    hint="put text that follows the value in an annotation (summary, description)"))
        if alert.when is not None:
            out += _condition(source, alert.when, where + ("when", alert.when.kind))
        out += _runbook(source, alert.runbook, where + ("runbook",))
    # a metrics_path with `?`/`#` is refused by the spec type (spec/targets.py), before this check runs
    for i, receiver in enumerate(spec.routing.receivers):
        raw = source.data["routing"]["receivers"][i]
        for channel in ("slack", "email", "pagerduty", "msteams", "opsgenie", "telegram"):
            many = isinstance(raw.get(channel), list)  # a channel is one mapping or a list of them
            for j, config in enumerate(getattr(receiver, channel)):
                where = ("routing", "receivers", i, channel) + ((j,) if many else ())
                out += _alertmanager_fields(source, config, where)
    return out


def _template(source: Source, path: tuple, text: str, engine: str) -> list[Diagnostic]:
    if "{{" not in text and "}}" not in text:
        return []
    if engine == "prometheus":
        why = gotemplate.error(text)
        who = "Prometheus"
    else:
        why = gotemplate.error(text, functions=None, variables=frozenset())
        who = "Alertmanager"
    if why is None:
        return []
    return [source.diagnostic(path, f"invalid Go template: {why}", check="template",
                              hint=f"{who} parses this text as a Go template: balance `{{{{` and `}}}}`; write a "
                              "literal `{{` as {{ \"{{\" }}")]


def _alertmanager_fields(source: Source, config: Any, path: tuple) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for field in AM_TEMPLATED:
        value = getattr(config, field, None)
        if field == "to" and isinstance(value, list):
            out += [d for k, v in enumerate(value) for d in _template(source, path + (field, k), v, "alertmanager")]
        elif field == "tags" and isinstance(value, list):
            out += [d for k, v in enumerate(value) for d in _template(source, path + (field, k), v, "alertmanager")]
        elif isinstance(value, str):
            out += _template(source, path + (field,), value, "alertmanager")
    for k, responder in enumerate(getattr(config, "responders", None) or []):
        out += _template(source, path + ("responders", k, "name"), responder.name, "alertmanager")
    return out


def promql_comment(text: str) -> int | None:
    """Where a `#` outside every string literal starts a PromQL comment in `text`, or None."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            i = j + 1
            continue
        if c == "#":
            return i
        i += 1
    return None


def _condition(source: Source, when: Any, path: tuple) -> list[Diagnostic]:
    body, out = when.body, []
    for field in PROMQL_FIELDS:
        value = getattr(body, field, None)
        for k, text in enumerate(value if isinstance(value, list) else [value]):
            if not isinstance(text, str):
                continue
            at = path + ((field, k) if isinstance(value, list) else (field,))
            if promql_comment(text) is not None:
                out.append(source.diagnostic(at, f"{text!r}: `#` starts a PromQL comment here, which would "
                                             "silence the rest of the query monstack writes around it",
                                             check="promql", hint="remove the comment (YAML comments go after "
                                             "the value, outside the quotes)"))
    histogram = getattr(body, "histogram", None)
    if histogram is not None and not METRIC_NAME.match(histogram):
        out.append(source.diagnostic(path + ("histogram",), f"{histogram!r} is not a metric name", check="promql",
                                     hint="a histogram's name, without _bucket (letters, digits, _ and :)"))
    by = getattr(body, "by", None) or []
    for k, label in enumerate(by):
        if not LABEL_NAME.match(label):
            out.append(source.diagnostic(path + ("by", k), f"{label!r} is not a label name", check="promql",
                                         hint="letters, digits and _, not starting with a digit"))
        elif by.index(label) != k:
            out.append(source.diagnostic(path + ("by", k), f"label {label!r} is listed twice", check="promql"))
    return out


def _runbook(source: Source, runbook: Any, path: tuple) -> list[Diagnostic]:
    texts = [("meaning", runbook.meaning), ("notes", runbook.notes),
             *((("causes", k), v) for k, v in enumerate(runbook.causes)),
             *((("checks", k), v) for k, v in enumerate(runbook.checks))]
    out = []
    for field, text in texts:
        if text and (text.count("```") % 2 or text.count("~~~") % 2):
            at = path + (field if isinstance(field, tuple) else (field,))
            out.append(source.diagnostic(at, "a Markdown code fence is opened and never closed: the rest of the "
                                         "runbook would be shown as code", check="text",
                                         hint="close it with ``` (or use `single backquotes` for inline code)"))
    return out


def _strings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, path + (key,))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _strings(value, path + (k,))
    elif isinstance(node, str):
        yield path, node


def _secrets(source: Source) -> list[Diagnostic]:
    out = []
    for path, text in _strings(source.data):
        found = secrets.find(text)
        if found:
            out.append(source.diagnostic(path, f"this looks like a secret ({found.what}): a spec never holds "
                                         "one, and everything in it is copied into the generated files",
                                         check="secrets", hint=secrets.HINT))
    return out
