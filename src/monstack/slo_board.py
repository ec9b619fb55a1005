"""What the SLO dashboards show: one dashboard per `service` that has SLOs (the SLOs without a service share one),
one row per SLO with three panels over the records `monstack.slo` generates (`slo:sli_error:ratio_rate<w>`):

- the SLI against the objective: `1 - slo:sli_error:ratio_rate1h{slo="X"}` (the shortest long window when the SLO's
  windows have no 1h), the objective drawn as a threshold (red below it);
- the error budget left over the period: `1 - (avg_over_time(slo:sli_error:ratio_rate1h{slo="X"}[30d]) / 0.001)`,
  a stat in percent, red under 0, evaluated once (an instant query: a range query would average 30 days at every
  step); it needs a retention of at least the period (`checks.alerts` warns when `defaults.retention` is shorter);
- the burn rate at every window of the SLO (`slo:sli_error:ratio_rate<w>{slo="X"} / <budget>`, 1 spends the budget
  exactly over the period), each alert's factor drawn as a threshold (orange for a ticket, red for a page).

monstack.boards turns them into Boards (uid `<project>-slos-<service>`, or `<project>-slos`); this module imports
no board, so that boards can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Model
from .panels import Query, Threshold, View
from .slo.rules import ERROR, record_name
from .slo.windows import ranges, windows
from .spec.slos import SLO
from .spec.units import Duration, promql_number

HOUR = Duration(3_600_000)
COLOURS = {"critical": "red", "warning": "orange", "info": "yellow"}  # a factor's line, by its alert's severity
RANK = {"info": 0, "warning": 1, "critical": 2}
SIZES = {"sli": 9, "budget": 6, "burn": 9}  # widths of 24 columns; all 8 high


@dataclass(frozen=True)
class SLOBoard:
    name: str  # `slos-<service>` or `slos`
    service: str | None
    rows: tuple[tuple[str, tuple[View, ...]], ...]  # (row title, its panels) per SLO


def slo_boards(model: Model) -> list[SLOBoard]:
    """One board per service with SLOs (in order of first appearance), then the SLOs without a service."""
    by_service: dict[str | None, list[SLO]] = {}
    for slo in model.spec.slos:
        by_service.setdefault(slo.service, []).append(slo)
    order = [s for s in by_service if s is not None] + ([None] if None in by_service else [])
    return [SLOBoard(name=f"slos-{service}" if service else "slos", service=service,
                     rows=tuple((row_title(slo), slo_views(model, slo)) for slo in by_service[service]))
            for service in order]


def row_title(slo: SLO) -> str:
    return f"{slo.name}: {slo.objective.text} over {slo.period}"


def sli_window(slo: SLO) -> Duration:
    """The window the SLI and the budget are read over: 1h when the SLO has that record, else its shortest long
    window."""
    return HOUR if HOUR in ranges(slo) else windows(slo)[0].long


def slo_views(model: Model, slo: SLO) -> tuple[View, ...]:
    return (sli_view(slo), budget_view(model, slo), burn_view(slo))


def days(duration: Duration) -> str:
    """A duration as a retention is usually written: 15d, not 2w1d."""
    return f"{duration.ms // 86_400_000}d" if duration.ms % 86_400_000 == 0 else str(duration)


def _ratio(slo: SLO, window: Duration) -> str:
    return f'{record_name(ERROR, window)}{{slo="{slo.name}"}}'


def sli_view(slo: SLO) -> View:
    window = sli_window(slo)
    return View(
        title=f"{slo.name} SLI", type="timeseries", query=Query(f"1 - {_ratio(slo, window)}", f"SLI over {window}"),
        unit="percentunit", threshold=Threshold(slo.objective.value, red_above=False), width=SIZES["sli"], height=8,
        max=1, description=f"The share of good events over the last {window} ({slo.sli.kind} SLI), against the "
                           f"objective {slo.objective.text} (red below it).")


def budget_view(model: Model, slo: SLO) -> View:
    window, budget = sli_window(slo), promql_number(slo.budget)
    retention = model.spec.defaults.retention
    kept = days(retention)
    short = (f" (defaults.retention is {kept}: until it is raised, the {kept} kept count as the whole "
             f"{slo.period})") if retention < slo.period_duration else ""
    nan = "" if slo.sli.kind == "availability" else \
        f" A {window} without any event (a NaN ratio) makes it NaN until that {window} leaves the {slo.period}."
    return View(
        title=f"{slo.name} error budget left ({slo.period})", type="stat",
        query=Query(f"1 - (avg_over_time({_ratio(slo, window)}[{slo.period}]) / {budget})", "budget left"),
        unit="percentunit", threshold=Threshold(0, red_above=False), width=SIZES["budget"], height=8, instant=True,
        description=f"The share of the {slo.period} error budget ({slo.budget * 100:.4g}% of events may fail) not "
                    f"yet spent: 1 minus the {window} error ratio averaged over {slo.period}, divided by the budget; "
                    f"red under 0, the objective missed. Needs a Prometheus retention of at least {slo.period}"
                    f"{short}.{nan}")


def burn_view(slo: SLO) -> View:
    budget = promql_number(slo.budget)
    queries = [Query(f"{_ratio(slo, w)} / {budget}", f"burn rate over {w}") for w in ranges(slo)]
    factors: dict[float, str] = {}
    for w in windows(slo):
        if RANK[w.severity] >= RANK.get(factors.get(w.factor, "info"), 0):
            factors[w.factor] = w.severity
    pairs = ", ".join(f"{w.factor:g} ({w.long} and {w.short}, {w.severity})" for w in windows(slo))
    return View(
        title=f"{slo.name} burn rate", type="timeseries", query=queries[0], more=tuple(queries[1:]), unit="short",
        steps=tuple((value, COLOURS[factors[value]]) for value in sorted(factors)), width=SIZES["burn"], height=8,
        min=0, description=f"How fast the error budget burns over each window: 1 spends exactly the budget over "
                           f"{slo.period}. The lines are the alerts' factors: {pairs}; an alert fires while both of "
                           f"its windows burn above its factor.")
