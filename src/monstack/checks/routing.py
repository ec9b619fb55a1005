"""The routing checks of `monstack validate`: what amtool accepts but would page nobody, or the wrong people.

- references: every route's receiver and time interval is defined (then the checks below run);
- every alert (but `severity: none`) reaches a receiver that sends somewhere; a receiver no route uses is an error;
- no route is unreachable: its matchers contradict each other or its parents', or an earlier sibling without
  `continue` matches everything it matches;
- `group_by` and an inhibition's `equal` name labels the alerts carry (see `alert_labels` for the rule);
- an inhibition's `when` and `mute` each match some alert, and some pair of them can actually mute, never through
  labels that both lack (Alertmanager counts an absent label as equal).
- a route that no alert of the spec reaches: an error when it matches a severity or alertname no alert has, or a
  near miss of a value they have (a typo), else a warning (it may wait for alerts from elsewhere).
Warnings: a time interval no route uses, an alert sent to one receiver twice, critical alerts that reach only
time-limited routes, a repeat_interval under 30m for alerts that notify people, an inhibition without `equal`.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from ..alert_labels import NO, YES, AlertLabels, alert_labels
from ..syntax import regex
from ..errors import Diagnostic
from ..spec.units import Duration
from ..routes import Node, matches, pairing, route_alerts, side, tree

if TYPE_CHECKING:
    from ..load import Source
    from ..model import Model
    from ..spec.models import Spec

CHECK = "routing"
REPEAT_AT_LEAST = 30 * 60  # seconds: a shorter repeat_interval re-notifies people too often (the guide's 5m)


def check(model: "Model", source: "Source") -> list[Diagnostic]:
    """Every routing finding; the semantic checks only run once every reference resolves."""
    problems = references(model.spec, source)
    if any(p.severity == "error" for p in problems):
        return problems
    alerts = alert_labels(model)
    root = tree(model.spec.routing)
    problems += _receivers_used(model.spec, root, source)
    unreachable = _unreachable(root, source)
    problems += unreachable
    problems += _deliveries(model, source)
    if alerts:
        reached = {a.index: _reached(root, a) for a in alerts}
        reported = {d.path for d in unreachable}
        problems += _unreached_routes(root, alerts, reached, reported, source)
        problems += _group_by(model.spec, root, alerts, reached, source)
        problems += _inhibitions(model.spec, alerts, source)
    return problems


def references(spec: "Spec", source: "Source") -> list[Diagnostic]:
    receivers = {r.name for r in spec.routing.receivers}
    intervals = {t.name for t in spec.routing.time_intervals}
    hint = f"receivers: {', '.join(sorted(receivers))}"
    out = []
    if spec.routing.receiver not in receivers:
        out.append(source.diagnostic(("routing", "receiver"), f"undefined receiver {spec.routing.receiver!r}",
                                     check="model", hint=hint))
    for i, interval in enumerate(spec.routing.time_intervals):
        if interval.name in [t.name for t in spec.routing.time_intervals[:i]]:
            out.append(source.diagnostic(("routing", "time_intervals", i, "name"), "duplicate time interval name "
                                         f"{interval.name!r}", check="model"))
    used: set[str] = set()

    def walk(routes, path: tuple) -> None:
        for i, route in enumerate(routes):
            if route.receiver not in receivers:
                out.append(source.diagnostic(path + (i, "receiver"), f"route to undefined receiver "
                                             f"{route.receiver!r}", check="model", hint=hint))
            for key in ("mute_time_intervals", "active_time_intervals"):
                for k, name in enumerate(getattr(route, key)):
                    used.add(name)
                    if name not in intervals:
                        out.append(source.diagnostic(
                            path + (i, key, k), f"undefined time interval {name!r}", check="model",
                            hint=f"time_intervals: {', '.join(sorted(intervals))}" if intervals
                            else "define it under routing.time_intervals"))
            walk(route.routes, path + (i, "routes"))

    walk(spec.routing.routes, ("routing", "routes"))
    for i, interval in enumerate(spec.routing.time_intervals):
        if interval.name not in used:
            out.append(source.diagnostic(("routing", "time_intervals", i, "name"), f"time interval "
                                         f"{interval.name!r} is used by no route", check=CHECK, severity="warning",
                                         hint="name it in a route's mute_time_intervals or active_time_intervals"))
    return out


def _receivers_used(spec: "Spec", root: Node, source: "Source") -> list[Diagnostic]:
    used = {node.receiver for node in root.walk()}
    return [source.diagnostic(("routing", "receivers", i, "name"), f"receiver {r.name!r} is used by no route",
                              check=CHECK, hint="route alerts to it (routing.routes), or delete it")
            for i, r in enumerate(spec.routing.receivers) if r.name not in used]


# --- unreachable routes: contradictions and shadowing ------------------------------------------------------------

def _literals(pattern: str) -> list[str] | None:
    """The values a regex matches when it is a plain alternation of literals (`a|b|c`), else None."""
    if re.fullmatch(r"[\w\- .:/]+(\|[\w\- .:/]+)*", pattern) and "." not in pattern.replace("\\.", ""):
        return pattern.split("|")
    return None


def _contradiction(constraints: list) -> str | None:
    """Why no label set satisfies these matchers, or None when some may."""
    by_label: dict[str, list] = {}
    for m in constraints:
        by_label.setdefault(m[0], []).append(m)
    for label, ms in by_label.items():
        values = {v for _, op, v in ms if op == "="}
        if len(values) > 1:
            return f"{label} cannot equal both {' and '.join(repr(v) for v in sorted(values))}"
        for value in values:
            for m in ms:
                if not matches(m, value):
                    return f"{label}={value!r} does not match {m[2]!r}"
    return None


def _implied(m, constraints: list) -> bool:
    """Whether every label set that satisfies `constraints` also satisfies the matcher `m`."""
    label, op, value = m
    mine = [c for c in constraints if c[0] == label]
    for c in mine:
        if c[1] == "=":
            return matches(m, c[2])
    if op == "=~" and value == ".*":
        return True
    for c in mine:
        if c == m or (op == "=~" and value == ".+" and not regex.fullmatch(c[2], "")):
            return True
        literals = _literals(c[2])
        if literals is not None and all(matches(m, v) for v in literals):
            return True
    return False


def _unreachable(root: Node, source: "Source") -> list[Diagnostic]:
    out = []

    def walk(node: Node, inherited: list) -> None:
        taken: list[Node] = []
        for child in node.children:
            constraints = inherited + list(child.matchers)
            why = _contradiction(constraints)
            shadow = next((s for s in taken if all(_implied(m, constraints) for m in s.matchers)), None)
            if why:
                out.append(source.diagnostic(child.path, f"this route can never match: {why}", check=CHECK,
                                             hint="fix its match/match_re, or its parent's"))
            elif shadow is not None:
                out.append(source.diagnostic(
                    child.path, f"this route is never reached: {_where(shadow)} (no `continue`) takes every alert "
                    "it matches", check=CHECK, hint=f"move it before {_where(shadow)}, or set `continue: true` there"))
            else:
                walk(child, constraints)
            if not why and not child.continue_:
                taken.append(child)

    walk(root, [])
    return out


def _where(node: Node) -> str:
    from ..errors import format_path  # noqa: PLC0415

    return format_path(node.path)


# --- what the alerts of the spec reach ------------------------------------------------------------------------------

def _three_valued(node: Node, alert: AlertLabels) -> bool | None:
    verdict: bool | None = True
    for m in node.matchers:
        value = alert.value(m[0])
        if value is None:
            if not (m[1] == "=~" and m[2] == ".*"):
                verdict = None
        elif not matches(m, value):
            return False
    return verdict


def _reached(root: Node, alert: AlertLabels) -> set[tuple]:
    """The routes the alert may reach, counting a match on a runtime label as possible."""
    out: set[tuple] = set()

    def walk(node: Node) -> None:
        out.add(node.path)
        for child in node.children:
            verdict = _three_valued(child, alert)
            if verdict is False:
                continue
            walk(child)
            if verdict is True and not child.continue_:
                break

    walk(root)
    return out


def _unreached_routes(root: Node, alerts: list[AlertLabels], reached: dict, reported: set,
                      source: "Source") -> list[Diagnostic]:
    """A route no alert of the spec reaches: a warning (it may wait for alerts from elsewhere), an error when it
    matches a severity or alertname no alert has, or a near miss of a value alerts have: a typo."""
    out = []
    for node in list(root.walk())[1:]:
        inside_reported = any(node.path[:len(path)] == path for path in reported)
        if inside_reported or any(node.path in paths for paths in reached.values()):
            continue
        hints, typo = [], False
        for label, op, value in node.matchers:
            values = sorted({a.fixed[label] for a in alerts if label in a.fixed})
            if op != "=" or not values or value in values:
                continue
            close = difflib.get_close_matches(value, values, n=1)
            typo = typo or bool(close) or label in ("severity", "alertname")
            having = [a.name for a in alerts if close and a.fixed.get(label) == close[0]]
            hints.append(f"no alert has {label}={value!r}"
                         + (f"; did you mean {close[0]!r} ({_list(having, 'alert', 5)})" if close else "")
                         + f"; values: {', '.join(values)}")
        hint = "; ".join(hints) or ("no alert matches this route's and its parents' matchers together, or an "
                                    "earlier route without `continue` takes them")
        out.append(source.diagnostic(node.path, "no alert of this spec reaches this route", check=CHECK,
                                     severity="error" if typo else "warning", hint=hint))
    return out


def _deliveries(model: "Model", source: "Source") -> list[Diagnostic]:
    receivers = {r.name: r for r in model.spec.routing.receivers}
    out = []
    silent: dict[tuple[Node, ...], list[str]] = {}  # the routes that take them -> alerts that reach no channel
    limited: dict[tuple, list[str]] = {}
    noisy: dict[Node, list[str]] = {}
    for routed in route_alerts(model):
        alert = routed.alert
        names = routed.receivers
        if alert.severity != "none" and not any(receivers[n].sends for n in names):
            silent.setdefault(routed.routes, []).append(alert.name)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            out.append(source.diagnostic(
                ("alerts", alert.index), f"alert {alert.name} is sent to {_list(twice, 'receiver')} more than once",
                check=CHECK, severity="warning", hint="a route with `continue: true` and a later one pick the same "
                "receiver: drop one of them"))
        if alert.severity == "critical" and routed.routes and all(n.mute or n.active for n in routed.routes):
            limited.setdefault(routed.routes[0].path, []).append(alert.name)
        for node in routed.routes:
            if alert.severity != "none" and Duration.parse(node.timings[2]).seconds < REPEAT_AT_LEAST:
                noisy.setdefault(node, []).append(alert.name)
    for nodes, alerts in silent.items():
        names = sorted({n.receiver for n in nodes})
        verb = "reaches" if len(alerts) == 1 else "reach"
        out.append(source.diagnostic(
            nodes[-1].path + ("receiver",), f"{_list(alerts, 'alert', 10)} {verb} only {_list(names, 'receiver')}, "
            "which sends nowhere: nobody is told", check=CHECK,
            hint="give that receiver a channel (slack, email, pagerduty, ...), or route these alerts elsewhere; "
            "only `severity: none` alerts may go nowhere"))
    for node, alerts in noisy.items():
        out.append(source.diagnostic(
            node.path + ("repeat_interval",), f"repeat_interval {node.timings[2]} re-notifies every {node.timings[2]} "
            f"while {_list(alerts, 'alert', 5)} fire{'s' * (len(alerts) == 1)}", check=CHECK, severity="warning",
            hint="1h or more (4h is the default); a short repeat suits only a heartbeat such as the Watchdog"))
    for path, alerts in limited.items():
        out.append(source.diagnostic(path, "critical alerts reach only time-limited routes: "
                                     f"{_list(alerts, 'alert', 10)} page nobody outside their time intervals",
                                     check=CHECK, severity="warning",
                                     hint="route critical alerts to a receiver that is always active"))
    return out


def _list(names: list[str], what: str, limit: int = 0) -> str:
    shown = names[:limit] if limit and len(names) > limit + 1 else names
    more = f" and {len(names) - len(shown)} more" if len(shown) < len(names) else ""
    return f"{what}{'s' * (len(names) != 1)} {', '.join(repr(n) for n in shown)}{more}"


# --- labels: group_by and inhibitions ------------------------------------------------------------------------------

def _label_problem(label: str, scope: list[AlertLabels], path: tuple, what: str, source: "Source"):
    """An error when no alert in scope carries the label (or only alerts whose labels monstack cannot list
    might, and it is a near miss of a label they do carry: a typo); a warning when only those might; else None."""
    verdicts = {a.carries(label) for a in scope}
    if YES in verdicts or not scope:
        return None
    known = sorted({k for a in scope for k in (*a.fixed, *a.dynamic)})
    close = difflib.get_close_matches(label, known, n=1, cutoff=0.8)
    hint = (f"did you mean {close[0]!r}? " if close else "") + f"labels they carry: {', '.join(known)}"
    if verdicts == {NO} or close:
        return source.diagnostic(path, f"no {what} carries the label {label!r}", check=CHECK, hint=hint)
    maybe = [a.name for a in scope if a.carries(label) != NO]
    return source.diagnostic(path, f"no {what} is known to carry the label {label!r}; only {_list(maybe, 'alert', 5)} "
                             "might (monstack does not know every label of exporter metrics)", check=CHECK,
                             severity="warning", hint=hint + "; or aggregate `by` it, or declare the metric's labels "
                             "under `metrics:`")


def _group_by(spec: "Spec", root: Node, alerts: list[AlertLabels], reached: dict,
              source: "Source") -> list[Diagnostic]:
    """Labels written in a `group_by` that no alert routed there carries (the default group_by is not checked:
    alerts without `service` are simply grouped by alertname)."""
    out = []
    written = {("routing",)} if "group_by" in spec.routing.model_fields_set else set()  # not the default
    written |= {path for path, route in _routes(spec.routing.routes, ("routing", "routes"))
                if route.group_by is not None}
    for node in root.walk():
        if node.path not in written:
            continue
        scope = [a for a in alerts if node.path in reached[a.index]]
        for k, label in enumerate(node.group_by):
            if label != "...":
                found = _label_problem(label, scope, node.path + ("group_by", k), "alert routed here", source)
                out += [found] if found else []
    return out


def _routes(routes, path: tuple):
    for i, route in enumerate(routes):
        yield path + (i,), route
        yield from _routes(route.routes, path + (i, "routes"))


def _inhibitions(spec: "Spec", alerts: list[AlertLabels], source: "Source") -> list[Diagnostic]:
    out = []
    for i, rule in enumerate(spec.routing.inhibit):
        path = ("routing", "inhibit", i)
        sources, targets = side(alerts, rule.when), side(alerts, rule.mute)
        for key, found in (("when", sources), ("mute", targets)):
            if not found:
                out.append(source.diagnostic(path + (key,), f"no alert matches `{key}` "
                                             f"{_labels(getattr(rule, key))}", check=CHECK,
                                             hint=_values_hint(getattr(rule, key), alerts)))
        if not sources or not targets:
            continue
        found = [d for k, label in enumerate(rule.equal) for d in _equal_label(label, path + ("equal", k), sources,
                                                                                 targets, source)]
        out += found
        if not any(d.severity == "error" for d in found):
            out += _pairs(rule, path, sources, targets, source)
    return out


def _equal_label(label: str, path: tuple, sources: list[AlertLabels], targets: list[AlertLabels],
                 source: "Source") -> list[Diagnostic]:
    """An `equal` label must be carried on both sides: one side without it never pairs, both without it pair
    everything."""
    lacking = [(key, scope) for key, scope in (("when", sources), ("mute", targets))
               if all(a.carries(label) != YES for a in scope)]
    if len(lacking) == 2:
        lacking = [("when` or `mute", sources + targets)]
    found = [_label_problem(label, scope, path, f"alert matching `{key}`", source) for key, scope in lacking]
    return [d for d in found if d is not None]


def _pairs(rule, path: tuple, sources: list[AlertLabels], targets: list[AlertLabels], source) -> list[Diagnostic]:
    pairs = [(s, t, pairing(rule, s, t)) for t in targets for s in sources]
    possible = [(s, t, p) for s, t, p in pairs if p.possible]
    if not possible:
        shared = ", ".join(rule.equal)
        return [source.diagnostic(path, f"this inhibition never mutes anything: no alert matching `when` shares "
                                  f"{shared or 'a label'} with an alert matching `mute` (or they are the same alert)",
                                  check=CHECK, hint=_equal_hint(rule, sources, targets))]
    if not rule.equal:
        return [source.diagnostic(path, f"no `equal`: any alert matching when {_labels(rule.when)} mutes every alert "
                                  f"matching mute {_labels(rule.mute)}", check=CHECK, severity="warning",
                                  hint="add `equal: [service]` (or the labels the two share)")]
    blind = [(s, t) for s, t, p in possible if p.certain and len(p.absent_on_both) == len(rule.equal)]
    if blind:
        s, t = blind[0]
        more = f" ({len(blind) - 1} more such pairs)" if len(blind) > 1 else ""
        return [source.diagnostic(path + ("equal",), f"{s.name} and {t.name} both lack {', '.join(rule.equal)}: "
                                  f"Alertmanager counts absent labels as equal, so {s.name} would mute {t.name} "
                                  f"whatever fires where{more}", check=CHECK,
                                  hint="compare on labels both carry (e.g. service), or narrow `when`/`mute`")]
    return []


def _labels(match: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in match.items()) + "}"


def _values_hint(match: dict[str, str], alerts: list[AlertLabels]) -> str:
    parts = []
    for label, value in match.items():
        values = sorted({a.fixed[label] for a in alerts if label in a.fixed})
        if value not in values:
            close = difflib.get_close_matches(value, values, n=1)
            parts.append((f"did you mean {label}: {close[0]}? " if close else "")
                         + f"{label} values: {', '.join(values) or '(no alert sets it)'}")
    return "; ".join(parts) or "no single alert matches all of these labels"


def _equal_hint(rule, sources: list[AlertLabels], targets: list[AlertLabels]) -> str:
    parts = []
    for label in rule.equal:
        a = sorted({s.fixed.get(label, "(absent)") for s in sources if s.value(label) is not None})
        b = sorted({t.fixed.get(label, "(absent)") for t in targets if t.value(label) is not None})
        parts.append(f"{label}: {', '.join(a)} (when) vs {', '.join(b)} (mute)")
    return "; ".join(parts) or "the two sides are the same alerts"

