"""Semantic checks of rendered PromQL (every rule, typed or raw `expr:`, and every dashboard query), with what the
spec knows that a linter such as pint does not: each metric's type, the scrape interval, the retention.

- `promql/rate`: rate/irate/increase/resets over a gauge; rate() of an aggregation; delta/deriv over a counter;
  a range under 2 scrape intervals (no two samples: an error) or under 4 (one missed scrape empties it: a warning);
- `promql/counter`: a counter used without rate()/increase() (compared, aggregated, divided) in an alert;
- `promql/range-retention`: a range or offset reaching past the TSDB retention;
- `promql/impossible`: a selector no series can match, a comparison no value can satisfy (`up > 1`,
  `count(x) < 1`, `rate(x[5m]) < 0`, NaN);
- `promql/regexp`: a matcher RE2 refuses, or one that is no regexp (`=~"foo"`), anchored (`^...$`), or `.*`.

The alert-level checks (comparison, for, fragile, duplicates, coverage) are in `checks.alerts`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..syntax import regex
from .promql_facts import (COMPARISONS, GAUGE_FUNCS, RATE_FUNCS, Facts, func, kind,
                           name_of, number, op, unparen, walk)

REGEX_CHARS = re.compile(r"[.*+?()\[\]{}|\\^$]")


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    hint: str
    metric: str | None = None  # the metric it is about (a typed alert's finding goes to that field's line)
    at: tuple = ()  # or the alert's own field it is about (`above`)


def findings(expr_ast, facts: Facts, *, alert: bool) -> list[Finding]:
    """The expression checks of one parsed expression (`alert`: it is an alert's condition, not a graph)."""
    out: list[Finding] = []
    retention = facts.model.spec.defaults.retention.seconds
    for node, parents in walk(expr_ast):
        k = kind(node)
        if k == "Call" and func(node) in RATE_FUNCS | GAUGE_FUNCS:
            out += _rate(node, facts)
        if k in ("MatrixSelector", "SubqueryExpr"):
            out += _retention(node, retention)
        if k == "VectorSelector":
            out += _selector(node, facts)
            offset = node.offset.total_seconds() if node.offset is not None else 0
            if offset > retention:
                out.append(Finding("promql/range-retention", "error",
                                   f"offset {_dur(offset)} reaches past the retention ({_dur(retention)}): "
                                   "there is no data that old", _retention_hint(retention), name_of(node)))
            if alert and _bare_counter(node, parents, facts):
                name = name_of(node)
                out.append(Finding(
                    "promql/counter", "error",
                    f"{name} is a counter ({facts.origin(name)}) used without rate()/increase(): its value only "
                    "grows and resets on restart, so comparing or aggregating it says nothing about now",
                    f"compare its rate or increase instead, e.g. rate({name}[5m]) > 1 or increase({name}[1h]) > 10",
                    name))
        if k == "BinaryExpr" and op(node) in COMPARISONS:
            out += _impossible_comparison(node)
    return out


def _dur(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _retention_hint(retention: float) -> str:
    return (f"shorten it below {_dur(retention)}, or raise `defaults.retention` (and the disk Prometheus needs); "
            "for long SLO windows use recording rules or a long-term store")


def _retention(node, retention: float) -> list[Finding]:
    seconds = node.range.total_seconds()
    offset = node.offset.total_seconds() if kind(node) == "SubqueryExpr" and node.offset is not None else 0
    if seconds + max(offset, 0) <= retention:
        return []
    return [Finding("promql/range-retention", "error",
                    f"a range of {_dur(seconds)}{f' at offset {_dur(offset)}' if offset else ''} is longer than the "
                    f"retention ({_dur(retention)}): the window is never full, so the query never means what it says",
                    _retention_hint(retention))]


def _rate(node, facts: Facts) -> list[Finding]:
    name_fn = func(node)
    arg = unparen(node.args[0]) if node.args else None
    out: list[Finding] = []
    if arg is None:
        return out
    if kind(arg) == "SubqueryExpr" and name_fn in RATE_FUNCS:
        inner = unparen(arg.expr)
        if kind(inner) == "AggregateExpr" or (kind(inner) == "BinaryExpr"):
            out.append(Finding("promql/rate", "error",
                               f"{name_fn}() over a subquery of an aggregation or operation: counter resets of the "
                               "single series are lost once summed, so every restart looks like a huge drop",
                               f"take {name_fn}() of each counter first, then aggregate: "
                               f"sum({name_fn}(x[5m])) instead of {name_fn}(sum(x)[5m:])"))
        return out
    if kind(arg) != "MatrixSelector":
        return out
    selector = arg.vector_selector
    name = name_of(selector)
    typ = facts.metric_type(name) if name else None
    if name_fn in RATE_FUNCS and typ == "gauge":
        out.append(Finding(
            "promql/rate", "error",
            f"{name_fn}() of {name}, a gauge ({facts.origin(name)}): {name_fn}() reads every drop as a counter "
            "reset, so the result is meaningless",
            f"use delta({name}[..]) or deriv({name}[..]) for its change, or compare the gauge itself "
            f"(a `threshold:` condition)", name))
    if name_fn in GAUGE_FUNCS and typ == "counter":
        out.append(Finding(
            "promql/rate", "warning",
            f"{name_fn}() of {name}, a counter ({facts.origin(name)}): it does not handle counter resets",
            f"use rate({name}[..]) or increase({name}[..])", name))
    if name_fn in RATE_FUNCS | GAUGE_FUNCS and name_fn != "resets":
        scrape = facts.scrape_seconds(selector)
        seconds = arg.range.total_seconds()
        if seconds < 2 * scrape:
            out.append(Finding(
                "promql/rate", "error",
                f"{name_fn}() over [{_dur(seconds)}] with a {_dur(scrape)} scrape interval: the window holds fewer "
                "than two samples, so it returns nothing", f"use a range of at least 4 x {_dur(scrape)} = "
                f"{_dur(4 * scrape)}", name))
        elif seconds < 4 * scrape:
            out.append(Finding(
                "promql/rate", "warning",
                f"{name_fn}() over [{_dur(seconds)}] with a {_dur(scrape)} scrape interval: one missed or late scrape "
                "leaves a single sample and the series disappears", f"use a range of at least 4 x {_dur(scrape)} = "
                f"{_dur(4 * scrape)}", name))
    return out


# functions and aggregations whose result does not depend on the counter's value (or that rate it themselves)
_VALUE_FREE = frozenset({"absent", "absent_over_time", "present_over_time", "timestamp", "count", "group",
                         "count_values", "changes", "resets", "last_over_time", "count_over_time"})


def _bare_counter(node, parents: tuple, facts: Facts) -> bool:
    name = name_of(node)
    if not name or facts.metric_type(name) != "counter":
        return False
    for parent in reversed(parents):
        k = kind(parent)
        if k in ("MatrixSelector", "SubqueryExpr"):
            return False  # inside a range: a function of the range decides (rate, increase, ...)
        if k == "Call" and func(parent) in _VALUE_FREE:
            return False
        if k == "AggregateExpr" and op(parent) in _VALUE_FREE:
            return False
        if k == "BinaryExpr" and op(parent) in ("and", "unless") and parent.rhs is not None \
                and any(p is parent.rhs for p in (*parents[parents.index(parent) + 1:], node)):
            return False  # the right side of `and`/`unless` only filters by label sets
    return True


def _selector(node, facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    name = name_of(node)
    equal: dict[str, set[str]] = {}
    not_equal: dict[str, set[str]] = {}
    carried = facts.declared_labels(name) if name else None
    for m in node.matchers.matchers:
        op_ = str(m.op).split(".")[-1]
        out += _regexp(m.name, op_, m.value, name)
        if op_ == "Equal":
            equal.setdefault(m.name, set()).add(m.value)
        if op_ == "NotEqual":
            not_equal.setdefault(m.name, set()).add(m.value)
        if op_ == "NotRe" and m.value in (".*", "(.*)"):
            out.append(Finding("promql/impossible", "error",
                               f'{m.name}!~"{m.value}" excludes every value, so no series ever matches',
                               f'drop the matcher (or write {m.name}="" for series without {m.name})', name))
        if carried is not None and op_ in ("Equal", "Re") and m.value and m.name not in carried \
                and not (op_ == "Re" and regex.error(m.value) is None and regex.fullmatch(m.value, "")):
            out.append(Finding("promql/impossible", "error",
                               f"{name} has no label {m.name!r} (it carries "
                               f"{', '.join(sorted(carried - {'__name__'}))}), so "
                               f"{m.name}{'=' if op_ == 'Equal' else '=~'}\"{m.value}\" matches no series",
                               f"match a label it carries, or add {m.name!r} to the metric's `labels:` if the "
                               "application really sets it", name))
    for label, values in equal.items():
        if len(values) > 1:
            shown = sorted(values)
            out.append(Finding("promql/impossible", "error",
                               f"{' and '.join(f'{label}={v!r}' for v in shown)}: a label has one value, so no series "
                               "matches them all", f'keep one, or match either with {label}=~"{"|".join(shown)}"',
                               name))
        clash = values & not_equal.get(label, set())
        if clash:
            value = sorted(clash)[0]
            out.append(Finding("promql/impossible", "error",
                               f"{label}={value!r} and {label}!={value!r} contradict each other: no series matches",
                               "drop one of the two matchers", name))
    return out


def _regexp(label: str, op_: str, value: str, name: str | None) -> list[Finding]:
    if op_ not in ("Re", "NotRe"):
        return []
    sign = "=~" if op_ == "Re" else "!~"
    problem = regex.error(value)
    if problem is not None:
        return [Finding("promql/regexp", "error", f'{label}{sign}"{value}" is not a valid RE2 regexp: {problem}',
                        "Prometheus uses Go's RE2: no look-arounds or backreferences", name)]
    out = []
    if not REGEX_CHARS.search(value):
        out.append(Finding("promql/regexp", "warning", f'{label}{sign}"{value}" has no regexp characters',
                           f'use {label}{"=" if op_ == "Re" else "!="}"{value}": it is faster and says what it means',
                           name))
    if value.startswith("^") or value.endswith("$") and not value.endswith("\\$"):
        out.append(Finding("promql/regexp", "warning",
                           f'{label}{sign}"{value}": Prometheus anchors every regexp, the ^ and $ are redundant',
                           f'write {label}{sign}"{value.lstrip("^").rstrip("$")}"', name))
    if op_ == "Re" and value in (".*", "(.*)", "^.*$"):
        out.append(Finding("promql/regexp", "warning",
                           f'{label}=~"{value}" matches every value, an absent label included: it filters nothing',
                           f'drop it, or write {label}=~".+" to require the label', name))
    return out


def value_range(node) -> tuple[float, float] | None:
    """The values an expression can take, when its shape decides them (up, count(), absent(), rate(), ...)."""
    node = unparen(node)
    k = kind(node)
    if k == "VectorSelector" and name_of(node) == "up":
        return (0.0, 1.0)
    if k == "AggregateExpr":
        if op(node) in ("count", "count_values"):
            return (1.0, math.inf)
        if op(node) == "group":
            return (1.0, 1.0)
        if op(node) in ("avg", "min", "max", "topk", "bottomk"):
            return value_range(node.expr)
        return None
    if k == "Call":
        name = func(node)
        if name in ("absent", "absent_over_time", "present_over_time"):
            return (1.0, 1.0)
        if name in ("rate", "irate", "increase", "count_over_time", "changes", "resets"):
            return (0.0, math.inf)
        if name in ("avg_over_time", "min_over_time", "max_over_time", "last_over_time") and node.args:
            inner = unparen(node.args[0])
            return value_range(inner.vector_selector if kind(inner) == "MatrixSelector" else inner)
    return None


def _impossible_comparison(node) -> list[Finding]:
    comparison = op(node)
    for side, other, flip in ((node.lhs, node.rhs, False), (node.rhs, node.lhs, True)):
        value = number(other)
        if value is None:
            continue
        if math.isnan(value):
            return [Finding("promql/impossible", "error",
                            f"a comparison with NaN is never true ({'always true' if comparison == '!=' else 'no value'}"
                            f"{' for !=' if comparison == '!=' else ' is equal to, above or below NaN'})",
                            "to find NaN values compare the series with itself: x != x")]
        bounds = value_range(side)
        if bounds is None or node.modifier is not None and node.modifier.return_bool:
            continue
        lo, hi = bounds
        cmp = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(comparison, comparison) if flip else comparison
        never = {">": value >= hi, ">=": value > hi, "<": value <= lo, "<=": value < lo,
                 "==": not (lo <= value <= hi) or (lo, hi) == (0.0, 1.0) and value not in (0.0, 1.0)}.get(cmp, False)
        if never:
            what = side.prettify() if hasattr(side, "prettify") else "the expression"
            span = f"{lo:g}" if lo == hi else f"between {lo:g} and {hi:g}"
            hint = ("count() returns no series at all when nothing matches: use absent(...) or (count(...) or "
                    "vector(0))" if kind(unparen(side)) == "AggregateExpr" and lo == 1.0 else
                    "compare with a value it can take")
            return [Finding("promql/impossible", "error",
                            f"{what} is always {span}, so `{cmp} {value:g}` is never true", hint)]
    return []
