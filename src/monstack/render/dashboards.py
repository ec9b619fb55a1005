"""grafana/dashboards/<uid>.json: the dashboards of monstack.boards, built with grafanalib, written as current JSON.

grafanalib 0.7.1 writes Grafana's legacy model (schemaVersion 12, datasources by name, threshold objects with
op/yaxis, Grafana 6 gauge and bar gauge options, intervalFactor 2). Here: schemaVersion 39, datasources as
{type, uid} (the `datasource` variable, whose default is the provisioned datasource), threshold steps with a
numeric or null `value`, each panel type's current options given through extraJson; then nulls and every key a
current Grafana does not know are pruned. Every grafanalib call of monstack is in this module.
"""

from __future__ import annotations

import json

import grafanalib.core as G
from grafanalib._gen import DashboardEncoder

from .. import boards as B
from ..model import Model
from ..panels import View
from .common import Stamp, dump_json

FOLDER = "grafana/dashboards"
SCHEMA_VERSION = 39
DATASOURCE_UID = "prometheus"  # the provisioned datasource (render/provisioning.py)
DATASOURCE_NAME = "Prometheus"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
ALL = {"selected": True, "text": ["All"], "value": ["$__all"]}
UPDOWN = [{"type": "value", "options": {"0": {"text": "DOWN", "color": "red", "index": 0},
                                        "1": {"text": "UP", "color": "green", "index": 1}}}]
REDUCE = {"calcs": ["lastNotNull"], "fields": "", "values": False}
ANNOTATIONS = [
    {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
     "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
    {"name": "Firing alerts", "datasource": DATASOURCE, "enable": True, "iconColor": "red",
     "expr": 'ALERTS{alertstate="firing", severity!="none"}', "step": "1m", "titleFormat": "{{alertname}}",
     "textFormat": "{{severity}} {{service}}", "tagKeys": "severity,service"},
]

# What a current Grafana (schemaVersion 39+) knows; the rest of grafanalib's output is legacy and pruned.
DASHBOARD_KEYS = {"annotations", "description", "editable", "graphTooltip", "links", "panels", "refresh",
                  "schemaVersion", "tags", "templating", "time", "timepicker", "timezone", "title", "uid"}
TIMEPICKER_KEYS = {"hidden", "refresh_intervals", "nowDelay"}
VARIABLE_KEYS = {"type", "name", "label", "hide", "description", "query", "datasource", "current", "multi",
                 "options", "refresh", "sort", "includeAll", "allValue", "regex", "definition"}
PANEL_KEYS = {"id", "type", "title", "description", "datasource", "gridPos", "targets", "options", "fieldConfig",
              "transformations"}
ROW_KEYS = {"id", "type", "title", "gridPos", "collapsed", "panels"}
TARGET_KEYS = {"datasource", "editorMode", "expr", "format", "instant", "legendFormat", "range", "refId"}
FIELD_KEYS = {"unit", "decimals", "min", "max", "mappings", "thresholds", "color", "noValue", "custom"}
OPTION_KEYS = {
    "timeseries": {"legend", "tooltip"},
    "stat": {"graphMode", "colorMode", "justifyMode", "textMode", "wideLayout", "showPercentChange",
             "reduceOptions", "percentChangeColorMode", "orientation"},
    "gauge": {"showThresholdLabels", "showThresholdMarkers", "sizing", "minVizWidth", "minVizHeight",
              "reduceOptions", "orientation"},
    "bargauge": {"displayMode", "valueMode", "namePlacement", "showUnfilled", "sizing", "minVizWidth",
                 "minVizHeight", "maxVizHeight", "legend", "reduceOptions", "orientation"},
    "table": {"frameIndex", "showHeader", "cellHeight"},
}


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    return {f"{FOLDER}/{board.uid}.json": dump_json(dashboard(board, model.spec.project.name, stamp))
            for board in B.boards(model)}


def alert_panels(model: Model) -> dict[str, str]:
    """Each alert that has a panel -> `/d/<uid>/<slug>?viewPanel=<id>` (see boards.alert_links)."""
    return B.alert_links(model)


def dashboard(board: B.Board, project: str, stamp: Stamp) -> dict:
    built = G.Dashboard(
        title=board.title, uid=board.uid, description=stamp.text(), tags=list(board.tags), editable=False,
        graphTooltip=1, timezone="browser", schemaVersion=SCHEMA_VERSION,
        time=G.Time(f"now-{_span(board.time)}", "now"), refresh=_span(board.refresh) if board.refresh else None,
        timePicker=G.TimePicker(refreshIntervals=["30s", "1m", "5m", "15m", "30m", "1h"], timeOptions=[]),
        templating=G.Templating(list=_variables(board)), annotations=G.Annotations(list=ANNOTATIONS),
        links=[G.DashboardLink(title=f"{B.project_title(project)} dashboards", type="dashboards",
                               tags=["monstack", project], asDropdown=True, includeVars=True, keepTime=True)],
        panels=[_panel(placed) for placed in B.layout(board)],
    )
    data = json.loads(json.dumps(built.to_json_data(), cls=DashboardEncoder))
    return _current(data)


def _span(duration) -> str:
    """A duration in the one unit Grafana's relative times and refresh periods take: 90m, not 1h30m."""
    for unit, ms in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if duration.ms % ms == 0:
            return f"{duration.ms // ms}{unit}"
    return f"{max(1, duration.ms // 1000)}s"


def _flat(placed: list[B.Placed]) -> list[B.Placed]:
    return [p for item in placed for p in (item, *item.children)]


def _variables(board: B.Board) -> list[G.Template]:
    used = board.variables()
    out = [G.Template(name="datasource", label="Data source", query="prometheus", type="datasource")]
    for name in used:
        query = (f'label_values(up{{job=~"$job"}}, {name})' if name != "job" and "job" in used
                 else f"label_values(up, {name})")
        out.append(G.Template(name=name, label=name.capitalize(), query=query, dataSource=DATASOURCE,
                              includeAll=True, multi=True, allValue=".+", refresh=2, sort=1))
    return out


def _panel(placed: B.Placed):
    grid = G.GridPos(h=placed.h, w=placed.w, x=placed.x, y=placed.y)
    if placed.row is not None:
        return G.RowPanel(id=placed.id, title=placed.row.title, gridPos=grid, collapsed=placed.row.collapsed,
                          panels=[_panel(child) for child in placed.children])
    view = placed.view
    steps = _steps(view)
    table = view.type == "table"
    common = dict(id=placed.id, title=view.title, description=view.description or None, dataSource=DATASOURCE,
                  gridPos=grid, thresholds=steps, targets=[G.Target(
                      expr=query.expr, legendFormat=query.legend, refId=chr(ord("A") + i), datasource=DATASOURCE,
                      instant=table or view.instant, format="table" if table else "time_series")
                      for i, query in enumerate(view.queries())])
    defaults: dict = {"unit": view.unit, "min": view.min, "max": view.max, "color": {"mode": "thresholds"},
                      "mappings": UPDOWN if view.updown else [],
                      "thresholds": {"mode": "absolute", "steps": steps}}
    if view.unit == "percentunit" and view.type in ("gauge", "bargauge"):
        defaults.update(min=0 if view.min is None else view.min, max=1 if view.max is None else view.max)
    if view.type == "timeseries":
        defaults["color"] = {"mode": "palette-classic"}
        return G.TimeSeries(
            **common, unit=view.unit, fillOpacity=10, legendDisplayMode="table", legendPlacement="bottom",
            legendCalcs=["lastNotNull", "max"], tooltipMode="multi", tooltipSort="desc", spanNulls=False,
            thresholdsStyleMode="line+area" if view.threshold or view.steps else "off",
            stacking={"mode": "none", "group": "A"},
            extraJson={"fieldConfig": {"defaults": defaults},
                       "options": {"legend": {"showLegend": True}}})
    if view.type == "stat":
        return G.Stat(
            **common, format=view.unit, reduceCalc="lastNotNull", graphMode="none" if view.updown else "area",
            colorMode="background" if view.updown else "value", textMode="auto", mappings=defaults["mappings"],
            noValue=None, extraJson={"fieldConfig": {"defaults": defaults}, "options": {
                "wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard",
                "reduceOptions": REDUCE}})
    if view.type == "gauge":
        return G.GaugePanel(
            **common, format=view.unit, calc="lastNotNull", min=None, max=None,
            extraJson={"fieldConfig": {"defaults": defaults}, "options": {
                "showThresholdLabels": False, "showThresholdMarkers": True, "sizing": "auto", "minVizWidth": 75,
                "minVizHeight": 75, "reduceOptions": REDUCE, "orientation": "auto"}})
    if view.type == "bargauge":
        return G.BarGauge(
            **common, format=view.unit, calc="lastNotNull", min=None, max=None, displayMode="gradient",
            orientation="horizontal",
            extraJson={"fieldConfig": {"defaults": defaults}, "options": {
                "displayMode": "gradient", "valueMode": "color", "namePlacement": "auto", "showUnfilled": True,
                "sizing": "auto", "minVizWidth": 8, "minVizHeight": 16, "maxVizHeight": 300,
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False, "calcs": []},
                "reduceOptions": REDUCE, "orientation": "horizontal"}})
    return G.Table(
        **common, unit=view.unit, showHeader=True, filterable=False,
        transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
        extraJson={"fieldConfig": {"defaults": {**defaults, "custom": {
            "align": "auto", "inspect": False, "filterable": False}}},
            "options": {"frameIndex": 0, "showHeader": True, "cellHeight": "sm"}})


def _steps(view: View) -> list[dict]:
    if view.steps:
        return [{"color": "green", "value": None}, *({"color": c, "value": v} for v, c in view.steps)]
    if view.threshold is None:
        return [{"color": "green", "value": None}]
    below, above = ("green", "red") if view.threshold.red_above else ("red", "green")
    return [{"color": below, "value": None}, {"color": above, "value": view.threshold.value}]


# --- from grafanalib's legacy JSON to a current dashboard -----------------------------------------------------------

def _current(data: dict) -> dict:
    data = {k: v for k, v in _pruned(data).items() if k in DASHBOARD_KEYS}
    data["timepicker"] = {k: v for k, v in data["timepicker"].items() if k in TIMEPICKER_KEYS}
    data["templating"]["list"] = [_variable(v) for v in data["templating"]["list"]]
    data["panels"] = [_current_panel(p) for p in data["panels"]]
    return data


def _variable(var: dict) -> dict:
    out = {k: v for k, v in var.items() if k in VARIABLE_KEYS}
    if out["type"] == "datasource":
        out["current"] = {"selected": True, "text": DATASOURCE_NAME, "value": DATASOURCE_UID}
        out.pop("options", None)
    else:
        out["current"], out["definition"] = dict(ALL), out["query"]
    return out


def _current_panel(panel: dict) -> dict:
    if panel["type"] == "row":
        out = {k: v for k, v in panel.items() if k in ROW_KEYS}
        out["panels"] = [_current_panel(p) for p in out["panels"]]
        return out
    out = {k: v for k, v in panel.items() if k in PANEL_KEYS}
    kind = out["type"]
    out["options"] = {k: v for k, v in out["options"].items() if k in OPTION_KEYS[kind]}
    defaults = {k: v for k, v in out["fieldConfig"]["defaults"].items() if k in FIELD_KEYS}
    if kind in ("stat", "gauge", "bargauge"):
        defaults.pop("custom", None)  # these panel types define no custom field config
    out["fieldConfig"] = {"defaults": defaults, "overrides": out["fieldConfig"].get("overrides", [])}
    out["targets"] = [{**{k: v for k, v in t.items() if k in TARGET_KEYS}, "editorMode": "code",
                       "range": not t.get("instant", False)} for t in out["targets"]]
    if not out.get("transformations"):
        out.pop("transformations", None)
    return out


def _pruned(value):
    """Nulls dropped, except a threshold step's `value` (null there is -Infinity, the base step)."""
    if isinstance(value, dict):
        step = set(value) == {"color", "value"}
        return {k: _pruned(v) for k, v in value.items() if v is not None or (step and k == "value")}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value
