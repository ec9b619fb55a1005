"""Step 5: pure renderers, model -> {relative path: bytes}; one module per artifact."""

from __future__ import annotations

from ..model import Model
from . import (alertmanager, compose, dashboards, kubernetes, prometheus, provisioning, rules, ruler,
               runbooks, stack_readme, unit_tests)
from .common import Stamp

RENDERERS = (prometheus.render, rules.render, unit_tests.render, alertmanager.render, dashboards.render,
             runbooks.render, ruler.render)
DEPLOYMENTS = {  # deployment.kind -> what runs the stack
    "compose": (compose.render, stack_readme.render, provisioning.render),
    "kubernetes": (kubernetes.render,),
}


def render_all(model: Model, stamp: Stamp) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for renderer in RENDERERS + DEPLOYMENTS[model.spec.deployment.kind]:
        files.update(renderer(model, stamp))
    return dict(sorted(files.items()))


__all__ = ["Stamp", "render_all"]
