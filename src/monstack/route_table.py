"""`monstack routes`: the routing tree and who is told about each alert, for people.

The tree shows each route's matchers, receiver and what it changes (timings, grouping, time intervals,
`continue`). The table gives, for every alert of the spec, the receivers Alertmanager picks, their channels, and
what can hold a notification back: time intervals (or, with `--at`, whether one would go out at that moment) and
the inhibitions that can mute it. `--verify` also asks amtool to confirm every alert's receivers on the rendered
alertmanager.yml.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Diagnostic
from .routes import Node, Routed, channels, delivered, inhibitors, route_alerts, tree

if TYPE_CHECKING:
    from .model import Model


def tree_text(root: Node) -> list[str]:
    lines = [f"{root.receiver}  (default; group_by {', '.join(root.group_by)}; wait {root.timings[0]}, "
             f"interval {root.timings[1]}, repeat {root.timings[2]})"]

    def walk(node: Node, prefix: str) -> None:
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            lines.append(prefix + ("└── " if last else "├── ") + _route_line(child, node))
            walk(child, prefix + ("    " if last else "│   "))

    walk(root, "")
    return lines


def _route_line(node: Node, parent: Node) -> str:
    from .render.alertmanager import matcher  # noqa: PLC0415

    match = ", ".join(matcher(label, value, op) for label, op, value in node.matchers) or "(everything)"
    notes = [f"{name} {value}" for name, value, before in zip(("wait", "interval", "repeat"), node.timings,
                                                              parent.timings) if value != before]
    if node.group_by != parent.group_by:
        notes.append(f"group_by {', '.join(node.group_by)}")
    notes += [f"muted in {', '.join(node.mute)}"] if node.mute else []
    notes += [f"active only in {', '.join(node.active)}"] if node.active else []
    notes += ["continue"] if node.continue_ else []
    return f"{match} -> {node.receiver}" + (f"  ({'; '.join(notes)})" if notes else "")


def alert_rows(model: "Model", at: datetime | None = None) -> list[tuple[str, str, str, str, str]]:
    """(alert, severity, receivers, channels, notes) for every alert of the spec."""
    receivers = {r.name: r for r in model.spec.routing.receivers}
    routed = route_alerts(model)
    muted_by = inhibitors(model, [r.alert for r in routed])
    rows = []
    for r in routed:
        names = list(dict.fromkeys(r.receivers))
        chans = "; ".join(", ".join(channels(receivers[n])) for n in names)
        notes = _time_notes(model, r, at)
        for inhibition in muted_by[r.alert.name]:
            rule = model.spec.routing.inhibit[inhibition.rule]
            same = f" (same {', '.join(rule.equal)})" if rule.equal else ""
            notes.append(f"muted while {', '.join(inhibition.by)} fire{'s' * (len(inhibition.by) == 1)}{same}")
        if r.runtime_labels:
            notes.append(f"depends on {', '.join(r.runtime_labels)} (known at runtime; shown as absent)")
        rows.append((r.alert.name, r.alert.severity, ", ".join(names), chans, "; ".join(dict.fromkeys(notes))))
    return rows


def _time_notes(model: "Model", routed: Routed, at: datetime | None) -> list[str]:
    out = []
    for node in routed.routes:
        if at is not None and (node.mute or node.active):
            state = "sent" if delivered(model, node, at) else "held back"
            out.append(f"{node.receiver} at {at.isoformat(timespec='minutes')}: {state}")
        elif node.mute or node.active:
            parts = [f"only during {', '.join(node.active)}"] if node.active else []
            parts += [f"muted during {', '.join(node.mute)}"] if node.mute else []
            out.append(f"{node.receiver}: {', '.join(parts)}")
    return out


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]


@dataclass
class RoutesReport:
    text: str
    problems: list[Diagnostic] = field(default_factory=list)  # amtool's disagreements, with --verify
    verified: int = 0  # alerts amtool confirmed
    amtool: str | None = None  # which amtool ran


def describe(model: "Model", at: datetime | None = None) -> str:
    root = tree(model.spec.routing)
    rows = alert_rows(model, at)
    lines = ["Routing tree:", *("  " + line for line in tree_text(root)), "",
             f"Alerts ({len(rows)}):",
             *("  " + line for line in table(rows, ("alert", "severity", "receivers", "channels", "notes")))]
    if model.spec.routing.inhibit:
        lines += ["", "Inhibitions:"]
        for rule in model.spec.routing.inhibit:
            when = ", ".join(f"{k}={v}" for k, v in rule.when.items())
            mute = ", ".join(f"{k}={v}" for k, v in rule.mute.items())
            lines.append(f"  while {when} fires, mute {mute}" + (f" with the same {', '.join(rule.equal)}"
                                                                  if rule.equal else " (everywhere)"))
    return "\n".join(lines) + "\n"


def report(spec_path: Path, *, at: datetime | None = None, verify: bool = False,
           amtool_path: str | None = None) -> RoutesReport:
    """The routes of a spec in words; with `verify`, checked by amtool on the rendered alertmanager.yml."""
    from . import pipeline, tools  # noqa: PLC0415
    from .errors import MonstackError  # noqa: PLC0415
    from .routes import check_routes, route_cases  # noqa: PLC0415

    resolved = pipeline.resolve(spec_path)
    out = RoutesReport(describe(resolved.model, at))
    if not verify:
        return out
    tool = tools.find("amtool", amtool_path)
    if tool is None:
        raise MonstackError.single("amtool not found (flag, MONSTACK_AMTOOL, .tools/bin or PATH): cannot verify",
                                   check="tools", hint="run scripts/install-tools.sh, or drop --verify")
    from .render import Stamp  # noqa: PLC0415
    from .render.alertmanager import PATH, render  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="monstack-routes-") as tmp:
        config = Path(tmp) / "alertmanager.yml"
        config.write_bytes(render(resolved.model, Stamp(pipeline.stamp_path(spec_path), "."))[PATH])
        out.problems = check_routes(resolved.model, tool, config, resolved.source)
    out.verified = len(route_cases(resolved.model)) - len(out.problems)
    out.amtool = f"{tool.version} ({tool.source}: {tool.path})"
    return out
