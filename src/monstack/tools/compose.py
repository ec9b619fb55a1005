"""docker-compose: `config --quiet` on the rendered docker-compose.yml (schema, references, interpolation).

It needs no Docker engine. It does not read the secrets' environment variables or files (a missing one is no
error here), so it proves the file's shape, not that the operator provided the secrets.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Diagnostic
from . import Tool
from .promtool import failure


def check_config(tool: Tool, compose_file: Path) -> list[Diagnostic]:
    proc = tool.run("-f", compose_file.name, "config", "--quiet", cwd=compose_file.parent)
    return failure(tool, "config", proc, compose_file.name)
