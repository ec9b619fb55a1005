"""A stand-in for the application: serves every metric of a spec's `metrics:` section, with every declared label,
through prometheus_client on 127.0.0.1:PORT; with TARGET, only the metrics declared for that target (not, say,
what a batch job pushes to a Pushgateway). Usage: python standin.py SPEC PORT [TARGET]

Each labelled metric gets one series per label (values chosen so the example's rules find their series: status
500 and 200, result failure/failed/success); counters are incremented, histograms observe one value.
"""

from __future__ import annotations

import signal
import sys
import time

import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, start_http_server

SAMPLE_VALUES = {"status": ["200", "500"], "result": ["success", "failure", "sent", "failed"]}
TYPES = {"counter": Counter, "gauge": Gauge, "histogram": Histogram, "summary": Summary}


def serve(spec_path: str, port: int, target: str | None = None) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    registry = CollectorRegistry()
    for m in spec.get("metrics") or []:
        if target is not None and m.get("target") != target:
            continue
        labels = list(m.get("labels") or [])
        kwargs = {"registry": registry, "labelnames": labels}
        if m["type"] == "histogram" and m.get("buckets"):
            kwargs["buckets"] = m["buckets"]
        metric = TYPES[m["type"]](m["name"], m.get("help") or m["name"], **kwargs)
        for values in _label_sets(labels):
            child = metric.labels(*values) if labels else metric
            {"counter": lambda c: c.inc(), "gauge": lambda c: c.set(1),
             "histogram": lambda c: c.observe(0.1), "summary": lambda c: c.observe(0.1)}[m["type"]](child)
    start_http_server(port, addr="127.0.0.1", registry=registry)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


def _label_sets(labels: list[str]) -> list[tuple[str, ...]]:
    sets: list[tuple[str, ...]] = [()]
    for label in labels:
        sets = [s + (v,) for s in sets for v in SAMPLE_VALUES.get(label, [f"{label}-1"])]
    return sets


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])
