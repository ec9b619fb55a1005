"""The committed output in generated/ is exactly what the example spec generates (the CI drift check), and
generation is deterministic."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE, ROOT


def test_committed_output_matches_the_example(cli):
    proc = cli("generate", "specs/real-estate-scraper.yaml", "-o", "generated", "--check")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_generation_is_byte_identical(tmp_path: Path, cli):
    """Two runs in two different folders (the stamp holds only relative paths) give the same bytes."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        proc = cli("generate", str(EXAMPLE), "-o", "out", cwd=tmp_path / name)
        assert proc.returncode == 0, proc.stderr
    a, b = tmp_path / "a" / "out", tmp_path / "b" / "out"
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "generated") for p in (ROOT / "generated").rglob("*") if p.is_file())
    assert files_a == files_b == committed
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert str(tmp_path) not in (a / "prometheus" / "prometheus.yml").read_text()
