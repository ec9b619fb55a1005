"""Shared fixtures: the repository root, the example spec, and a CLI runner that goes through `main()`
(the same path as the installed command, so exit codes and 'no traceback' are what users get)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from monstack import tools

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "specs" / "real-estate-scraper.yaml"


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python -m monstack ARGS` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "monstack", *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def cli():
    return run_cli


def real_tool(name: str) -> tools.Tool:
    """The real tool, as monstack finds it from the repository (its .tools/bin); the test skips without it (CI
    installs every tool first: scripts/install-tools.sh)."""
    with contextlib.chdir(ROOT):
        tool = tools.find(name)
    if tool is None:
        pytest.skip(f"{name} not installed (scripts/install-tools.sh)")
    return tool


def walk(node, path=()):
    """Every (path, key, value) of a nested dict/list document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path + (key,), key, value
            yield from walk(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, path + (i,))
