"""What an alert carries besides its condition: hand-written test cases (for raw `expr:` alerts, or extra
cases for any alert), a waiver of the coverage gate, and its runbook text."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Strict
from .units import DurationField


class TestCase(Strict):
    """One promtool case: series and their values from t=0, then what the alert is at `at`."""

    __test__ = False  # not a pytest test class

    name: str = Field(min_length=1)
    interval: DurationField = Field("1m", description="time between two values of every series")
    series: dict[str, str] = Field(description=(
        "series -> values in promtool notation, e.g. 'celery_queue_length{queue_name=\"celery\"}': '0+20x30'"))
    at: DurationField = Field(description="when the expectation is checked (from t=0)")
    expect: Literal["firing", "silent", "pending"]
    labels: dict[str, str] = Field(default_factory=dict, description=(
        "labels the expression keeps (job, instance, ...), besides severity, service and the alert's labels"))
    evaluation: DurationField | None = Field(None, description=(
        "how often rules are evaluated in this case (default: defaults.evaluation_interval); a coarse one keeps "
        "day-long windows cheap to prove"))


class Runbook(Strict):
    """Text added to the generated runbook of an alert."""

    meaning: str | None = Field(None, description="what it means for the service, in the team's words")
    causes: list[str] = Field(default_factory=list, description="likely causes, most likely first")
    checks: list[str] = Field(default_factory=list, description="first checks: commands or PromQL to run")
    notes: str | None = None
