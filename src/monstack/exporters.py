"""What each target kind is: which exporter serves its metrics, on which port, its own "down" gauge, and the
metric families it really serves (names, types, labels).

The user writes `kind: postgres, address: db:5432`; monstack scrapes postgres_exporter (never 5432, which does not
speak HTTP) and alerts on `pg_up`. The families come from the catalogue, `catalog/<kind>.yml`: one data file per
exporter, measured against the real exporter (`scripts/measure-exporters.py`; the contract suite checks them
again), so a rule naming a metric nobody exposes (the guide's `pg_slow_queries_total`) is caught before
production. `app` and `custom` targets serve the spec's own `metrics:`; a spec describes an exporter monstack does
not know under `exporters:` (`from_spec`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

CATALOG = Path(__file__).with_name("catalog")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


def series_names(name: str, type_: str) -> tuple[str, ...]:
    """The series names Prometheus stores for a metric family (a histogram's _bucket, _sum and _count)."""
    return tuple(name + suffix for suffix in SUFFIXES.get(type_, ("",)))


@dataclass(frozen=True)
class Family:
    """A metric family as the exporter serves it: its type, the labels of its samples (besides job, instance and
    le/quantile) and a few real values of each label."""

    name: str
    type: str
    labels: tuple[str, ...] = ()
    help: str = ""
    examples: tuple[tuple[str, tuple[str, ...]], ...] = ()
    observed: bool = True  # False: documented, not seen in the measurement (e.g. only on a replica)

    @property
    def series(self) -> tuple[str, ...]:
        return series_names(self.name, self.type)

    def example(self, label: str) -> tuple[str, ...]:
        return dict(self.examples).get(label, ())


@dataclass(frozen=True)
class MultiTarget:
    """The multi-target exporter pattern: Prometheus asks the exporter at `path?<param>=<target>`."""

    path: str
    param: str = "target"


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    exporter: str | None  # the exporter program (None: the target serves /metrics itself)
    service: str  # default host (compose service name) of what is scraped
    port: int  # default port of what is scraped
    up_metric: str  # the service's own health as the exporter sees it (`up` when it has none)
    families: Mapping[str, Family] = field(default_factory=dict)
    multi_target: MultiTarget | None = None
    watches: str | None = None  # default address of the watched service
    image: str | None = None
    title: str = ""
    honor_labels: bool = False  # a Pushgateway keeps the pushed job and instance
    declared: bool = False  # app/custom: the metrics are the spec's own `metrics:`

    @cached_property
    def by_series(self) -> dict[str, Family]:
        return {series: family for family in self.families.values() for series in family.series}

    @property
    def metrics(self) -> frozenset[str]:
        """Every series name the exporter serves."""
        return frozenset(self.by_series)

    def family(self, series: str) -> Family | None:
        return self.by_series.get(series)

    def labels(self, series: str) -> tuple[str, ...] | None:
        family = self.by_series.get(series)
        if family is None:
            return None
        extra = ("le",) if family.type == "histogram" and series.endswith("_bucket") else \
            ("quantile",) if family.type == "summary" and series == family.name else ()
        return family.labels + extra


def _family(name: str, data: Mapping) -> Family:
    examples = tuple((label, tuple(str(v) for v in values)) for label, values in sorted((data.get("examples") or {}).items()))
    return Family(name, data["type"], tuple(data.get("labels") or ()), str(data.get("help") or ""), examples,
                  bool(data.get("observed", True)))


def _kind(data: Mapping) -> Kind:
    multi = data.get("multi_target")
    families = {name: _family(name, body) for name, body in sorted((data.get("metrics") or {}).items())}
    for name, body in sorted((data.get("per_object_metrics") or {}).items()):
        families.setdefault(name, _family(name, body))
    return Kind(
        name=data["kind"], exporter=data.get("exporter"), service=data["service"], port=int(data["port"]),
        up_metric=data.get("up") or "up", families=families,
        multi_target=MultiTarget(multi["path"], multi.get("param", "target")) if multi else None,
        watches=data.get("watches"), image=data.get("image"), title=data.get("title", data["kind"]),
        honor_labels=bool(data.get("honor_labels", False)))


@cache
def catalog() -> dict[str, Kind]:
    """The built-in kinds: `app`, `custom`, and one per catalogue file."""
    import yaml  # noqa: PLC0415

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    kinds = {"app": Kind("app", None, "app", 8000, "up", declared=True, title="the application"),
             "custom": Kind("custom", None, "app", 8000, "up", declared=True, title="a custom target")}
    for path in sorted(CATALOG.glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        kinds[data["kind"]] = _kind(data)
    return kinds


class _Kinds(Mapping[str, Kind]):
    """`KINDS[name]`: the catalogue, read on first use (validate of a small spec need not parse it)."""

    def __getitem__(self, name: str) -> Kind:
        return catalog()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(catalog())

    def __len__(self) -> int:
        return len(catalog())


KINDS: Mapping[str, Kind] = _Kinds()

# Series every job has, whatever it runs.
SCRAPE_METRICS = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                            "scrape_samples_post_metric_relabeling", "scrape_series_added"})


def from_spec(exporter) -> Kind:
    """A kind described in the spec's `exporters:` (an exporter monstack does not know)."""
    families = {m.name: Family(m.name, m.type, tuple(m.labels), m.help) for m in exporter.metrics}
    multi = exporter.multi_target
    host = re.sub(r"[^a-z0-9-]+", "-", exporter.kind.lower()).strip("-") + "-exporter"
    return Kind(name=exporter.kind, exporter=exporter.kind, service=host, port=exporter.port,
                up_metric=exporter.up, families=families,
                multi_target=MultiTarget(multi.path, multi.param) if multi else None,
                watches=None, image=exporter.image, title=exporter.title or exporter.kind)
