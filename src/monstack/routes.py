"""Alertmanager's routing, evaluated by monstack: which receivers each alert of the spec reaches, when, and which
alerts mute it.

The route tree is walked as Alertmanager walks it (`dispatch/route.go`): depth first, a child that matches takes
the alert unless it has `continue: true`, and a route none of whose children match is itself the match; a label an
alert lacks has the value "". Timings are inherited from the parent; time intervals are not.

`expected_receivers()` is what amtool's `config routes test --verify.receivers` must confirm against the rendered
alertmanager.yml (`check_routes()`). amtool ignores time intervals and inhibitions: those are evaluated here only
(`deliveries()`, `inhibitors()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .alert_labels import AlertLabels, alert_labels
from .syntax import regex
from .errors import Diagnostic

if TYPE_CHECKING:
    from .load import Source
    from .model import Model
    from .spec.routing import Receiver, Route, Routing
    from .tools import Tool

Matcher = tuple[str, str, str]  # (label, "=" or "=~", value)


@dataclass(frozen=True)
class Node:
    """One route of the tree, with the options it has after inheritance."""

    path: tuple  # its position in the spec: ("routing",) for the root, ("routing", "routes", 0, ...) below
    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    group_by: tuple[str, ...]
    timings: tuple[str, str, str]  # group_wait, group_interval, repeat_interval
    mute: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    children: tuple["Node", ...] = ()

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def tree(routing: "Routing") -> Node:
    """The route tree of the spec's routing section."""
    timings = (str(routing.group_wait), str(routing.group_interval), str(routing.repeat_interval))
    root = Node(("routing",), routing.receiver, (), False, tuple(routing.group_by), timings)
    children = tuple(_node(r, ("routing", "routes", i), root) for i, r in enumerate(routing.routes))
    return Node(root.path, root.receiver, (), False, root.group_by, timings, children=children)


def _node(route: "Route", path: tuple, parent: Node) -> Node:
    own = [(k, "=", v) for k, v in route.match.items()] + [(k, "=~", v) for k, v in route.match_re.items()]
    timings = tuple(str(getattr(route, key)) if getattr(route, key) is not None else inherited
                    for key, inherited in zip(("group_wait", "group_interval", "repeat_interval"), parent.timings))
    group_by = tuple(route.group_by) if route.group_by is not None else parent.group_by
    node = Node(path, route.receiver, tuple(own), route.continue_, group_by, timings,  # type: ignore[arg-type]
                tuple(route.mute_time_intervals), tuple(route.active_time_intervals))
    children = tuple(_node(r, path + ("routes", i), node) for i, r in enumerate(route.routes))
    return Node(node.path, node.receiver, node.matchers, node.continue_, node.group_by, node.timings, node.mute,
                node.active, children)


def matches(matcher: Matcher, value: str) -> bool:
    label, op, expected = matcher
    return value == expected if op == "=" else regex.fullmatch(expected, value)  # Alertmanager: RE2, anchored


def match(node: Node, lookup: Callable[[str], str]) -> list[Node]:
    """The routes an alert with these labels is delivered by (Alertmanager's `Route.Match`), in tree order."""
    if not all(matches(m, lookup(m[0])) for m in node.matchers):
        return []
    found: list[Node] = []
    for child in node.children:
        got = match(child, lookup)
        found += got
        if got and not child.continue_:
            break
    return found or [node]


# --- what each alert of the spec gets ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Routed:
    alert: AlertLabels
    routes: tuple[Node, ...]  # in tree order; a receiver may appear twice
    runtime_labels: tuple[str, ...] = ()  # labels the decision looked at whose value only the alert knows

    @property
    def receivers(self) -> list[str]:
        return [node.receiver for node in self.routes]


def route_alerts(model: "Model") -> list[Routed]:
    """Every alert of the spec, with the routes that take it. Labels known only at runtime count as absent."""
    root = tree(model.spec.routing)
    out = []
    for alert in alert_labels(model):
        looked: list[str] = []

        def lookup(label: str, alert: AlertLabels = alert, looked: list[str] = looked) -> str:
            value = alert.value(label)
            if value is None and label not in looked:
                looked.append(label)
            return value or ""

        out.append(Routed(alert, tuple(match(root, lookup)), tuple(looked)))
    return out


def expected_receivers(model: "Model") -> dict[str, list[str]]:
    """Alert name -> the receivers Alertmanager must pick for it, in tree order (amtool's output)."""
    return {routed.alert.name: routed.receivers for routed in route_alerts(model)}


@dataclass(frozen=True)
class RouteCase:
    """One amtool routing test: an alert's label set and the receivers it must reach."""

    alert: str
    labels: dict[str, str]
    expected: list[str]
    index: int = -1  # position of the alert in spec.alerts


def route_cases(model: "Model") -> list[RouteCase]:
    return [RouteCase(r.alert.name, dict(sorted(r.alert.fixed.items())), r.receivers, r.alert.index)
            for r in route_alerts(model)]


def check_routes(model: "Model", tool: "Tool", config_path: Path, source: "Source | None" = None) -> list[Diagnostic]:
    """amtool's verdict, one call per alert (run concurrently), on whether the rendered alertmanager.yml routes
    every alert of the spec to the receivers monstack expects. One error per alert that does not."""
    from .tools.amtool import test_routes  # noqa: PLC0415

    out = []
    for result in test_routes(tool, config_path, route_cases(model)):
        if result.ok:
            continue
        case = result.case
        message = (f"alert {case.alert}: amtool routes it to {','.join(result.got) or '(nothing)'}, the spec to "
                   f"{','.join(case.expected)}" if result.error is None else
                   f"alert {case.alert}: amtool could not test its route: {result.error}")
        hint = "labels tested: " + " ".join(f"{k}={v}" for k, v in case.labels.items())
        path = ("alerts", case.index) if case.index >= 0 else ()
        if source is not None:
            out.append(source.diagnostic(path, message, check="amtool", hint=hint))
        else:
            out.append(Diagnostic(message, file=model.file, path=path, check="amtool", hint=hint))
    return out


# --- time intervals and inhibitions: what amtool does not evaluate -------------------------------------------------

def delivered(model: "Model", node: Node, when: datetime) -> bool:
    """Whether a route notifies at `when`: not in any of its mute intervals, and in one of its active ones."""
    intervals = {t.name: t for t in model.spec.routing.time_intervals}
    if any(intervals[name].contains(when) for name in node.mute if name in intervals):
        return False
    return not node.active or any(intervals[name].contains(when) for name in node.active if name in intervals)


@dataclass(frozen=True)
class Inhibition:
    rule: int  # index in routing.inhibit
    by: tuple[str, ...]  # the alerts that may mute it


def label_test(alert: AlertLabels, wanted: dict[str, str]) -> bool | None:
    """Whether the alert matches every `label: value` (None: only its runtime labels can tell)."""
    verdict: bool | None = True
    for label, value in wanted.items():
        have = alert.value(label)
        if have is None:
            verdict = None
        elif have != value:
            return False
    return verdict


@dataclass
class Pairing:
    """How a source alert and a target alert of one inhibit rule relate."""

    possible: bool
    certain: bool = False
    absent_on_both: list[str] = field(default_factory=list)  # equal labels neither carries


def pairing(rule, source: AlertLabels, target: AlertLabels) -> Pairing:
    """Can `source` mute `target` under `rule` (Alertmanager's inhibitor: the equal labels, absent counting as
    equal; an alert never mutes itself; when the target matches both sides, so must not the source)?"""
    if source.index == target.index:
        return Pairing(False)
    if label_test(target, rule.when) is True and label_test(source, rule.mute) is True:
        return Pairing(False)
    certain, absent = True, []
    for label in rule.equal:
        a, b = source.value(label), target.value(label)
        if a is None or b is None:
            certain = False
        elif a != b:
            return Pairing(False)
        elif a == "":
            absent.append(label)
    return Pairing(True, certain, absent)


def side(alerts: list[AlertLabels], wanted: dict[str, str]) -> list[AlertLabels]:
    """The alerts that match (or may match) `label: value` for all."""
    return [a for a in alerts if label_test(a, wanted) is not False]


def inhibitors(model: "Model", alerts: list[AlertLabels] | None = None) -> dict[str, list[Inhibition]]:
    """Alert name -> the inhibit rules that can mute it, each with the alerts that would."""
    alerts = alerts if alerts is not None else alert_labels(model)
    out: dict[str, list[Inhibition]] = {a.name: [] for a in alerts}
    for i, rule in enumerate(model.spec.routing.inhibit):
        sources = side(alerts, rule.when)
        for target in side(alerts, rule.mute):
            by = tuple(s.name for s in sources if pairing(rule, s, target).possible)
            if by:
                out[target.name].append(Inhibition(i, by))
    return out


def channels(receiver: "Receiver") -> list[str]:
    """What a receiver sends to, in words (never a secret: those are only ever references)."""
    out = [f"slack {c.channel}" for c in receiver.slack]
    out += [f"email {c.recipients}" for c in receiver.email]
    out += ["pagerduty" for _ in receiver.pagerduty]
    out += [f"webhook {c.url}" if isinstance(c.url, str) else "webhook (secret URL)" for c in receiver.webhook]
    out += ["teams" for _ in receiver.msteams]
    out += ["opsgenie" + (f" ({', '.join(r.name for r in c.responders)})" if c.responders else "")
            for c in receiver.opsgenie]
    out += [f"telegram {c.chat_id}" for c in receiver.telegram]
    return out or ["(nothing: sends nowhere)"]
