"""The label checks on hand-reasoned expressions: what is flagged, and what is fine and must not be."""

from __future__ import annotations

import promql_parser as p
import pytest

from monstack.checks.labels import _label_refs
from monstack.checks.vector_matching import _mismatches

SERVED = {"redis": frozenset({"redis_memory_used_bytes"}),
          "node": frozenset({"node_memory_MemTotal_bytes", "node_uname_info", "node_load1"})}


def found(expr: str) -> list:
    return list(_mismatches(p.parse(expr), p, SERVED))


@pytest.mark.parametrize("expr", [
    "redis_memory_used_bytes / node_memory_MemTotal_bytes",
    "redis_memory_used_bytes / (node_memory_MemTotal_bytes > 0) > 0.8",
    "redis_memory_used_bytes / on (instance) node_memory_MemTotal_bytes",
    "redis_memory_used_bytes / ignoring (instance) node_memory_MemTotal_bytes",
])
def test_cross_job_matching_on_job_or_instance_is_flagged(expr):
    assert [labels for _, _, labels in found(expr)]


@pytest.mark.parametrize("expr", [
    "node_load1 * on (instance) group_left (nodename) node_uname_info",  # same job: a bridge that matches
    "redis_memory_used_bytes / ignoring (job, instance) node_memory_MemTotal_bytes",
    "redis_memory_used_bytes / on () node_memory_MemTotal_bytes",
    "redis_memory_used_bytes or node_memory_MemTotal_bytes",
    "node_load1 / node_memory_MemTotal_bytes",
    "up / node_memory_MemTotal_bytes",  # up comes from every job
])
def test_fine_matching_is_not_flagged(expr):
    assert found(expr) == []


def test_label_refs_come_from_the_template_actions():
    assert _label_refs("on {{ $labels.instance }} ({{ $labels.handler | toUpper }}) {{/* $labels.x */}}") == [
        "instance", "handler"]
    assert _label_refs("no actions, $labels.instance is text") == []
