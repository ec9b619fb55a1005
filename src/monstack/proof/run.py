"""`monstack test`: run every generated and hand-written promtool test in one promtool call, and say per alert
whether it is proven (passed), disproven (failed), waived, or uncovered."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic
from ..load import Source
from ..model import Model
from ..tools import Tool
from . import plan


@dataclass
class AlertResult:
    alert: str
    index: int
    status: str  # passed | failed | waived | uncovered
    cases: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (test name, promtool's message)
    note: str | None = None  # waiver reason, or why uncovered


@dataclass
class TestReport:
    __test__ = False

    results: list[AlertResult]
    promtool_output: str = ""
    routes_checked: int = 0  # alerts whose route amtool checked

    @property
    def ok(self) -> bool:
        return all(r.status in ("passed", "waived") for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "waived": 0, "uncovered": 0}
        for r in self.results:
            out[r.status] += 1
        return out


def run(model: Model, promtool: Tool, prometheus_dir: Path, amtool: Tool | None = None,
        alertmanager_config: Path | None = None) -> TestReport:
    """Run the test files under `prometheus_dir/tests` (rendered from `model`) with one promtool call, and, with
    amtool, every alert's route (`amtool config routes test --verify.receivers`, concurrently)."""
    files = sorted((prometheus_dir / "tests").glob("*.yml"))
    outcomes: dict[str, str | None] = {}  # test name -> failure message (None: passed)
    output = ""
    if files:
        with tempfile.TemporaryDirectory(prefix="monstack-junit-") as tmp:
            junit = Path(tmp) / "promtool.xml"
            proc = promtool.run("test", "rules", f"--junit={junit}", *[f.name for f in files], cwd=files[0].parent)
            output = proc.stdout + proc.stderr
            if junit.is_file():
                outcomes = _outcomes(junit.read_text(encoding="utf-8"))
            if proc.returncode != 0 and not any(outcomes.values()):
                outcomes = {"(promtool)": output.strip() or f"promtool exited with {proc.returncode}"}
    return report_from(model, outcomes, output, amtool, alertmanager_config)


def report_from(model: Model, outcomes: dict[str, str | None], output: str = "", amtool: Tool | None = None,
                alertmanager_config: Path | None = None) -> TestReport:
    """Per alert, from the outcome of every test case by name (None: passed; `(<engine>)`: the engine failed as a
    whole); with amtool, every alert's route too. Shared by both engines (promtool here, proof/vmalert.py)."""
    results = []
    for coverage in plan(model):
        result = AlertResult(coverage.alert, coverage.index, "passed", coverage.cases)
        prefix = f"{coverage.alert}: "
        ran = {name: message for name, message in outcomes.items() if name.startswith(prefix)}
        result.failures = [(name[len(prefix):], message) for name, message in ran.items() if message]
        result.failures += [(name, message) for name, message in outcomes.items()  # `(promtool)`, `(vmalert-tool)`
                            if name.startswith("(") and message]
        if coverage.waived:
            result.status, result.note = "waived", coverage.waived
        elif result.failures:
            result.status = "failed"
        elif not coverage.covered or not ran:
            result.status, result.note = "uncovered", coverage.untestable or "no test ran"
        results.append(result)
    report = TestReport(results, output)
    if amtool is not None and alertmanager_config is not None:
        _check_routes(report, model, amtool, alertmanager_config)
    return report


def _check_routes(report: TestReport, model: Model, amtool: Tool, config: Path) -> None:
    """Each alert's receivers as amtool resolves them against the rendered alertmanager.yml, versus the spec's.
    amtool ignores time intervals and inhibitions: `monstack validate` checks those with monstack's own evaluation."""
    from ..routes import route_cases  # noqa: PLC0415
    from ..tools.amtool import test_routes  # noqa: PLC0415

    by_alert = {r.alert: r for r in report.results}
    for outcome in test_routes(amtool, config, route_cases(model)):
        result = by_alert.get(outcome.case.alert)
        if result is None or result.status == "waived":
            continue
        report.routes_checked += 1
        result.cases += 1
        if not outcome.ok:
            got = ",".join(outcome.got) or "(nothing)"
            result.failures.append(("route (amtool)", outcome.error or
                                    f"routed to {got}; the spec routes it to {','.join(outcome.case.expected)}"))
            result.status = "failed"


def _outcomes(xml: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for case in ET.fromstring(xml).iter("testcase"):
        failure = case.find("failure")
        out[case.get("name", "")] = (failure.text or "failed").strip() if failure is not None else None
    return out


def diagnostics(report: TestReport, source: Source) -> list[Diagnostic]:
    """Failed and uncovered alerts, at their line in the spec."""
    out = []
    for r in report.results:
        path = ("alerts", r.index)
        for name, message in r.failures:
            out.append(source.diagnostic(path, f"{r.alert}: test {name!r} failed:\n{_indent(message)}", check="test"))
        if r.status == "uncovered":
            out.append(source.diagnostic(path, f"{r.alert} is not covered by any test: {r.note}", check="coverage",
                                         hint="add `tests:` to the alert, or `waive: <reason>`"))
    return out


def _indent(text: str) -> str:
    return "\n".join("      " + line.strip() for line in text.splitlines() if line.strip())


def junit(report: TestReport, suite: str) -> str:
    """A JUnit report with one test case per alert, for CI systems."""
    counts = report.counts()
    root = ET.Element("testsuites")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(report.results)),
                         failures=str(counts["failed"] + counts["uncovered"]), skipped=str(counts["waived"]))
    for r in report.results:
        case = ET.SubElement(node, "testcase", classname=suite, name=r.alert)
        if r.status == "failed":
            ET.SubElement(case, "failure", message=f"{len(r.failures)} case(s) failed").text = \
                "\n\n".join(f"{name}:\n{message}" for name, message in r.failures)
        elif r.status == "uncovered":
            ET.SubElement(case, "failure", message="not covered").text = r.note
        elif r.status == "waived":
            ET.SubElement(case, "skipped", message=f"waived: {r.note}")
    return ET.tostring(root, encoding="unicode") + "\n"
