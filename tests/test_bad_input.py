"""Bad input, end to end through the real CLI: every malformed, hostile or wrong spec gets a clear diagnostic
(`file:line:col: error: yaml.path: message`), the right exit code (1: the spec is wrong, 2: unusable file or bad
usage), no traceback, and `generate` writes nothing. Speed is measured by `scripts/bench_bad_input.py`, not
asserted here (a loaded machine must not fail a test); a generous subprocess timeout only stops a hang.

Each bad spec is the example spec with one line changed (or a tiny document), so the expected line and column are
computed here from the text the test wrote, never copied from monstack's output.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import yaml

from conftest import EXAMPLE, ROOT

from monstack import pipeline
from monstack.syntax.secrets import mask
from monstack.errors import MonstackError
from monstack.load import MAX_BYTES, MAX_NODES

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
ALERTS = [a["name"] for a in yaml.safe_load(EXAMPLE_TEXT)["alerts"]]
SPEC = "spec.yaml"
HANG_TIMEOUT = 60  # seconds: a safety net against a hang, not a speed requirement


# --- building bad specs ------------------------------------------------------------------------------------------

def edit(old: str, new: str, *, after: str | None = None, keep: bool = False, block: bool = False,
         text: str = EXAMPLE_TEXT) -> tuple[str, int]:
    """`text` with the first line containing `old` (searching from the first line containing `after`) replaced
    by `new` (which may hold several lines); `keep` inserts `new` after that line instead, `block` also replaces
    the lines up to the next blank one. Returns the new text and the 1-based number of the first line of `new`."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    i = next(j for j in range(start, len(lines)) if old in lines[j])
    end = i + 1
    if block:
        while lines[end].strip():
            end += 1
    if keep:
        lines[i + 1:i + 1] = new.split("\n")
        return "\n".join(lines), i + 2
    lines[i:end] = new.split("\n")
    return "\n".join(lines), i + 1


def column(text: str, line: int, token: str) -> int:
    """1-based column of `token` on `line` of `text`."""
    return text.split("\n")[line - 1].index(token) + 1


@dataclass
class Case:
    content: str | bytes | Callable[[Path], str] | None  # text or bytes of spec.yaml, or a maker returning the arg
    code: int  # expected exit code
    line: int | None  # expected position (None: the diagnostic has none, e.g. a missing file)
    col: int | None
    path: str | None  # expected YAML path in the headline
    says: tuple[str, ...]  # regexes the headline must match
    hint: str | None = None  # regex the hint must match
    errors: int | None = 1  # exact number of errors reported (None: not checked)
    name: str = SPEC  # the file name as the diagnostic shows it


def variant(old: str, new: str, token: str, path: str | None, *says: str, after: str | None = None,
            hint: str | None = None, errors: int | None = 1, block: bool = False) -> Case:
    """A Case from one edit of the example spec, expected at `token` on the edited line."""
    text, line = edit(old, new, after=after, block=block)
    return Case(text, 1, line, column(text, line, token), path, says, hint, errors)


def at(alert: str) -> dict:
    return {"after": f"- name: {alert}"}


def alias_bomb() -> str:
    """Billion laughs: nine levels of ten aliases each, 10**9 nodes once expanded."""
    lines, prev = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'], "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
        prev = name
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 7) -> str:
    """The same bomb made of merge keys (`<<: [*a, *a, ...]`): 10**levels merges if each is expanded again."""
    lines, prev = ["a: &a {" + ", ".join(f"k{i}: x" for i in range(10)) + "}"], "a"
    for name in "bcdefghi"[:levels]:
        lines.append(f"{name}: &{name} {{<<: [{', '.join([f'*{prev}'] * 10)}]}}")
        prev = name
    return "\n".join(lines) + "\n"


HUGE = 50 * 1024 * 1024


def huge_file(tmp: Path) -> str:
    """The example spec padded with comment lines to exactly 50 MiB."""
    body, pad = EXAMPLE_TEXT.encode(), ("# " + "x" * 77 + "\n").encode()
    with open(tmp / SPEC, "wb") as f:
        f.write(body + pad * ((HUGE - len(body)) // len(pad) + 1))
        f.truncate(HUGE)
    return SPEC


def directory(tmp: Path) -> str:
    (tmp / "specdir").mkdir()
    return "specdir"


UNCLOSED, UNCLOSED_LINE = edit("  - {name: node, kind: node}", "  - {name: node, kind: node")
NON_UTF8_PREFIX = "  name: r"  # then the Latin-1 byte 0xe9 (é): column len(prefix) + 1
NON_UTF8 = EXAMPLE_TEXT.replace("  name: real-estate-scraper", NON_UTF8_PREFIX + "\udce9al-estate-scraper").encode(
    "utf-8", "surrogateescape")
NON_UTF8_LINE = EXAMPLE_TEXT.split("\n").index("  name: real-estate-scraper") + 1
DUP_TOP, DUP_TOP_LINE = edit("version: monstack/v1", "version: monstack/v1", keep=True)
DUP_NESTED, DUP_NESTED_LINE = edit("    every: 1m", "    severity: warning", keep=True, **at("APIDown"))
SEVERITY_LINE = edit("    severity: critical", "    severity: critical", **at("APIDown"))[1]
ROUTES = "  routes:"

CASES = {
    # --- the file cannot be used at all: exit 2, no line --------------------------------------------------------
    "missing-file": Case(None, 2, None, None, None, ("no such file",), name="missing.yaml"),
    "directory": Case(directory, 2, None, None, None, ("not a regular file",), name="specdir"),
    "50MB-file": Case(huge_file, 2, None, None, None, (f"file is {HUGE:,} bytes", f"at most {MAX_BYTES:,} bytes"),
                      hint="split"),
    # --- YAML level -----------------------------------------------------------------------------------------------
    "unclosed-bracket": Case(UNCLOSED, 1, UNCLOSED_LINE + 1, 5, None, ("malformed YAML", "flow mapping", "'}'")),
    "list-document": Case("- version: monstack/v1\n- project: x\n", 1, 1, 1, None, ("document is a list",
                                                                                     "expected a mapping")),
    "scalar-document": Case("monstack/v1\n", 1, 1, 1, None, ("document is a string", "expected a mapping")),
    "empty-file": Case("", 1, 1, 1, None, ("the file is empty",), hint="monstack init"),
    "comment-only": Case("# a spec, some day\n\n# nothing yet\n", 1, 1, 1, None, ("the file is empty",)),
    "non-utf8": Case(NON_UTF8, 1, NON_UTF8_LINE, len(NON_UTF8_PREFIX) + 1, None, ("not valid UTF-8", "0xe9"),
                     hint="UTF-8"),
    "duplicate-top-level-key": Case(DUP_TOP, 1, DUP_TOP_LINE, 1, "version",
                                    ("duplicate key 'version'", f"first at line {DUP_TOP_LINE - 1}")),
    "duplicate-key-in-alert": Case(DUP_NESTED, 1, DUP_NESTED_LINE, 5, "alerts[0].severity",
                                   ("duplicate key 'severity'", f"first at line {SEVERITY_LINE}")),
    "alias-bomb": Case(alias_bomb(), 1, None, None, None, (f"more than {MAX_NODES:,} nodes", "alias bomb"),
                       hint="aliases"),
    # merged, the document is small: refusing it as a bomb or reporting its unknown keys are both fine, if fast
    "merge-key-bomb": Case(merge_bomb(), 1, None, None, None, ("alias bomb|unknown key 'a'",), errors=None),
    # --- schema ------------------------------------------------------------------------------------------------
    "unknown-key-sumary": variant("    summary: ", '    sumary: "API FastAPI is down"', "sumary",
                                  "alerts[0].sumary", "unknown key 'sumary'", hint="did you mean 'summary'",
                                  errors=None, **at("APIDown")),  # plus "missing required key 'summary'"
    "unknown-key-in-routing": variant("  repeat_interval: 4h", "  repeat_intervall: 4h", "repeat_intervall",
                                      "routing.repeat_intervall", "unknown key 'repeat_intervall'",
                                      hint="did you mean 'repeat_interval'"),
    "targets-not-a-list": variant("targets:", "targets: 5", "5", "targets", "expected a list", "5", block=True),
    "severity-a-number": variant("    severity: critical", "    severity: 3", "3", "alerts[0].severity",
                                 "3", "'critical'", **at("APIDown")),
    "severity-unknown": variant("    severity: critical", "    severity: urgent", "urgent", "alerts[0].severity",
                                "'urgent'", "'critical'", "'warning'", **at("APIDown")),
    "invalid-duration": variant("    for: 5m", "    for: 5 minutes", "5 minutes",
                                f"alerts[{ALERTS.index('HighMemoryUsage')}].for",
                                "invalid duration [\"']5 minutes[\"']", "expected e.g. 30s, 5m",
                                **at("HighMemoryUsage")),
    "invalid-threshold-unit": variant("    above: 1s", "    above: 5 parsecs", "5 parsecs",
                                      f"alerts[{ALERTS.index('SlowResponseTime')}].above",
                                      "invalid threshold [\"']5 parsecs[\"']", "5%", **at("SlowResponseTime")),
    "literal-slack-secret": variant(
        '      slack: {api_url: {env: SLACK_WEBHOOK_URL}, channel: "#alerts"}',
        '      slack: {api_url: "https://hooks.slack.com/services/T000/B000/XXXX", channel: "#alerts"}',
        '"https', "routing.receivers[0].slack.api_url", "secret", r"\{env: NAME\}", r"\{file: "),
    "literal-webhook-token": variant(
        '      webhook: {url: "http://alert-webhook:5000/alerts"}',
        '      webhook: {url: "http://alert-webhook:5000/alerts?token=s3cr3t"}',
        '"http', "routing.receivers[2].webhook.url", "credential", r"\{env: NAME\}"),
    # --- model: references, names, thresholds ----------------------------------------------------------------
    "duplicate-alert-name": variant("  - name: APIUptimeBelowSLO", "  - name: APIDown", "APIDown",
                                    "alerts[1].name", "duplicate alert name 'APIDown'"),
    "threshold-wrong-kind": variant("    above: 5%", "    above: 1s", "1s",
                                    f"alerts[{ALERTS.index('HighErrorRate')}].above", "'1s'", "duration",
                                    "ratio", "percent", hint="percentage", **at("HighErrorRate")),
    "route-to-undefined-receiver": variant("      receiver: warning", "      receiver: warnings", "warnings",
                                           "routing.routes[2].receiver", "undefined receiver 'warnings'",
                                           hint="critical, deadmansswitch, default, warning", after=ROUTES),
    "undefined-default-receiver": variant("  receiver: default", "  receiver: nobody", "nobody", "routing.receiver",
                                          "undefined receiver 'nobody'", hint="default"),
    # --- PromQL and metrics -------------------------------------------------------------------------------------
    "invalid-promql": variant("    when: {down: {target: fastapi}}", "    expr: rate(http_requests_total[5m]",
                              "rate", "alerts[0].expr", "invalid PromQL", **at("APIDown")),
    "selector-is-an-expression": variant("        part: 'node_cpu", "        part: rate(node_cpu_seconds_total[5m])",
                                         "rate", f"alerts[{ALERTS.index('HighCPUUsage')}].when.ratio.part",
                                         "expected a metric selector", "expression", **at("HighCPUUsage")),
    "metric-exposed-by-no-target": variant("    when: {down: {target: fastapi}}",
                                           "    expr: pg_slow_queries_total > 10", "pg_slow", "alerts[0].expr",
                                           "'pg_slow_queries_total' is exposed by no target", **at("APIDown")),
}


def make(case: Case, tmp: Path) -> str:
    """Create the case's input in `tmp`; the argument to pass to monstack."""
    if callable(case.content):
        return case.content(tmp)
    if case.content is not None:
        data = case.content if isinstance(case.content, bytes) else case.content.encode("utf-8")
        (tmp / SPEC).write_bytes(data)
    return case.name


def run(cli, *args: str, cwd: Path):
    """Run monstack; fail (and kill it) when it hangs."""
    try:
        return cli(*args, cwd=cwd, timeout=HANG_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"monstack {' '.join(args)} did not finish within {HANG_TIMEOUT}s (a hang)")


def no_traceback(proc) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream


def headlines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"^\S.*: error: ", line)]


def check_diagnostic(case: Case, stderr: str) -> None:
    """An error line names the expected file, line, column and path, says what is wrong and carries the hint;
    the source line and a caret follow it when it has a position; the count of errors is right."""
    lines = stderr.splitlines()
    heads = headlines(stderr)
    assert heads, stderr
    if case.line is not None:
        where = f"{case.name}:{case.line}:{case.col}: error: "
    elif case.name == SPEC and case.code == 1:  # a position is required, wherever the walk stopped (bombs)
        where = f"{SPEC}:"
        assert all(re.match(rf"{re.escape(SPEC)}:\d+:\d+: error: ", h) for h in heads), stderr
    else:
        where = f"{case.name}: error: "
    here = [h for h in heads if h.startswith(where)]
    assert here, f"no error at {where!r}:\n{stderr}"
    head = next((h for h in here if all(re.search(p, h) for p in case.says)), None)
    assert head, f"no error at {where!r} matches {case.says}:\n{stderr}"
    if case.path:
        assert f"error: {case.path}: " in head, stderr
    if case.hint:
        hints = [line for line in lines[lines.index(head):] if line.strip().startswith("hint:")]
        assert hints and re.search(case.hint, hints[0]), stderr
    if case.errors is not None:
        assert len(heads) == case.errors, stderr
        assert f"\n{case.errors} error{'s' * (case.errors != 1)}\n" in "\n" + stderr, stderr
    if case.line is not None and isinstance(case.content, str) and case.line <= len(case.content.splitlines()):
        source = case.content.split("\n")[case.line - 1]
        i = lines.index(head)
        if case.path and re.search(r"\.(api_url|url|routing_key|password|webhook_url|api_key|bot_token|bearer_token)\b",
                                   case.path):
            # a secret field: the line may hold a pasted secret, so it is not shown
            assert source.strip() not in stderr, stderr
        else:  # shown with any credential in it masked
            assert lines[i + 1:i + 3] == [f"    {mask(source)}", "    " + " " * (case.col - 1) + "^"], stderr


# --- the cases, through `validate` and `generate` ---------------------------------------------------------------

@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validate_reports_bad_input(case: Case, tmp_path: Path, cli):
    arg = make(case, tmp_path)
    proc = run(cli, "validate", arg, "--offline", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == case.code, proc.stderr
    check_diagnostic(case, proc.stderr)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_generate_writes_nothing_for_bad_input(case: Case, tmp_path: Path, cli):
    arg = make(case, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.txt").write_text("keep me\n")
    before = sorted((p.relative_to(out).as_posix(), p.read_bytes() if p.is_file() else None) for p in out.rglob("*"))
    proc = run(cli, "generate", arg, "-o", "out", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == case.code, proc.stderr
    check_diagnostic(case, proc.stderr)
    after = sorted((p.relative_to(out).as_posix(), p.read_bytes() if p.is_file() else None) for p in out.rglob("*"))
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({arg.split("/")[0], "out"} - {"missing.yaml"})


@pytest.mark.parametrize("name", ["missing-file", "50MB-file", "unclosed-bracket", "invalid-duration",  # one a stage
                                  "route-to-undefined-receiver", "metric-exposed-by-no-target"])
def test_generate_does_not_create_the_output_folder(name: str, tmp_path: Path, cli):
    case = CASES[name]
    arg = make(case, tmp_path)
    proc = cli("generate", arg, "-o", "new/out", cwd=tmp_path, timeout=HANG_TIMEOUT)
    no_traceback(proc)
    assert proc.returncode == case.code, proc.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("case", [
    *(pytest.param(CASES[name], id=name) for name in ("50MB-file", "alias-bomb", "invalid-duration",
                                                      "metric-exposed-by-no-target")),
    pytest.param(Case(merge_bomb(6), 1, None, None, None, ()), id="merge-key-bomb"),  # 6 levels: bounded if slow
])
def test_pipeline_refuses_in_process(case: Case, tmp_path: Path):
    """The library refuses the bad specs that are costly to read (oversized, bombs) with the CLI's exit code;
    how fast it does is measured by scripts/bench_bad_input.py."""
    spec = tmp_path / make(case, tmp_path)
    with pytest.raises(MonstackError) as caught:
        pipeline.resolve(spec)
    assert caught.value.exit_code == case.code


def test_oversized_file_is_refused_before_parsing(tmp_path: Path, monkeypatch):
    from monstack import load

    huge_file(tmp_path)

    def no_parsing(*args, **kwargs):
        raise AssertionError("an oversized spec was handed to the YAML parser")

    monkeypatch.setattr(load.yaml, "compose", no_parsing)
    monkeypatch.setattr(load.yaml, "safe_load", no_parsing)
    with pytest.raises(MonstackError) as caught:
        load.load_file(tmp_path / SPEC)
    assert caught.value.exit_code == 2
    assert f"{MAX_BYTES:,}" in caught.value.diagnostics[0].message


def test_a_spec_just_over_the_documented_cap_is_refused(tmp_path: Path, cli):
    assert f"larger than {MAX_BYTES // 2**20} MiB" in (ROOT / "README.md").read_text("utf-8")
    (tmp_path / SPEC).write_bytes(EXAMPLE_TEXT.encode() + b"#" * (MAX_BYTES + 1 - len(EXAMPLE_TEXT.encode())))
    proc = cli("validate", SPEC, "--offline", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert f"{MAX_BYTES + 1:,} bytes" in proc.stderr and f"{MAX_BYTES:,} bytes" in proc.stderr


def test_unclosed_bracket_says_where_it_was_opened(tmp_path: Path, cli):
    """PyYAML notices an unclosed `{` only on a later line; the diagnostic must still lead back to the `{`
    (its own position, or its line named in the message or hint), as PyYAML's own message does."""
    (tmp_path / SPEC).write_text(UNCLOSED, encoding="utf-8")
    proc = cli("validate", SPEC, "--offline", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    opened = f"{SPEC}:{UNCLOSED_LINE}:5: error: " in proc.stderr
    assert opened or re.search(rf"\bline {UNCLOSED_LINE}\b", proc.stderr), proc.stderr


# --- every problem at once ------------------------------------------------------------------------------------

def three_problems(edits: list[tuple[str, str, str, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Apply (after, old, new, token) edits; the text and each (line, col, token) expected."""
    text, spots = EXAMPLE_TEXT, []
    for after, old, new, token in edits:
        text, line = edit(old, new, after=after, text=text)
        spots.append((line + new.count("\n"), token))  # the token is on the last line of `new`
    return text, [(line, column(text, line, token), token) for line, token in spots]


@pytest.mark.parametrize("edits", [
    pytest.param([("name: APIDown", "    severity: critical", "    severity: urgent", "urgent"),
                  ("name: SlowResponseTime", "    above: 1s", "    above: 5 parsecs", "5 parsecs"),
                  ("name: HighMemoryUsage", "    for: 5m", "    for: 5 minutes", "5 minutes")], id="schema"),
    pytest.param([("name: APIUptimeBelowSLO", "  - name: APIUptimeBelowSLO", "  - name: APIDown", "APIDown"),
                  ("name: DatabaseDown", "    when: {down:", "    expr: pg_slow_queries_total > 10", "pg_slow"),
                  (ROUTES, "      receiver: warning", "      receiver: warnings", "warnings")], id="model-and-lint"),
    pytest.param([("name: APIDown", "    every: 1m", "    every: 1m\n    every: 2m", "every"),
                  ("name: RedisDown", "    group: redis", "    group: redis\n    group: cache", "group"),
                  (ROUTES, "      repeat_interval: 1h", "      repeat_interval: 1h\n      repeat_interval: 2h",
                   "repeat_interval")], id="duplicate-keys"),
])
def test_validate_reports_every_problem_at_once(edits, tmp_path: Path, cli):
    text, spots = three_problems(edits)
    (tmp_path / SPEC).write_text(text, encoding="utf-8")
    proc = cli("validate", SPEC, "--offline", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    heads = headlines(proc.stderr)
    assert len(heads) == 3, proc.stderr
    assert proc.stderr.rstrip().endswith("3 errors"), proc.stderr
    for line, col, token in spots:
        assert any(h.startswith(f"{SPEC}:{line}:{col}: error: ") for h in heads), (line, col, token, proc.stderr)


def test_json_format_is_parseable_with_positions(tmp_path: Path, cli):
    text, line = edit("    for: 5m", "    for: 5 minutes", **at("HighMemoryUsage"))
    (tmp_path / SPEC).write_text(text, encoding="utf-8")
    proc = cli("validate", SPEC, "--offline", "--format", "json", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)  # the document goes to stdout, whatever the verdict
    assert isinstance(found, list) and len(found) == 1, proc.stdout
    d = found[0]
    assert {"file", "line", "column", "path", "message"} <= set(d)
    assert (d["file"], d["line"], d["column"]) == (SPEC, line, column(text, line, "5 minutes"))
    assert d["path"] == f"alerts[{ALERTS.index('HighMemoryUsage')}].for"
    assert "invalid duration" in d["message"] and d["severity"] == "error"


# --- bad usage --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    pytest.param(("validate", str(EXAMPLE), "--format", "xml"), id="unknown-format"),
    pytest.param(("validate",), id="no-spec"),
    pytest.param(("validate", str(EXAMPLE), "--no-such-flag"), id="unknown-flag"),
    pytest.param(("generate", str(EXAMPLE), "-o"), id="option-without-value"),
])
def test_bad_usage_exits_2(args, cli):
    proc = cli(*args)
    no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip(), "bad usage must say what is wrong"
