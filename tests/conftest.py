"""Shared fixtures: the repository root, the example spec, and a CLI runner that goes through `main()`
(the same path as the installed command, so exit codes and 'no traceback' are what users get)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
