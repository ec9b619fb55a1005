"""prometheus/tests/<group>.yml: promtool unit tests for every alert, runnable with plain `promtool test rules`.

Generated cases (monstack.proof) become `alert_rule_test`s expecting the exact labels and rendered annotations,
or, where an annotation uses template features monstack does not evaluate, a `promql_expr_test` on ALERTS
(labels only). Pending cases and the spec's hand-written cases are checked on ALERTS too.
"""

from __future__ import annotations

import json
import re

from ..model import Model, Rule
from ..proof import Case, plan
from ..proof.gotemplate import Unsupported, render as render_template
from ..proof.series import values_notation
from ..spec.proof import TestCase
from ..spec.units import Duration
from .common import Stamp, dump_yaml

FOLDER = "prometheus/tests"


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    rules = {rule.name: rule for rule in model.rules}
    default = model.spec.defaults.evaluation_interval
    files: dict[tuple[str, Duration], list[dict]] = {}  # (group, evaluation interval) -> tests
    for coverage in plan(model):
        rule = rules[coverage.alert]
        files.setdefault((rule.group, default), []).extend(_generated(case, rule) for case in coverage.generated)
        for case in model.spec.alerts[rule.index].tests:
            files.setdefault((rule.group, case.evaluation or default), []).append(_handwritten(case, rule))
    return {
        f"{FOLDER}/{group}{'' if every == default else f'.every-{every}'}.yml": dump_yaml(
            {"rule_files": [f"../rules/{group}.yml"], "evaluation_interval": str(every), "tests": tests}, stamp)
        for (group, every), tests in sorted(files.items()) if tests
    }


def test_name(alert: str, title: str) -> str:
    """Test group names start with the alert name: results map back to alerts, and `--run` selects them."""
    return f"{alert}: {title}"


def alerts_selector(alert: str, state: str) -> str:
    return f'ALERTS{{alertname="{alert}",alertstate="{state}"}}'


def _labels_text(labels: dict[str, str]) -> str:
    return "{" + ",".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items())) + "}"


def _alerts_sample(rule: Rule, state: str, kept: dict[str, str]) -> dict:
    labels = {"alertname": rule.name, "alertstate": state, **kept, **rule.labels}
    return {"labels": "ALERTS" + _labels_text(labels), "value": 1}


def _base(name: str, interval: int | Duration, series: list[tuple[str, str]]) -> dict:
    interval = interval if isinstance(interval, Duration) else Duration(interval * 1000)
    return {"name": name, "interval": str(interval),
            "input_series": [{"series": s, "values": v} for s, v in series]}


def _generated(case: Case, rule: Rule) -> dict:
    test = _base(test_name(case.alert, case.title), case.interval,
                 [(s.notation(), values_notation(s.values)) for s in case.series])
    at = str(Duration(case.eval_at * 1000))
    if case.expect == "pending":
        test["alert_rule_test"] = [{"eval_time": at, "alertname": rule.name, "exp_alerts": []}]
        test["promql_expr_test"] = [{"expr": alerts_selector(rule.name, "pending"), "eval_time": at,
                                     "exp_samples": [_alerts_sample(rule, "pending", case.labels)]}]
        return test
    if case.expect == "silent":
        test["alert_rule_test"] = [{"eval_time": at, "alertname": rule.name, "exp_alerts": []}]
        return test
    try:
        annotations = _annotations(rule, case)
    except Unsupported:
        test["promql_expr_test"] = [{"expr": alerts_selector(rule.name, "firing"), "eval_time": at,
                                     "exp_samples": [_alerts_sample(rule, "firing", case.labels)]}]
        return test
    test["alert_rule_test"] = [{"eval_time": at, "alertname": rule.name, "exp_alerts": [
        {"exp_labels": {**case.labels, **rule.labels}, "exp_annotations": annotations}]}]
    return test


def _annotations(rule: Rule, case: Case) -> dict[str, str]:
    """The annotations as Prometheus renders them for this case; `Unsupported` when a rounding error in the
    value Prometheus computes (rate() of a ramp is 374.99999 for 375) could change the text of a function that
    truncates (humanizeDuration shows whole seconds): then only the labels are expected."""
    value = case.value or 0.0
    rendered = {k: render_template(v, value, case.labels) for k, v in rule.annotations.items()}
    truncating = [v for v in rule.annotations.values() if re.search(r"humanize(Duration|Timestamp)", v)]
    for nearby in (value * (1 + 1e-9), value * (1 - 1e-9)) if truncating else ():
        if {k: render_template(v, nearby, case.labels) for k, v in rule.annotations.items()} != rendered:
            raise Unsupported("the text depends on the value's last digits")
    return rendered


def _handwritten(case: TestCase, rule: Rule) -> dict:
    test = _base(test_name(rule.name, case.name), case.interval, list(case.series.items()))
    at = str(case.at)
    if case.expect == "silent":
        test["promql_expr_test"] = [{"expr": alerts_selector(rule.name, "firing"), "eval_time": at, "exp_samples": []}]
    else:
        test["promql_expr_test"] = [{"expr": alerts_selector(rule.name, case.expect), "eval_time": at,
                                     "exp_samples": [_alerts_sample(rule, case.expect, dict(case.labels))]}]
    return test
