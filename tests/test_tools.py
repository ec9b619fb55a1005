"""The external tools: the real promtool/amtool verdicts reach the user as diagnostics, and monstack finds the tool
the user meant (flag > MONSTACK_<TOOL> > tools dir > PATH). Fake tools here are tiny scripts printing a version:
they test monstack's lookup, never stand in for a tool's checks."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT, real_tool
from monstack import tools
from monstack.errors import MonstackError
from monstack.load import load_text
from monstack.model import build
from monstack.render import Stamp, render_all
from monstack.spec.parse import parse
from monstack.tools import amtool, promtool

ENV_VARS = ("MONSTACK_PROMTOOL", "MONSTACK_AMTOOL", "MONSTACK_PROMETHEUS", "MONSTACK_ALERTMANAGER",
            "MONSTACK_DOCKER_COMPOSE", "MONSTACK_TOOLS_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


real = real_tool


def fake(path: Path, name: str, version: str, marker: Path | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    note = f'echo "$0 $*" >> "{marker}"\n' if marker else ""
    path.write_text(f"#!/bin/sh\n{note}echo '{name}, version {version} (branch: fake)'\n")
    path.chmod(0o755)
    return path


# --- the real tools -----------------------------------------------------------------------------------------

def test_validate_with_the_real_tools_names_them_and_their_versions(cli):
    found = {name: real(name) for name in ("promtool", "amtool")}
    proc = cli("validate", "specs/real-estate-scraper.yaml", "--require-tools", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for name, tool in found.items():
        assert re.search(rf"^{name}: ok {re.escape(tool.version)} \({tool.source}: {re.escape(tool.path)}\)$",
                         proc.stdout, re.M), proc.stdout
    assert "specs/real-estate-scraper.yaml: valid" in proc.stdout


BAD_RULES = """\
groups:
  - name: g
    rules:
      - alert: Broken
        expr: rate(http_requests_total[5m]
"""
GOOD_RULES = """\
groups:
  - name: g
    rules:
      - {alert: Fine, expr: up == 0, for: 1m, labels: {severity: warning}, annotations: {summary: s}}
"""
DUPLICATE_RULES = GOOD_RULES + "      - {alert: Fine, expr: up == 0, for: 1m, labels: {severity: warning}}\n"


@pytest.mark.parametrize(("text", "expected"), [(BAD_RULES, "parse error"), (DUPLICATE_RULES, "duplicate rule"),
                                                (GOOD_RULES, None)])
def test_promtool_check_rules_reports_the_tools_own_message(tmp_path, text, expected):
    tool = real("promtool")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "g.yml").write_text(text)
    found = promtool.check_rules(tool, [tmp_path / "rules" / "g.yml"], tmp_path)
    if expected is None:
        assert found == []
        return
    [diagnostic] = found
    assert (diagnostic.check, diagnostic.severity) == ("promtool", "error")
    assert expected in diagnostic.message and tool.version in diagnostic.hint  # which promtool said it


def test_promtool_check_config_reports_a_bad_config_and_passes_a_good_one(tmp_path):
    tool = real("promtool")
    good = "global: {scrape_interval: 15s}\nscrape_configs:\n  - {job_name: x, static_configs: [{targets: ['a:1']}]}\n"
    (tmp_path / "prometheus.yml").write_text(good)
    assert promtool.check_config(tool, tmp_path / "prometheus.yml") == []
    (tmp_path / "prometheus.yml").write_text(good.replace("15s", "5 minutes"))
    [diagnostic] = promtool.check_config(tool, tmp_path / "prometheus.yml")
    assert diagnostic.check == "promtool" and "5 minutes" in diagnostic.message
    assert diagnostic.file and "prometheus.yml" in diagnostic.file


def test_promtool_check_config_follows_rule_files(tmp_path):
    """A config naming a broken rules file fails too: promtool checks what rule_files resolves to."""
    tool = real("promtool")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "g.yml").write_text(BAD_RULES)
    (tmp_path / "prometheus.yml").write_text("rule_files: [rules/*.yml]\n")
    [diagnostic] = promtool.check_config(tool, tmp_path / "prometheus.yml")
    assert "parse error" in diagnostic.message


def test_amtool_reports_a_route_to_an_undefined_receiver(tmp_path):
    tool = real("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: team\n  routes:\n    - {receiver: nobody, matchers: ['a=\"b\"']}\n"
                      "receivers:\n  - name: team\n")
    [diagnostic] = amtool.check_config(tool, config)
    assert (diagnostic.check, diagnostic.severity) == ("amtool", "error")
    assert 'undefined receiver "nobody"' in diagnostic.message
    config.write_text("route:\n  receiver: team\nreceivers:\n  - name: team\n")
    assert amtool.check_config(tool, config) == []


def test_amtool_accepts_what_monstack_renders_for_every_routing_feature(tmp_path):
    """Quoted/escaped matchers, regexes, continue, nested routes, url_file and auth_password_file are all
    configuration Alertmanager itself loads."""
    tool = real("amtool")
    text = textwrap.dedent("""\
        version: monstack/v1
        project: {name: demo}
        targets: [{name: api, kind: app, address: "api:8000"}]
        routing:
          receiver: d
          receivers:
            - {name: d, webhook: {url: "http://hook:5000/"}}
            - {name: s, webhook: {url: {env: HOOK_URL}}, slack: {api_url: {file: /etc/slack}, channel: "#x"}}
            - {name: m, email: {to: a@b.c, from: d@e.f, smarthost: "smtp:587", auth_username: u,
                                auth_password: {env: SMTP_PASSWORD}}, pagerduty: {routing_key: {env: PD_KEY}}}
          routes:
            - {match_re: {severity: "critical|warning"}, receiver: s, continue: true}
            - match: {team: 'say "hi" \\\\ there'}
              receiver: m
              routes: [{match: {severity: critical}, receiver: s, group_wait: 10s}]
          inhibit: [{when: {severity: critical}, mute: {severity: warning}, equal: [service]}]
        """)
    source = load_text(text, "demo.yaml")
    model, problems = build(parse(source), source)
    assert not [p for p in problems if p.severity == "error"], problems
    config = tmp_path / "alertmanager.yml"
    config.write_bytes(render_all(model, Stamp("demo.yaml", "out"))["alertmanager/alertmanager.yml"])
    assert amtool.check_config(tool, config) == []


# --- finding the tools --------------------------------------------------------------------------------------

def test_lookup_order_flag_env_tools_dir_path(tmp_path, monkeypatch):
    flag = fake(tmp_path / "flag" / "promtool", "promtool", "3.5.9")
    env = fake(tmp_path / "env" / "my-promtool", "promtool", "3.5.8")
    tools_dir = fake(tmp_path / "td" / "bin" / "promtool", "promtool", "3.5.4")
    cwd_dir = fake(tmp_path / "proj" / ".tools" / "bin" / "promtool", "promtool", "3.5.7")
    on_path = fake(tmp_path / "path" / "promtool", "promtool", "3.5.6")
    (tmp_path / "proj" / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "proj" / "src" / "deep")  # .tools/bin is found in a parent folder too
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("MONSTACK_PROMTOOL", str(env))
    monkeypatch.setenv("MONSTACK_TOOLS_DIR", str(tmp_path / "td"))

    def found():
        tool = tools.find("promtool", explicit)
        return tool and (tool.source, tool.path, tool.version)

    explicit = str(flag)
    assert found() == ("flag", str(flag), "3.5.9")
    explicit = None
    assert found() == ("env", str(env), "3.5.8")
    monkeypatch.delenv("MONSTACK_PROMTOOL")
    assert found() == ("tools-dir", str(tools_dir), "3.5.4")  # $MONSTACK_TOOLS_DIR/bin first...
    monkeypatch.delenv("MONSTACK_TOOLS_DIR")
    assert found() == ("tools-dir", str(cwd_dir), "3.5.7")  # ...then .tools/bin above the current folder
    cwd_dir.unlink()
    assert found() == ("PATH", str(on_path), "3.5.6")
    on_path.unlink()
    assert found() is None


def test_validate_uses_the_flag_over_the_environment(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("MONSTACK_PROMTOOL", str(fake(tmp_path / "env-promtool", "promtool", "3.5.8")))
    monkeypatch.setenv("MONSTACK_AMTOOL", str(fake(tmp_path / "env-amtool", "amtool", "0.33.8")))
    flag = fake(tmp_path / "flag-promtool", "promtool", "3.5.9")
    proc = cli("validate", str(EXAMPLE), "--promtool", str(flag), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"promtool: ok 3.5.9 (flag: {flag})" in proc.stdout
    assert f"amtool: ok 0.33.8 (env: {tmp_path / 'env-amtool'})" in proc.stdout


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_non_executable_tool_path_is_a_usage_error(tmp_path, monkeypatch, cli, how):
    script = tmp_path / "promtool.txt"
    script.write_text("#!/bin/sh\necho promtool, version 3.5.9\n")  # not chmod +x
    args = ["validate", str(EXAMPLE)]
    if how == "flag":
        args += ["--promtool", str(script)]
    else:
        monkeypatch.setenv("MONSTACK_PROMTOOL", str(script))
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(script) in proc.stderr and "not an executable" in proc.stderr and f"from {how}" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def no_tools(tmp_path, monkeypatch) -> Path:
    """No promtool/amtool anywhere: PATH holds only the Python, the tools dir is empty, no .tools above."""
    (tmp_path / "empty" / "bin").mkdir(parents=True)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    monkeypatch.setenv("MONSTACK_TOOLS_DIR", str(tmp_path / "empty"))
    assert not any((p / ".tools").exists() for p in (tmp_path, *tmp_path.parents))
    return tmp_path


def test_require_tools_fails_naming_the_missing_tools(no_tools, cli):
    proc = cli("validate", str(EXAMPLE), "--require-tools", cwd=no_tools)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "promtool not found" in proc.stderr and "amtool not found" in proc.stderr
    assert "install-tools.sh" in proc.stderr and "valid" not in proc.stdout


def test_without_require_tools_missing_tools_are_a_warning(no_tools, cli):
    proc = cli("validate", str(EXAMPLE), cwd=no_tools)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"warning: promtool not found", proc.stderr)
    assert re.search(r"warning: amtool not found", proc.stderr)
    assert "promtool: missing" in proc.stdout and "real-estate-scraper.yaml: valid" in proc.stdout


def test_offline_runs_no_tool(tmp_path, monkeypatch, cli):
    marker = tmp_path / "ran.log"
    monkeypatch.setenv("MONSTACK_PROMTOOL", str(fake(tmp_path / "promtool", "promtool", "3.5.9", marker)))
    monkeypatch.setenv("MONSTACK_AMTOOL", str(fake(tmp_path / "amtool", "amtool", "0.33.9", marker)))
    proc = cli("validate", str(EXAMPLE), "--offline", "--require-tools", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), marker.read_text()
    assert "promtool: skipped" in proc.stdout and "amtool: skipped" in proc.stdout
    online = cli("validate", str(EXAMPLE), cwd=tmp_path)  # the control: the same fakes do run without --offline
    assert online.returncode == 0, online.stderr
    assert "check config" in marker.read_text() and "check-config" in marker.read_text()


def test_doctor_lists_every_tool_with_its_version(cli, monkeypatch):
    for name in ("promtool", "amtool"):
        real(name)
    proc = cli("doctor", cwd=ROOT)
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert set(tools.KNOWN) == {"promtool", "amtool", "prometheus", "alertmanager", "docker-compose", "vmalert",
                                "vmalert-tool", "victoria-metrics"} == set(lines)
    monkeypatch.chdir(ROOT)
    for name in tools.KNOWN:
        tool = tools.find(name)
        if tool is None:
            assert "missing" in lines[name]
        else:
            assert re.search(rf"^{re.escape(name)}\s+{re.escape(tool.version)}\s+ok\s+{tool.source}: "
                             rf"{re.escape(tool.path)}$", lines[name])
    assert proc.returncode == (0 if all(tools.find(n) for n in set(tools.KNOWN) - tools.OPTIONAL) else 1)


def test_doctor_flags_missing_and_too_old_tools(no_tools, cli):
    bin_ = no_tools / "empty" / "bin"
    fake(bin_ / "promtool", "promtool", "2.42.0")  # bookworm's: too old
    fake(bin_ / "amtool", "amtool", "0.33.1")
    fake(bin_ / "prometheus-alertmanager", "alertmanager", "0.34.0")  # Debian's name for it
    proc = cli("doctor", cwd=no_tools)
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert re.search(r"2\.42\.0\s+too old, need >= 3\.5\.0", lines["promtool"])
    assert re.search(r"0\.33\.1\s+ok", lines["amtool"])
    assert re.search(r"0\.34\.0\s+ok", lines["alertmanager"]) and "prometheus-alertmanager" in lines["alertmanager"]
    assert "missing" in lines["prometheus"] and "missing" in lines["docker-compose"]
    assert "missing (optional" in lines["vmalert"] and "--victoriametrics" in lines["vmalert-tool"]
    assert proc.returncode == 1


def test_find_refuses_a_missing_explicit_path(tmp_path):
    with pytest.raises(MonstackError) as info:
        tools.find("amtool", str(tmp_path / "nope"))
    assert info.value.exit_code == 2 and "not an executable file" in str(info.value)


def test_a_rule_promtool_rejects_is_reported_at_the_alerts_line_in_the_spec(tmp_path, cli):
    """What only promtool knows (here: an experimental PromQL function, which promql-parser accepts) comes back
    at the alert's line in the spec. (A broken template no longer gets that far: see the next test.)"""
    tool, am, dc, vm = real("promtool"), real("amtool"), real("docker-compose"), real("vmalert")
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if "when: {down: {target: fastapi}}" in line)
    lines[number] = '    expr: limitk(1, up{job="fastapi"}) == 0'
    lines.insert(number + 1, "    waive: drill only")
    (tmp_path / "spec.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = cli("validate", "spec.yaml", "--require-tools", "--promtool", tool.path, "--amtool", am.path,
               "--docker-compose", dc.path, "--vmalert", vm.path, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    start = next(i for i in range(number, -1, -1) if lines[i].startswith("  - name: "))
    assert f"spec.yaml:{start + 1}:5: error: alerts[0]: promtool rejects the rendered rule" in proc.stderr, \
        proc.stderr
    assert "experimental" in proc.stderr
    assert proc.stderr.count("promtool rejects") == 1  # check config and check rules both saw it: said once
    assert "1 error" in proc.stderr


def test_a_broken_template_is_refused_offline_at_the_line_promtool_would_give(tmp_path, cli):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if 'summary: "API FastAPI is down' in line)
    lines[number] = lines[number].replace("{{ $labels.instance }}", "{{ $labels.instance }")  # unclosed action
    (tmp_path / "spec.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = cli("validate", "spec.yaml", "--offline", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    column = lines[number].index('"') + 1
    assert f"spec.yaml:{number + 1}:{column}: error: alerts[0].summary: invalid Go template" in proc.stderr
