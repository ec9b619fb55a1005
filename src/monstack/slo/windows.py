"""The multiwindow, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs", table 5-8), per period.

A window pair alerts when the error ratio over its `long` window and over its `short` window are both above
`factor` x the error budget (1 - objective). The workbook's pairs for a 30-day period, each spending a share of the
whole budget before it alerts:

| severity | long | short | budget spent | factor = spent x period / long |
|---|---|---|---|---|
| page (critical) | 1h | 5m | 2% | 14.4 |
| page (critical) | 6h | 30m | 5% | 6 |
| ticket (warning) | 1d | 2h | 10% | 3 |
| ticket (warning) | 3d | 6h | 10% | 1 |

Other periods keep the windows and scale the factor by the period, as Sloth's catalogue does: 28d spends the same
shares (13.44, 5.6, 2.8, 0.933...); 7d spends 8%, 12.5%, 20% and 42% (13.44, 3.5, 1.4, 0.98).

A total outage (error ratio 1) reaches a pair's threshold after `factor x budget x long` (the long window is the
slower one to fill): 51.84s for the 1h pair of a 99.9% objective, 2.16 min for 6h, 4.32 min for 1d and for 3d.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.slos import SLO
from ..spec.units import Duration

PAIRS = (("1h", "5m", "critical"), ("6h", "30m", "critical"), ("1d", "2h", "warning"), ("3d", "6h", "warning"))
BUDGET_SPENT = {"30d": (0.02, 0.05, 0.10, 0.10), "28d": (0.02, 0.05, 0.10, 0.10), "7d": (0.08, 0.125, 0.20, 0.42)}


@dataclass(frozen=True)
class Window:
    long: Duration
    short: Duration
    factor: float
    severity: str

    @property
    def name(self) -> str:
        return str(self.long)

    def threshold(self, budget: float) -> float:
        """The error ratio the pair alerts above."""
        return self.factor * budget

    def detection(self, budget: float) -> float:
        """Seconds after a total outage starts until both windows are above the threshold (the long one fills
        last): factor x budget x long."""
        return self.factor * budget * self.long.seconds


def factor(spent: float, period: Duration, long: Duration) -> float:
    return round(spent * period.seconds / long.seconds, 6)


def windows(slo: SLO) -> tuple[Window, ...]:
    """The SLO's burn-rate windows, fastest (shortest long window) first."""
    if slo.windows:
        found = [Window(w.long, w.short, w.factor, w.severity) for w in slo.windows]
    else:
        period = slo.period_duration
        found = [Window(Duration.parse(long), Duration.parse(short), factor(spent, period, Duration.parse(long)),
                        severity)
                 for (long, short, severity), spent in zip(PAIRS, BUDGET_SPENT[slo.period])]
    return tuple(sorted(found, key=lambda w: (w.long, w.short)))


def ranges(slo: SLO) -> tuple[Duration, ...]:
    """Every window a record is needed for, shortest first."""
    return tuple(sorted({d for w in windows(slo) for d in (w.long, w.short)}))
