"""Routing: every channel with its secrets as files, time intervals, the routing checks of `validate`, the labels an
alert carries, and the receivers each alert reaches, confirmed by the real amtool (`config routes test`).

Expected receivers, lines and label sets are written here from the specs' text and Alertmanager's documented
semantics, never copied from monstack's output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, ROOT, real_tool, walk
from monstack import pipeline, tools
from monstack.alert_labels import alert_labels
from monstack.checks import routing
from monstack.errors import MonstackError, errors_only
from monstack.load import load_text
from monstack.model import build
from monstack.render import Stamp
from monstack.render.alertmanager import DEFAULT_TEMPLATES, PATH, render, secret_refs
from monstack.routes import check_routes, expected_receivers, route_cases
from monstack.spec.parse import parse
from monstack.spec.routing import TimeInterval
from monstack.tools.amtool import check_config, test_routes

ALL = ROOT / "tests" / "data" / "routing" / "all-channels.yaml"
ALL_TEXT = ALL.read_text(encoding="utf-8")


def real_amtool() -> tools.Tool:
    return real_tool("amtool")


def model_of(text: str, name: str = "spec.yaml"):
    """The model and the findings of building it and of the routing checks (checks/routing.py)."""
    source = load_text(text, name)
    model, problems = build(parse(source), source)
    return model, problems + routing.check(model, source)


def rendered(model) -> dict:
    return yaml.safe_load(render(model, Stamp("spec.yaml", "out"))[PATH])


def write_config(model, folder: Path) -> Path:
    path = folder / "alertmanager.yml"
    path.write_bytes(render(model, Stamp("spec.yaml", "out"))[PATH])
    return path


def line_of(text: str, token: str) -> int:
    [line] = [i for i, text_line in enumerate(text.splitlines(), 1) if token in text_line]
    return line


@pytest.fixture(scope="module")
def all_channels():
    model, problems = model_of(ALL_TEXT, str(ALL))
    assert not errors_only(problems), problems
    return model


# --- channels and secrets -----------------------------------------------------------------------------------------

def test_every_channel_reads_its_secret_from_a_file(all_channels):
    am = rendered(all_channels)
    receivers = {r["name"]: r for r in am["receivers"]}
    assert receivers["web-team"]["slack_configs"][0]["api_url_file"] == "/run/secrets/slack_webhook_url"
    assert receivers["web-team"]["msteamsv2_configs"][0]["webhook_url_file"] == "/run/secrets/teams_webhook_url"
    assert receivers["fallback"]["email_configs"][0]["auth_password_file"] == "/run/secrets/smtp_password"
    assert receivers["fallback"]["email_configs"][0]["to"] == "ops@example.com, lead@example.com"
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key_file"] == "/run/secrets/pagerduty_routing_key"
    assert receivers["pager"]["opsgenie_configs"][0]["api_key_file"] == "/etc/monitoring/secrets/opsgenie"
    assert receivers["pager"]["opsgenie_configs"][0]["responders"] == [
        {"type": "team", "name": "ops"}, {"type": "user", "username": "lead@example.com"}]
    telegram = receivers["data-team"]["telegram_configs"][0]
    assert (telegram["bot_token_file"], telegram["chat_id"], telegram["parse_mode"]) == (
        "/run/secrets/telegram_bot_token", -1001234567890, "HTML")
    hook = receivers["data-team"]["webhook_configs"][0]
    assert hook["http_config"] == {"authorization": {"type": "Bearer",
                                                     "credentials_file": "/run/secrets/webhook_token"}}
    audit = receivers["audit"]["webhook_configs"][0]
    assert audit["url_file"] == "/run/secrets/audit_url"
    assert audit["http_config"] == {"basic_auth": {"username": "alertmanager",
                                                   "password_file": "/run/secrets/audit_password"}}
    inline = {"routing_key", "service_key", "api_key", "bot_token", "webhook_url", "auth_password", "password",
              "credentials", "bearer_token", "auth_secret", "token"}
    assert not {key for _, key, _ in walk(am)} & inline
    assert [path for path, key, _ in walk(am) if key == "api_url"] == [  # a plain URL: Opsgenie's EU instance
        ("receivers", 1, "opsgenie_configs", 0, "api_url")]


def test_secret_refs_names_every_file_the_config_reads(all_channels):
    """Deployment mounts what secret_refs() lists: it must be every *_file of the rendered config, no more."""
    am = rendered(all_channels)
    files = {value for _, key, value in walk(am) if key.endswith("_file")}
    refs = secret_refs(all_channels)
    assert {ref.path for ref in refs} == files and len(refs) == len(files) == 10
    assert {ref.env for ref in refs if ref.env} == {
        "SMTP_PASSWORD", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_TOKEN", "AUDIT_URL", "AUDIT_PASSWORD", "DEADMANSSWITCH_URL"}
    assert [ref.path for ref in refs] == sorted(ref.path for ref in refs)


def test_amtool_accepts_every_channel_route_option_and_time_interval(all_channels, tmp_path):
    assert check_config(real_amtool(), write_config(all_channels, tmp_path)) == []


@pytest.mark.parametrize("template", DEFAULT_TEMPLATES)
def test_default_templates_render_with_amtool(template):
    proc = real_amtool().run("template", "render", "--template.glob=/dev/null", f"--template.text={template}")
    assert proc.returncode == 0, proc.stderr


SENTINELS = {"SMTP_PASSWORD": "smtpSEKRIT1", "PAGERDUTY_ROUTING_KEY": "pdSEKRIT2",
             "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/" + "slackSEKRIT3",  # fake, split
             "TEAMS_WEBHOOK_URL": "https://x.webhook.office.com/webhookb2/teamsSEKRIT4",
             "TELEGRAM_BOT_TOKEN": "123456:tgSEKRIT5", "WEBHOOK_TOKEN": "bearerSEKRIT6",
             "AUDIT_URL": "https://audit.example.com/?token=auditSEKRIT7", "AUDIT_PASSWORD": "basicSEKRIT8",
             "DEADMANSSWITCH_URL": "https://nosnch.in/dmsSEKRIT9"}


def test_no_secret_value_reaches_any_output(tmp_path):
    """generate and routes run with every env secret set and the file secret present: no value is in any output."""
    (tmp_path / "opsgenie").write_text("ogSEKRIT10")
    (tmp_path / "spec.yaml").write_text(ALL_TEXT.replace("/etc/monitoring/secrets/opsgenie",
                                                         str(tmp_path / "opsgenie")))
    env = {**os.environ, **SENTINELS}
    runs = [subprocess.run([sys.executable, "-m", "monstack", *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=60) for args in (("generate", "spec.yaml", "-o", "out"),
                                                               ("routes", "spec.yaml"))]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    blob = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
    blob += "".join(r.stdout + r.stderr for r in runs).encode()
    assert b"SEKRIT" not in blob
    am = (tmp_path / "out" / "alertmanager" / "alertmanager.yml").read_text()
    assert str(tmp_path / "opsgenie") in am  # referenced by path, never read


LITERALS = {
    "slack": ('{slack: {api_url: "https://hooks.slack.com/services/T/B/x", channel: "#a"}}', "slack.api_url"),
    "teams": ('{msteams: {webhook_url: "https://x.webhook.office.com/webhookb2/abc"}}', "msteams.webhook_url"),
    "telegram": ('{telegram: {bot_token: "123456:ABC-DEF", chat_id: 1}}', "telegram.bot_token"),
    "opsgenie": ('{opsgenie: {api_key: "0123abcd-key"}}', "opsgenie.api_key"),
    "pagerduty": ('{pagerduty: {routing_key: "R0UT1NGKEY"}}', "pagerduty.routing_key"),
    "smtp": ('{email: {to: a@b.c, from: d@e.f, smarthost: "smtp:587", auth_password: ' + 'hunter2}}',
             "email.auth_password"),
    "bearer": ('{webhook: {url: "http://hook:5000/", bearer_token: s3cr3t}}', "webhook.bearer_token"),
    "signed-url": ('{webhook: {url: "https://prod.logic.azure.com/workflows/x?sig=abc"}}', "webhook.url"),
    "userinfo-url": ('{webhook: {url: "https://user:pass@hook.example.com/"}}', "webhook.url"),
    "opsgenie-url": ('{opsgenie: {api_key: {env: OG}, api_url: "https://api.opsgenie.com/?apikey=abc"}}',
                     "opsgenie.api_url"),
}


@pytest.mark.parametrize("channel", LITERALS)
def test_a_literal_secret_is_refused_with_how_to_reference_it(channel):
    snippet, field = LITERALS[channel]
    text = ("version: monstack/v1\nproject: {name: demo}\ntargets: [{name: api, kind: app, address: 'api:8000'}]\n"
            f"routing:\n  receiver: r\n  receivers:\n    - {{name: r, {snippet[1:-1]}}}\n")
    with pytest.raises(MonstackError) as info:
        parse(load_text(text, "spec.yaml"))
    [problem] = info.value.diagnostics
    assert problem.path[:3] == ("routing", "receivers", 0) and ".".join(map(str, problem.path[3:])) == field
    assert problem.line == 7
    assert "{env: NAME}" in problem.message and "{file: " in problem.message


@pytest.mark.parametrize("snippet, says", [
    ('{telegram: {bot_token: {env: T}, chat_id: "@alerts"}}', "numeric id"),
    ('{telegram: {bot_token: {env: T}, chat_id: 1, parse_mode: MarkdownV2}}', "give `message`"),
    ('{email: {to: a@b.c, from: d@e.f, smarthost: "smtp:587", auth_password: {env: P}, require_tls: false}}',
     "in clear"),
    ('{webhook: {url: "ftp://hook/"}}', "http:// or https://"),
])
def test_channel_options_that_cannot_work_are_refused(snippet, says):
    text = ("version: monstack/v1\nproject: {name: demo}\ntargets: [{name: api, kind: app, address: 'api:8000'}]\n"
            f"routing:\n  receiver: r\n  receivers:\n    - {{name: r, {snippet[1:-1]}}}\n")
    with pytest.raises(MonstackError, match=re.escape(says)):
        parse(load_text(text, "spec.yaml"))


# --- time intervals -------------------------------------------------------------------------------------------

PARIS_OFFICE = {"weekdays": ["monday:friday"], "times": ["09:00-18:00"], "location": "Europe/Paris"}
UTC = timezone.utc


@pytest.mark.parametrize("fields, when, inside", [
    (PARIS_OFFICE, datetime(2025, 1, 6, 8, 0, tzinfo=UTC), True),  # Monday 09:00 in Paris (UTC+1)
    (PARIS_OFFICE, datetime(2025, 1, 6, 7, 59, tzinfo=UTC), False),  # 08:59 in Paris
    (PARIS_OFFICE, datetime(2025, 1, 6, 17, 0, tzinfo=UTC), False),  # 18:00 in Paris: the end is excluded
    (PARIS_OFFICE, datetime(2025, 7, 7, 16, 30, tzinfo=UTC), False),  # 18:30 in Paris in summer (UTC+2)
    (PARIS_OFFICE, datetime(2025, 7, 7, 15, 30, tzinfo=UTC), True),
    (PARIS_OFFICE, datetime(2025, 1, 4, 12, 0, tzinfo=UTC), False),  # a Saturday
    (PARIS_OFFICE, datetime(2025, 1, 5, 23, 30, tzinfo=UTC), False),  # Monday 00:30 in Paris, outside the hours
    ({"weekdays": ["sunday"]}, datetime(2025, 1, 5, 23, 30), True),  # naive: UTC, still Sunday
    ({"days_of_month": ["-1"]}, datetime(2024, 2, 29, 12, 0), True),  # the last day of a leap February
    ({"days_of_month": ["-1"]}, datetime(2025, 2, 28, 12, 0), True),
    ({"days_of_month": ["-1"]}, datetime(2025, 2, 27, 12, 0), False),
    ({"months": ["december"], "days_of_month": ["24:-1"]}, datetime(2025, 12, 31, 23, 59), True),
    ({"months": ["december"], "days_of_month": ["24:-1"]}, datetime(2025, 11, 30, 12, 0), False),
    ({"times": ["18:00-24:00"]}, datetime(2025, 3, 1, 23, 59), True),
    ({"years": ["2025:2026"]}, datetime(2027, 1, 1), False),
])
def test_a_time_interval_contains_what_alertmanager_would(fields, when, inside):
    assert TimeInterval(name="t", **fields).contains(when) is inside


@pytest.mark.parametrize("fields, says", [
    ({"weekdays": ["saturday:sunday"]}, "never wraps around"),
    ({"times": ["22:00-06:00"]}, "never crosses midnight"),
    ({"times": ["9:00-18:00"]}, "HH:MM-HH:MM"),
    ({"days_of_month": [0]}, "1 ... 31"),
    ({"days_of_month": ["-3:5"]}, "must end there too"),
    ({"months": ["decembre"]}, "not a month"),
    ({"location": "Europe/Pariss"}, "unknown time zone"),
])
def test_a_time_interval_alertmanager_would_refuse_is_refused_here(fields, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        TimeInterval(name="t", **fields)


def test_time_intervals_render_in_alertmanager_form(all_channels):
    am = rendered(all_channels)
    office = next(t for t in am["time_intervals"] if t["name"] == "office-hours")
    assert office["time_intervals"] == [{"times": [{"start_time": "09:00", "end_time": "18:00"}],
                                         "weekdays": ["monday:friday"], "location": "Europe/Berlin"}]
    data = next(r for r in am["route"]["routes"] if r["receiver"] == "data-team")
    assert (data["active_time_intervals"], data["mute_time_intervals"]) == (["office-hours"], ["year-end"])


# --- the receivers each alert reaches, confirmed by amtool ---------------------------------------------------------

def test_every_example_alert_reaches_the_receivers_the_spec_says(tmp_path):
    """The spec's routing section: Watchdog -> deadmansswitch, critical -> critical, warning -> warning."""
    resolved = pipeline.resolve(EXAMPLE)
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    intended = {a["name"]: ["deadmansswitch"] if a["name"] == "Watchdog" else [a["severity"]] for a in spec["alerts"]}
    intended.update({f"{s['name']}BurnRate{w}": [level] for s in spec["slos"]  # pages critical, tickets warning
                     for w, level in (("1h", "critical"), ("6h", "critical"), ("1d", "warning"), ("3d", "warning"))})
    assert expected_receivers(resolved.model) == intended
    assert check_routes(resolved.model, real_amtool(), write_config(resolved.model, tmp_path)) == []


def test_every_channel_spec_alert_reaches_its_receivers_in_tree_order(all_channels, tmp_path):
    intended = {"ApiDown": ["audit", "pager", "web-team"], "ApiSlow": ["audit", "web-team"],
                "DeprecatedCalls": ["audit", "fallback"], "DatabaseDown": ["audit", "pager", "data-team"],
                "DatabaseConnections": ["audit", "data-team"], "DiskFilling": ["audit", "data-team"],
                "Watchdog": ["deadmansswitch"]}
    assert expected_receivers(all_channels) == intended
    [case] = [c for c in route_cases(all_channels) if c.alert == "ApiDown"]
    assert case.labels == {"alertname": "ApiDown", "environment": "staging", "project": "shop", "region": "eu",
                           "service": "api", "severity": "critical", "team": "web"}
    assert check_routes(all_channels, real_amtool(), write_config(all_channels, tmp_path)) == []


def test_a_route_broken_in_the_rendered_config_fails_the_route_check_with_the_alerts_named(tmp_path):
    resolved = pipeline.resolve(EXAMPLE)
    config = write_config(resolved.model, tmp_path)
    config.write_text(config.read_text().replace('severity="critical"', 'severity="Critical"'))
    problems = check_routes(resolved.model, real_amtool(), config, resolved.source)
    criticals = [a.name for a in resolved.model.spec.alerts if a.severity == "critical"]
    assert sorted(p.message.split(":")[0] for p in problems) == sorted(f"alert {name}" for name in criticals)
    [down] = [p for p in problems if p.message.startswith("alert APIDown:")]
    assert "amtool routes it to default, the spec to critical" in down.message and down.check == "amtool"
    assert down.line == line_of(EXAMPLE.read_text(), "- name: APIDown")


def test_amtool_route_tests_report_mismatches_repeats_and_errors_in_order(tmp_path):
    config = tmp_path / "am.yml"
    config.write_text(textwrap.dedent("""\
        route:
          receiver: d
          routes:
            - {receiver: a, matchers: ['severity=~".+"'], continue: true}
            - {receiver: a, matchers: ['severity="critical"'], continue: true}
            - {receiver: b, matchers: ['team="say \\"hi\\""']}
        receivers: [{name: d}, {name: a}, {name: b}]
        """))

    class Case:
        def __init__(self, labels, expected):
            self.labels, self.expected = labels, expected

    cases = [Case({"severity": "critical"}, ["a", "a"]), Case({"severity": "critical"}, ["a"]),
             Case({"team": 'say "hi"'}, ["b"]), Case({}, ["d"])] * 5
    results = test_routes(real_amtool(), config, cases)
    assert [r.case for r in results] == cases
    assert [(r.ok, r.got) for r in results[:4]] == [(True, ["a", "a"]), (False, ["a", "a"]), (True, ["b"]),
                                                    (True, ["d"])]
    config.write_text("route: {receiver: nobody}\nreceivers: [{name: d}]\n")
    [broken] = test_routes(real_amtool(), config, [Case({}, ["d"])])
    assert not broken.ok and broken.error and "nobody" in broken.error


# --- the checks of validate -----------------------------------------------------------------------------------

BASE = """\
version: monstack/v1
project: {name: demo, labels: {cluster: eu}}
targets:
  - {name: api, kind: app, address: "api:8000"}
  - {name: postgresql, kind: postgres, address: "db:5432"}
metrics:
  - {name: jobs_total, type: counter, help: h, target: api, labels: [queue]}
alerts:
  - {name: ApiDown, severity: critical, service: api, when: {down: {target: api}}, summary: s, description: d}
  - {name: ApiErrors, severity: warning, service: api, expr: 'sum(rate(jobs_total[5m])) > 1', summary: s,
     description: d}
  - {name: QueueStuck, severity: warning, service: worker, expr: 'sum by (queue) (rate(jobs_total[5m])) == 0',
     summary: s, description: d}
  - {name: DbBusy, severity: warning, service: postgresql, expr: 'pg_stat_activity_count > 80', summary: s,
     description: d}
  - {name: Watchdog, severity: none, when: {always: true}, summary: s, description: d}
routing:
"""
ROUTING = """\
  receiver: default
  receivers:
    - {name: default, webhook: {url: "http://hook:5000/"}}
    - {name: pager, webhook: {url: "http://pager:5000/"}}
    - {name: dms, webhook: {url: "http://dms:5000/"}}
  routes:
    - {match: {alertname: Watchdog}, receiver: dms}
    - {match: {severity: critical}, receiver: pager}
  inhibit:
    - {when: {severity: critical}, mute: {severity: warning}, equal: [service]}
"""


def findings(routing: str = ROUTING) -> tuple[str, list]:
    text = BASE + routing
    _, problems = model_of(text)
    return text, [p for p in problems if p.check in ("routing", "model")]


def test_the_base_spec_is_clean():
    assert findings()[1] == []


def one(problems, severity="error"):
    found = [p for p in problems if p.severity == severity]
    assert len(found) == 1, problems
    return found[0]


def test_a_receiver_no_route_uses_is_an_error():
    text, problems = findings(ROUTING.replace("  routes:", "    - {name: spare, webhook: {url: 'http://x:1/'}}\n"
                                                            "  routes:"))
    problem = one(problems)
    assert "'spare' is used by no route" in problem.message and problem.line == line_of(text, "name: spare")


def test_a_route_shadowed_by_an_earlier_sibling_is_an_error():
    routing = ROUTING.replace("receiver: pager}", "receiver: pager}\n    - {match: {severity: critical, service: api}, "
                                                  "receiver: default}")
    text, problems = findings(routing)
    problem = one(problems)
    assert "never reached" in problem.message and "routing.routes[1]" in problem.message
    assert problem.line == line_of(text, "service: api}, receiver: default")


def test_a_route_contradicting_its_parent_is_an_error():
    routing = ROUTING.replace("receiver: pager}", "receiver: pager,\n       routes: [{match: {severity: warning}, "
                                                  "receiver: default}]}")
    text, problems = findings(routing)
    problem = one(problems)
    assert "can never match" in problem.message and "'critical' and 'warning'" in problem.message
    assert problem.path == ("routing", "routes", 1, "routes", 0)


def test_alerts_reaching_a_receiver_that_sends_nowhere_are_named():
    routing = ROUTING.replace('{name: default, webhook: {url: "http://hook:5000/"}}', "{name: default}")
    text, problems = findings(routing)
    problem = one(problems)
    assert "'ApiErrors', 'QueueStuck', 'DbBusy' reach only receiver 'default'" in problem.message
    assert problem.path == ("routing", "receiver")
    quiet = ROUTING.replace('{name: dms, webhook: {url: "http://dms:5000/"}}', "{name: dms}")
    assert findings(quiet)[1] == []  # severity: none may go nowhere


def test_group_by_must_name_a_label_the_alerts_carry():
    text, problems = findings(ROUTING.replace("  receiver: default\n", "  receiver: default\n"
                                                                     "  group_by: [alertname, servce, queue]\n"))
    problem = one(problems)
    assert "'servce'" in problem.message and "did you mean 'service'" in problem.hint
    assert problem.path == ("routing", "group_by", 1)  # queue: kept by QueueStuck's `sum by (queue)`
    _, problems = findings(ROUTING.replace("  receiver: default\n", "  receiver: default\n  group_by: [datname]\n"))
    problem = one(problems, "warning")  # only DbBusy, an exporter metric with labels monstack cannot list, might
    assert "DbBusy" in problem.message and not errors_only(problems)


def test_an_inhibition_that_matches_no_alert_is_an_error():
    text, problems = findings(ROUTING.replace("when: {severity: critical}", "when: {severity: critcal}"))
    problem = one(problems)
    assert problem.path == ("routing", "inhibit", 0, "when") and "did you mean severity: critical" in problem.hint


def test_the_guides_equal_typo_mutes_everything_and_is_an_error():
    text, problems = findings(ROUTING.replace("equal: [service]", "equal: [dev]"))
    problem = one(problems)
    assert problem.path == ("routing", "inhibit", 0, "equal") and "both lack dev" in problem.message


def test_an_equal_label_one_side_lacks_is_an_error():
    text, problems = findings(ROUTING.replace("equal: [service]", "equal: [queue]"))
    problem = one(problems)
    assert "no alert matching `when` carries the label 'queue'" in problem.message


def test_an_inhibition_whose_sides_never_share_the_label_is_an_error():
    routing = ROUTING.replace("mute: {severity: warning}", "mute: {service: worker}")
    text, problems = findings(routing)
    problem = one(problems)
    assert "never mutes anything" in problem.message and "api (when) vs worker (mute)" in problem.hint


def test_an_inhibition_without_equal_is_a_warning():
    _, problems = findings(ROUTING.replace(", equal: [service]", ""))
    assert "no `equal`" in one(problems, "warning").message and not errors_only(problems)


def test_time_interval_references_and_time_limited_pages():
    routing = ROUTING.replace("receiver: pager}", "receiver: pager, active_time_intervals: [office]}")
    text, problems = findings(routing)
    assert "undefined time interval 'office'" in one(problems).message
    routing += '  time_intervals:\n    - {name: office, weekdays: ["monday:friday"]}\n    - {name: spare}\n'
    text, problems = findings(routing)
    assert not errors_only(problems)
    messages = sorted(p.message for p in problems)
    assert "critical alerts reach only time-limited routes: alert 'ApiDown' page nobody" in messages[0]
    assert "time interval 'spare' is used by no route" in messages[1]


def test_a_route_no_alert_reaches_is_a_warning_or_with_a_typo_an_error():
    routing = ROUTING.replace("receiver: pager}", "receiver: pager}\n    - {match: {service: db}, receiver: default}")
    _, problems = findings(routing)  # no alert has it, nor anything like it: maybe for alerts from elsewhere
    problem = one(problems, "warning")
    assert "no alert of this spec reaches this route" in problem.message and not errors_only(problems)
    routing = ROUTING.replace("receiver: pager}", "receiver: pager}\n    - {match: {service: postgres}, "
                                                  "receiver: default}")
    text, problems = findings(routing)
    problem = one(problems)
    assert "did you mean 'postgresql' (alert 'DbBusy')" in problem.hint
    assert problem.line == line_of(text, "service: postgres}")


def test_breaking_the_examples_critical_route_fails_validate_with_the_alerts_named(tmp_path, cli):
    text = EXAMPLE.read_text(encoding="utf-8")
    broken = text.replace("    - match: {severity: critical}\n      receiver: critical",
                          "    - match: {severity: crit}\n      receiver: critical")
    assert broken != text
    (tmp_path / "spec.yaml").write_text(broken, encoding="utf-8")
    proc = cli("validate", "spec.yaml", "--offline", cwd=tmp_path)
    assert proc.returncode == 1
    line = line_of(broken, "match: {severity: crit}")
    assert f"spec.yaml:{line}:7: error: routing.routes[1]: no alert of this spec reaches this route" in proc.stderr
    assert "did you mean 'critical' (alerts 'APIDown', 'HighErrorRate'," in proc.stderr


def test_route_options_alertmanager_refuses_are_refused():
    for bad, says in ((ROUTING.replace("receiver: dms}", "receiver: dms, group_by: ['...', alertname]}"),
                       "give it alone"),
                      (ROUTING.replace("receiver: dms}", "receiver: dms, group_interval: 30s}"), "once a minute")):
        with pytest.raises(MonstackError, match=re.escape(says)):
            parse(load_text(BASE + bad, "spec.yaml"))


def test_a_short_repeat_is_a_warning_except_for_a_heartbeat():
    routing = ROUTING.replace("{alertname: Watchdog}, receiver: dms}", "{alertname: Watchdog}, receiver: dms, "
                                                                        "repeat_interval: 5m}")
    assert findings(routing)[1] == []
    routing = ROUTING.replace("receiver: pager}", "receiver: pager, repeat_interval: 5m}")
    text, problems = findings(routing)
    problem = one(problems, "warning")
    assert "re-notifies every 5m while alert 'ApiDown' fires" in problem.message
    assert problem.line == line_of(text, "receiver: pager, repeat_interval: 5m")


def test_a_broken_reference_is_reported_once_not_as_a_cascade():
    _, problems = findings(ROUTING.replace("receiver: pager}", "receiver: pagr}"))
    assert [p.message for p in problems] == ["route to undefined receiver 'pagr'"]


# --- the labels an alert carries ----------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, dynamic, open_", [
    ('up{job="api"} == 0', {"job", "instance"}, False),
    ("sum(rate(jobs_total[5m])) > 1", set(), False),
    ("sum by (queue) (rate(jobs_total[5m])) > 1", {"queue"}, False),
    ("sum without (instance) (rate(jobs_total[5m])) > 1", {"job", "queue"}, False),
    ("rate(jobs_total[5m]) > 1", {"job", "instance", "queue"}, False),
    ("(sum(rate(jobs_total[5m])) or vector(0)) < 1", set(), False),
    ("histogram_quantile(0.9, sum by (le, queue) (rate(lat_bucket[5m]))) > 1", {"queue"}, False),
    ('label_replace(up, "host", "$1", "instance", "(.*)") == 0', {"job", "instance", "host"}, False),
    ('absent(jobs_total{job="api"})', {"job"}, False),
    ('count_values("version", up) > 1', {"version"}, False),
    ("rate(jobs_total[5m]) / on (instance) group_left (version) up", {"job", "instance", "queue", "version"}, False),
    ("rate(jobs_total[5m]) / on (instance) up", {"instance"}, False),
    ("rate(jobs_total[5m]) / ignoring (queue) up", {"job", "instance"}, False),
    ("time() - up > 60", {"job", "instance"}, False),
    ("pg_stat_activity_count > 80", {"job", "instance"}, True),
    ("sum by (datname) (pg_stat_activity_count) > 80", {"datname"}, False),
    ("vector(1)", set(), False),
])
def test_the_labels_an_expression_keeps(expr, dynamic, open_):
    text = BASE.replace("alerts:\n", "alerts:\n  - {name: X, severity: warning, expr: '" + expr.replace("'", "''")
                        + "', summary: s, description: d}\n") + ROUTING
    text = text.replace("labels: [queue]}", "labels: [queue]}\n  - {name: lat, type: histogram, help: h, target: api, "
                                            "labels: [queue], buckets: [1, 2]}")
    model, _ = model_of(text)
    [labels] = [a for a in alert_labels(model) if a.name == "X"]
    assert (set(labels.dynamic), labels.open) == (dynamic, open_)
    assert labels.fixed == {"alertname": "X", "severity": "warning", "project": "demo", "environment": "production",
                            "cluster": "eu"}


# --- monstack routes ------------------------------------------------------------------------------------------

def test_routes_prints_the_tree_and_who_gets_what(cli):
    proc = cli("routes", "specs/real-estate-scraper.yaml", "--at", "2025-01-04T22:00+01:00")  # a Saturday night
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert '├── severity="critical" -> critical  (repeat 1h)' in out
    assert '└── severity="warning" -> warning  (active only in business-hours)' in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert re.search(r"APIDown\s+critical\s+critical\s+slack #critical-alerts.*pagerduty", rows["APIDown"])
    assert "held back" not in rows["APIDown"]
    assert "warning at 2025-01-04T22:00+01:00: held back" in rows["HighCPUUsage"]
    # the critical alerts of service api, the SLOs' pages among them
    assert re.search(r"muted while APIDown, HighErrorRate(, API\w+BurnRate(1h|6h))+ fire \(same service\)",
                     rows["SlowResponseTime"]), rows["SlowResponseTime"]
    assert re.search(r"Watchdog\s+none\s+deadmansswitch\s+webhook \(secret URL\)", rows["Watchdog"])


def test_routes_verify_asks_amtool(cli):
    real_amtool()
    proc = cli("routes", "specs/real-estate-scraper.yaml", "--verify")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"amtool 0\.\d+\.\d+ .*: 48 alerts reach the receivers the spec says", proc.stdout)


def test_routes_refuses_a_bad_time(cli):
    proc = cli("routes", "specs/real-estate-scraper.yaml", "--at", "saturday night")
    assert proc.returncode == 2 and "ISO 8601" in proc.stderr
