"""The `monstack` command: thin wrappers over the library; errors become exit codes here and only here.

Exit codes: 0 fine, 1 findings (the spec or its output is wrong, or drift with --check), 2 unusable input or
bad usage. Heavy modules (pydantic, the spec, promql-parser) are imported inside the commands that need them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import EXIT_FINDINGS, EXIT_UNUSABLE, MonstackError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Monitoring as code: one YAML spec -> Prometheus, Alertmanager and more, proven by real tools.")

SpecArg = typer.Argument(..., help="the spec file (YAML, version monstack/v1)", show_default=False)


def _fail(exc: MonstackError, fmt: str = "text") -> None:
    from .report import emit  # noqa: PLC0415

    emit(exc.diagnostics, fmt, sys.stderr)
    raise typer.Exit(exc.exit_code)


@app.command()
def validate(
    spec: Path = SpecArg,
    offline: bool = typer.Option(False, "--offline",
                                 help="skip the external tools (promtool, amtool, docker-compose, vmalert)"),
    require_tools: bool = typer.Option(False, "--require-tools",
                                       help="fail when promtool, amtool, docker-compose or vmalert is missing"),
    promtool: Optional[str] = typer.Option(None, "--promtool", help="path of promtool to use"),
    amtool: Optional[str] = typer.Option(None, "--amtool", help="path of amtool to use"),
    docker_compose: Optional[str] = typer.Option(None, "--docker-compose", help="path of docker-compose to use"),
    vmalert: Optional[str] = typer.Option(None, "--vmalert", help="path of vmalert to use (-dryRun on the rules)"),
    fmt: str = typer.Option("text", "--format", help=(
        "text (stderr), or on stdout: json, sarif (SARIF 2.1.0) or github (annotations)")),
) -> None:
    """Check a spec: YAML, schema, references, PromQL, then the rendered files with promtool, amtool,
    docker-compose and vmalert -dryRun."""
    from . import pipeline  # noqa: PLC0415
    from .report import emit, say  # noqa: PLC0415

    _check_format(fmt)
    try:
        result = pipeline.validate(spec, offline=offline, require_tools=require_tools,
                                   tool_paths={"promtool": promtool, "amtool": amtool,
                                               "docker-compose": docker_compose, "vmalert": vmalert})
    except MonstackError as exc:
        _fail(exc, fmt)
    emit(result.warnings, fmt, sys.stderr)
    human = fmt != "text"  # a machine format owns stdout: the human lines go to stderr
    for run in result.tools:
        detail = f"{run.version} ({run.source}: {run.path})" if run.path else ""
        say(f"{run.name}: {run.status} {detail}".rstrip(), err=human)
    say(f"{pipeline.display_path(spec)}: valid", err=human)


@app.command()
def generate(
    spec: Path = SpecArg,
    out: Path = typer.Option(Path("generated"), "-o", "--out", help="output folder"),
    check: bool = typer.Option(False, "--check", help="write nothing; exit 1 when the folder differs (CI drift check)"),
) -> None:
    """Render every artifact of the spec into the output folder, deterministically and atomically."""
    from . import pipeline  # noqa: PLC0415
    from .report import emit, say  # noqa: PLC0415

    try:
        result = pipeline.generate(spec, out, check=check)
    except MonstackError as exc:
        _fail(exc)
    emit(result.warnings, "text", sys.stderr)
    where = pipeline.display_path(out)
    if check:
        if result.changes:
            say(f"{where} differs from what {pipeline.display_path(spec)} generates:", err=True)
            for line in result.changes:
                say(f"  {line}", err=True)
            say(f"regenerate with: monstack generate {pipeline.display_path(spec)} -o {where}", err=True)
            raise typer.Exit(EXIT_FINDINGS)
        say(f"{where}: up to date ({len(result.files)} files)")
        return
    for line in result.changes:
        say(f"  {line}")
    say(f"{where}: {len(result.files)} files, {len(result.changes)} changed")


@app.command()
def test(
    spec: Path = SpecArg,
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="generate here instead of a temporary folder"),
    junit: Optional[Path] = typer.Option(None, "--junit", help="also write a JUnit report (one case per alert)"),
    promtool: Optional[str] = typer.Option(None, "--promtool", help="path of promtool to use"),
    amtool: Optional[str] = typer.Option(None, "--amtool", help="path of amtool to use (routes are tested with it)"),
    engine: str = typer.Option("prometheus", "--engine",
                               help="prometheus (promtool test rules) or vmalert (vmalert-tool unittest)"),
) -> None:
    """Prove every alert: run its generated and hand-written promtool tests and its route, report per alert."""
    from . import pipeline  # noqa: PLC0415
    from .proof.run import diagnostics, junit as junit_xml  # noqa: PLC0415
    from .report import emit, say  # noqa: PLC0415

    try:
        tested = pipeline.test(spec, out=out, promtool=promtool, amtool_path=amtool, engine=engine)
    except MonstackError as exc:
        _fail(exc)
    report = tested.report
    width = max((len(r.alert) for r in report.results), default=5)
    for r in report.results:
        detail = f"  ({r.note})" if r.note else ""
        say(f"{r.alert:{width}}  {r.cases:3} cases  {r.status}{detail}")
    counts = report.counts()
    say(f"{len(report.results)} alerts: " + ", ".join(f"{n} {status}" for status, n in counts.items())
        + f"  ({tested.promtool.name} {tested.promtool.version}, {tested.promtool.source}: {tested.promtool.path})")
    if tested.amtool is not None:
        say(f"routes: {report.routes_checked} alerts checked against alertmanager.yml (amtool {tested.amtool.version},"
            f" {tested.amtool.source}: {tested.amtool.path}; time intervals and inhibitions: see `monstack validate`)")
    else:
        say("routes: not tested (amtool not found: run scripts/install-tools.sh)")
    if junit is not None:
        try:
            junit.write_text(junit_xml(report, tested.resolved.source.file), encoding="utf-8")
        except OSError as exc:
            _fail(MonstackError.single(f"cannot write: {exc.strerror}", file=str(junit), check="test",
                                       exit_code=EXIT_UNUSABLE))
    found = diagnostics(report, tested.resolved.source)
    if found:
        emit(found, "text", sys.stderr)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def routes(
    spec: Path = SpecArg,
    at: Optional[str] = typer.Option(None, "--at", help="show what goes out at this time (ISO 8601; naive = UTC)"),
    verify: bool = typer.Option(False, "--verify", help="also check every alert's receivers with amtool"),
    amtool: Optional[str] = typer.Option(None, "--amtool", help="path of amtool to use"),
) -> None:
    """Print the routing tree and, for every alert, its receivers, their channels, time limits and inhibitions."""
    from datetime import datetime  # noqa: PLC0415

    from .report import emit, say  # noqa: PLC0415
    from .route_table import report  # noqa: PLC0415

    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError:
        _fail(MonstackError.single(f"--at {at!r}: expected an ISO 8601 time, e.g. 2025-01-06T22:00+01:00",
                                   check="usage", exit_code=EXIT_UNUSABLE))
    try:
        result = report(spec, at=when, verify=verify, amtool_path=amtool)
    except MonstackError as exc:
        _fail(exc)
    sys.stdout.write(result.text)
    if verify:
        emit(result.problems, "text", sys.stderr)
        say(f"amtool {result.amtool}: {result.verified} alerts reach the receivers the spec says"
            + (f", {len(result.problems)} do not" if result.problems else ""))
        if result.problems:
            raise typer.Exit(EXIT_FINDINGS)


@app.command()
def drill(
    spec: Path = SpecArg,
    alert: Optional[list[str]] = typer.Option(None, "--alert", help="an alert to drill (repeatable); default: one "
                                              "alert of each condition kind"),
    prometheus: Optional[str] = typer.Option(None, "--prometheus", help="path of prometheus to use"),
    alertmanager: Optional[str] = typer.Option(None, "--alertmanager", help="path of alertmanager to use"),
    engine: str = typer.Option("prometheus", "--engine", help="who evaluates the rules: prometheus, or vmalert "
                               "on a VictoriaMetrics that Prometheus remote-writes to (scaled out)"),
) -> None:
    """Fire drill: the real Prometheus and Alertmanager on loopback, stand-in targets driven across each alert's
    threshold, every notification caught by a local sink: fired, delivered to its receiver, resolved."""
    from .drill import run  # noqa: PLC0415
    from .drill.processes import Interrupted  # noqa: PLC0415
    from .report import say  # noqa: PLC0415

    try:
        report = run(spec, alert or None, prometheus=prometheus, alertmanager=alertmanager, engine=engine,
                     progress=lambda line: print(line, file=sys.stderr, flush=True))
    except MonstackError as exc:
        _fail(exc)
    except (KeyboardInterrupt, Interrupted):
        print("drill interrupted; every process it started was stopped", file=sys.stderr)
        raise typer.Exit(130) from None
    say(report.text())
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def schema() -> None:
    """Print the spec's JSON Schema (for editor completion)."""
    import json  # noqa: PLC0415

    from .spec import Spec  # noqa: PLC0415

    document = Spec.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "monstack spec (monstack/v1)"
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


@app.command()
def init(
    path: Path = typer.Argument(Path("monstack.yaml"), help="where to write the starter spec"),
    name: str = typer.Option("my-app", "--name", help="project name (a slug)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a commented starter spec."""
    from .report import say  # noqa: PLC0415
    from .starter import starter_spec  # noqa: PLC0415

    if path.exists() and not force:
        _fail(MonstackError.single("already exists; pass --force to overwrite", file=str(path), check="init",
                                   exit_code=EXIT_UNUSABLE))
    try:
        text = starter_spec(name)
        path.write_text(text, encoding="utf-8")
    except MonstackError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(MonstackError.single(f"cannot write: {exc.strerror}", file=str(path), check="init",
                                   exit_code=EXIT_UNUSABLE))
    say(f"wrote {path}; next: monstack validate {path}")


@app.command("verify-metrics")
def verify_metrics(
    spec: Path = SpecArg,
    prometheus: str = typer.Option(..., "--prometheus", help="base URL of a running Prometheus, e.g. "
                                   "http://localhost:9090", show_default=False),
    skip_job: list[str] = typer.Option([], "--skip-job", help="leave this job's references out (repeatable)"),
) -> None:
    """Check that a running Prometheus has every metric and label the spec's rules and panels reference."""
    from .contract import verify_spec  # noqa: PLC0415
    from .report import emit, say  # noqa: PLC0415

    try:
        result, found = verify_spec(spec, prometheus, skip_jobs=tuple(skip_job))
    except MonstackError as exc:
        _fail(exc)
    emit(found, "text", sys.stderr)
    skipped = f", {len(result.skipped)} skipped (jobs {', '.join(skip_job)})" if result.skipped else ""
    say(f"{len(result.checked)} references checked against {prometheus}: {len(result.findings)} missing{skipped}")
    if found:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def doctor() -> None:
    """List the external tools monstack found, where, and their versions."""
    from . import tools  # noqa: PLC0415
    from .report import say  # noqa: PLC0415

    worst = 0
    for name in tools.KNOWN:
        try:
            tool = tools.find(name)
        except MonstackError as exc:
            _fail(exc)
        if tool is None:
            if name in tools.OPTIONAL:
                say(f"{name:16} missing (optional, a second engine: scripts/install-tools.sh --victoriametrics)")
                continue
            say(f"{name:16} missing (need >= {tools.minimum(name)}; run scripts/install-tools.sh)")
            worst = 1
            continue
        state = "ok" if tool.version_ok else f"too old, need >= {tools.minimum(name)}"
        worst = worst if tool.version_ok else 1
        say(f"{name:16} {tool.version or '?':10} {state:8} {tool.source}: {tool.path}")
    if worst:
        raise typer.Exit(EXIT_FINDINGS)


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json", "sarif", "github"):
        _fail(MonstackError.single(f"unknown --format {fmt!r}: use text, json, sarif or github", check="usage",
                                   exit_code=EXIT_UNUSABLE))


def main() -> None:
    """Entry point: no traceback reaches the user unless MONSTACK_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("MONSTACK_DEBUG"):
            raise
        from .syntax.secrets import mask  # noqa: PLC0415

        detail = mask(f"{type(exc).__name__}: {exc}")[:500].encode("ascii", "backslashreplace").decode()
        sys.stderr.write(f"monstack: internal error: {detail}\n"
                         "  This is a bug in monstack, not in your spec; nothing was written.\n"
                         "  Please report it with the command, the spec (secrets removed) and the traceback that\n"
                         "  MONSTACK_DEBUG=1 prints (MONSTACK_DEBUG=1 monstack ...).\n")
        sys.exit(EXIT_UNUSABLE)
