"""The measured exporter catalogue (src/monstack/catalog/*.yml, written by scripts/measure-exporters.py): every file
has the catalogue's format (fast), and (marked slow) every Debian-packaged exporter, started for real against its
real service, still serves every family the catalogue says it measured, with that type and those labels: an
exporter release that renames a metric or drops a label fails here, naming it.
"""

from __future__ import annotations

import datetime
import re
import time

import pytest
import yaml

from contract import catalogue

FILES = catalogue.all_files()
REQUIRED = {"kind": str, "title": str, "exporter": (str, type(None)), "image": str, "port": int, "service": str,
            "watches": (str, type(None)), "up": str, "measured": dict}
NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# --- fast: the format ----------------------------------------------------------------------------------------

def test_the_catalogue_has_every_kind():
    kinds = {catalogue.load(path)["kind"]: stem for stem, path in FILES.items()}
    assert set(kinds) >= {"node", "postgres", "redis", "mysql", "nginx", "probe", "pushgateway", "rabbitmq",
                          "prometheus", "alertmanager", "celery"}
    assert len(kinds) == len(FILES), "two files define the same kind"
    assert all(stem == kind for kind, stem in kinds.items() if kind != "probe") and kinds["probe"] == "blackbox"


@pytest.mark.parametrize("stem", sorted(FILES))
def test_catalogue_file_format(stem):
    path = FILES[stem]
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    where = path.name
    assert set(doc) <= set(catalogue.FILE_KEYS) | set(catalogue.METRIC_KEYS), f"{where}: unknown keys"
    for key, types in REQUIRED.items():
        assert isinstance(doc.get(key), types), f"{where}: {key} missing or not {types}"
    assert 1 <= doc["port"] <= 65535, f"{where}: port {doc['port']}"
    repository, _, tag = doc["image"].rpartition(":")
    assert repository and tag and tag != "latest" and "/" not in tag, f"{where}: image {doc['image']!r} not pinned"
    measured = doc["measured"]
    assert {"version", "against", "package", "date"} <= set(measured), f"{where}: measured {measured}"
    assert isinstance(measured["date"], datetime.date), f"{where}: measured.date is not a date"
    if doc.get("observed") is not False:  # measured here: the image's tag is the measured version
        assert measured["version"] in tag, f"{where}: image tag {tag} is not the measured {measured['version']}"
    else:
        assert doc.get("observed") is False
    if "multi_target" in doc:
        mt = doc["multi_target"]
        assert set(mt) == {"path", "param"} and mt["path"].startswith("/") and LABEL.match(mt["param"]), where
    assert doc["metrics"], f"{where}: no metrics"
    assert doc["up"] == "up" or doc["up"] in doc["metrics"], f"{where}: up metric {doc['up']} not among metrics"
    for key in catalogue.METRIC_KEYS:
        if key not in doc:
            continue
        names = list(doc[key])
        in_text = re.findall(rf"^  ([a-zA-Z_:][a-zA-Z0-9_:]*):", text.split(f"\n{key}:\n", 1)[1], re.M)
        assert in_text[: len(names)] == sorted(names), f"{where}: {key} not sorted by name"
        for name, entry in doc[key].items():
            at = f"{where}: {key}.{name}"
            assert NAME.match(name) and not catalogue.is_noise(name), at
            assert set(entry) <= set(catalogue.ENTRY_KEYS), f"{at}: unknown fields {set(entry)}"
            assert entry["type"] in catalogue.TYPES, f"{at}: type {entry['type']}"
            assert isinstance(entry["help"], str) and len(entry["help"]) <= catalogue.MAX_HELP, f"{at}: help"
            labels = entry["labels"]
            assert isinstance(labels, list) and labels == sorted(set(labels)), f"{at}: labels not sorted/unique"
            assert all(isinstance(label, str) and LABEL.match(label) for label in labels), f"{at}: label names"
            assert not {"job", "instance"} & set(labels), f"{at}: job/instance are Prometheus's labels"
            if entry["type"] == "histogram":
                assert "le" not in labels and not name.endswith(("_bucket", "_sum", "_count")), at
            if entry["type"] == "summary":
                assert "quantile" not in labels, at
            for label, values in entry.get("examples", {}).items():
                assert label in labels, f"{at}: example of unknown label {label}"
                assert 1 <= len(values) <= catalogue.MAX_EXAMPLES and all(isinstance(v, str) for v in values), at
            assert entry.get("observed", False) is False, f"{at}: observed is only ever `false`"


def test_parser_keeps_real_counter_names_and_lists_a_histogram_once():
    text = """# HELP nginx_connections_accepted Accepted client connections
# TYPE nginx_connections_accepted counter
nginx_connections_accepted 7
# HELP http_request_duration_seconds Latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/a",le="0.1"} 1
http_request_duration_seconds_bucket{handler="/b",le="+Inf"} 2
http_request_duration_seconds_sum{handler="/a"} 0.5
http_request_duration_seconds_count{handler="/a"} 2
# TYPE rpc summary
rpc{quantile="0.5",code="a\\"b"} 1
rpc_sum 1
rpc_count 1
# TYPE declared_only gauge
no_type_line{x="1"} 3
go_goroutines 9
"""
    families = catalogue.parse(text)
    assert set(families) == {"nginx_connections_accepted", "http_request_duration_seconds", "rpc", "declared_only",
                             "no_type_line", "go_goroutines"}
    entries = catalogue.entries(families)
    assert entries["nginx_connections_accepted"] == {"type": "counter", "help": "Accepted client connections",
                                                     "labels": []}
    assert entries["http_request_duration_seconds"]["labels"] == ["handler"]
    assert entries["http_request_duration_seconds"]["examples"] == {"handler": ["/a", "/b"]}
    assert entries["rpc"]["labels"] == ["code"] and entries["rpc"]["examples"] == {"code": ['a"b']}
    assert entries["declared_only"]["observed"] is False
    assert entries["no_type_line"]["type"] == "untyped"
    assert "go_goroutines" not in entries


def test_render_is_stable_and_reads_back():
    doc = {"kind": "x", "title": "X: y", "exporter": None, "image": "a/b:v1", "port": 1, "service": "s",
           "watches": None, "up": "up", "measured": {"version": "1", "against": "z", "package": "p",
                                                    "date": datetime.date(2026, 1, 2)},
           "metrics": {"b": {"type": "gauge", "help": "it's", "labels": ["l"], "examples": {"l": ["1", "yes"]}},
                       "a": {"type": "counter", "help": "", "labels": []}}}
    text = catalogue.render(doc, "header")
    assert text.splitlines()[0] == "# header" and text.index("\n  a:") < text.index("\n  b:")
    assert catalogue.render(yaml.safe_load(text), "header") == text


# --- slow: the real exporters ----------------------------------------------------------------------------------

def _measurable() -> list[str]:
    return sorted(stem for stem, path in FILES.items() if catalogue.load(path).get("observed") is not False)


@pytest.fixture(scope="module")
def scraped():
    from contract.catalogue_services import Catalogue, catalogue_missing_programs  # noqa: PLC0415
    from contract.services import require  # noqa: PLC0415

    require(catalogue_missing_programs(), "the catalogue check needs (make contract-deps)")
    started = time.monotonic()
    with Catalogue() as running:
        running.wait_settled()
        out = catalogue.scrape_all(running.scrapes)
        print(f"\ncatalogue services up and scraped in {time.monotonic() - started:.1f}s; "
              + ", ".join(f"{k} {v}" for k, v in running.versions().items()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stem", _measurable())
def test_the_real_exporter_serves_its_catalogue(scraped, stem):
    doc = catalogue.load(FILES[stem])
    problems = []
    for key in catalogue.METRIC_KEYS:
        if key not in doc:
            continue
        served = scraped.get((stem, key))
        assert served is not None, f"{stem}: the contract services scrape no {key} endpoint"
        for name, entry in sorted(doc[key].items()):
            if entry.get("observed") is False:
                continue
            family = served.get(name)
            if family is None or not family.samples:
                close = sorted(n for n in served if n[:12] == name[:12] and served[n].samples)[:5]
                problems.append(f"{key}: {name} ({entry['type']}) is not served any more; similar: {close}")
                continue
            if family.type != entry["type"]:
                problems.append(f"{key}: {name} is a {family.type} now, the catalogue says {entry['type']}")
            dropped = sorted(set(entry["labels"]) - family.labels)
            if dropped:
                problems.append(f"{key}: {name} lost label(s) {dropped} (serves {sorted(family.labels)})")
    assert not problems, f"{FILES[stem].name} (measured {doc['measured']['version']}):\n" + "\n".join(problems)
