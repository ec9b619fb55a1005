"""The corpus of valid-looking but broken specs: each is refused (or warned) by `validate` with the right check name
at the right line.

Every `tests/data/semantic/<family>/<name>.yaml` is a whole spec whose leading comment lines say what validate must
find, one finding a line:

    # expect: promql/rate error 31
    # expect: alerts/for warning 35

(check name, severity, 1-based line of the spec element the finding points at). A file may expect several
findings; any other finding of severity error is a failure too, so a corpus spec shows one defect, not many.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monstack.errors import MonstackError
from monstack.pipeline import resolve

CORPUS = Path(__file__).parent / "data" / "semantic"
EXPECT = re.compile(r"^#\s*expect:\s*(?P<check>\S+)\s+(?P<severity>error|warning)\s+(?P<line>\d+)\s*$")


def expectations(path: Path) -> list[tuple[str, str, int]]:
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        match = EXPECT.match(line)
        if match:
            out.append((match["check"], match["severity"], int(match["line"])))
    return out


def findings(path: Path) -> list:
    try:
        return resolve(path).warnings
    except MonstackError as error:
        return error.diagnostics


SPECS = sorted(CORPUS.glob("*/*.yaml"))


@pytest.mark.parametrize("spec", SPECS, ids=[f"{p.parent.name}/{p.stem}" for p in SPECS])
def test_corpus_spec_is_refused_or_warned_where_expected(spec: Path):
    expected = expectations(spec)
    assert expected, f"{spec} has no '# expect: CHECK SEVERITY LINE' header"
    found = findings(spec)
    got = {(d.check, d.severity, d.line) for d in found}
    for item in expected:
        assert item in got, f"{spec.name}: expected {item}, validate found:\n" + "\n".join(
            d.headline() for d in found)
    unexpected = [d for d in found if d.severity == "error" and (d.check, d.severity, d.line) not in expected]
    assert not unexpected, f"{spec.name}: other errors:\n" + "\n".join(d.headline() for d in unexpected)
