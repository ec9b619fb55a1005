"""amtool: `check-config` on the rendered alertmanager.yml, and `config routes test` for routing tests.

`config routes test` takes one label set a call, so `test_routes` runs the calls concurrently. It prints the
receivers (comma-joined, in tree order, repeated when two routes pick the same one) and, with
`--verify.receivers`, exits 1 with a WARNING on stdout on a mismatch. It ignores time intervals and inhibitions.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import Diagnostic
from . import Tool
from .promtool import failure

MISMATCH = "Expected receivers did not match"
NOISE = "flag overrides the --alertmanager.url"  # printed on stderr by every offline call


def check_config(tool: Tool, config: Path) -> list[Diagnostic]:
    proc = tool.run("check-config", config.name, cwd=config.parent)
    if proc.returncode != 0 and "FAILED" in proc.stdout:  # amtool prints the reason on stdout
        proc.stderr = "\n".join(line for line in proc.stdout.splitlines() if "FAILED" in line)
    return failure(tool, "check-config", proc, config.name)


@dataclass(frozen=True)
class RouteResult:
    case: Any  # what was tested: anything with `labels` (dict) and `expected` (list of receiver names)
    got: list[str]  # the receivers amtool resolved
    ok: bool
    error: str | None = None  # amtool could not run the test (bad labels, bad config)


def test_route(tool: Tool, config: Path, case: Any) -> RouteResult:
    """One amtool routing test: does the config route `case.labels` to exactly `case.expected`?"""
    from ..render.alertmanager import matcher  # noqa: PLC0415 - the same quoting as the rendered matchers

    args = ["config", "routes", "test", "--config.file", str(config),
            f"--verify.receivers={','.join(case.expected)}", *(matcher(k, v) for k, v in case.labels.items())]
    proc = tool.run(*args)
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    got = lines[0].split(",") if lines and not lines[0].startswith("WARNING") else []
    if proc.returncode == 0:
        return RouteResult(case, got, True)
    if MISMATCH in proc.stdout:
        return RouteResult(case, got, False)
    error = "; ".join(line for line in proc.stderr.splitlines() if line.strip() and NOISE not in line)
    return RouteResult(case, got, False, error or f"exit code {proc.returncode}")


def test_routes(tool: Tool, config: Path, cases: Iterable[Any], workers: int | None = None) -> list[RouteResult]:
    """Every routing test case, run concurrently; results in the order of `cases`."""
    cases = list(cases)
    workers = workers or min(8, os.cpu_count() or 2, max(1, len(cases)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda case: test_route(tool, config, case), cases))


test_route.__test__ = test_routes.__test__ = False  # type: ignore[attr-defined]  # not pytest tests when imported
