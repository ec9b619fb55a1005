"""The metrics contract (monstack.contract, `monstack verify-metrics`), first against a fake Prometheus API, then
(marked slow) against the real thing: the example's exporters from Debian's packages on loopback, a stand-in
application serving the spec's `metrics:`, and the real Prometheus with the generated scrape configuration.
The celery job (no Debian celery-exporter) is left out of the live check: see tests/contract/stacks.py.
"""

from __future__ import annotations

import time

import pytest

from conftest import EXAMPLE, ROOT, run_cli
from monstack import contract, pipeline

SKIPPED_JOBS = ("celery",)  # no Debian celery-exporter


@pytest.fixture(scope="module")
def model():
    return pipeline.resolve(EXAMPLE).model


class FakeAPI(contract.PrometheusAPI):
    def __init__(self, series: dict[str, dict[str, set[str]]]) -> None:  # job -> metric -> label names
        super().__init__("http://fake")
        self.series = series

    def names(self, job=None):
        return {m for j, metrics in self.series.items() if job in (None, j) for m in metrics}

    def labels(self, metric, job=None):
        return {label for j, metrics in self.series.items() if job in (None, j)
                for label in metrics.get(metric, set())} | {"__name__", "job", "instance"}


def everything(model) -> dict[str, dict[str, set[str]]]:
    """A fake Prometheus holding every reference of the model, each with the labels it uses."""
    series: dict[str, dict[str, set[str]]] = {}
    for ref in contract.references(model):
        series.setdefault(ref.job, {}).setdefault(ref.metric, set()).update(ref.labels)
    return series


# --- fast: the references and the check, against a fake API ------------------------------------------------------

def test_references_name_the_rule_or_panel_and_the_job(model):
    refs = contract.references(model)
    wheres = {ref.where for ref in refs}
    assert "alert HighErrorRate" in wheres
    assert any(w.startswith("panel ") and "(dashboard overview)" in w for w in wheres)
    by = {(ref.where, ref.metric): ref for ref in refs}
    assert by[("alert HighErrorRate", "http_requests_total")].job == "fastapi"  # declared under metrics:
    assert by[("alert DatabaseDown", "pg_up")].job == "postgresql"  # job="postgresql" matcher
    assert by[("alert PostgresDeadlocks", "pg_stat_database_deadlocks")].job == "postgresql"  # the catalog
    assert "datname" in by[("alert PostgresDeadlocks", "pg_stat_database_deadlocks")].labels  # by (datname)
    assert "le" in by[("alert SlowResponseTime", "http_request_duration_seconds_bucket")].labels
    assert {"job", "instance"} <= set(by[("alert PostgresReplicationLag", "pg_replication_lag_seconds")].labels)


def test_complete_prometheus_has_no_findings(model):
    result = contract.verify(model, FakeAPI(everything(model)))
    assert result.ok, [f.message() for f in result.findings]
    assert not result.skipped


def test_missing_metric_and_label_are_named_with_closest_matches(model):
    series = everything(model)
    series["postgresql"]["pg_stat_database_deadlocks_total"] = series["postgresql"].pop("pg_stat_database_deadlocks")
    series["fastapi"]["http_requests_total"] = {"code"}  # renamed label: status -> code
    result = contract.verify(model, FakeAPI(series))
    messages = {(f.metric, f.label): f for f in result.findings}
    deadlocks = messages[("pg_stat_database_deadlocks", None)]
    assert "alert PostgresDeadlocks" in deadlocks.where
    assert deadlocks.closest[0] == "pg_stat_database_deadlocks_total"
    assert deadlocks.job == "postgresql"
    status = messages[("http_requests_total", "status")]
    assert "alert HighErrorRate" in status.where and any(w.startswith("panel ") for w in status.where)
    assert "label 'status' of metric 'http_requests_total' is not scraped from job 'fastapi'" in status.message()
    assert len(result.findings) == 2


def test_skipped_jobs_are_not_checked(model):
    series = everything(model)
    del series["celery"]
    result = contract.verify(model, FakeAPI(series), skip_jobs=("celery",))
    assert result.ok and {ref.metric for ref in result.skipped} >= {"celery_queue_length", "celery_worker_up"}


def test_verify_metrics_unreachable_prometheus_is_unusable():
    run = run_cli("verify-metrics", str(EXAMPLE), "--prometheus", "http://127.0.0.1:9")
    assert run.returncode == 2, run.stderr
    assert "cannot query Prometheus at http://127.0.0.1:9" in run.stderr


# --- slow: the real exporters, the real Prometheus ---------------------------------------------------------------

@pytest.fixture(scope="module")
def stack():
    from contract.services import require  # noqa: PLC0415
    from contract.stacks import Stack, missing_programs  # noqa: PLC0415

    require(missing_programs(), "the contract suite needs (bash scripts/install-tools.sh --exporters; apt-get "
                                "install redis-server postgresql)")
    generated = ROOT / "generated" / "real-estate-scraper"
    started = time.monotonic()
    with Stack(generated) as running:
        api = contract.PrometheusAPI(running.prometheus_url)
        jobs = {job.name for job in pipeline.resolve(EXAMPLE).model.jobs} - set(SKIPPED_JOBS)

        def all_scraped() -> bool:
            ups = api.get("/api/v1/query", query="up")["result"]
            return jobs <= {r["metric"]["job"] for r in ups if r["value"][1] == "1"}

        from contract.services import wait_for  # noqa: PLC0415

        wait_for(all_scraped, f"a successful scrape of jobs {sorted(jobs)}", 60, list(running.services.values()))
        print(f"\ncontract stack up and scraped in {time.monotonic() - started:.1f}s")
        yield running, api


@pytest.mark.slow
def test_exporter_versions(stack):
    from contract.services import BIN, PG_BIN, version  # noqa: PLC0415

    for program in ("node_exporter", "redis_exporter", "postgres_exporter", "prometheus", "alertmanager"):
        print(program, version(BIN / program))
    print("redis-server", version("redis-server"))
    print("postgres", version(PG_BIN / "postgres"))


@pytest.mark.slow
def test_every_referenced_metric_and_label_is_really_scraped(stack, model):
    _, api = stack
    result = contract.verify(model, api, skip_jobs=SKIPPED_JOBS)
    assert result.ok, "\n".join(f.message() for f in result.findings)
    assert len(result.checked) > 100
    assert {ref.job for ref in result.skipped} == set(SKIPPED_JOBS)


@pytest.mark.slow
def test_every_selector_of_every_rule_matches_scraped_series(stack, model):
    """Stricter than names: label values too (mode="idle", fstype!~..., mountpoint="/", job="..."); the stand-in
    serves status 500 and result failure/failed, so the application's selectors match by construction."""
    from contract.series_match import empty_selectors  # noqa: PLC0415

    _, api = stack
    celery = ("celery_worker_up", "celery_queue_length", 'job="celery"')
    empty = empty_selectors(model, api, skip=lambda selector: any(name in selector for name in celery))
    assert not empty, "selectors matching no scraped series:\n" + "\n".join(empty)


@pytest.mark.slow
def test_verify_metrics_names_a_misspelled_metric_and_label(stack, tmp_path):
    running, _ = stack
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("        used: pg_stat_activity_count\n", "        used: pg_stat_activty_count\n")
    text = text.replace("metrics:\n", "metrics:\n  - {name: pg_stat_activty_count, type: gauge, target: postgresql,"
                        " help: misspelled}\n", 1)
    text = text.replace("over: 5m, by: [datname]}}", "over: 5m, by: [dbname]}}")  # `validate` warns only:
    text = text.replace("{{ $labels.datname }}", "{{ $labels.dbname }}")  # the exporter may carry more labels
    spec = tmp_path / "misspelled.yaml"
    spec.write_text(text, encoding="utf-8")
    skips = [arg for job in SKIPPED_JOBS for arg in ("--skip-job", job)]
    run = run_cli("verify-metrics", str(spec), "--prometheus", running.prometheus_url, *skips)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "metric 'pg_stat_activty_count' is not scraped from job 'postgresql'" in run.stderr
    assert "closest: pg_stat_activity_count" in run.stderr
    assert "alert HighConnectionCount" in run.stderr
    assert "label 'dbname' of metric 'pg_stat_database_deadlocks' is not scraped from job 'postgresql'; " \
        "closest: datname" in run.stderr
    assert "alert PostgresDeadlocks" in run.stderr
    assert "2 missing" in run.stdout
    good = run_cli("verify-metrics", str(EXAMPLE), "--prometheus", running.prometheus_url, *skips)
    assert good.returncode == 0, good.stdout + good.stderr


def _firing(api, alert: str) -> bool:
    return any(a["labels"].get("alertname") == alert and a["state"] == "firing" for a in api.alerts())


@pytest.mark.slow
@pytest.mark.parametrize(("service", "alert"), [("redis-server", "RedisDown"), ("postgresql", "DatabaseDown")])
def test_stopping_a_service_fires_its_down_alert(stack, service, alert):
    from contract.services import wait_for  # noqa: PLC0415

    running, api = stack
    assert not _firing(api, alert)
    started = time.monotonic()
    running.services[service].stop()
    wait_for(lambda: _firing(api, alert), f"{alert} firing after stopping {service}", 90,
             [s for name, s in running.services.items() if name not in (service, "redis-server", "postgresql")])
    print(f"{alert} fired {time.monotonic() - started:.1f}s after stopping {service}")
