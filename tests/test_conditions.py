"""The condition kinds of issue 10 on a small spec of their own (tests/data/conditions/new-kinds.yaml): `age`,
`absent`, the difference of two counters, traffic floors. Their rules (expected PromQL written by hand), their
generated proofs run by the real promtool and failing when the rule is mutated, the labels they carry, their
panels, runbooks and lint, and one drill run on the real Prometheus + Alertmanager."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT, real_tool
from monstack import pipeline, write
from monstack.alert_labels import alert_labels
from monstack.panels import alert_view, split_comparison
from monstack.proof import plan
from monstack.proof.run import run

SPEC = ROOT / "tests" / "data" / "conditions" / "new-kinds.yaml"

RULES = {  # each written from the rule it encodes (promql.py's docstring), not copied from output
    "BackupTooOld": 'time() - backup_last_success_timestamp_seconds{job="batch"} > 93600 '
                    'or absent(backup_last_success_timestamp_seconds{job="batch"})',
    "CertificateExpiresSoon": "cert_expiry_timestamp_seconds - time() < 1209600",
    "CertificateExpiryUnknown": 'cert_expiry_timestamp_seconds{job="certs"} - time() < 604800 '
                                'or absent(cert_expiry_timestamp_seconds{job="certs"})',
    "BackupMetricsLost": 'absent_over_time(backup_rows{job="batch"}[10m])',
    "PaymentsVanished": 'absent_over_time(up{job="payments"}[5m])',
    "ConnectionsDropped": "round(sum(increase(connections_accepted_total[5m])) - "
                          "sum(increase(connections_handled_total[5m]))) > 10",
    "ConnectionsDroppedPerMinute": "(sum(rate(connections_accepted_total[5m])) - "
                                   "sum(rate(connections_handled_total[5m]))) * 60 > 2",
    "HighErrorRateWithTraffic": '(sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)) / '
                                "(sum(rate(http_requests_total[5m])) > 0) > 0.05 "
                                "and sum(increase(http_requests_total[5m])) >= 100",
    "HighErrorRatePerHandler": 'sum by (handler) (rate(http_requests_total{status=~"5.."}[5m])) / '
                               "(sum by (handler) (rate(http_requests_total[5m])) > 0) > 0.1 "
                               "and on (handler) sum by (handler) (rate(http_requests_total[5m])) >= 1",
    # 1s is a declared bound: the quantile is the value, fewer than 95% within 1s decides (issue 11)
    "SlowWithTraffic": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) "
                       'and sum(rate(http_request_duration_seconds_bucket{le="1.0"}[5m])) / '
                       "(sum(rate(http_request_duration_seconds_count[5m])) > 0) < 0.95 "
                       "and sum(increase(http_request_duration_seconds_count[5m])) >= 500",
    "SlowOnAverageWithTraffic": "sum(rate(http_request_duration_seconds_sum[10m])) / "
                                "(sum(rate(http_request_duration_seconds_count[10m])) > 0) > 0.5 "
                                "and sum(rate(http_request_duration_seconds_count[10m])) >= 0.5",  # 30/min
}
GUARDED = {"BackupTooOld", "CertificateExpiryUnknown", "HighErrorRateWithTraffic", "HighErrorRatePerHandler",
           "SlowWithTraffic", "SlowOnAverageWithTraffic"}


@pytest.fixture(scope="module")
def resolved():
    return pipeline.resolve(SPEC)


@pytest.fixture(scope="module")
def promtool():
    return real_tool("promtool")


def test_rules(resolved):
    assert {r.name: r.expr for r in resolved.model.rules} == RULES
    fors = {r.name: str(r.for_) for r in resolved.model.rules}
    assert fors["BackupTooOld"] == "1h"  # an instant condition: `for` defaults to `every`
    assert fors["BackupMetricsLost"] == "0s" and fors["PaymentsVanished"] == "2m"  # windowed; explicit wins


def test_generated_cases_of_each_kind(resolved):
    cases = {c.alert: [(case.expect, case.title) for case in c.generated] for c in plan(resolved.model)}

    def has(alert, expect, words):
        assert any(e == expect and words in t for e, t in cases[alert]), (alert, cases[alert])

    has("BackupTooOld", "firing", "before the test began")  # a stale last success
    has("BackupTooOld", "silent", "exactly 26h before the check")  # exactly at the threshold: not above it
    has("BackupTooOld", "pending", "")
    has("BackupTooOld", "firing", "no backup_last_success_timestamp_seconds series exists (if_absent: fire)")
    has("CertificateExpiresSoon", "silent", "no cert_expiry_timestamp_seconds series exists (if_absent: ignore)")
    has("CertificateExpiryUnknown", "firing", "(if_absent: fire)")
    has("BackupMetricsLost", "silent", "while backup_rows is present")
    has("BackupMetricsLost", "silent", "30s before backup_rows has been missing for 600s")  # one evaluation early
    has("BackupMetricsLost", "firing", "once backup_rows has been missing for 600s")
    has("BackupMetricsLost", "firing", "never existed")
    assert not any(e == "pending" for e, _ in cases["BackupMetricsLost"])  # no `for`
    has("PaymentsVanished", "pending", "up of target payments is missing")
    has("ConnectionsDropped", "firing", "connections_accepted_total 11/300s more than connections_handled_total")
    has("ConnectionsDropped", "silent", "connections_accepted_total 10/300s more than")
    for alert in ("HighErrorRateWithTraffic", "HighErrorRatePerHandler", "SlowWithTraffic", "SlowOnAverageWithTraffic"):
        has(alert, "silent", "under the traffic floor")
        has(alert, "firing", "")
    has("HighErrorRateWithTraffic", "silent", "100% of http_requests_total under the traffic floor (100 events)")


def test_the_absent_case_expects_the_selectors_equality_labels(resolved):
    [firing] = [c for c in next(x for x in plan(resolved.model) if x.alert == "BackupTooOld").generated
                if c.expect == "firing" and not c.series]
    assert firing.labels == {"job": "batch"} and firing.value == 1.0
    [vanished] = [c for c in next(x for x in plan(resolved.model) if x.alert == "PaymentsVanished").generated
                  if c.expect == "firing" and c.series]
    assert vanished.labels == {"job": "payments"}


def rendered(tmp_path: Path, resolved) -> Path:
    out = tmp_path / "out"
    write.write(pipeline.render(resolved, out), out)
    return out


def test_the_new_kinds_are_proven_by_the_real_promtool(tmp_path, promtool, resolved):
    report = run(resolved.model, promtool, rendered(tmp_path, resolved) / "prometheus")
    assert {r.alert: r.status for r in report.results} == {name: "passed" for name in RULES}, \
        report.promtool_output[-3000:]


# --- the proofs can fail: mutated rules fail their generated tests ---------------------------------------------

def _parts(expr: str) -> tuple[str, str, str, str] | None:
    """(query, op, number, guard) of a typed rule; for an exact quantile (`<quantile> and <share> < q [guard]`)
    the query is `<quantile> and <share>` and the comparison the share's. None without a comparison."""
    if split_comparison(expr) is None:
        quantile, _, rest = expr.partition(" and ")
        parts = _parts(rest) if expr.startswith("histogram_quantile(") and rest else None
        return None if parts is None else (f"{quantile} and {parts[0]}", *parts[1:])
    query, op, number = split_comparison(expr)
    head = f"{query} {op} "
    assert expr.startswith(head)
    text = expr[len(head):]
    value, _, guard = text.partition(" ")
    return query, op, value, (" " + guard) if guard else ""


def flip(expr: str) -> str | None:
    if _parts(expr) is None:
        return None
    query, op, value, guard = _parts(expr)
    return f"{query} {'<' if op == '>' else '>'} {value}{guard}"


def times_ten(expr: str) -> str | None:
    if _parts(expr) is None:
        return None
    query, op, value, guard = _parts(expr)
    return f"{query} {op} {float(value) * 10!r}{guard}"


def drop_guard(expr: str) -> str | None:
    if _parts(expr) is None:
        return None
    query, op, value, guard = _parts(expr)
    return f"{query} {op} {value}" if guard else None


def half_window(expr: str) -> str | None:
    return expr.replace("[10m])", "[5m])").replace("[5m])", "[150s])") if expr.startswith("absent_over") else None


def no_minus(expr: str) -> str | None:
    return expr.replace(" - sum(increase(connections_handled_total[5m]))", "").replace(
        " - sum(rate(connections_handled_total[5m]))", "") if "handled" in expr else None


@pytest.mark.parametrize("change,expected", [
    (flip, set(RULES) - {"BackupMetricsLost", "PaymentsVanished"}),  # absent has no comparison
    (times_ten, set(RULES) - {"BackupMetricsLost", "PaymentsVanished"}),
    (drop_guard, GUARDED),  # no floor: the 3 a.m. request fires; no `or absent`: the absent case is silent
    (half_window, {"BackupMetricsLost", "PaymentsVanished"}),  # fires a window too early
    (no_minus, {"ConnectionsDropped", "ConnectionsDroppedPerMinute"}),  # every accepted connection counts
])
def test_mutated_rules_fail_their_generated_tests(tmp_path, promtool, resolved, change, expected):
    out = rendered(tmp_path, resolved)
    mutated = set()
    for path in (out / "prometheus" / "rules").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in data["groups"]:
            for rule in group["rules"]:
                new = change(rule["expr"])
                if new is not None and new != rule["expr"]:
                    rule["expr"], _ = new, mutated.add(rule["alert"])
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert mutated == expected
    report = run(resolved.model, promtool, out / "prometheus")
    status = {r.alert: r.status for r in report.results}
    assert {a for a, s in status.items() if s == "failed"} == mutated, report.promtool_output[-3000:]


# --- labels, panels, runbooks, lint ----------------------------------------------------------------------------

def test_labels_the_new_kinds_carry(resolved):
    labels = {a.name: a for a in alert_labels(resolved.model)}
    # absent_over_time keeps the selector's equality matchers, and nothing else
    assert labels["PaymentsVanished"].dynamic == {"job"} and not labels["PaymentsVanished"].open
    assert labels["BackupMetricsLost"].dynamic == {"job"}
    # `or absent(x)`: either the series' labels or the equality matchers
    assert labels["BackupTooOld"].dynamic == {"job", "instance"}
    assert labels["CertificateExpiresSoon"].dynamic == {"job", "instance", "host"}  # declared labels: [host]
    assert labels["ConnectionsDropped"].dynamic == frozenset()  # sum() - sum()
    assert labels["HighErrorRatePerHandler"].dynamic == {"handler"}  # `and on (handler)` keeps the left side's


def test_alert_panels_show_the_measure_without_comparison_or_guard(resolved):
    rules = {r.name: r for r in resolved.model.rules}
    ratio = alert_view(resolved.model, rules["HighErrorRateWithTraffic"])
    assert ratio.query.expr == RULES["HighErrorRateWithTraffic"].split(" > 0.05 and ")[0]
    assert (ratio.threshold.value, ratio.threshold.red_above, ratio.unit) == (0.05, True, "percentunit")
    age = alert_view(resolved.model, rules["BackupTooOld"])
    assert age.query.expr == 'time() - backup_last_success_timestamp_seconds{job="batch"}' and age.unit == "s"
    assert (age.threshold.value, age.threshold.red_above) == (93600, True)
    cert = alert_view(resolved.model, rules["CertificateExpiresSoon"])
    assert (cert.threshold.value, cert.threshold.red_above) == (1209600, False)
    gone = alert_view(resolved.model, rules["PaymentsVanished"])  # how many exist: red at 0
    assert gone.query.expr == 'count(up{job="payments"}) or vector(0)' and gone.type == "stat"
    assert (gone.threshold.value, gone.threshold.red_above) == (1, False) and "none for 5m" in gone.description


def test_runbooks_say_what_the_new_kinds_mean(resolved):
    files = pipeline.render(resolved, Path("out"))
    backup = files["runbooks/BackupTooOld.md"].decode()
    assert "the time since `backup_last_success_timestamp_seconds{job=\"batch\"}` is above 26h" in backup
    assert 'carries only the selector\'s equality labels (job="batch"), not `instance`' in backup
    assert "names no `job`" not in backup
    unknown = files["runbooks/CertificateExpiryUnknown.md"].decode()
    assert "if_absent: fire" in unknown
    assert "ignored (`if_absent: ignore`)" in files["runbooks/CertificateExpiresSoon.md"].decode()
    gone = files["runbooks/PaymentsVanished.md"].decode()
    assert "every series of target `payments` (its `up`) has been missing for 5m" in gone
    assert "service discovery" in gone and 'count(up{job="payments"})' in gone
    floor = files["runbooks/HighErrorRateWithTraffic.md"].decode()
    assert "only while `http_requests_total` counted at least 100 events" in floor
    assert "traffic floor (min_count: 100)" in floor and "sum(increase(http_requests_total[5m]))\n" in floor
    assert "`connections_accepted_total` minus `connections_handled_total`" in \
        files["runbooks/ConnectionsDropped.md"].decode()


def test_an_age_without_a_job_says_so_in_its_runbook(tmp_path):
    text = SPEC.read_text(encoding="utf-8").replace(
        "when: {age: {until: 'cert_expiry_timestamp_seconds{job=\"certs\"}', if_absent: fire}}",
        "when: {age: {until: cert_expiry_timestamp_seconds, if_absent: fire}}")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    files = pipeline.render(pipeline.resolve(tmp_path / "s.yaml"), tmp_path / "out")
    words = files["runbooks/CertificateExpiryUnknown.md"].decode()
    assert "equality labels (none)" in words and "names no `job`" in words


@pytest.mark.parametrize("old,new,field", [
    ("since: 'backup_last_success_timestamp_seconds{job=\"batch\"}'",
     "since: 'backup_last_sucess_timestamp_seconds{job=\"batch\"}'", "since"),
    ("minus: connections_handled_total, over: 5m}}\n    above: 10\n",
     "minus: connections_handeld_total, over: 5m}}\n    above: 10\n", "minus"),
    ("series: 'backup_rows{job=\"batch\"}'", "series: 'backup_rowz{job=\"batch\"}'", "series"),
])
def test_lint_checks_the_metric_of_every_new_selector_field(tmp_path, cli, old, new, field):
    text = SPEC.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "s.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    proc = cli("validate", "s.yaml", "--offline", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "is exposed by no target of this spec" in proc.stderr and "did you mean" in proc.stderr


def test_an_expression_is_not_a_selector(tmp_path, cli):
    text = SPEC.read_text(encoding="utf-8").replace("when: {age: {until: cert_expiry_timestamp_seconds}}",
                                                     "when: {age: {until: 'max(cert_expiry_timestamp_seconds)'}}")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    proc = cli("validate", "s.yaml", "--offline", cwd=tmp_path)
    assert proc.returncode == 1 and "expected a metric selector" in proc.stderr, proc.stderr


def test_contract_references_include_the_new_selectors(resolved):
    from monstack.contract import references

    refs = {(r.metric, r.job) for r in references(resolved.model) if r.where.startswith("alert ")}
    assert {("backup_last_success_timestamp_seconds", "batch"), ("backup_rows", "batch"), ("up", "payments"),
            ("connections_handled_total", "edge"), ("cert_expiry_timestamp_seconds", "certs")} <= refs


# --- drill: one run, one alert per new kind ----------------------------------------------------------------------

def test_every_new_kind_has_a_driver(resolved):
    from monstack.drill import choose as drivers

    model = resolved.model
    found = {r.name: drivers.driver(model, r) for r in model.rules}
    assert all(found.values()), [n for n, d in found.items() if d is None]
    assert found["PaymentsVanished"].discovered and found["PaymentsVanished"].stops
    assert "3000/s" not in found["HighErrorRateWithTraffic"].how  # 100 events in a 10s window: 30/s
    assert found["HighErrorRateWithTraffic"].how.endswith("of 30/s")
    assert found["SlowOnAverageWithTraffic"].how.endswith("at 1.5/s")  # min_rate 30/min kept three times over
