"""The generated alert rules mean what the guide's tables say, proven with the real `promtool test rules`.

tests/data/semantics/<group>_test.yml are hand-written promtool unit tests, one file per rule group, pointing at
the committed rules in generated/prometheus/rules/. For every alert of the example spec they hold a case that
crosses the table's threshold and holds past `for` (the alert fires, with its exact labels and rendered
annotations) and a case just on the safe side of it (silent, checked after `for`). Input series are what the
app and the exporters really expose, as Prometheus 3 stores them (le="1.0", node_exporter's cpu/mode, ...).

Three checks here:
- all those files pass, in one promtool run;
- every alert of the spec has a firing and a silent case (coverage cannot silently drop);
- the tests can fail: broken copies of the rules (a flipped comparison, a threshold x10, a quantile without
  `sum by (le)`, ...) make promtool fail on the broken alert.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import yaml

from conftest import EXAMPLE, ROOT
from monstack import tools

SEMANTICS = ROOT / "tests" / "data" / "semantics"
RULES = ROOT / "generated" / "real-estate-scraper" / "prometheus" / "rules"
TEST_FILES = sorted(SEMANTICS.glob("*_test.yml"))
# promtool's key for alert tests (singular, as in Prometheus' unit-testing docs).
ALERT_TESTS = "alert_rule_test"


# ---- helpers -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def promtool() -> tools.Tool:
    with contextlib.chdir(ROOT):  # tools.find looks in .tools/bin of the current folder or a parent
        tool = tools.find("promtool")
    if tool is None:
        pytest.skip("promtool not found (MONSTACK_PROMTOOL, .tools/bin or PATH): run scripts/install-tools.sh; "
                    "CI installs it")
    return tool


def run_promtool(tool: tools.Tool, files: list[Path], *extra: str):
    proc = tool.run("test", "rules", *extra, *map(str, files), cwd=ROOT)
    return proc, f"$ promtool test rules {' '.join(extra)} ...\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(duration: str | None) -> float:
    """A Prometheus duration ("1h30m", "30s", "0s") in seconds; None or "" is 0."""
    if not duration:
        return 0.0
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", str(duration))
    assert parts and "".join(n + u for n, u in parts) == str(duration), f"not a duration: {duration!r}"
    return sum(int(n) * _UNITS[u] for n, u in parts)


def generated_rules() -> dict[str, tuple[str, dict]]:
    """alert name -> (rules file name, rule) for every alerting rule in generated/prometheus/rules."""
    found = {}
    for path in sorted(RULES.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found[rule["alert"]] = (path.name, rule)
    return found


# ---- 1. the semantic tests pass ------------------------------------------------------------------------

def test_semantic_test_files_exist():
    assert TEST_FILES, f"no *_test.yml in {SEMANTICS}"
    for path in TEST_FILES:
        data = load_yaml(path)
        for rule_file in data["rule_files"]:
            assert (path.parent / rule_file).resolve().is_file(), f"{path.name}: rule file {rule_file} not found"
        for group in data["tests"]:
            assert group.get("interval"), f"{path.name}: test group {group.get('name')!r} sets no interval"


@pytest.mark.tools
def test_every_alert_means_what_its_table_row_says(promtool):
    """One promtool run over every semantic test file."""
    proc, output = run_promtool(promtool, TEST_FILES)
    assert proc.returncode == 0, output
    assert "FAILED" not in proc.stdout + proc.stderr, output


# ---- 2. coverage: every alert fires in some case and stays silent in another ------------------------------

def alert_cases() -> dict[str, dict[str, list]]:
    """alert -> {"firing": [...], "silent": [...]}, each entry (file, group name, eval_time in s, rule files)."""
    cases: dict[str, dict[str, list]] = {}
    for path in TEST_FILES:
        data = load_yaml(path)
        rule_files = {Path(f).name for f in data["rule_files"]}
        for group in data["tests"]:
            for case in group.get(ALERT_TESTS) or []:
                kind = "firing" if case.get("exp_alerts") else "silent"
                entry = (path.name, group.get("name"), seconds(case["eval_time"]), rule_files)
                cases.setdefault(case["alertname"], {"firing": [], "silent": []})[kind].append(entry)
    return cases


def test_every_alert_has_a_firing_and_a_silent_case():
    spec_alerts = load_yaml(EXAMPLE)["alerts"]
    rules = generated_rules()
    cases = alert_cases()
    problems = []
    for alert in spec_alerts:
        name = alert["name"]
        if name not in rules:
            problems.append(f"{name}: no generated rule")
            continue
        rules_file, rule = rules[name]
        hold = seconds(rule.get("for"))
        mine = cases.get(name, {"firing": [], "silent": []})
        firing = [c for c in mine["firing"] if rules_file in c[3]]
        # silent after `for`: a pending alert is silent too, and would prove nothing
        silent = [c for c in mine["silent"] if rules_file in c[3] and c[2] >= hold]
        if not firing:
            problems.append(f"{name}: no firing case (in a test file loading {rules_file})")
        always = alert.get("when", {}).get("always") is True  # Watchdog: firing is all it does
        if not silent and not always:
            problems.append(f"{name}: no silent case evaluated at or after its `for` ({rule.get('for', '0s')})")
    unknown = sorted(set(cases) - set(rules))
    if unknown:
        problems.append(f"tests name alerts that no rule defines: {unknown}")
    assert not problems, "\n".join(problems)


# ---- 3. the tests can fail: mutated rules make promtool fail ---------------------------------------------

def flip_comparison(expr: str) -> str:
    """The final `> N` becomes `< N`."""
    new, n = re.subn(r">\s*([0-9.e+-]+)\s*$", r"< \1", expr)
    assert n == 1, f"no final `> N` in {expr!r}"
    return new


def threshold_times_10(expr: str) -> str:
    """The final threshold N becomes 10 N."""
    match = re.search(r"([<>])\s*([0-9.e+-]+)\s*$", expr)
    assert match, f"no final threshold in {expr!r}"
    return f"{expr[:match.start()]}{match.group(1)} {float(match.group(2)) * 10:g}"


def unwrap(prefix: str) -> Callable[[str], str]:
    """Remove a wrapper such as `sum by (le) (X)`, keeping X."""

    def mutate(expr: str) -> str:
        start = expr.index(prefix)
        open_at = start + len(prefix) - 1
        assert expr[open_at] == "(", prefix
        depth = 0
        for i in range(open_at, len(expr)):
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            if depth == 0:
                return expr[:start] + expr[open_at + 1:i] + expr[i + 1:]
        raise AssertionError(f"unbalanced {expr!r}")

    return mutate


def replace(old: str, new: str) -> Callable[[str], str]:
    def mutate(expr: str) -> str:
        assert old in expr, f"{old!r} not in {expr!r}"
        return expr.replace(old, new)

    return mutate


@dataclass(frozen=True)
class Mutation:
    id: str
    alert: str
    mutate: Callable[[str], str]


MUTATIONS = [
    Mutation("flip-comparison", "HighErrorRate", flip_comparison),
    Mutation("threshold-x10", "HighConnectionCount", threshold_times_10),
    Mutation("quantile-without-sum-by-le", "SlowResponseTime", unwrap("sum by (le) (")),
    # Prometheus 2's spelling of the bound: Prometheus 3 stores le="1.0", so le="1" selects nothing
    Mutation("prometheus-2-le", "SlowQueries", replace('le="1.0"', 'le="1"')),
    # an absent counter would then be "no data", not zero listings: the guide's NoListingsFound defect
    Mutation("absent-is-not-zero", "NoListingsFound", replace(" or vector(0)", "")),
    # increase() extrapolates 10 whole events to 10.04: without round() "more than 10" fires at exactly 10
    Mutation("fractional-events", "UserAlertsNotSent", unwrap("round(")),
]


@pytest.mark.tools
@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_a_broken_rule_fails_its_semantic_tests(promtool, tmp_path: Path, mutation: Mutation):
    rules_dir = tmp_path / "rules"
    shutil.copytree(RULES, rules_dir)
    rules_file, _ = generated_rules()[mutation.alert]
    data = load_yaml(rules_dir / rules_file)
    rule = next(r for g in data["groups"] for r in g["rules"] if r.get("alert") == mutation.alert)
    before = rule["expr"]
    rule["expr"] = mutation.mutate(before)
    assert rule["expr"] != before
    (rules_dir / rules_file).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    # copies of the test files loading that rule file, pointed at the mutated rules
    copies = []
    for path in TEST_FILES:
        test = load_yaml(path)
        if rules_file not in {Path(f).name for f in test["rule_files"]}:
            continue
        test["rule_files"] = [str(rules_dir / Path(f).name) for f in test["rule_files"]]
        copy = tmp_path / path.name
        copy.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
        copies.append(copy)
    assert copies, f"no semantic test file loads {rules_file}"

    # only the test groups about this alert (their names start with it): fast, and the failure is its own
    proc, output = run_promtool(promtool, copies, f"--run=^{mutation.alert}\\b")
    assert proc.returncode != 0, f"{mutation.id}: promtool passed with {rule['expr']!r}\n{output}"
    assert "FAILED" in proc.stdout + proc.stderr and mutation.alert in proc.stdout + proc.stderr, output
    # and the unmutated copy passes (the failure is the mutation's, not the copy's)
    (rules_dir / rules_file).write_text((RULES / rules_file).read_text(encoding="utf-8"), encoding="utf-8")
    proc, output = run_promtool(promtool, copies, f"--run=^{mutation.alert}\\b")
    assert proc.returncode == 0, f"the copied tests fail without the mutation\n{output}"
