"""prometheus/rules/<group>.yml: the alert rules, one file and one rule group per spec `group`.

Groups are for readability; they all evaluate at the global evaluation interval (<= 1m), because a group's
interval delays detection by up to that interval and promtool's unit tests ignore it.
"""

from __future__ import annotations

from ..model import Model, Rule
from .common import Stamp, dump_yaml

FOLDER = "prometheus/rules"


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    return {f"{FOLDER}/{name}.yml": dump_yaml({"groups": [group]}, stamp) for name, group in groups(model).items()}


def groups(model: Model) -> dict[str, dict]:
    """Each rule group as the rule files carry it (also what a PrometheusRule embeds), by group name: its
    recording rules first (a group evaluates in order, so its alerts read this evaluation's records)."""
    return {name: {"name": name, "rules": [_record(r) for r in model.records.get(name, ())]
                   + [_rule(r) for r in model.groups.get(name, ())]} for name in model.group_names}


def _record(record) -> dict:
    out: dict = {"record": record.record, "expr": record.expr}
    if record.labels:
        out["labels"] = dict(record.labels)
    return out


def _rule(rule: Rule) -> dict:
    out: dict = {"alert": rule.name, "expr": rule.expr}
    if rule.for_.ms:
        out["for"] = str(rule.for_)
    if rule.keep_firing_for is not None:
        out["keep_firing_for"] = str(rule.keep_firing_for)
    out["labels"] = dict(rule.labels)
    out["annotations"] = dict(rule.annotations)
    return out
