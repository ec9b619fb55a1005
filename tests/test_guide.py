"""The guide's own 15 rules, run against the inputs of monstack's generated tests, judged by alert name and
firing/silent only (labels, annotations and pending cases ignored): they fail where GUIDE-DEFECTS.md says they are
wrong. This shows the generated tests are sharp enough to catch the defects promtool's syntax checks let through.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from conftest import EXAMPLE, ROOT, real_tool
from monstack import pipeline, write

GUIDE_RULES = ROOT / "tests" / "data" / "guide" / "alerts.yml"

# Reasoned from GUIDE-DEFECTS.md, one line each:
WRONG = {
    "HighErrorRate": "a per-second 5xx rate compared with 0.05: 4% of 10 req/s is 0.4/s, and fires",
    "SlowResponseTime": "no sum by (le): a rare slow handler's own P95 fires while the API's P95 is fine",
    "DatabaseDown": "watches up of a scrape of 5432; pg_up = 0 goes unseen",
    "RedisDown": "watches up of a scrape of 6379; redis_up = 0 goes unseen",
    "SlowQueries": "pg_slow_queries_total exists nowhere: never fires",
    "HighConnectionCount": "compares with 80 connections, not 80% of max_connections",
    "HighRedisMemory": "divides by redis_memory_max_bytes = 0 when maxmemory is unset: +Inf, fires",
    "ScrapingFailureRate": "rate > 0.2 is 720 failures an hour, not 20% of scrapings",
    "AgenciesBlocked": "counts agency_scraping_status series, which the app does not expose",
    "NoListingsFound": "a per-second rate compared with a per-hour threshold: fires at 100/h",
    "AgenciesNotScraped": "names metrics the app does not expose: never fires",
    "HighCPUUsage": "idle per core: one busy core of four fires it",
}
RIGHT = {"APIDown", "HighMemoryUsage", "HighDiskUsage"}  # wrong only in ways firing/silent cannot show


def guide_alerts() -> set[str]:
    data = yaml.safe_load(GUIDE_RULES.read_text(encoding="utf-8"))
    return {rule["alert"] for group in data["groups"] for rule in group["rules"]}


def verdict(test: dict) -> str | None:
    """firing / silent as our generated test expects it; None for pending cases."""
    if "promql_expr_test" in test and "alert_rule_test" in test:
        return None  # pending: alert_rule_test expects nothing firing, ALERTS pending
    if "alert_rule_test" in test:
        return "firing" if test["alert_rule_test"][0]["exp_alerts"] else "silent"
    expr = test["promql_expr_test"][0]
    return "firing" if expr["exp_samples"] else "silent"


def test_the_guides_rules_fail_where_the_defects_say(tmp_path: Path):
    assert set(WRONG) | RIGHT == guide_alerts()
    promtool = real_tool("promtool")
    out = tmp_path / "out"
    write.write(pipeline.render(pipeline.resolve(EXAMPLE), out), out)

    judged: dict[str, list[str]] = {}
    files = []
    for path in sorted((out / "prometheus" / "tests").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        tests = []
        for test in data["tests"]:
            alert = test["name"].split(":", 1)[0]
            expected = verdict(test)
            if alert not in guide_alerts() or expected is None:
                continue
            at = (test.get("alert_rule_test") or test["promql_expr_test"])[0]["eval_time"]
            samples = [{"labels": "{}", "value": 1}] if expected == "firing" else []
            tests.append({"name": test["name"], "interval": test["interval"], "input_series": test["input_series"],
                          "promql_expr_test": [{"expr": f'max(ALERTS{{alertname="{alert}",alertstate="firing"}})',
                                                "eval_time": at, "exp_samples": samples}]})
            judged.setdefault(alert, []).append(test["name"])
        if tests:
            copy = tmp_path / path.name
            copy.write_text(yaml.safe_dump({"rule_files": [str(GUIDE_RULES)], "evaluation_interval": "30s",
                                            "tests": tests}), encoding="utf-8")
            files.append(copy)
    assert set(judged) == guide_alerts()

    junit = tmp_path / "junit.xml"
    promtool.run("test", "rules", f"--junit={junit}", *map(str, files), cwd=tmp_path)
    failed = {case.get("name").split(":", 1)[0] for case in ET.parse(junit).iter("testcase")
              if case.find("failure") is not None}
    assert failed == set(WRONG), f"unexpectedly right: {set(WRONG) - failed}; unexpectedly wrong: {failed - set(WRONG)}"
