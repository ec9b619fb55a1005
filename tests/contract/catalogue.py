"""The measured exporter catalogue (src/monstack/catalog/<kind>.yml): read what a real exporter serves, turn it into
catalogue entries, and write the files deterministically. Shared by scripts/measure-exporters.py (which writes the
files) and tests/test_catalogue.py (which checks that the real exporters still serve them).

A family is what `# TYPE` declares (or, without one, a sample's own name: untyped), named as Prometheus stores it:
counters keep their real names (nginx-prometheus-exporter's `nginx_connections_accepted` has no `_total`), a
histogram or a summary is listed once under its base name. The text format is parsed here rather than by
prometheus_client, whose parser renames a counter without `_total` (it appends the suffix to the samples).
"""

from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src" / "monstack" / "catalog"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
NOISE = ("go_", "process_", "promhttp_")  # the Go runtime and the HTTP handler of every Go exporter
MAX_EXAMPLES = 4
MAX_HELP = 200
FILE_KEYS = ("kind", "title", "exporter", "image", "port", "service", "watches", "up", "multi_target", "honor_labels",
             "measured", "observed")
METRIC_KEYS = ("metrics", "per_object_metrics", "exporter_metrics")  # the families, per endpoint
ENTRY_KEYS = ("type", "help", "labels", "examples", "observed")
# label values that change from one run to the next (random ids, process ids): no examples for them
VOLATILE_LABELS = frozenset({"run_id", "process_id", "pid", "rabbitmq_cluster_permanent_id", "master_uuid",
                             "tcp_port", "master_port", "slave_io_state", "uuid", "boot_id", "machine_id",
                             "slot_name", "fingerprint_sha256", "serialnumber", "peer", "master_replid"})


def fetch(url: str, timeout: float = 30) -> str:
    """The text exposition format (not OpenMetrics: names as Prometheus stores them)."""
    request = urllib.request.Request(url, headers={"Accept": "text/plain;version=0.0.4"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8", errors="replace")


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str = ""
    labels: set[str] = field(default_factory=set)
    examples: dict[str, set[str]] = field(default_factory=dict)
    samples: int = 0


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+\S+")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _labels(text: str) -> dict[str, str]:
    out, pos = {}, 0
    inner = text[1:-1]
    while pos < len(inner):
        match = _LABEL.match(inner, pos)
        if not match:
            break
        out[match.group(1)] = re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m.group(0)], match.group(2))
        pos = match.end()
    return out


def _family_of(sample: str, families: dict[str, Family]) -> Family:
    if sample in families:
        return families[sample]
    for suffix in ("_bucket", "_sum", "_count", "_created", "_total"):
        base = sample[: -len(suffix)]
        if sample.endswith(suffix) and base in families and families[base].type in ("histogram", "summary"):
            return families[base]
    families[sample] = Family(sample)
    return families[sample]


def parse(text: str) -> dict[str, Family]:
    """Every family of a /metrics page: type, help, label names (without job/instance, le/quantile) and the values
    seen per label; a family declared without samples has samples == 0."""
    families: dict[str, Family] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(None, 3)
            if len(parts) < 3:
                continue
            family = families.setdefault(parts[2], Family(parts[2]))
            rest = parts[3] if len(parts) > 3 else ""
            if parts[1] == "HELP":
                family.help = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), rest)
            else:
                family.type = rest.strip() if rest.strip() in TYPES else "untyped"
            continue
        if not line.strip() or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        family = _family_of(match.group(1), families)
        family.samples += 1
        skip = {"job", "instance"} | ({"le"} if family.type == "histogram" else set()) \
            | ({"quantile"} if family.type == "summary" else set())
        for label, value in _labels(match.group(2) or "{}").items():
            if label in skip:
                continue
            family.labels.add(label)
            family.examples.setdefault(label, set()).add(value)
    return families


SCRAPE_FILE = {"probe": "blackbox"}  # a Scrape's kind -> its catalogue file, where the two differ


def scrape_all(scrapes, rounds: int = 2, pause: float = 1.0) -> dict[tuple[str, str], dict[str, Family]]:
    """(catalogue file, metrics key) -> the families of every scrape of it, each endpoint read `rounds` times
    (a family or a label value that only shows at some moments, a backend's state, is then less often missed)."""
    out: dict[tuple[str, str], dict[str, Family]] = {}
    for round_ in range(rounds):
        if round_:
            time.sleep(pause)
        for scrape in scrapes:
            into = out.setdefault((SCRAPE_FILE.get(scrape.kind, scrape.kind), scrape.key), {})
            for name, family in parse(fetch(scrape.url)).items():
                have = into.setdefault(name, Family(name, family.type, family.help))
                if family.samples and not have.samples:
                    have.type, have.help = family.type, family.help
                have.samples += family.samples
                have.labels |= family.labels
                for label, values in family.examples.items():
                    have.examples.setdefault(label, set()).update(values)
    return out


def is_noise(name: str) -> bool:
    return name.startswith(NOISE)


def entries(families: dict[str, Family], clean=lambda label, value: value) -> dict[str, dict]:
    """Catalogue entries of parsed families, noise left out; `clean(label, value)` rewrites an example value of
    this run (temporary folders, ports) or returns None to leave it out."""
    out = {}
    for name in sorted(families):
        family = families[name]
        if is_noise(name):
            continue
        entry: dict = {"type": family.type, "help": _help(family.help), "labels": sorted(family.labels)}
        if not family.samples:  # declared (# TYPE) without a sample: Prometheus would store nothing
            entry["observed"] = False
        examples = {}
        for label in sorted(family.examples):
            if label in VOLATILE_LABELS:
                continue
            values = sorted({v for v in (clean(label, value) for value in family.examples[label])
                             if v is not None and v != "" and len(v) <= 100})
            if values:
                examples[label] = values[:MAX_EXAMPLES]
        if examples:
            entry["examples"] = examples
        out[name] = entry
    return out


def _help(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_HELP else text[: MAX_HELP - 3].rstrip() + "..."


# --- the files ---------------------------------------------------------------------------------------------------

def load(kind_file: Path) -> dict:
    return yaml.safe_load(kind_file.read_text(encoding="utf-8")) or {}


def all_files() -> dict[str, Path]:
    """file stem -> path of every catalogue file (the stem names the exporter: blackbox.yml holds kind `probe`)."""
    return {path.stem: path for path in sorted(CATALOG.glob("*.yml"))}


def _flow(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()  # a plain scalar is dumped as a document of its own


def render(doc: dict, header: str) -> str:
    """One catalogue file: the fields in FILE_KEYS order, then each endpoint's families sorted by name, one family
    per line (its fields in ENTRY_KEYS order)."""
    unknown = set(doc) - set(FILE_KEYS) - set(METRIC_KEYS)
    if unknown:
        raise ValueError(f"unknown catalogue keys: {sorted(unknown)}")
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    for key in FILE_KEYS:
        if key in doc:
            value = doc[key]
            lines.append(f"{key}: {_flow(value)}" if value is not None else f"{key}: null")
    for key in METRIC_KEYS:
        if key not in doc:
            continue
        lines.append(f"{key}:")
        for name in sorted(doc[key]):
            entry = doc[key][name]
            ordered = {k: entry[k] for k in ENTRY_KEYS if k in entry}
            ordered.update({k: v for k, v in entry.items() if k not in ordered})
            lines.append(f"  {name}: {_flow(ordered)}")
    text = "\n".join(lines) + "\n"
    assert yaml.safe_load(text) == {k: v for k, v in doc.items()}, "rendered catalogue does not read back"
    return text
