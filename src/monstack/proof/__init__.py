"""Evidence that each alert means what its table says: generated promtool test cases, and coverage.

`plan(model)` says, per alert, which cases prove it (generated from its typed condition, and the spec's own
`tests:`), or why it is waived, or why it is uncovered (the coverage gate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Model
from .scenarios import Case, Untestable, cases_for


@dataclass
class Coverage:
    alert: str
    index: int  # in spec.alerts
    group: str
    generated: list[Case] = field(default_factory=list)
    handwritten: int = 0
    waived: str | None = None
    untestable: str | None = None  # why no case could be generated from the typed condition

    @property
    def covered(self) -> bool:
        if self.waived:
            return True
        firing = any(c.expect == "firing" for c in self.generated)
        return bool(self.handwritten) or firing

    @property
    def cases(self) -> int:
        return len(self.generated) + self.handwritten


def plan(model: Model) -> list[Coverage]:
    out = []
    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        coverage = Coverage(alert.name, rule.index, rule.group, handwritten=len(alert.tests), waived=alert.waive)
        if alert.when is not None and not alert.waive:
            try:
                coverage.generated = cases_for(alert, rule, model)
            except Untestable as exc:
                coverage.untestable = str(exc)
        elif alert.when is None and not alert.tests and not alert.waive:
            coverage.untestable = "a raw `expr` alert needs its own `tests:` (or `waive:` with a reason)"
        out.append(coverage)
    return out


__all__ = ["Case", "Coverage", "plan"]
