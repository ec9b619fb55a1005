"""The in-process Go template check agrees with promtool (Go's text/template parser with Prometheus'
functions and variables) on a corpus of good and bad annotations: actions, trim markers, comments, strings,
parentheses, control structures, variables, functions, numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import real_tool

from monstack.syntax import gotemplate

CORPUS = [
    'plain text',
    '{{ $value }}',
    '{{ $labels.instance }}',
    '{{ .Labels.instance }}',
    '{{ $value | humanizePercentage }}',
    '{{ humanize $value }}',
    '{{',
    '{{ $labels.instance',
    '}}',
    'a }} b',
    '{{ }}',
    '{{}}',
    '{{- $value -}}',
    '{{-$value}}',
    '{{ $value -}}',
    '{{/* c */}}',
    '{{- /* c */ -}}',
    '{{ /* c */ }}',
    '{{/* c }}',
    '{{/* c */ x}}',
    '{{ if gt $value 1.0 }}big{{ end }}',
    '{{ if gt $value 1.0 }}big',
    '{{ end }}',
    '{{ else }}',
    '{{ if true }}a{{ else }}b{{ end }}',
    '{{ if true }}a{{ else }}b{{ else }}c{{ end }}',
    '{{ if true }}a{{ else if false }}b{{ else }}c{{ end }}',
    '{{ range $i, $e := $labels }}{{ $i }}{{ end }}',
    '{{ range $labels }}{{ break }}{{ end }}',
    '{{ break }}',
    '{{ with $labels.x }}{{ . }}{{ end }}',
    '{{ with $labels.x }}{{ else with $labels.y }}{{ end }}',
    '{{ range $labels }}{{ else if true }}{{ end }}',
    '{{ $x := 1 }}{{ $x }}',
    '{{ $y }}',
    '{{ $x = 1 }}',
    '{{ "unterminated }}',
    '{{ `raw }}',
    "{{ 'c' }}",
    "{{ '' }}",
    '{{ (humanize $value }}',
    '{{ humanize $value) }}',
    '{{ $value | }}',
    '{{ | humanize }}',
    '{{ $value | "x" }}',
    '{{ nosuchfunc $value }}',
    '{{ 3x }}',
    '{{ 0x1F }}',
    '{{ -3 }}',
    '{{ 1e3 }}',
    '{{ printf "%.2f" $value }}',
    '{{ define "x" }}a{{ end }}',
    '{{ template "x" }}',
    '{{ block "y" . }}b{{ end }}',
    '{{ $labels.instance | toUpper }}',
    '{{ .Value }}',
    '{{ $externalLabels.cluster }}',
    '{{ # }}',
    '{{ @ }}',
    '{{ if }}x{{ end }}',
    '{{ range }}{{ end }}',
    '{{ $value | humanize | toUpper }}',
    '{{ index $labels "a" }}',
    '{{ $labels. }}',
    '{{ .Labels.a.b }}',
    '{{ end $x }}',
    '{{ if true }}{{ define "z" }}{{ end }}{{ end }}',
    'a {{- b',
    '{{{{ $value }}',
    '{{ $value }}}}',
    '{{ (.Value) }}',
    '{{ ($value).x }}',
    '{{ nil }}',
    '{{ true }}',
    '{{ if and true false }}x{{ end }}',
    '{{ $value := 3 }}',
    '{{ $1 }}',
    '{{ .1 }}',
    '{{ $a, $b := $labels }}',
    '{{ range $a, $b, $c := $labels }}{{ end }}',
    '{{ $value\n| humanize }}',
    '{{ "a\nb" }}',
    '{{ `a\nb` }}',
    '{{ continue }}',
    '{{ range $labels }}{{ continue }}{{ end }}',
    '{{ else if true }}',
    '{{ 1 2 }}',
    '{{ $value 2 }}',
    '{{ .Foo bar }}',
    '{{ - 3 }}',
    '{{ -}}',
    '{{- }}',
    '{{ humanize }}',
    '{{ else }}{{ end }}',
]


@pytest.mark.tools
def test_the_template_check_gives_promtools_verdict(tmp_path: Path):
    promtool = real_tool("promtool")
    files = []
    for i, text in enumerate(CORPUS):
        rule = {"alert": "A", "expr": "vector(1)", "annotations": {"summary": text}}
        path = tmp_path / f"r{i}.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}), encoding="utf-8")
        files.append(path.name)
    proc = subprocess.run([promtool.path, "check", "rules", *files], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    report = proc.stdout + proc.stderr
    failed = set(re.findall(r"^(r\d+\.yml): ", proc.stderr, re.M))  # promtool names each failing file on stderr
    verdicts = {f"r{i}.yml": "FAILED" if f"r{i}.yml" in failed else "SUCCESS" for i in range(len(CORPUS))}
    assert proc.stdout.count("SUCCESS") == len(CORPUS) - len(failed), report
    disagree = [(text, verdicts[f"r{i}.yml"], gotemplate.error(text)) for i, text in enumerate(CORPUS)
                if (verdicts[f"r{i}.yml"] == "SUCCESS") != (gotemplate.error(text) is None)]
    assert not disagree, disagree
    assert 20 < sum(v == "FAILED" for v in verdicts.values()) < len(CORPUS) - 20  # both kinds well represented


def test_every_verdict_is_fast_and_bounded():
    """A long text is refused by length, not parsed at length."""
    assert "at most" in gotemplate.error("{" * 100_000)
