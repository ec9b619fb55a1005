"""The PromQL written for each condition kind. Each expected string is written from the rule it encodes (see the
module docstring of monstack.promql and GUIDE-DEFECTS.md), not copied from output; every one must also parse."""

from __future__ import annotations

import promql_parser
import pytest

from monstack import promql
from monstack.errors import MonstackError
from monstack.load import load_text
from monstack.model import build
from monstack.spec.parse import parse

HEADER = """
version: monstack/v1
project: {name: t}
defaults: {scrape_interval: 15s}
targets:
  - {name: api, kind: app, address: "api:8000"}
  - {name: postgresql, kind: postgres, address: "db:5432"}
  - {name: node, kind: node}
metrics:
  - {name: req_total, type: counter, help: h}
  - {name: ok_total, type: counter, help: h}
  - {name: lat_seconds, type: histogram, help: h, buckets: [0.1, 0.5, 1, 5]}
  - {name: ext_seconds, type: histogram, help: h}
  - {name: users, type: gauge, help: h}
  - {name: stamp_seconds, type: gauge, help: h}
routing:
  receiver: r
  receivers: [{name: r, webhook: {url: "http://hook:5000/"}}]
alerts:
"""


def expr_of(alert_yaml: str) -> str:
    text = HEADER + "  - {name: A, severity: warning, summary: s, description: d, " + alert_yaml + "}\n"
    source = load_text(text, "t.yaml")
    model, problems = build(parse(source), source)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise MonstackError(errors)
    return model.rules[0].expr


CASES = {
    "target down, exporter's own view": (
        "when: {down: {target: postgresql}}", 'pg_up{job="postgresql"} == 0'),
    "target down, scrape": (
        "when: {down: {target: postgresql, check: scrape}}", 'up{job="postgresql"} == 0'),
    "app down is up == 0": ("when: {down: {target: api}}", 'up{job="api"} == 0'),
    "availability is the mean of up over the window": (
        "when: {availability: {target: api, over: 1d}}, below: 99.9%", 'avg_over_time(up{job="api"}[1d]) < 0.999'),
    "gauge threshold": ("when: {threshold: {metric: users, aggregate: sum}}, below: 10", "sum(users) < 10"),
    "gauge threshold by label": (
        "when: {threshold: {metric: users, aggregate: max, by: [job]}}, above: 3", "max by (job) (users) > 3"),
    "gauge threshold in seconds": ("when: {threshold: {metric: users}}, above: 2m", "users > 120"),
    "gauge with a guard": (
        "when: {threshold: {metric: users, only_if: 'users > 0'}}, above: 1",
        "(users and on (job, instance) (users > 0)) > 1"),
    "fraction used of a maximum skips a zero maximum": (
        "when: {fraction: {used: users, of: stamp_seconds}}, above: 90%", "users / (stamp_seconds > 0) > 0.9"),
    "fraction from the free side": (
        "when: {fraction: {free: users, of: stamp_seconds}}, above: 85%",
        "(1 - users / (stamp_seconds > 0)) > 0.85"),
    "fraction across targets is aggregated first": (
        "when: {fraction: {used: users, of: stamp_seconds, aggregate: sum}}, above: 10%",
        "sum(users) / (sum(stamp_seconds) > 0) > 0.1"),
    "ratio of summed rates, absent part is zero": (
        "every: 5m, when: {ratio: {part: 'req_total{code=\"500\"}', whole: req_total}}, above: 5%",
        '(sum(rate(req_total{code="500"}[5m])) or vector(0)) / (sum(rate(req_total[5m])) > 0) > 0.05'),
    "ratio over a sum of counters": (
        "when: {ratio: {part: req_total, whole: [ok_total, req_total], over: 1h}}, above: 20%",
        "(sum(rate(req_total[1h])) or vector(0)) / ((sum(rate(ok_total[1h])) or vector(0)) + "
        "(sum(rate(req_total[1h])) or vector(0)) > 0) > 0.2"),
    "ratio per instance keeps the label": (
        "when: {ratio: {part: req_total, whole: ok_total, over: 5m, by: [instance]}}, above: 80%",
        "sum by (instance) (rate(req_total[5m])) / (sum by (instance) (rate(ok_total[5m])) > 0) > 0.8"),
    "per hour is increase over 1h, whole events, absent counts as zero below": (
        "when: {increase: {counter: req_total, over: 1h}}, below: 100/h",
        "(round(sum(increase(req_total[1h]))) or vector(0)) < 100"),
    "per minute over a 5m window is a rate scaled to minutes": (
        "when: {increase: {counter: req_total, over: 5m}}, above: 10/min",
        "sum(rate(req_total[5m])) * 60 > 10"),
    "a count of whole events over the window": (
        "when: {increase: {counter: req_total, over: 5m}}, above: 0", "round(sum(increase(req_total[5m]))) > 0"),
    "observations slower than a bound, Prometheus 3 le": (
        "every: 1m, when: {increase: {histogram: lat_seconds, slower_than: 1s}}, above: 10/min",
        'round(sum(increase(lat_seconds_count[1m])) - sum(increase(lat_seconds_bucket{le="1.0"}[1m]))) > 10'),
    "observations slower than a bound, per minute over 5m": (
        "when: {increase: {histogram: lat_seconds, slower_than: 1s, over: 5m}}, above: 10/min",
        '(sum(rate(lat_seconds_count[5m])) - sum(rate(lat_seconds_bucket{le="1.0"}[5m]))) * 60 > 10'),
    "quantile of undeclared buckets: compared as summed bucket rates": (
        "every: 5m, when: {quantile: {histogram: ext_seconds, q: 0.95}}, above: 1s",
        "histogram_quantile(0.95, sum by (le) (rate(ext_seconds_bucket[5m]))) > 1"),
    # at a declared bound the quantile stays the value; fewer than 95% at or below 1s decides (issue 11)
    "quantile at a declared bound: filtered by the exact bucket share": (
        "every: 5m, when: {quantile: {histogram: lat_seconds, q: 0.95}}, above: 1s",
        "histogram_quantile(0.95, sum by (le) (rate(lat_seconds_bucket[5m]))) "
        'and sum(rate(lat_seconds_bucket{le="1.0"}[5m])) / (sum(rate(lat_seconds_count[5m])) > 0) < 0.95'),
    "quantile at the top finite bound, by a label": (
        "every: 5m, when: {quantile: {histogram: lat_seconds, q: 0.99, by: [job]}}, above: 5s",
        "histogram_quantile(0.99, sum by (le, job) (rate(lat_seconds_bucket[5m]))) "
        'and sum by (job) (rate(lat_seconds_bucket{le="5.0"}[5m])) / (sum by (job) (rate(lat_seconds_count[5m])) > 0)'
        " < 0.99"),
    "quantile below a declared bound: more than q at or below it": (
        "when: {quantile: {histogram: lat_seconds, q: 0.5, over: 10m}}, below: 100ms",
        "histogram_quantile(0.5, sum by (le) (rate(lat_seconds_bucket[10m]))) "
        'and sum(rate(lat_seconds_bucket{le="0.1"}[10m])) / (sum(rate(lat_seconds_count[10m])) > 0) > 0.5'),
    "average from sum and count": (
        "when: {average: {histogram: lat_seconds, over: 1h}}, above: 5m",
        "sum(rate(lat_seconds_sum[1h])) / (sum(rate(lat_seconds_count[1h])) > 0) > 300"),
    "share of stale series over a total": (
        "when: {count: {series: stamp_seconds, older_than: 48h, of: users}}, above: 5%",
        "(count(time() - stamp_seconds > 172800) or vector(0)) / (sum(users) > 0) > 0.05"),
    "count of series, absent is zero": (
        "when: {count: {series: users, above: 0}}, below: 1", "(count(users > 0) or vector(0)) < 1"),
    "always": ("when: {always: true}", "vector(1)"),
    # age: the comparison binds tighter than `or`, so the absent case is a second alternative, not compared
    "age since a last success, absent fires": (
        "when: {age: {since: 'stamp_seconds{job=\"api\"}'}}, above: 26h",
        'time() - stamp_seconds{job="api"} > 93600 or absent(stamp_seconds{job="api"})'),
    "age since, absent ignored on request": (
        "when: {age: {since: stamp_seconds, if_absent: ignore}}, above: 1h", "time() - stamp_seconds > 3600"),
    "age until an expiry, absent ignored by default": (
        "when: {age: {until: stamp_seconds}}, below: 14d", "stamp_seconds - time() < 1209600"),
    "age until, absent fires on request": (
        "when: {age: {until: stamp_seconds, if_absent: fire}}, below: 1d",
        "stamp_seconds - time() < 86400 or absent(stamp_seconds)"),
    "absent series over a window": (
        "when: {absent: {series: 'users{job=\"api\"}', over: 10m}}", 'absent_over_time(users{job="api"}[10m])'),
    "absent target: its up series vanished from discovery; window from every": (
        "every: 5m, when: {absent: {target: api}}", 'absent_over_time(up{job="api"}[5m])'),
    "absent window never under four scrapes": (
        "every: 30s, when: {absent: {target: api}}", 'absent_over_time(up{job="api"}[1m])'),
    "difference of two counters, whole events": (
        "when: {increase: {counter: req_total, minus: ok_total, over: 5m}}, above: 10",
        "round(sum(increase(req_total[5m])) - sum(increase(ok_total[5m]))) > 10"),
    "difference of two counters by a label, as a rate per minute": (
        "when: {increase: {counter: req_total, minus: ok_total, over: 5m, by: [instance]}}, above: 10/min",
        "(sum by (instance) (rate(req_total[5m])) - sum by (instance) (rate(ok_total[5m]))) * 60 > 10"),
    "ratio with a count floor: the comparison before the and": (
        "every: 5m, when: {ratio: {part: 'req_total{code=\"500\"}', whole: req_total, min_count: 100}}, above: 5%",
        '(sum(rate(req_total{code="500"}[5m])) or vector(0)) / (sum(rate(req_total[5m])) > 0) > 0.05 '
        "and sum(increase(req_total[5m])) >= 100"),
    "ratio with a rate floor by instance, over a sum of wholes": (
        "when: {ratio: {part: req_total, whole: [ok_total, req_total], over: 5m, by: [instance], min_rate: 2/s}}, "
        "above: 5%",
        "sum by (instance) (rate(req_total[5m])) / (sum by (instance) (rate(ok_total[5m])) + "
        "sum by (instance) (rate(req_total[5m])) > 0) > 0.05 and on (instance) "
        "sum by (instance) (rate(ok_total[5m])) + sum by (instance) (rate(req_total[5m])) >= 2"),
    "ratio with a floor per minute is per second in PromQL": (
        "when: {ratio: {part: req_total, whole: ok_total, over: 5m, min_rate: 30/min}}, above: 5%",
        "(sum(rate(req_total[5m])) or vector(0)) / (sum(rate(ok_total[5m])) > 0) > 0.05 "
        "and sum(rate(ok_total[5m])) >= 0.5"),
    "quantile with a floor on the histogram's count": (
        "every: 5m, when: {quantile: {histogram: lat_seconds, q: 0.95, min_count: 100}}, above: 1s",
        "histogram_quantile(0.95, sum by (le) (rate(lat_seconds_bucket[5m]))) "
        'and sum(rate(lat_seconds_bucket{le="1.0"}[5m])) / (sum(rate(lat_seconds_count[5m])) > 0) < 0.95 '
        "and sum(increase(lat_seconds_count[5m])) >= 100"),
    "average with a floor by job": (
        "when: {average: {histogram: lat_seconds, over: 1h, by: [job], min_rate: 1/s}}, above: 5m",
        "sum by (job) (rate(lat_seconds_sum[1h])) / (sum by (job) (rate(lat_seconds_count[1h])) > 0) > 300 "
        "and on (job) sum by (job) (rate(lat_seconds_count[1h])) >= 1"),
}


@pytest.mark.parametrize("alert,expected", CASES.values(), ids=CASES.keys())
def test_condition_promql(alert: str, expected: str) -> None:
    got = expr_of(alert)
    assert got == expected
    promql_parser.parse(got)  # and it is valid PromQL


@pytest.mark.parametrize("expr,top,left", [
    # comparison binds tighter than and/or: the threshold compares the measure, the guard is a set operation
    ('time() - x{job="a"} > 93600 or absent(x{job="a"})', "or", ">"),
    ("a / (b > 0) > 0.05 and sum(increase(b[5m])) >= 100", "and", ">"),
    ("a > 1 and on (instance) sum by (instance) (rate(b[5m])) + sum by (instance) (rate(c[5m])) >= 2", "and", ">"),
])
def test_guards_come_after_the_comparison(expr, top, left):
    node = promql_parser.parse(expr)
    assert str(node.op) == top and str(node.lhs.op) == left and type(node.lhs.rhs).__name__ == "NumberLiteral"


def test_default_window_is_the_cadence_but_never_under_four_scrapes() -> None:
    assert "[5m]" in expr_of("when: {ratio: {part: req_total, whole: ok_total}}, above: 5%")  # no cadence: 5m
    assert "[1h]" in expr_of("every: 1h, when: {ratio: {part: req_total, whole: ok_total}}, above: 5%")
    # every 30s with 15s scrapes: a 30s rate window holds two samples at best; four scrapes is 1m
    assert "[1m]" in expr_of("every: 30s, when: {ratio: {part: req_total, whole: ok_total}}, above: 5%")


def rule_of(alert_yaml: str):
    source = load_text(HEADER + "  - {name: A, severity: warning, summary: s, description: d, " + alert_yaml + "}\n")
    return build(parse(source), source)[0].rules[0]


@pytest.mark.parametrize("alert,for_", [
    ("every: 30s, when: {down: {target: api}}", "30s"),  # instant: held for one cadence
    ("every: 1h, when: {threshold: {metric: users}}, above: 1", "1h"),
    ("every: 1h, when: {increase: {counter: req_total}}, above: 1", "0s"),  # windowed: the window is the cadence
    ("every: 5m, when: {ratio: {part: req_total, whole: ok_total}}, above: 5%", "0s"),
    ("every: 5m, for: 10m, when: {ratio: {part: req_total, whole: ok_total}}, above: 5%", "10m"),  # explicit wins
    ("when: {down: {target: api}}", "0s"),
    ("every: 1h, when: {age: {since: stamp_seconds}}, above: 26h", "1h"),  # instant, like a threshold
    ("every: 10m, when: {absent: {target: api}}", "0s"),  # windowed: missing for the window is the condition
])
def test_default_for(alert: str, for_: str) -> None:
    assert str(rule_of(alert).for_) == for_


def test_window_under_two_scrapes_is_refused() -> None:
    with pytest.raises(MonstackError) as info:
        expr_of("when: {ratio: {part: req_total, whole: ok_total, over: 20s}}, above: 5%")
    (d,) = info.value.diagnostics
    assert d.path[-2:] == ("ratio", "over") and "fewer than two scrapes" in d.message


@pytest.mark.parametrize("alert,needle", [
    ("when: {ratio: {part: req_total, whole: ok_total}}, above: 1s", "takes percent"),
    ("when: {ratio: {part: req_total, whole: ok_total}}", "needs a threshold"),
    ("when: {down: {target: api}}, above: 1", "takes no threshold"),
    ("when: {availability: {target: api, over: 1d}}, above: 99%", "below: 99.9%"),
    ("when: {down: {target: nowhere}}", "unknown target 'nowhere'"),
    ("when: {quantile: {histogram: lat_seconds, q: 0.95}}, above: 10s", "above the top finite bucket"),
    ("when: {quantile: {histogram: lat_seconds, q: 0.95}}, above: 2s", "not a bucket bound"),
    ("when: {increase: {histogram: lat_seconds, slower_than: 10s}}, above: 1", "not below the top finite bucket"),
    ("when: {age: {since: stamp_seconds}}, below: 1h", "takes `above: 26h`"),
    ("when: {age: {until: stamp_seconds}}, above: 1d", "takes `below: 14d`"),
    ("when: {age: {since: stamp_seconds}}, above: 5%", "takes duration"),
    ("when: {age: {since: stamp_seconds}}", "needs a threshold"),
    ("when: {age: {since: stamp_seconds, until: stamp_seconds}}, above: 1h", "exactly one of `since` or `until`"),
    ("when: {absent: {target: api}}, above: 1", "takes no threshold"),
    ("when: {absent: {target: nowhere}}", "unknown target 'nowhere'"),
    ("when: {absent: {series: users, over: 20s}}", "fewer than two scrapes"),
    ("when: {absent: {series: users, target: api}}", "exactly one of `series` or `target`"),
    ("when: {increase: {histogram: lat_seconds, slower_than: 1s, minus: ok_total}}, above: 1", "give `counter` too"),
    ("when: {ratio: {part: req_total, whole: ok_total, min_rate: 5}}, above: 5%", "not a rate of events"),
    ("when: {ratio: {part: req_total, whole: ok_total, min_count: 0}}, above: 5%", "greater than 0"),
    ("when: {ratio: {part: req_total, whole: ok_total, min_count: 9, min_rate: 1/s}}, above: 5%", "at most one"),
])
def test_conditions_refuse_what_cannot_work(alert: str, needle: str) -> None:
    with pytest.raises(MonstackError) as info:
        expr_of(alert)
    assert any(needle in d.message for d in info.value.diagnostics), info.value.diagnostics


@pytest.mark.parametrize("bound,stored", [
    (1, "1.0"), (0.25, "0.25"), (10, "10.0"), (3600, "3600.0"), (1e6, "1e+06"), (2.5e-5, "2.5e-05"),
    (float("inf"), "+Inf"), (0, "0.0"),
])
def test_le_values_as_prometheus_3_stores_them(bound: float, stored: str) -> None:
    assert promql.le_value(bound) == stored
