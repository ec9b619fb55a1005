"""The exact bucket form of a quantile alert against histogram_quantile, through the real promtool (issue 11).

For each layout the same cumulative series (count == +Inf bucket) go through `promtool test rules`: the exact
form must fire exactly when more than (1-q) of observations exceed t (not at exactly 1-q, where the quantile is t);
histogram_quantile cannot fire at the top finite bound. The wired rule is in tests/test_quantile_wired.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from monstack.promql import ConditionError, le_value
from monstack.quantile import exact_quantile
from conftest import real_tool

Q = 0.95
# (buckets, threshold, share of observations slower than the threshold per step in the firing case)
LAYOUTS = [
    ([0.1, 0.5, 1.0], 1.0, 0.10),        # instrumentator default, P95 > 1s: the top finite bound
    ([0.1, 0.5, 1.0], 0.1, 0.10),        # the lowest bound
    ([0.1, 0.5, 1.0], 0.5, 0.10),        # a middle bound
    ([0.25, 2.0], 2.0, 0.20),            # two buckets, the top
    ([0.005, 0.01, 0.05, 0.5, 5.0], 0.05, 0.08),  # five buckets, a middle
]


def series(buckets, t, slow_share):
    """Per-step increments: 100 observations, `slow_share` of them just above t (or in +Inf), the rest at t."""
    total = 100
    slow = round(total * slow_share)
    above = next((b for b in buckets if b > t), float("inf"))
    per = {}
    for b in [*buckets, float("inf")]:
        per[b] = (total - slow if b >= t else 0) + (slow if b >= above else 0)
    out = [{"series": f'h_bucket{{le="{le_value(b)}"}}', "values": f"0+{n}x20"} for b, n in per.items()]
    out.append({"series": "h_count", "values": f"0+{total}x20"})
    return out


def case(name, expr, inputs, fires):
    return {"name": name, "interval": "1m", "input_series": inputs,
            "promql_expr_test": [{"expr": f"count({expr}) or vector(0)", "eval_time": "10m",
                                  "exp_samples": [{"labels": "{}", "value": 1 if fires else 0}]}]}


@pytest.mark.parametrize("buckets,t,slow", LAYOUTS)
def test_exact_form_fires_exactly_when_more_than_one_minus_q_are_slower(tmp_path: Path, buckets, t, slow):
    promtool = real_tool("promtool")
    exact = exact_quantile("h", Q, t, ">", "5m")
    quant = f'histogram_quantile({Q}, sum by (le) (rate(h_bucket[5m]))) > {t}'
    exact_below = exact_quantile("h", Q, t, "<", "5m")
    tests = [case("exact fires", exact, series(buckets, t, slow), True),
             case("exact silent", exact, series(buckets, t, 0.02), False),
             # exactly 1-q slower: the quantile is t itself, neither above nor below it
             case("exact silent at exactly q", exact, series(buckets, t, round(1 - Q, 12)), False),
             case("exact below silent at exactly q", exact_below, series(buckets, t, round(1 - Q, 12)), False),
             case("exact below silent when slow", exact_below, series(buckets, t, slow), False),
             case("exact below fires when fast", exact_below, series(buckets, t, 0.02), True)]
    top = t == buckets[-1]
    # histogram_quantile agrees below the top; at the top finite bound it returns t at most and never fires
    tests.append(case("quantile", quant, series(buckets, t, slow), not top))
    tests.append(case("quantile silent", quant, series(buckets, t, 0.02), False))
    path = tmp_path / "t.yml"
    path.write_text(yaml.safe_dump({"rule_files": [], "evaluation_interval": "1m", "tests": tests}), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    promtool.run("test", "rules", f"--junit={junit}", str(path), cwd=tmp_path)
    failed = [c.get("name") for c in ET.parse(junit).iter("testcase") if c.find("failure") is not None]
    assert failed == []


def test_exact_form_text():
    # "P95 above 1s": fewer than 95% of observations took 1s or less (compared with q itself: `1 - share > 0.05`
    # passes at exactly 95%, as 1 - 0.95 is 0.05000000000000004)
    assert exact_quantile("x", 0.95, 1, ">", "5m", ["route"]) == (
        'sum by (route) (rate(x_bucket{le="1.0"}[5m])) / (sum by (route) (rate(x_count[5m])) > 0) < 0.95')
    assert exact_quantile("x", 0.5, 0.25, "<", "1m") == (
        'sum(rate(x_bucket{le="0.25"}[1m])) / (sum(rate(x_count[1m])) > 0) > 0.5')


def test_by_le_and_unknown_bound_are_refused():
    with pytest.raises(ConditionError, match="by: \\[le\\]"):
        exact_quantile("x", 0.95, 1, ">", "5m", ["le"])
    with pytest.raises(ConditionError) as err:
        exact_quantile("x", 0.95, 0.7, ">", "5m", buckets=[0.1, 0.5, 1.0])
    assert "0.1, 0.5, 1" in err.value.hint
