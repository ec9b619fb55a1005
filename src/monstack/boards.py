"""The dashboards monstack writes: the spec's, then its own `<Project> - Alerts`, each with uid, title and layout.

The generated Alerts dashboard shows every target up or down and every alert's panel (its query, its threshold),
one row per alert group, so that every alert has a panel to link to. The SLO dashboards follow it (slo_board.py):
one per service with SLOs, `<project>-slos-<service>`, and `<project>-slos` for the SLOs without a service.
A spec dashboard's uid is `<project>-<name>` (stable across runs and machines, different for another project);
ids number panels and row headers from 1 in layout order.

`problems()` lists every problem of the spec's dashboards (checks/dashboards.py reports them); `boards()` and `layout()` feed
the renderer (render/dashboards.py, which alone talks to grafanalib).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .model import Model
from .panels import (FILTERS, VARIABLE, PanelError, Query, Reported, Threshold, View, alert_view, panel,
                     target_view)
from .slo_board import SLOBoard, slo_boards
from .spec.dashboards import Dashboard
from .spec.units import Duration

RESERVED = "alerts"  # the generated dashboard's name
SIZES = {"stat": (4, 4), "gauge": (6, 7), "bargauge": (12, 8), "table": (12, 8), "timeseries": (12, 8)}  # (w, h)


@dataclass(frozen=True)
class RowView:
    title: str
    collapsed: bool
    panels: tuple[View, ...]


@dataclass(frozen=True)
class Board:
    name: str
    uid: str
    title: str
    tags: tuple[str, ...]
    time: Duration
    refresh: Duration | None
    panels: tuple[View, ...]
    rows: tuple[RowView, ...]

    def variables(self) -> tuple[str, ...]:
        """The query variables its panels use, besides `datasource` (always there)."""
        used = {a or b for view in self.views() for q in view.queries() for a, b in VARIABLE.findall(q.expr)}
        return tuple(name for name in FILTERS if name in used)

    def views(self) -> list[View]:
        return list(self.panels) + [view for row in self.rows for view in row.panels]


@dataclass(frozen=True)
class Placed:
    """A panel or row header with its id and place on the 24-column grid; a collapsed row holds its panels."""

    id: int
    x: int
    y: int
    w: int
    h: int
    view: View | None = None
    row: RowView | None = None
    children: tuple["Placed", ...] = field(default_factory=tuple)


# --- the public functions ---------------------------------------------------------------------------------------

def boards(model: Model) -> list[Board]:
    """The spec's dashboards, the generated Alerts dashboard, then the SLO dashboards (raises on a panel
    `problems()` would list)."""
    found, problems = _resolve(model)
    if problems:
        raise ValueError("; ".join(message for _, message, _, _ in problems))
    return found


def problems(model: Model) -> list[tuple]:
    """Every problem of the spec's dashboards as (YAML path, message, hint, check name): checks/dashboards.py."""
    return _resolve(model)[1]


def layout(board: Board) -> list[Placed]:
    """Panels left to right, wrapping at 24 columns; a row header across the grid; ids from 1 in that order."""
    out: list[Placed] = []
    state = {"x": 0, "y": 0, "line": 0, "id": 0}

    def place(view: View) -> Placed:
        w, h = view.width or SIZES[view.type][0], view.height or SIZES[view.type][1]
        if state["x"] + w > 24:
            state["x"], state["y"], state["line"] = 0, state["y"] + state["line"], 0
        state["id"] += 1
        placed = Placed(state["id"], state["x"], state["y"], w, h, view=view)
        state["x"] += w
        state["line"] = max(state["line"], h)
        return placed

    out += [place(view) for view in board.panels]
    for row in board.rows:
        state["id"] += 1
        top = state["y"] + state["line"]
        header = state["id"]
        state.update(x=0, y=top + 1, line=0)
        children = tuple(place(view) for view in row.panels)
        if row.collapsed:
            out.append(Placed(header, 0, top, 24, 1, row=row, children=children))
            state.update(x=0, y=top + 1, line=0)
        else:
            out += [Placed(header, 0, top, 24, 1, row=row), *children]
    return out


def alert_links(model: Model) -> dict[str, str]:
    """Each alert that has a panel -> `/d/<uid>/<slug>?viewPanel=<id>`: the spec's own panel of it if there is one
    (the first in spec order), else its panel on the generated Alerts dashboard."""
    links: dict[str, str] = {}
    for board in boards(model):  # the spec's dashboards first, the generated one last
        for placed in layout(board):
            for item in (placed, *placed.children):
                if item.view is not None and item.view.alert is not None:
                    links.setdefault(item.view.alert, f"/d/{board.uid}/{slug(board.title)}?viewPanel={item.id}")
    return dict(sorted(links.items()))


def project_title(name: str) -> str:
    return " ".join(word.capitalize() for word in name.split("-"))


def slug(title: str) -> str:
    """Grafana's URL slug of a title: lower case, runs of other characters as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


# --- resolution -------------------------------------------------------------------------------------------------

def _resolve(model: Model) -> tuple[list[Board], list[tuple]]:
    problems: list[tuple] = []
    generated = _alerts_board(model)
    slos = [_slo_board(model, found) for found in slo_boards(model)]
    out = []
    seen = {key: board.name for board in (generated, *slos) for key in (board.uid, board.title)}
    for i, dash in enumerate(model.spec.dashboards):
        board = _board(model, dash, ("dashboards", i), problems)
        if dash.name == RESERVED:
            problems.append((("dashboards", i, "name"), f"the name {RESERVED!r} is monstack's generated dashboard",
                             "choose another name", "dashboards"))
        else:
            clash = next((key for key in (board.uid, board.title) if key in seen), None)
            if clash is not None:
                problems.append((("dashboards", i), f"dashboard {board.name!r} has the uid or title {clash!r} of "
                                 f"dashboard {seen[clash]!r}", "give it another name, uid or title", "dashboards"))
            seen.update({board.uid: board.name, board.title: board.name})
        out.append(board)
    return out + [generated, *slos], problems


def _board(model: Model, dash: Dashboard, path: tuple, problems: list) -> Board:
    def views(panels, at: tuple) -> tuple[View, ...]:
        found = []
        for k, spec_panel in enumerate(panels):
            try:
                found.append(panel(model, spec_panel))
            except Reported:
                continue
            except PanelError as exc:
                problems.append((at + (k, exc.field), str(exc), exc.hint, exc.check))
        return tuple(found)

    project = model.spec.project.name
    return Board(
        name=dash.name, uid=dash.uid or _uid(project, dash.name),
        title=dash.title or f"{project_title(project)} - {project_title(dash.name)}",
        tags=tuple(dict.fromkeys(("monstack", project, *dash.tags))), time=dash.time, refresh=dash.refresh,
        panels=views(dash.panels, path + ("panels",)),
        rows=tuple(RowView(row.title, row.collapsed, views(row.panels, path + ("rows", j, "panels")))
                   for j, row in enumerate(dash.rows)))


def _uid(project: str, name: str) -> str:
    uid = f"{project}-{name}"
    if len(uid) <= 40:
        return uid
    return f"{uid[:31]}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"


def _alerts_board(model: Model) -> Board:
    project = model.spec.project.name
    firing = View(title="Firing alerts", type="stat",
                  query=Query('count(ALERTS{alertstate="firing", severity!="none"}) or vector(0)', "firing"),
                  unit="short", threshold=Threshold(1, red_above=True),
                  description="Alerts firing now (the Watchdog, severity none, left out).")
    status = (firing, *(target_view(job) for job in model.jobs))
    groups: dict[str, list[View]] = {}
    for rule in sorted(model.rules, key=lambda r: r.index):
        alert = model.spec.alerts[rule.index]
        if alert.when is not None and alert.when.kind == "always":
            continue  # vector(1): nothing to see
        groups.setdefault(rule.group, []).append(alert_view(model, rule))
    return Board(name=RESERVED, uid=_uid(project, RESERVED), title=f"{project_title(project)} - Alerts",
                 tags=("monstack", project), time=Duration(6 * 3_600_000), refresh=Duration(60_000), panels=(),
                 rows=(RowView("Status", False, status),
                       *(RowView(group, False, tuple(views)) for group, views in groups.items())))


def _slo_board(model: Model, found: SLOBoard) -> Board:
    project = model.spec.project.name
    title = f"{project_title(project)} - {found.service + ' ' if found.service else ''}SLOs"
    return Board(name=found.name, uid=_uid(project, found.name), title=title,
                 tags=tuple(dict.fromkeys(("monstack", project, "slo", *([found.service] if found.service else [])))),
                 time=Duration(7 * 86_400_000), refresh=Duration(300_000), panels=(),
                 rows=tuple(RowView(row, False, views) for row, views in found.rows))
