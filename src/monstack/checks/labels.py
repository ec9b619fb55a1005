"""Label checks on alerts: `{{ $labels.x }}` the alert's result does not carry (`alerts/template`), and alert
labels that collide with the external labels Prometheus adds (`labels/external-conflict`).

What an alert carries comes from `alert_labels` (the PromQL walk over the rendered expression).
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from ..alert_labels import NO, YES, alert_labels
from ..errors import Diagnostic
from ..syntax import gotemplate

if TYPE_CHECKING:
    from ..load import Source
    from ..model import Model

_LABEL_FIELD = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


def _label_refs(text: str) -> list[str]:
    """The labels `text` reads as `$labels.x` (in any action), in order."""
    out = []
    try:
        for _start, tokens in gotemplate._actions(text):  # noqa: SLF001 - the one lexer of Go templates
            for token in tokens:
                match = _LABEL_FIELD.match(text, token.offset) if token.kind == "var" else None
                if match:  # the lexer consumes the field chain after the variable: read it from the text
                    out.append(match.group(1))
    except gotemplate.TemplateError:
        return []  # text.check reports the template itself
    return out


def check(model: "Model", source: "Source") -> list[Diagnostic]:
    spec = model.spec
    external = {"project": spec.project.name, "environment": spec.project.environment, **spec.project.labels}
    problems: list[Diagnostic] = []
    exprs = {rule.index: rule.expr for rule in model.rules}
    for carried in alert_labels(model):
        alert = spec.alerts[carried.index]
        for label, value in alert.labels.items():
            if label in external and external[label] != value:
                problems.append(source.diagnostic(
                    ("alerts", carried.index, "labels", label),
                    f"alert {alert.name!r} sets label {label}={value!r}, but the external label {label} is "
                    f"{external[label]!r}: Prometheus keeps the alert's value when it sends to Alertmanager, so "
                    "routing and dedup on that label see a different value than every other series",
                    check="labels/external-conflict",
                    hint=f"drop the alert's `{label}` label, or rename it"))
        texts = [("summary", alert.summary), ("description", alert.description),
                 *((("labels", k), v) for k, v in alert.labels.items()),
                 *((("annotations", k), v) for k, v in alert.annotations.items())]
        for where, text in texts:
            for label in dict.fromkeys(_label_refs(text)):
                state = carried.carries(label)
                if state == YES or (state != NO and label in _served(model, exprs.get(carried.index, ""))):
                    continue
                have = sorted(set(carried.fixed) | set(carried.dynamic))
                close = difflib.get_close_matches(label, have, n=1)
                guess = f"did you mean {close[0]!r}? " if close else ""
                path = ("alerts", carried.index, *((where,) if isinstance(where, str) else where))
                problems.append(source.diagnostic(
                    path,
                    f"alert {alert.name!r} reads {{{{ $labels.{label} }}}}, but its result "
                    + ("may not carry" if state != NO else "does not carry") + f" {label!r}",
                    check="alerts/template",
                    severity="error" if state == NO else "warning",
                    hint=guess + f"the result carries: {', '.join(have) or 'no labels'}; keep {label!r} in the "
                         "expression (`by`/`on`), or drop it from the text"))
    return problems


_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _served(model: "Model", expr: str) -> frozenset[str]:
    """The labels the exporter catalogues list for the series an expression names: a "maybe" label among them is
    what the exporter serves, not a miss worth a warning."""
    names = set(_NAME.findall(expr))
    out: set[str] = set()
    for job in model.jobs:
        for name in names & job.catalog.metrics:
            out.update(job.catalog.labels(name) or ())
    return frozenset(out)
