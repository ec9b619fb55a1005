"""The metric references of the rules, before anything is rendered or any tool runs (check `metrics`, `promql`, `labels`).

- every PromQL expression parses (promql-parser, Prometheus 3 grammar), errors pointed at the spec line;
- the metric fields of typed conditions are plain selectors (`name{label="v"}`), not expressions;
- every metric a rule names is one some target exposes: declared under `metrics:`, or known of the exporter
  its target kind runs (the guide's `pg_slow_queries_total` exists nowhere and would never fire).
"""

from __future__ import annotations

import difflib
import re

from ..errors import Diagnostic
from ..load import Source
from ..metrics import known_metrics, metric_names
from ..model import Model

SELECTOR_FIELDS = ("part", "whole", "counter", "minus", "used", "free", "of", "series", "since", "until")


def check(model: Model, source: Source) -> list[Diagnostic]:
    """Every finding (errors and warnings) about the model's rules."""
    import promql_parser  # noqa: PLC0415  - a Rust extension: load it only when linting

    known = known_metrics(model)
    problems: list[Diagnostic] = []
    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        where = ("alerts", rule.index, "when" if alert.when is not None else "expr")
        if alert.when is not None:
            problems += _selector_fields(alert.when, where + (alert.when.kind,), source, promql_parser)
            if any(p.path[:2] == ("alerts", rule.index) for p in problems):
                continue
            problems += _grouping_labels(model, alert.when, where + (alert.when.kind, "by"), source, promql_parser)
        try:
            ast = promql_parser.parse(rule.expr)
        except ValueError as exc:
            problems.append(source.diagnostic(where, f"invalid PromQL: {exc}", check="promql",
                                              hint=f"the expression was: {rule.expr}"))
            continue
        for name in sorted(set(metric_names(ast))):
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
                problems.append(source.diagnostic(
                    where, f"metric {name!r} is exposed by no target of this spec", check="metrics",
                    hint=(f"did you mean {', '.join(close)}? " if close else "")
                    + "declare the application's own metrics under `metrics:`"))
    return problems + _records(model, source, known, promql_parser)


def _records(model: Model, source: Source, known: set[str], promql_parser) -> list[Diagnostic]:
    """A recording rule's PromQL parses and reads metrics some target exposes (or another record stores)."""
    problems = []
    for i, record in enumerate(model.spec.records):
        where = ("records", i, "expr")
        try:
            ast = promql_parser.parse(record.expr)
        except ValueError as exc:
            problems.append(source.diagnostic(where, f"invalid PromQL: {exc}", check="promql"))
            continue
        for name in sorted(set(metric_names(ast)) - known):
            close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
            problems.append(source.diagnostic(
                where, f"metric {name!r} is exposed by no target of this spec", check="metrics",
                hint=(f"did you mean {', '.join(close)}? " if close else "")
                + "declare the application's own metrics under `metrics:`"))
    return problems


def _grouping_labels(model: Model, condition, path: tuple, source: Source, promql_parser) -> list[Diagnostic]:
    """`by:` labels the condition's metrics carry: a declared metric's labels are its contract (an error), an
    exporter's are what monstack knows of it (a warning). Unknown metrics are not judged."""
    body = condition.body
    by = getattr(body, "by", None) or []
    names = [n for field in (*SELECTOR_FIELDS, "metric") for n in _names(getattr(body, field, None), promql_parser)]
    if getattr(body, "histogram", None):
        names.append(body.histogram)
    declared = {m.name: m for m in model.spec.metrics}
    target_labels = {label for job in model.jobs for label in job.labels}
    out = []
    for name in dict.fromkeys(names):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        metric = declared.get(name) or declared.get(base)
        if metric is not None:
            carried, severity, origin = set(metric.labels), "error", f"metrics: {metric.name} declares"
        else:
            carried = next((set(labels) for job in model.jobs
                            if (labels := job.catalog.labels(name)) is not None), None)
            if carried is None:
                continue
            severity, origin = "warning", f"{name} (its exporter) carries"
        carried |= {"job", "instance"} | target_labels | ({"le"} if condition.kind == "quantile" else set())
        for i, label in enumerate(by):
            if label not in carried:
                close = difflib.get_close_matches(label, sorted(carried), n=1, cutoff=0.6)
                out.append(source.diagnostic(
                    path + (i,), f"label {label!r} is not on {name}: {origin} {', '.join(sorted(carried))}",
                    check="labels", severity=severity, hint=f"did you mean {close[0]!r}?" if close else None))
    return out


def _names(value, promql_parser) -> list[str]:
    texts = value if isinstance(value, list) else [value] if value else []
    out = []
    for text in texts:
        try:
            out += metric_names(promql_parser.parse(text))
        except ValueError:
            continue
    return out


EXPRESSION_FIELDS = ("metric", "only_if")  # PromQL expressions monstack wraps: each parsed alone, at its line


def _selector_fields(condition, path: tuple, source: Source, promql_parser) -> list[Diagnostic]:
    out = []
    body = condition.body
    for field in EXPRESSION_FIELDS:
        text = getattr(body, field, None)
        if text is None:
            continue
        try:
            promql_parser.parse(text)
        except ValueError as exc:
            out.append(source.diagnostic(path + (field,), f"invalid PromQL {text!r}: {exc}", check="promql"))
    for field in SELECTOR_FIELDS:
        value = getattr(body, field, None)
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            if text is None:
                continue
            field_path = path + ((field, i) if isinstance(value, list) else (field,))
            try:
                node = promql_parser.parse(text)
            except ValueError as exc:
                out.append(source.diagnostic(field_path, f"invalid selector {text!r}: {exc}", check="promql"))
                continue
            if type(node).__name__ != "VectorSelector":
                out.append(source.diagnostic(
                    field_path, f"expected a metric selector such as name{{label=\"value\"}}, got an expression "
                    f"{text!r}", check="promql",
                    hint="monstack writes rate(), sum() and the ratio itself; give only the metric and its labels"))
    return out
