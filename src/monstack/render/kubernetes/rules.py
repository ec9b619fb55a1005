"""kubernetes/prometheusrules/<group>.yaml: one PrometheusRule per rule group, carrying exactly the group that
prometheus/rules/<group>.yml carries (the same data, `render.rules.groups`), labelled for the Prometheus'
`ruleSelector` (kube-prometheus-stack silently ignores a PrometheusRule without its `release` label)."""

from __future__ import annotations

from ...model import Model
from .. import rules
from . import objects as K

KIND = "PrometheusRule"


def objects(model: Model) -> dict[str, dict]:
    """{relative path: object}, one per rule group."""
    names = K.Names()
    out: dict[str, dict] = {}
    for group_name, group in rules.groups(model).items():
        name = names(model.spec.project.name, group_name)
        meta = K.metadata(model, name, K.rule_labels(model))
        out[K.path("prometheusrules", f"{name}.yaml")] = K.resource(K.MONITORING_V1, KIND, meta, "spec",
                                                                    {"groups": [group]})
    return out
