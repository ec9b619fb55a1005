"""Step 5: pure renderers, model -> {relative path: bytes}; one module per artifact."""

from __future__ import annotations

from ..model import Model
from . import (alertmanager, compose, dashboards, prometheus, provisioning, rules, runbooks, stack_readme,
               unit_tests)
from .common import Stamp

RENDERERS = (prometheus.render, rules.render, unit_tests.render, alertmanager.render,
             compose.render, stack_readme.render, dashboards.render, provisioning.render, runbooks.render)


def render_all(model: Model, stamp: Stamp) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for renderer in RENDERERS:
        files.update(renderer(model, stamp))
    return dict(sorted(files.items()))


__all__ = ["Stamp", "render_all"]
