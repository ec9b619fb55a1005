"""The command line as users and CI meet it: schema, init, validate, --format github, `python -m monstack`,
and a CLI that starts fast because it imports its heavy modules only in the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import EXAMPLE, ROOT


@pytest.fixture(scope="module")
def schema() -> dict:
    from conftest import run_cli

    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def schema_errors(schema: dict, document) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


# --- schema -------------------------------------------------------------------------------------------------

def test_schema_is_a_valid_draft_2020_12_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"version", "project", "targets", "routing"} <= set(schema["required"])


def test_schema_uses_the_yaml_key_names(schema):
    """Editors complete what users type: `for`, `from`, `continue`, not the Python names `for_`, `from_`."""
    text = json.dumps(schema)
    for alias in ('"for"', '"from"', '"continue"'):
        assert alias in text
    for python_name in ('"for_"', '"from_"', '"continue_"'):
        assert python_name not in text


def test_schema_accepts_the_example_spec(schema):
    """The example uses the documented shorthands (a single receiver config as a mapping, `for:`)."""
    assert schema_errors(schema, yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))) == []


def test_schema_accepts_the_starter_spec(schema, tmp_path, cli):
    assert cli("init", "s.yaml", cwd=tmp_path).returncode == 0
    assert schema_errors(schema, yaml.safe_load((tmp_path / "s.yaml").read_text())) == []


@pytest.mark.parametrize(("edit", "where"), [
    (lambda d: d.update(version="monstack/v2"), "version"),
    (lambda d: d.update(colour="blue"), "(root)"),
    (lambda d: d["alerts"][0].update(severity="urgent"), "alerts.0.severity"),
    (lambda d: d["alerts"][0].update(for_="5m"), "alerts.0"),  # the Python name is not a spec key
    (lambda d: d["targets"][0].update(kind="My SQL"), "targets.0.kind"),
])
def test_schema_rejects_what_validate_rejects(schema, edit, where):
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    edit(document)
    assert any(error.startswith(where + ":") for error in schema_errors(schema, document))


# --- init ---------------------------------------------------------------------------------------------------

def test_init_writes_a_starter_that_validates_and_generates(tmp_path, cli):
    proc = cli("init", "--name", "shop-api", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    spec = tmp_path / "monstack.yaml"
    assert "monstack validate monstack.yaml" in proc.stdout
    assert yaml.safe_load(spec.read_text())["project"]["name"] == "shop-api"
    checked = cli("validate", "--offline", "monstack.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "monstack.yaml: valid" in checked.stdout
    made = cli("generate", "monstack.yaml", "-o", "out", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "out"
    prom = yaml.safe_load((out / "prometheus" / "prometheus.yml").read_text())
    assert prom["global"]["external_labels"]["project"] == "shop-api"
    am = yaml.safe_load((out / "alertmanager" / "alertmanager.yml").read_text())
    assert am["route"]["receiver"] in {r["name"] for r in am["receivers"]}
    rules = [r for p in (out / "prometheus" / "rules").glob("*.yml") for g in yaml.safe_load(p.read_text())["groups"]
             for r in g["rules"]]
    assert {r["alert"] for r in rules} >= {"APIDown", "Watchdog"}
    assert cli("generate", "monstack.yaml", "-o", "out", "--check", cwd=tmp_path).returncode == 0


def test_init_refuses_to_overwrite_without_force(tmp_path, cli):
    spec = tmp_path / "monstack.yaml"
    spec.write_text("# my precious spec\n")
    proc = cli("init", cwd=tmp_path)
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert spec.read_text() == "# my precious spec\n"
    forced = cli("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert spec.read_text().startswith("# monstack spec for my-app")


def test_init_refuses_a_name_that_is_not_a_slug(tmp_path, cli):
    proc = cli("init", "x.yaml", "--name", "My App", cwd=tmp_path)
    assert proc.returncode == 2 and "invalid project name" in proc.stderr
    assert not (tmp_path / "x.yaml").exists()


# --- validate and its formats -------------------------------------------------------------------------------

def test_validate_the_example(cli):
    proc = cli("validate", "specs/real-estate-scraper.yaml", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("specs/real-estate-scraper.yaml: valid")
    assert "error" not in proc.stderr


def test_github_format_annotates_every_error_at_its_line(tmp_path, cli):
    assert cli("init", "good.yaml", cwd=tmp_path).returncode == 0
    text = (tmp_path / "good.yaml").read_text()
    text = text.replace("scrape_interval: 15s", "scrape_interval: 5 minutes", 1)
    text = text.replace("severity: warning", "severity: urgent", 1)
    (tmp_path / "bad.yaml").write_text(text)
    lines = text.splitlines()
    expected = {}
    for needle in ("5 minutes", "urgent"):
        row = next(i for i, line in enumerate(lines) if needle in line)
        expected[needle] = (row + 1, lines[row].index(needle) + 1)
    proc = cli("validate", "--format", "github", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2, proc.stdout + proc.stderr
    for needle, (line, col) in expected.items():
        assert any(a.startswith(f"::error file=bad.yaml,line={line},col={col},") and needle in a
                   for a in annotations), (needle, annotations)
    assert all("\n" not in a for a in annotations) and "::" not in proc.stderr


SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"  # OASIS SARIF 2.1.0 (see tests/data/README.md)


def test_sarif_output_passes_the_sarif_schema_and_points_at_the_spec(tmp_path: Path, cli):
    text = (ROOT / "tests" / "data" / "semantic" / "promql" / "rate-of-gauge.yaml").read_text()
    text = text.replace("    summary:", "    for: 10s\n    summary:", 1)  # a warning too: `for` under evaluation
    (tmp_path / "spec.yaml").write_text(text)
    proc = cli("validate", "spec.yaml", "--offline", "--format", "sarif", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)  # the whole of stdout is one document
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "monstack"
    by_rule = {r["ruleId"]: r for r in run["results"]}
    rate = by_rule["promql/rate"]
    assert rate["level"] == "error" and "gauge" in rate["message"]["text"]
    where = rate["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "spec.yaml" and where["region"]["startLine"] == 19
    assert by_rule["alerts/for"]["level"] == "warning"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])


def test_json_of_a_valid_spec_is_an_empty_list_and_human_lines_go_to_stderr(cli):
    proc = cli("validate", str(EXAMPLE), "--offline", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [] and ": valid" in proc.stderr


def test_an_unknown_format_is_a_usage_error(cli):
    proc = cli("validate", "--format", "xml", str(EXAMPLE))
    assert proc.returncode == 2 and "--format" in proc.stderr


# --- entry points and start-up cost -------------------------------------------------------------------------

def test_python_dash_m_monstack_help():
    proc = subprocess.run([sys.executable, "-m", "monstack", "--help"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for command in ("validate", "generate", "schema", "init", "doctor"):
        assert command in proc.stdout


HEAVY = ("pydantic", "yaml", "jinja2", "promql_parser")
PROBE = """
import json, sys
{run}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


@pytest.mark.parametrize("run", [
    "import monstack.cli",
    "import monstack.cli\nsys.argv = ['monstack', '--help']\ntry:\n    monstack.cli.main()\nexcept SystemExit:\n    pass",
], ids=["import", "help"])
def test_the_cli_imports_no_heavy_module_until_a_command_needs_it(run):
    code = PROBE.format(run=run, heavy=set(HEAVY))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_the_probe_does_see_heavy_modules_when_a_command_loads_them():
    """The control for the test above: running `validate` does import them, so an empty list means something."""
    run = (f"import monstack.cli\nsys.argv = ['monstack', 'validate', '--offline', {str(EXAMPLE)!r}]\n"
           "try:\n    monstack.cli.main()\nexcept SystemExit:\n    pass")
    code = PROBE.format(run=run, heavy=set(HEAVY))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    loaded = {m.split(".")[0] for m in json.loads(proc.stdout.splitlines()[-1])}
    assert {"pydantic", "yaml", "promql_parser"} <= loaded


def test_no_traceback_for_a_missing_spec(tmp_path, cli):
    proc = cli("validate", str(Path("nope.yaml")), cwd=tmp_path)
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "no such file" in proc.stderr and "Traceback" not in proc.stderr
