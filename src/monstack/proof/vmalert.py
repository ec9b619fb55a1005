"""`monstack test --engine vmalert`: the generated promtool test files, converted (as data) to vmalert-tool's format
and run by the real `vmalert-tool unittest`, so each alert is proven on VictoriaMetrics' engine too.

Format differences handled here: `promql_expr_test` is `metricsql_expr_test`; `rule_files` are made absolute (the
converted files live in a temporary folder); vmalert-tool's ALERTS series carry `alertgroup` (the rule group's
name) even with --disableAlertgroupLabel, so an expected ALERTS sample gets that label; an evaluation interval over
1m (the SLO proofs' day-long windows) is run at 1m (measured: at 5m vmalert-tool's alerts do not see the records
their group wrote, and never fire). vmalert-tool stops at the
first failing file, and names no test for a failed `metricsql_expr_test`: files run one a call, in parallel, and a
failing file is rerun one test a file so that every failure is told to its test.
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from ..model import Model
from ..spec.units import Duration
from ..tools import Tool
from ..tools.vmalert import unittest
from .run import TestReport, report_from

LABEL = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def convert(doc: dict, base: Path) -> dict:
    """One promtool test file (parsed) -> the vmalert-tool test file, with rule files resolved against `base`."""
    out = dict(doc)
    out["rule_files"] = [str((base / f).resolve()) for f in doc.get("rule_files") or []]
    if Duration.parse(out.get("evaluation_interval", "1m")) > Duration.parse("1m"):
        out["evaluation_interval"] = "1m"  # measured: at 5m, vmalert-tool's alerts miss the records of their group
    groups = _groups(out["rule_files"])
    tests = []
    for test in doc.get("tests") or []:
        test = dict(test)
        if "promql_expr_test" in test:
            test["metricsql_expr_test"] = [_with_alertgroup(case, groups) for case in test.pop("promql_expr_test")]
        tests.append(test)
    out["tests"] = tests
    return out


def _groups(files: list[str]) -> dict[str, str]:
    """alert name -> its rule group, over the rule files."""
    out: dict[str, str] = {}
    for file in files:
        doc = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if rule.get("alert"):
                    out.setdefault(rule["alert"], group["name"])
    return out


def _with_alertgroup(case: dict, groups: dict[str, str]) -> dict:
    case = dict(case)
    samples = []
    for sample in case.get("exp_samples") or []:
        sample = dict(sample)
        text = str(sample.get("labels", ""))
        if text.startswith("ALERTS{") and text.endswith("}"):
            labels = dict(LABEL.findall(text[len("ALERTS{"):-1]))
            if labels.get("alertname") in groups and "alertgroup" not in labels:
                labels["alertgroup"] = groups[labels["alertname"]]
                sample["labels"] = "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        samples.append(sample)
    if "exp_samples" in case:
        case["exp_samples"] = samples
    return case


def run(model: Model, tool: Tool, prometheus_dir: Path, amtool: Tool | None = None,
        alertmanager_config: Path | None = None) -> TestReport:
    files = sorted((prometheus_dir / "tests").glob("*.yml"))
    outcomes: dict[str, str | None] = {}
    output: list[str] = []
    with tempfile.TemporaryDirectory(prefix="monstack-vmalert-") as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        root = Path(tmp)
        docs = {f: convert(yaml.safe_load(f.read_text(encoding="utf-8")) or {}, f.parent) for f in files}
        written = [_write(root / f.name, doc) for f, doc in docs.items()]
        for path, done in zip(written, pool.map(lambda p: unittest(tool, p), written)):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if done.ok:
                outcomes.update({t.get("name", ""): None for t in doc["tests"]})
                continue
            output.append(done.output)
            singles = [_write(root / f"{path.stem}-{i}.yml", {**doc, "tests": [t]}) for i, t in enumerate(doc["tests"])]
            for test, one in zip(doc["tests"], pool.map(lambda p: unittest(tool, p), singles)):
                outcomes[test.get("name", "")] = None if one.ok else _failure(one.output)
            if all(v is None for k, v in outcomes.items() if k in {t.get("name") for t in doc["tests"]}):
                outcomes["(vmalert-tool)"] = _failure(done.output)  # the file fails, no test alone does
    return report_from(model, outcomes, "\n".join(output), amtool, alertmanager_config)


def _write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _failure(output: str) -> str:
    """vmalert-tool's report without its banner and timing lines."""
    lines = [line for line in output.splitlines()
             if line.strip() and not re.match(r"^(Unit Testing:|FAILED$)", line.strip())]
    return re.sub(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (unittest failed|Total time: \S+)", "", "\n".join(lines)).strip()
