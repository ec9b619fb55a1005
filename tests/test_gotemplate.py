"""Annotation templates rendered as Prometheus renders them. Expected strings were printed by promtool 3.5 itself
(a rule whose annotations are `{{ $value }}` and the humanize functions, fed each value)."""

from __future__ import annotations

import pytest

from monstack.proof.gotemplate import Unsupported, go_float, humanize, humanize_duration, humanize_percentage, render
from monstack.proof.series import values_notation

PROMTOOL = [  # value, {{ $value }}, humanize, humanizePercentage, humanizeDuration
    (1000000, "1e+06", "1M", "1e+08%", "11d 13h 46m 40s"),
    (123456, "123456", "123.5k", "1.235e+07%", "1d 10h 17m 36s"),
    (1234567, "1.234567e+06", "1.235M", "1.235e+08%", "14d 6h 56m 7s"),
    (0.00001, "1e-05", "10u", "0.001%", "10us"),
    (0.0001234, "0.0001234", "123.4u", "0.01234%", "123.4us"),
    (0.5, "0.5", "500m", "50%", "500ms"),
    (0.999861111, "0.999861111", "999.9m", "99.99%", "999.9ms"),
    (86399, "86399", "86.4k", "8.64e+06%", "23h 59m 59s"),
    (90061, "90061", "90.06k", "9.006e+06%", "1d 1h 1m 1s"),
    (59.5, "59.5", "59.5", "5950%", "59.5s"),
    (3, "3", "3", "300%", "3s"),
]


@pytest.mark.parametrize("value,plain,human,percent,duration", PROMTOOL)
def test_number_formatting_matches_promtool(value, plain, human, percent, duration):
    assert (go_float(value), humanize(value), humanize_percentage(value), humanize_duration(value)) == \
        (plain, human, percent, duration)


def test_render_substitutes_value_labels_and_pipes():
    text = "{{ $value | humanizePercentage }} on {{ $labels.instance }} ({{ humanize $value }}, {{ .Labels.job }})"
    assert render(text, 0.0612, {"instance": "api:8000", "job": "fastapi"}) == "6.12% on api:8000 (61.2m, fastapi)"
    assert render("no template", 1, {}) == "no template"
    assert render("{{ $labels.missing }}", 1, {}) == ""  # Prometheus expands with missingkey=zero (promtool agrees)


@pytest.mark.parametrize("text", ['{{ printf "%.2f" $value }}', "{{ range .Alerts }}x{{ end }}",
                                  "{{ $labels.instance | humanize }}"])
def test_what_it_does_not_evaluate_is_said(text):
    with pytest.raises(Unsupported):
        render(text, 1.0, {"instance": "a"})


@pytest.mark.parametrize("values,notation", [
    ([0, 15, 30, 45], "0+15x3"),
    ([1, 1, 1], "1x2"),
    ([1, 1, 0, 0, 1], "1x1 0x1 1"),
    ([5], "5"),
    ([0, 0.25, 0.5], "0+0.25x2"),
    ([10, 8, 6], "10-2x2"),
])
def test_values_notation_expands_back_to_the_values(values, notation):
    assert values_notation(values) == notation
