"""kubernetes/: the stack as prometheus-operator objects, for `deployment: {kind: kubernetes}`.

One module per object family, each pure (model -> objects), every object dumped from data with the generated-by
stamp: `rules` (PrometheusRule per rule group), `monitors` (ServiceMonitor, PodMonitor, Probe, ScrapeConfig per
target), `alertmanager` (AlertmanagerConfig, or the alertmanager.yaml Secret), `dashboards` (ConfigMaps for the
Grafana sidecar), and here the `kustomization.yaml` that lists every one of them (sorted), so that
`kubectl apply -k kubernetes/` (or Argo CD, Flux) deploys the lot. What validate says about them is in checks/kubernetes.py.
"""

from __future__ import annotations

from ...model import Model
from ..common import Stamp, dump_yaml
from . import alertmanager, dashboards, monitors, objects, rules

KUSTOMIZATION = objects.path("kustomization.yaml")


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    if not objects.enabled(model):
        return {}
    found: dict[str, dict] = {}
    found.update(rules.objects(model))
    found.update(monitors.objects(model))
    found.update(alertmanager.objects(model, stamp))
    found.update(dashboards.objects(model, stamp))
    files = {path: dump_yaml(obj, stamp) for path, obj in sorted(found.items())}
    files[KUSTOMIZATION] = dump_yaml(kustomization(sorted(found)), stamp)
    return dict(sorted(files.items()))


def kustomization(paths: list[str]) -> dict:
    prefix = objects.FOLDER + "/"
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": sorted(p[len(prefix):] for p in paths)}


__all__ = ["KUSTOMIZATION", "check", "kustomization", "render"]
