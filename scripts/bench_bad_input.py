"""How fast bad input is refused: wall time of `python -m monstack validate --offline` (interpreter start
included) and of the in-process pipeline, on the bad specs of tests/test_bad_input.py and tests/test_hostile.py.

Timing is measured here, never asserted in a test (a loaded CI machine must not fail the suite):

    .venv/bin/python scripts/bench_bad_input.py            # prints one line per case, slowest first
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]


def main() -> None:
    import test_bad_input as bad  # noqa: PLC0415
    import test_hostile as hostile  # noqa: PLC0415

    from monstack import pipeline  # noqa: PLC0415
    from monstack.errors import MonstackError  # noqa: PLC0415

    cases = {**bad.CASES, **{f"hostile/{k}": v for k, v in hostile.CASES.items()}}
    pipeline.resolve(bad.EXAMPLE)  # warm the imports
    rows = []
    for name, case in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            arg = bad.make(case, Path(tmp))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "monstack", "validate", arg, "--offline"], cwd=tmp,
                           capture_output=True, timeout=120)
            cli = time.perf_counter() - start
            start = time.perf_counter()
            try:
                pipeline.resolve(Path(tmp) / arg)
            except MonstackError:
                pass
            rows.append((cli, time.perf_counter() - start, name))
    for cli, lib, name in sorted(rows, reverse=True):
        print(f"{cli:6.2f}s cli  {lib:6.3f}s in-process  {name}")


if __name__ == "__main__":
    main()
