"""Stand-in targets: one loopback HTTP server per scrape job, serving `/metrics` in the real exposition format
(prometheus_client's registry and `generate_latest`, with its Content-Type) and series the drill controls.

Counters and histograms advance with time at the rate the drill sets (no background thread: a scrape adds
`rate x elapsed`; a histogram may mix several latencies), so `rate()` and `histogram_quantile()` see what a real
service under load would show. Counters without `_total` are exposed untyped, under their own name.
A stand-in can be stopped (its port closed, as when the service dies) and started again on the same port, or,
when the drill gave its job a file_sd file, vanish from service discovery and appear again.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
                                            UnknownMetricFamily)

Labels = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


class Series:
    """The drilled series of one job: gauges (set), counters (a rate per second) and histograms (a rate of
    observations of one latency)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gauges: dict[str, dict[Labels, float]] = {}
        self.counters: dict[str, dict[Labels, list[float]]] = {}  # [value, rate]
        self.histograms: dict[str, dict[Labels, dict]] = {}
        self.last = time.monotonic()

    def set_gauge(self, name: str, labels: dict[str, str], value: float) -> None:
        with self.lock:
            self.gauges.setdefault(name, {})[_key(labels)] = value

    def remove(self, name: str, labels: dict[str, str]) -> None:
        """Stop exposing one series (as when a batch job's pushed metric is lost): the next scrape lacks it."""
        with self.lock:
            self._advance()
            for kind in (self.gauges, self.counters, self.histograms):
                kind.get(name, {}).pop(_key(labels), None)
                if name in kind and not kind[name]:
                    del kind[name]

    def set_rate(self, name: str, labels: dict[str, str], per_second: float) -> None:
        with self.lock:
            self._advance()
            self.counters.setdefault(name, {}).setdefault(_key(labels), [0.0, 0.0])[1] = per_second

    def set_latency(self, name: str, labels: dict[str, str], buckets: list[float], seconds: float,
                    per_second: float = 20.0) -> None:
        self.set_observations(name, labels, buckets, [(seconds, per_second)])

    def set_observations(self, name: str, labels: dict[str, str], buckets: list[float],
                         mix: list[tuple[float, float]]) -> None:
        """Observations from now on: `mix` is a list of (latency in seconds, observations per second)."""
        with self.lock:
            self._advance()
            h = self.histograms.setdefault(name, {}).setdefault(
                _key(labels), {"buckets": sorted(buckets), "counts": [0.0] * (len(buckets) + 1), "sum": 0.0})
            h["mix"] = list(mix)

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self.last = now - self.last, now
        for series in self.counters.values():
            for state in series.values():
                state[0] += state[1] * elapsed
        for series in self.histograms.values():
            for h in series.values():
                for latency, rate in h.get("mix", ()):
                    n = rate * elapsed
                    index = next((i for i, b in enumerate(h["buckets"]) if latency <= b), len(h["buckets"]))
                    h["counts"][index] += n
                    h["sum"] += n * latency

    def collect(self):
        with self.lock:
            self._advance()
            for name, series in sorted(self.gauges.items()):
                yield _family(GaugeMetricFamily, name, series, lambda v: v)
            for name, series in sorted(self.counters.items()):
                if name.endswith("_total"):
                    yield _family(CounterMetricFamily, name.removesuffix("_total"), series, lambda s: s[0])
                else:  # prometheus_client would add `_total`; exporters such as postgres_exporter do not
                    yield _family(UnknownMetricFamily, name, series, lambda s: s[0])
            for name, series in sorted(self.histograms.items()):
                names = sorted({k for key in series for k, _ in key})
                family = HistogramMetricFamily(name, f"{name} (drill stand-in)", labels=names)
                for key, h in series.items():
                    cumulative, running = [], 0.0
                    for bound, count in zip([*h["buckets"], math.inf], h["counts"]):
                        running += count
                        cumulative.append(("+Inf" if bound == math.inf else repr(float(bound)), running))
                    values = dict(key)
                    family.add_metric([values.get(n, "") for n in names], cumulative, h["sum"])
                yield family


def _family(cls, name: str, series: dict, value):
    names = sorted({k for key in series for k, _ in key})
    family = cls(name, f"{name} (drill stand-in)", labels=names)
    for key, state in series.items():
        values = dict(key)
        family.add_metric([values.get(n, "") for n in names], value(state))
    return family


class StandIn:
    """One job's target: `/metrics` from its own registry."""

    def __init__(self, job: str, port: int) -> None:
        self.job, self.port = job, port
        self.series = Series()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.series)
        self.server: ThreadingHTTPServer | None = None
        self.discovery: tuple[Path, list] | None = None  # its file_sd file and target groups, when the drill has one

    def vanish(self) -> None:
        """Leave service discovery (an empty file_sd file; Prometheus re-reads it without a reload)."""
        self._discover([])

    def appear(self) -> None:
        self._discover(self.discovery[1] if self.discovery else [])

    def _discover(self, groups: list) -> None:
        if self.discovery is None:
            raise RuntimeError(f"the {self.job} stand-in has no file_sd entry")
        path = self.discovery[0]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups), encoding="utf-8")
        os.replace(tmp, path)  # atomic: Prometheus never reads half a file

    def _handler(self):
        registry = self.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = generate_latest(registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self) -> None:
        if self.server is not None:
            return
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name=f"standin-{self.job}", daemon=True).start()

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None


class Pushed:
    """A job pushed to a Pushgateway's stand-in: its series carry their own `job` label, which the gateway's scrape
    keeps (honor_labels). Drivers use it like a StandIn; the gateway's stand-in is the one started and stopped."""

    def __init__(self, gateway: "StandIn", job: str) -> None:
        self.gateway, self.job = gateway, job
        self.series = _Labelled(gateway.series, {"job": job})

    def __getattr__(self, name: str):
        return getattr(self.gateway, name)


class _Labelled:
    SETTERS = frozenset({"set_gauge", "set_rate", "set_latency", "set_observations", "remove"})

    def __init__(self, series: Series, extra: dict[str, str]) -> None:
        self._series, self._extra = series, extra

    def __getattr__(self, name: str):
        method = getattr(self._series, name)
        if name not in self.SETTERS:
            return method
        return lambda metric, labels, *args, **kwargs: method(metric, {**labels, **self._extra}, *args, **kwargs)
