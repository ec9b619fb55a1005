#!/usr/bin/env python3
"""Measure the exporter catalogue: src/monstack/catalog/<kind>.yml from what the real exporters serve.

How to run (a dev tool, not run in CI; root, on Debian bookworm, a few minutes the first time):

    make contract-deps          # the exporters (.tools/bin) and the services (PostgreSQL, Redis, MariaDB, nginx,
                                # RabbitMQ), as CI installs them
    make venv
    .venv/bin/python scripts/measure-exporters.py            # measure every Debian-packaged kind, write the files
    .venv/bin/python scripts/measure-exporters.py --check    # write nothing; exit 1 if a file would change
    .venv/bin/python scripts/measure-exporters.py mysql nginx   # only these kinds

It starts every service on loopback through tests/contract/catalogue_services.py's Catalogue (the launchers the contract
suite uses: own temporary folder, free ports, own process groups, all stopped at the end), scrapes each endpoint in
the text format and writes one file per kind, deterministically: fields in a fixed order, families sorted, label
lists and example values sorted (values of this run such as ports, temporary folders, random ids left out). The
hand-kept fields of an existing file survive a rerun: title, exporter, the image's repository (its tag follows the
measured version), port, service, watches, up, multi_target, and every entry marked `observed: false`; the date
only changes when what was measured changes. Files marked `observed: false` at file level (celery: no Debian
package) are never touched. At the end it lists the names of src/monstack/exporters.py that were not served.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from contract import catalogue  # noqa: E402
from contract.catalogue_services import Catalogue, catalogue_missing_programs  # noqa: E402

# kind file -> the hand-kept defaults of a new file; `image` is (repository, tag prefix): the tag is the version
KINDS: dict[str, dict] = {
    "node": dict(kind="node", title="Linux host (node_exporter)", exporter="node_exporter",
                 image=("prom/node-exporter", "v"), port=9100, service="node-exporter", watches=None, up="up",
                 program="node_exporter", package="prometheus-node-exporter"),
    "postgres": dict(kind="postgres", title="PostgreSQL (postgres_exporter)", exporter="postgres_exporter",
                     image=("quay.io/prometheuscommunity/postgres-exporter", "v"), port=9187,
                     service="postgres-exporter", watches="postgres:5432", up="pg_up",
                     multi_target={"path": "/probe", "param": "target"},
                     program="postgres_exporter", package="prometheus-postgres-exporter"),
    "redis": dict(kind="redis", title="Redis (redis_exporter)", exporter="redis_exporter",
                  image=("oliver006/redis_exporter", "v"), port=9121, service="redis-exporter", watches="redis:6379",
                  up="redis_up", multi_target={"path": "/scrape", "param": "target"},
                  program="redis_exporter", package="prometheus-redis-exporter"),
    "mysql": dict(kind="mysql", title="MySQL / MariaDB (mysqld_exporter)", exporter="mysqld_exporter",
                  image=("prom/mysqld-exporter", "v"), port=9104, service="mysqld-exporter", watches="mysql:3306",
                  up="mysql_up", multi_target={"path": "/probe", "param": "target"},
                  program="mysqld_exporter", package="prometheus-mysqld-exporter"),
    "nginx": dict(kind="nginx", title="nginx (nginx-prometheus-exporter, stub_status)",
                  exporter="nginx-prometheus-exporter", image=("nginx/nginx-prometheus-exporter", ""), port=9113,
                  service="nginx-exporter", watches="nginx:8080", up="nginx_up",
                  program="nginx_exporter", package="prometheus-nginx-exporter"),
    "blackbox": dict(kind="probe", title="Blackbox probes (blackbox_exporter)", exporter="blackbox_exporter",
                     image=("prom/blackbox-exporter", "v"), port=9115, service="blackbox-exporter", watches=None,
                     up="probe_success", multi_target={"path": "/probe", "param": "target"},
                     program="blackbox_exporter", package="prometheus-blackbox-exporter"),
    "pushgateway": dict(kind="pushgateway", title="Pushgateway", exporter=None, image=("prom/pushgateway", "v"),
                        port=9091, service="pushgateway", watches=None, up="up",
                        program="pushgateway", package="prometheus-pushgateway"),
    "rabbitmq": dict(kind="rabbitmq", title="RabbitMQ (built-in rabbitmq_prometheus plugin)", exporter=None,
                     image=("rabbitmq", ""), port=15692, service="rabbitmq", watches=None, up="up",
                     program="RabbitMQ", package="rabbitmq-server"),
    "prometheus": dict(kind="prometheus", title="Prometheus (its own metrics)", exporter=None,
                       image=("prom/prometheus", "v"), port=9090, service="prometheus", watches=None, up="up",
                       program="prometheus", package="prometheus"),
    "alertmanager": dict(kind="alertmanager", title="Alertmanager (its own metrics)", exporter=None,
                         image=("prom/alertmanager", "v"), port=9093, service="alertmanager", watches=None, up="up",
                         program="alertmanager", package="prometheus-alertmanager"),
}
HAND_KEPT = ("kind", "title", "exporter", "port", "service", "watches", "up", "multi_target", "honor_labels")


def against(name: str, v: dict[str, str]) -> str:
    return {
        "node": f"Linux {platform.release()} (a virtual machine: no hardware sensors, no systemd)",
        "postgres": f"PostgreSQL {v['PostgreSQL']} (primary, and a streaming replica through a second exporter)",
        "redis": f"Redis {v['Redis']} (primary, and a replica through /scrape?target=)",
        "mysql": f"MariaDB {v['MariaDB']} (primary on /metrics and /probe, binlog replica on /probe with "
                 "auth_module)",
        "nginx": f"nginx {v['nginx']} stub_status",
        "blackbox": "a local HTTP and a self-signed HTTPS endpoint (modules http_2xx, tcp_connect)",
        "pushgateway": "one pushed group (job, instance)",
        "rabbitmq": f"RabbitMQ {v['RabbitMQ']} (Debian bookworm), one durable classic queue",
        "prometheus": "itself: one rule group, one Alertmanager",
        "alertmanager": "itself: one webhook receiver",
    }[name]


def measure(kinds: list[str]) -> tuple[dict[str, dict[str, dict]], dict[str, str]]:
    """file -> {metrics key -> entries}, and the versions that ran."""
    started = time.monotonic()
    with Catalogue() as running:
        print(f"services up in {time.monotonic() - started:.1f}s", file=sys.stderr)
        running.wait_settled()
        moved = {f"{running.dir}/prometheus": "/etc/prometheus", f"{running.dir}/alertmanager": "/alertmanager",
                 str(running.dir): "/var/lib/monstack", running.rabbit_env["RABBITMQ_NODENAME"]: "rabbit@localhost",
                 running.rabbit_env["RABBITMQ_NODENAME"].split("@")[0]: "rabbit"}
        ports = {str(port) for port in running.ports.values()}

        def clean(label: str, value: str) -> str | None:
            for old, new in moved.items():
                value = value.replace(old, new)
            if any(re.search(rf"(?<!\d){port}(?!\d)", value) for port in ports):
                return None  # a port of this run
            return value

        out: dict[str, dict[str, dict]] = {}
        for (name, key), families in sorted(catalogue.scrape_all(running.scrapes).items()):
            if name not in kinds:
                continue
            if name == "pushgateway":  # the pushed family is the batch job's, not the Pushgateway's
                families.pop(running.PUSHED, None)
            out.setdefault(name, {})[key] = catalogue.entries(families, clean)
            print(f"  {name:12} {key:18} {len(families):4} families", file=sys.stderr)
        return out, running.versions()


def build(name: str, measured: dict[str, dict], versions: dict[str, str], old: dict) -> dict:
    spec = KINDS[name]
    version = versions[spec["program"]]
    doc = {key: old.get(key, spec.get(key)) for key in HAND_KEPT if key in old or key in spec}
    repository, prefix = spec["image"]
    if old.get("image"):
        repository = old["image"].rsplit(":", 1)[0]
    doc["image"] = f"{repository}:{prefix}{version}"
    doc["measured"] = {"version": version, "against": against(name, versions), "package": spec["package"],
                       "date": datetime.date.today()}
    for key, entries in measured.items():
        kept = {n: e for n, e in old.get(key, {}).items() if e.get("observed") is False and n not in entries}
        doc[key] = dict(sorted({**entries, **kept}.items()))
    for key in catalogue.METRIC_KEYS:  # an endpoint not measured this time keeps its unobserved entries
        if key not in doc and any(e.get("observed") is False for e in old.get(key, {}).values()):
            doc[key] = {n: e for n, e in old[key].items() if e.get("observed") is False}
    if old.get("measured") and {**old, "measured": {**old["measured"], "date": None}} == \
            {**doc, "measured": {**doc["measured"], "date": None}}:
        doc["measured"]["date"] = old["measured"]["date"]  # nothing changed: keep the date
    return {key: doc[key] for key in catalogue.FILE_KEYS + catalogue.METRIC_KEYS if key in doc}


HEADER = """{title}: measured by scripts/measure-exporters.py (see its docstring to rerun) from Debian's
{package} {version}, against {against}.
Hand-kept (a rerun keeps them): title, exporter, the image repository, port, service, watches, up, multi_target and
the entries marked observed: false. Everything else is what the exporter served."""


def old_names_not_served(files: dict[str, dict]) -> list[str]:
    """The names src/monstack/exporters.py lists that the measured catalogue does not have (or has unobserved)."""
    from monstack import exporters  # noqa: PLC0415

    out = []
    for kind, spec in sorted(exporters.KINDS.items()):
        doc = files.get({"probe": "blackbox"}.get(kind, kind))
        if doc is None or not spec.metrics:
            continue
        served = {n for key in catalogue.METRIC_KEYS for n, e in doc.get(key, {}).items()
                  if e.get("observed") is not False}
        for name in sorted(spec.metrics):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in served and base not in served:
                out.append(f"{kind}: {name}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", help=f"catalogue files to measure (default: all of {sorted(KINDS)})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    args = parser.parse_args()
    kinds = args.kinds or sorted(KINDS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kinds {unknown}; measurable: {sorted(KINDS)}")
    missing = catalogue_missing_programs()
    if missing:
        print("measure-exporters: missing (make contract-deps): " + ", ".join(missing), file=sys.stderr)
        return 2
    measured, versions = measure(kinds)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), file=sys.stderr)
    catalogue.CATALOG.mkdir(parents=True, exist_ok=True)
    changed = []
    for name in kinds:
        path = catalogue.CATALOG / f"{name}.yml"
        old = catalogue.load(path) if path.exists() else {}
        if old.get("observed") is False:
            continue
        doc = build(name, measured.get(name, {}), versions, old)
        text = catalogue.render(doc, HEADER.format(title=doc["title"], **doc["measured"]))
        families = sum(len(doc.get(key, {})) for key in catalogue.METRIC_KEYS)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path.name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {families} families", file=sys.stderr)
    files = {name: catalogue.load(path) for name, path in catalogue.all_files().items()}
    for line in old_names_not_served(files):
        print(f"not served (listed in src/monstack/exporters.py): {line}")
    if args.check and changed:
        print("would change: " + ", ".join(changed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
