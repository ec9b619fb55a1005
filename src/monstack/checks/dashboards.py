"""The spec's dashboards: every panel query parses and names known metrics, names and uids are unique, each
problem at its line (checks `dashboards`, `promql`, `metrics`)."""

from __future__ import annotations

from .. import boards
from ..errors import Diagnostic
from ..load import Source
from ..model import Model


def check(model: Model, source: Source) -> list[Diagnostic]:
    return [source.diagnostic(path, message, hint=hint, check=kind)
            for path, message, hint, kind in boards.problems(model)]
