"""Step 5: pure renderers, model -> {relative path: bytes}; one module per artifact."""

from __future__ import annotations

from ..model import Model
from . import alertmanager, prometheus, rules
from .common import Stamp

RENDERERS = (prometheus.render, rules.render, alertmanager.render)


def render_all(model: Model, stamp: Stamp) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for renderer in RENDERERS:
        files.update(renderer(model, stamp))
    return dict(sorted(files.items()))


__all__ = ["Stamp", "render_all"]
