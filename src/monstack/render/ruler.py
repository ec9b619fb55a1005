"""ruler/: the alert rules for a central ruler that evaluates them on the store Prometheus remote-writes to
(`deployment.ruler`), besides prometheus/rules/ (which stay: `monstack test` proves them, a local Prometheus or
vmalert runs them).

- `mimir`: `ruler/mimir/<namespace>.yaml`, the format `mimirtool rules load` reads (`namespace:` and `groups:`),
  one namespace for the project's environment (default `<project>-<environment>`); Cortex reads the same;
- `thanos`: `ruler/thanos/<group>.yml`, Prometheus rule files whose groups carry `partial_response_strategy`;
- `vmalert`: nothing: vmalert reads prometheus/rules/*.yml as they are (its `-external.label` flags add the
  project's labels to every alert, as Prometheus' external labels do).

A central ruler has no Prometheus external labels, so every rule written here carries the project's external
labels (`project`, `environment`, `project.labels`) as rule labels: aggregated alerts (`sum(...)`) keep them, and
the routes, `group_by` and inhibitions that expect them still match. The groups are exactly those of
prometheus/rules (`rules.groups`) otherwise, so promtool checks them once the ruler's own keys are taken out.
"""

from __future__ import annotations

from ..model import Model
from . import rules
from .common import Stamp, dump_yaml

FOLDER = "ruler"
THANOS_ONLY = ("partial_response_strategy",)  # the group keys promtool does not know


def namespace(model: Model) -> str:
    ruler = model.spec.deployment.ruler
    chosen = ruler.namespace if ruler is not None else None
    return chosen or f"{model.spec.project.name}-{model.spec.project.environment}"


def labelled_groups(model: Model) -> dict[str, dict]:
    """The rule groups with the external labels as rule labels (an alert's own labels come after them)."""
    external = dict(model.external_labels)
    out = {}
    for name, group in rules.groups(model).items():
        out[name] = {**group, "rules": [{**rule, "labels": {**external, **rule["labels"]}} for rule in group["rules"]]}
    return out


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    ruler = model.spec.deployment.ruler
    if ruler is None or ruler.kind == "vmalert" or not model.groups:
        return {}
    groups = labelled_groups(model)
    if ruler.kind == "mimir":
        return {f"{FOLDER}/mimir/{namespace(model)}.yaml": dump_yaml(
            {"namespace": namespace(model), "groups": list(groups.values())}, stamp)}
    return {f"{FOLDER}/thanos/{name}.yml": dump_yaml(
        {"groups": [{"name": name, "partial_response_strategy": ruler.partial_response_strategy,
                     **{k: v for k, v in group.items() if k != "name"}}]}, stamp)
        for name, group in groups.items()}
