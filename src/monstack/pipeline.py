"""The pipeline, load -> spec -> model -> checks -> render -> write -> tools, as the library functions the CLI calls.

Each function raises one MonstackError carrying every error of the earliest failing stage (YAML errors stop
everything; schema errors stop before the model; model and check errors are reported together).
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Diagnostic, MonstackError, errors_only
from .load import Source, load_file
from .model import Model


@dataclass
class Resolved:
    source: Source
    model: Model
    warnings: list[Diagnostic] = field(default_factory=list)


def display_path(path: Path) -> str:
    """A path as it goes into messages: relative to the current folder when inside it, else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def stamp_path(path: Path) -> str:
    """A path as it goes into the generated-by stamp: never absolute, so that a clone elsewhere sees no drift."""
    shown = display_path(path)
    return path.name if Path(shown).is_absolute() else shown


def resolve(spec_path: Path) -> Resolved:
    from . import model  # noqa: PLC0415
    from .checks import (alerts, bounds, compose, coverage, dashboards, kubernetes, labels,  # noqa: PLC0415
                         metrics, routing, ruler, scrape, text, vector_matching)
    from .spec.parse import parse  # noqa: PLC0415

    source = load_file(spec_path, display_path(spec_path))
    spec = parse(source)
    if spec.slos:  # records, burn-rate alerts with their proofs, inhibitions: built on the jobs' labels
        from . import slo  # noqa: PLC0415

        first, found = model.build(spec, source)
        if not errors_only(found):  # else the build below reports them, all at once, without the SLOs' rules
            spec = slo.expand(spec, first, source)
    problems = text.check(spec, source)  # every string for the context it reaches (templates, PromQL, secrets)
    flagged = {d.path[:2] for d in problems if d.path[:1] == ("alerts",)}
    built, found = model.build(spec, source)
    problems += found
    problems += routing.check(built, source)  # receivers, routes, labels, inhibitions
    # an alert whose text is refused is not checked further: its PromQL would only repeat the same problem
    problems += [d for d in metrics.check(built, source) if d.path[:2] not in flagged]
    problems += dashboards.check(built, source)
    problems += compose.check(built, source)
    problems += scrape.check(built, source)
    problems += bounds.check(built, source)
    problems += labels.check(built, source)
    problems += vector_matching.check(built, source)
    problems += alerts.check(built, source)  # the semantic checks of every rule's and panel's PromQL
    problems += ruler.check(built, source)  # a central ruler: what it cannot see, or sees of the wrong program
    problems = disabled(problems, spec, source)
    refused = {d.path[1] for d in errors_only(problems) if d.path[:1] == ("alerts",) and len(d.path) > 1}
    if not errors_only(problems):  # the coverage gate of `monstack test`, without promtool
        problems = disabled(problems + coverage.check(built, source, refused), spec, source)
    if errors_only(problems):
        raise MonstackError(problems)
    from .boards import alert_links  # noqa: PLC0415

    linked = model.with_dashboard_links(built, alert_links(built))
    problems += kubernetes.check(linked, source)  # deployment kind kubernetes: what its objects cannot carry
    problems = disabled(problems, spec, source)
    if errors_only(problems):
        raise MonstackError(problems)
    return Resolved(source, linked, problems)


def disabled(problems: list[Diagnostic], spec, source: Source) -> list[Diagnostic]:
    """The findings with those an alert's `disable:` turns off replaced by a note that lists them (idempotent)."""
    out = []
    for d in problems:
        index = d.path[1] if len(d.path) > 1 and d.path[0] == "alerts" and isinstance(d.path[1], int) else None
        reason = None
        if index is not None and d.severity != "note" and index < len(spec.alerts):
            reason = next((x.reason for x in spec.alerts[index].disable if x.check == d.check), None)
        if reason is None:
            out.append(d)
            continue
        out.append(Diagnostic(f"disabled by the spec: {d.check}: {reason} (was: {d.message})",
                              file=d.file, line=d.line, column=d.column, path=d.path, check=d.check,
                              severity="note"))
    return out


def render(resolved: Resolved, out: Path) -> dict[str, bytes]:
    from .render import Stamp, render_all  # noqa: PLC0415

    stamp = Stamp(spec=stamp_path(Path(resolved.source.file)), out=stamp_path(out))
    return render_all(resolved.model, stamp)


@dataclass
class Generated:
    files: dict[str, bytes]
    changes: list[str]
    warnings: list[Diagnostic]


def generate(spec_path: Path, out: Path, *, check: bool = False) -> Generated:
    """Render every artifact and write it under `out` (or, with `check`, only compare)."""
    from . import write  # noqa: PLC0415

    resolved = resolve(spec_path)
    files = render(resolved, out)
    changes = write.drift(files, out) if check else write.write(files, out)
    return Generated(files, changes, resolved.warnings)


def _point_at_spec(diagnostics: list[Diagnostic], resolved: Resolved) -> list[Diagnostic]:
    """A tool's complaint about a rendered rule, moved to the alert's line in the spec; duplicates dropped."""
    from .tools.promtool import RULE_LINE  # noqa: PLC0415

    index = {rule.name: rule.index for rule in resolved.model.rules}
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for d in diagnostics:
        match = RULE_LINE.match(d.message)
        if match and match["rule"] in index:
            key = match["rule"] + match["message"]
            if key in seen:
                continue
            seen.add(key)
            field = re.match(r'annotation "(\w+)"', match["message"])
            path: tuple = ("alerts", index[match["rule"]])
            if field and field[1] in ("summary", "description"):
                path += (field[1],)
            d = resolved.source.diagnostic(path, f"{d.check} rejects the rendered rule: {match['message']}",
                                           check=d.check, hint=f"rendered in {match['file']}; {d.hint}")
        out.append(d)
    return out


@dataclass
class ToolRun:
    name: str
    path: str | None
    source: str | None
    version: str | None
    status: str  # ok | failed | missing | skipped


@dataclass
class Validation:
    warnings: list[Diagnostic]
    tools: list[ToolRun]


def validate(spec_path: Path, *, offline: bool = False, require_tools: bool = False,
             tool_paths: dict[str, str | None] | None = None) -> Validation:
    """Check a spec, then its rendered artifacts with the real tools (one call per artifact kind)."""
    from . import tools, write  # noqa: PLC0415
    from .tools import amtool, compose, promtool, vmalert  # noqa: PLC0415

    checkers = ("promtool", "amtool", "docker-compose", "vmalert")
    resolved = resolve(spec_path)
    if offline:
        return Validation(resolved.warnings, [ToolRun(n, None, None, None, "skipped") for n in checkers])
    tool_paths = tool_paths or {}
    found = {name: tools.find(name, tool_paths.get(name)) for name in checkers}
    missing = [name for name, tool in found.items() if tool is None]
    if missing and require_tools:
        raise MonstackError([Diagnostic(
            f"{name} not found (flag, {tools.env_var(name)}, .tools/bin or PATH)",
            check="tools",
            hint="run scripts/install-tools.sh, or drop --require-tools to skip the tool checks") for name in missing])
    problems: list[Diagnostic] = []
    with tempfile.TemporaryDirectory(prefix="monstack-validate-") as tmp:
        root = Path(tmp)
        write.write(render(resolved, root), root)
        jobs: dict[str, list] = {name: [] for name in found}
        with ThreadPoolExecutor(max_workers=4) as pool:
            if found["promtool"]:
                prom = root / "prometheus"
                jobs["promtool"] += [pool.submit(promtool.check_config, found["promtool"], prom / "prometheus.yml"),
                                     pool.submit(promtool.check_rules, found["promtool"],
                                                 sorted((prom / "rules").glob("*.yml")), prom)]
            if found["vmalert"]:  # MetricsQL's parser and vmalert's templates on the same rule files
                prom = root / "prometheus"
                jobs["vmalert"].append(pool.submit(vmalert.dry_run, found["vmalert"],
                                                   sorted((prom / "rules").glob("*.yml")), prom))
            if found["amtool"]:
                jobs["amtool"].append(pool.submit(amtool.check_config, found["amtool"],
                                                  root / "alertmanager" / "alertmanager.yml"))
            if found["docker-compose"] and (root / "docker-compose.yml").is_file():  # kind compose only
                jobs["docker-compose"].append(pool.submit(compose.check_config, found["docker-compose"],
                                                          root / "docker-compose.yml"))
            results = {name: [d for job in futures for d in job.result()] for name, futures in jobs.items()}
    runs = []
    results = {name: _point_at_spec(diagnostics, resolved) for name, diagnostics in results.items()}
    for name, tool in found.items():
        if tool is None:
            runs.append(ToolRun(name, None, None, None, "missing"))
            problems.append(Diagnostic(f"{name} not found: the rendered files were not checked by it",
                                       check="tools", severity="warning",
                                       hint="run scripts/install-tools.sh (or pass --require-tools in CI)"))
            continue
        if not jobs[name]:  # nothing of its kind was rendered (docker-compose, for a Kubernetes deployment)
            runs.append(ToolRun(name, tool.path, tool.source, tool.version, "skipped"))
            continue
        problems += results[name]
        runs.append(ToolRun(name, tool.path, tool.source, tool.version, "failed" if results[name] else "ok"))
        if not tool.version_ok:
            problems.append(Diagnostic(f"{name} {tool.version or '(unknown version)'} at {tool.path} is older than "
                                       f"{tools.minimum(name)}; its verdicts may differ", check="tools",
                                       severity="warning"))
    if errors_only(problems):
        raise MonstackError(resolved.warnings + problems)
    return Validation(resolved.warnings + problems, runs)


@dataclass
class Tested:
    resolved: Resolved
    report: object  # proof.run.TestReport
    promtool: object  # tools.Tool
    amtool: object | None = None  # tools.Tool, when found: routes are tested too


def test(spec_path: Path, *, out: Path | None = None, promtool: str | None = None,
         amtool_path: str | None = None, engine: str = "prometheus") -> Tested:
    """Generate (into `out`, or a temporary folder) and run every alert's promtool tests in one call."""
    from . import tools, write  # noqa: PLC0415
    from .errors import EXIT_UNUSABLE  # noqa: PLC0415
    from .proof.run import run  # noqa: PLC0415

    resolved = resolve(spec_path)
    if engine not in ("prometheus", "vmalert"):
        raise MonstackError.single(f"unknown --engine {engine!r}: use prometheus or vmalert", check="usage",
                                   exit_code=EXIT_UNUSABLE)
    if engine == "vmalert":
        from .proof.vmalert import run  # noqa: PLC0415, F811 - the same report, from vmalert-tool unittest
    tool = tools.find("promtool" if engine == "prometheus" else "vmalert-tool", promtool)
    if tool is None and engine == "vmalert":
        raise MonstackError.single("vmalert-tool not found (MONSTACK_VMALERT_TOOL, .tools/bin or PATH)",
                                   check="tools", exit_code=EXIT_UNUSABLE,
                                   hint="run scripts/install-tools.sh --victoriametrics (Debian's victoria-metrics)")
    if tool is None:
        raise MonstackError.single("promtool not found (--promtool, MONSTACK_PROMTOOL, .tools/bin or PATH)",
                                   check="tools", exit_code=EXIT_UNUSABLE,
                                   hint="run scripts/install-tools.sh, or put promtool 3.5+ on PATH")
    amtool = tools.find("amtool", amtool_path)

    def run_in(root: Path) -> Tested:
        write.write(render(resolved, root), root)
        report = run(resolved.model, tool, root / "prometheus", amtool, root / "alertmanager" / "alertmanager.yml")
        return Tested(resolved, report, tool, amtool)

    if out is not None:
        return run_in(out)
    with tempfile.TemporaryDirectory(prefix="monstack-test-") as tmp:
        return run_in(Path(tmp) / "out")
