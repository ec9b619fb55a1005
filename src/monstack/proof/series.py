"""Input series for generated tests: label sets that real exporters and the application emit, chosen to satisfy
(or to fail) a condition's selector, and promtool's compact value notation.

Labels: `job` and `instance` are those Prometheus attaches for the target exposing the metric (the scrape job and
its address); other labels take realistic values (`status="500"`, `mode="user"`, `fstype="ext4"`) that are checked
against the selector's matchers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..syntax import regex
from ..model import Model
from ..promql import le_value

# Realistic values, first the common case; a matcher picks the first that satisfies (or fails) it.
REALISTIC: dict[str, tuple[str, ...]] = {
    "status": ("200", "500", "404", "503"), "code": ("200", "500", "404", "503"),
    "method": ("GET", "POST"), "handler": ("/api/listings", "/api/search"),
    "mode": ("user", "idle", "system", "iowait"), "cpu": ("0", "1"),
    "mountpoint": ("/", "/var/lib/postgresql", "/run"), "fstype": ("ext4", "xfs", "tmpfs", "overlay"),
    "device": ("/dev/sda1", "/dev/sdb1", "tmpfs"), "datname": ("realestate", "postgres"),
    "state": ("active", "idle", "idle in transaction"), "result": ("failure", "success", "failed", "sent"),
    "queue_name": ("celery", "scraping"), "hostname": ("celery@worker-1", "celery@worker-2"),
    "integration": ("slack", "pagerduty", "email", "webhook"), "rule_group": ("/etc/prometheus/rules/api.yml;api",),
    "agency_id": tuple(str(i) for i in range(1, 201)),
}
GENERIC = ("a", "b", "c", "x", "0", "1", "200", "500", "true", "false")



class Untestable(ValueError):
    """No series can be built for this selector (e.g. an expression, or matchers that exclude each other)."""


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value) with op one of = != =~ !~

    @classmethod
    def parse(cls, text: str) -> "Selector":
        import promql_parser  # noqa: PLC0415

        node = promql_parser.parse(text)
        if type(node).__name__ != "VectorSelector":
            raise Untestable(f"{text!r} is an expression, not a selector")
        ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
        matchers = tuple((m.name, ops[str(m.op)], m.value) for m in node.matchers.matchers if m.name != "__name__")
        name = node.name or next((m.value for m in node.matchers.matchers if m.name == "__name__"), None)
        if not name:
            raise Untestable(f"{text!r} names no metric")
        return cls(name, matchers)

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        return name == self.name and all(_match(op, labels.get(label, ""), value)
                                         for label, op, value in self.matchers)


def _match(op: str, actual: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = regex.fullmatch(value, actual)  # RE2, anchored, as Prometheus matches
    return found if op == "=~" else not found


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    values: list[float] = field(default_factory=list)  # one per sample, None-free

    def notation(self) -> str:
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(self.labels.items()))
        return f"{self.name}{{{labels}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def values_notation(values: list[float]) -> str:
    """promtool's expanding notation: runs of constant steps as `a+bxn` (`a`, then n more steps of b)."""
    out: list[str] = []
    i = 0
    while i < len(values):
        j = i
        step = values[i + 1] - values[i] if i + 1 < len(values) else 0.0
        while j + 1 < len(values) and abs((values[j + 1] - values[j]) - step) <= 1e-9 * max(1.0, abs(step)):
            j += 1
        start = _num(values[i])
        count = j - i
        if count == 0:
            out.append(start)
        elif step == 0:
            out.append(f"{start}x{count}")
        else:
            sign = "+" if step > 0 else "-"
            out.append(f"{start}{sign}{_num(abs(step))}x{count}")
        i = j + 1
    return " ".join(out)


def _num(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


class Labeler:
    """Builds label sets for a model: which job and instance expose a metric, and values satisfying matchers."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.jobs = {job.name: job for job in model.jobs}

    def origin(self, metric: str, selector: Selector) -> dict[str, str]:
        """`job` and `instance` as Prometheus stores them for the target that exposes `metric` (a `job` matcher in
        the selector wins): the job's first instance, or for a job pushed to a Pushgateway (honor_labels), the
        pushed job without an instance (the gateway's empty `instance` label is no label)."""
        value = next((v for label, op, v in selector.matchers if label == "job" and op == "="), None)
        if value is None:
            value = self._job_of(metric)
        producers = self.model.producers(value) if value is not None else []
        if not producers:
            return {"job": value or "app", "instance": "app:8000"}
        job = producers[0]
        if value != job.name:  # pushed
            return {"job": value}
        return {"job": value, "instance": job.instance_values[0]}

    def shared(self, selector: Selector, labels: dict[str, str], keys) -> dict[str, str]:
        """The values of `keys` (labels of another series) that a series of `selector` shares with it: all of them,
        but `job` and `instance` only when both come from the same job. A proof never gives a series the job of
        another exporter (no target produces that): a rule matching the two on job/instance then fails its test,
        as it would fail in production."""
        same = self.origin(selector.name, selector).get("job") == labels.get("job")
        return {k: labels[k] for k in keys if k in labels and (same or k not in ("job", "instance"))}

    def _job_of(self, metric: str) -> str | None:
        """The `job` label value of the series `metric`: its declared target's (a pushed job's, for a
        Pushgateway), else the first job whose exporter serves it, else the application's."""
        base = re.sub(r"_(bucket|sum|count)$", "", metric)
        for declared in self.model.spec.metrics:
            if declared.name in (metric, base) and declared.target:
                job = self.jobs.get(declared.target)
                return job.pushed_jobs[0] if job is not None and job.honor_labels and job.pushed_jobs \
                    else declared.target
        for job in self.model.jobs:
            if metric in job.catalog.metrics:
                return job.name
        return next((j.name for j in self.model.jobs if j.catalog.declared), None)

    def usual_labels(self, metric: str) -> tuple[str, ...]:
        """The labels a metric carries besides job and instance: declared, or known of its exporter."""
        base = re.sub(r"_(bucket|sum|count)$", "", metric)
        for declared in self.model.spec.metrics:
            if declared.name in (metric, base):
                return tuple(declared.labels)
        family = self._family(metric)
        if family is None:
            return ()
        if not family.examples:  # documented, not measured: every label
            return family.labels
        # measured: a label seen only empty (node_exporter's device_error) is no label once Prometheus stores it
        return tuple(label for label in family.labels if family.example(label))

    def _family(self, metric: str):
        return next((f for job in self.model.jobs if (f := job.catalog.family(metric)) is not None), None)

    def value(self, metric: str, label: str) -> str:
        """A realistic value of `label` on `metric`: a usual one, else one the exporter was seen to serve."""
        family = self._family(metric)
        seen = family.example(label) if family is not None else ()
        return REALISTIC.get(label, seen or GENERIC)[0]

    def satisfying(self, selector: Selector, extra: dict[str, str] | None = None,
                   keep: tuple[str, ...] = ()) -> dict[str, str]:
        """A realistic label set matching `selector`, with `extra` labels and the labels in `keep` present."""
        labels = {**self.origin(selector.name, selector), **(extra or {})}
        for label in self.usual_labels(selector.name):
            labels.setdefault(label, self.value(selector.name, label))
        for label, op, value in selector.matchers:
            if op == "=":
                labels[label] = value
        for label, op, value in selector.matchers:
            if not _match(op, labels.get(label, ""), value):
                labels[label] = self._pick(label, lambda v, op=op, value=value: _match(op, v, value))
        for label in keep:
            labels.setdefault(label, self.value(selector.name, label))
        if not selector.matches(selector.name, labels):
            raise Untestable(f"no label set satisfies {selector.name} {selector.matchers}")
        return labels

    def failing(self, selector: Selector, base: dict[str, str]) -> dict[str, str] | None:
        """`base` changed in one label so that `selector` no longer matches (None when impossible)."""
        for label, op, value in selector.matchers:
            if label in ("job", "instance"):
                continue
            try:
                other = self._pick(label, lambda v, op=op, value=value: not _match(op, v, value))
            except Untestable:
                continue
            return {**base, label: other}
        return None

    def other_value(self, label: str, value: str) -> str:
        return self._pick(label, lambda v: v != value)

    @staticmethod
    def _pick(label: str, accept) -> str:
        for candidate in (*REALISTIC.get(label, ()), *GENERIC):
            if accept(candidate):
                return candidate
        raise Untestable(f"no value found for label {label!r}")


def bucket_labels(labels: dict[str, str], bound: float) -> dict[str, str]:
    return {**labels, "le": le_value(bound)}
