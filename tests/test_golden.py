"""The committed output in generated/<spec>/ is exactly what each example spec generates (the CI drift check), and
generation is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLES = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))


def test_every_example_has_committed_output():
    assert EXAMPLES == sorted(p.name for p in (ROOT / "generated").iterdir() if p.is_dir())
    assert {"real-estate-scraper", "checkout"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_output_matches_the_example(cli, name):
    proc = cli("generate", f"specs/{name}.yaml", "-o", f"generated/{name}", "--check")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_generation_is_byte_identical(tmp_path: Path, cli, name):
    """Two runs in two different folders (the stamp holds only relative paths) give the same bytes, and the same
    files as committed."""
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        proc = cli("generate", str(ROOT / "specs" / f"{name}.yaml"), "-o", "out", cwd=tmp_path / run)
        assert proc.returncode == 0, proc.stderr
    a, b = tmp_path / "a" / "out", tmp_path / "b" / "out"
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    committed_root = ROOT / "generated" / name
    committed = sorted(p.relative_to(committed_root) for p in committed_root.rglob("*") if p.is_file())
    assert files_a == files_b == committed
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert str(tmp_path) not in (a / "prometheus" / "prometheus.yml").read_text()
