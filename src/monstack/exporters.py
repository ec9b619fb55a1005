"""What each target kind is: which exporter serves its metrics, on which port, and its `*_up` metric.

The user writes `kind: postgres, address: db:5432`; monstack scrapes postgres_exporter (never 5432, which does not
speak HTTP) and alerts on `pg_up`. `metrics` lists the names the exporter is known to expose, so that a rule
naming a metric nobody exposes (the guide's `pg_slow_queries_total`) is caught before production; a spec can
declare more under `metrics:` with the target's name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    exporter: str | None  # name of the exporter program (None: the target serves /metrics itself)
    service: str  # default host (compose service name) of what is scraped
    port: int  # default port of what is scraped
    up_metric: str  # the service's own health as the exporter sees it
    metrics: frozenset[str] = frozenset()


NODE = frozenset({
    "node_cpu_seconds_total", "node_load1", "node_load5", "node_load15",
    "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "node_memory_MemFree_bytes",
    "node_memory_Buffers_bytes", "node_memory_Cached_bytes", "node_memory_SwapTotal_bytes",
    "node_memory_SwapFree_bytes", "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
    "node_filesystem_free_bytes", "node_filesystem_files", "node_filesystem_files_free",
    "node_filesystem_readonly", "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    "node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_disk_io_time_seconds_total",
    "node_boot_time_seconds", "node_time_seconds", "node_uname_info", "node_exporter_build_info",
})
POSTGRES = frozenset({
    "pg_up", "pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_settings_max_connections",
    "pg_stat_database_deadlocks", "pg_stat_database_numbackends", "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback", "pg_stat_database_blks_hit", "pg_stat_database_blks_read",
    "pg_stat_database_conflicts", "pg_stat_database_temp_bytes", "pg_database_size_bytes",
    "pg_replication_lag_seconds", "pg_replication_is_replica", "pg_locks_count", "pg_postmaster_start_time_seconds",
    "pg_exporter_last_scrape_error", "postgres_exporter_build_info",
})
REDIS = frozenset({
    "redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_clients",
    "redis_blocked_clients", "redis_evicted_keys_total", "redis_expired_keys_total", "redis_keyspace_hits_total",
    "redis_keyspace_misses_total", "redis_commands_processed_total", "redis_db_keys", "redis_rejected_connections_total",
    "redis_uptime_in_seconds", "redis_connected_slaves", "redis_exporter_build_info",
})
CELERY = frozenset({
    "celery_worker_up", "celery_queue_length", "celery_active_worker_count", "celery_active_consumer_count",
    "celery_active_process_count", "celery_task_sent_total", "celery_task_received_total",
    "celery_task_started_total", "celery_task_succeeded_total", "celery_task_failed_total",
    "celery_task_rejected_total", "celery_task_revoked_total", "celery_task_retried_total",
    "celery_worker_tasks_active", "celery_task_runtime_bucket", "celery_task_runtime_sum",
    "celery_task_runtime_count",
})
PROMETHEUS = frozenset({
    "prometheus_rule_evaluation_failures_total", "prometheus_rule_group_iterations_missed_total",
    "prometheus_notifications_errors_total", "prometheus_notifications_sent_total",
    "prometheus_notifications_dropped_total", "prometheus_notifications_queue_length",
    "prometheus_notifications_queue_capacity", "prometheus_notifications_alertmanagers_discovered",
    "prometheus_config_last_reload_successful", "prometheus_tsdb_head_series",
    "prometheus_tsdb_compactions_failed_total", "prometheus_target_scrapes_exceeded_sample_limit_total",
    "prometheus_build_info",
})
ALERTMANAGER = frozenset({
    "alertmanager_notifications_total", "alertmanager_notifications_failed_total",
    "alertmanager_notification_requests_total", "alertmanager_notification_requests_failed_total",
    "alertmanager_config_last_reload_successful", "alertmanager_alerts", "alertmanager_cluster_members",
    "alertmanager_build_info",
})

KINDS: dict[str, Kind] = {
    "app": Kind(None, "app", 8000, "up"),
    "custom": Kind(None, "app", 8000, "up"),
    "node": Kind("node_exporter", "node-exporter", 9100, "up", NODE),
    "postgres": Kind("postgres_exporter", "postgres-exporter", 9187, "pg_up", POSTGRES),
    "redis": Kind("redis_exporter", "redis-exporter", 9121, "redis_up", REDIS),
    "celery": Kind("celery-exporter", "celery-exporter", 9808, "up", CELERY),
    "prometheus": Kind(None, "prometheus", 9090, "up", PROMETHEUS),
    "alertmanager": Kind(None, "alertmanager", 9093, "up", ALERTMANAGER),
}

# Series every job has, whatever it runs.
SCRAPE_METRICS = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                            "scrape_samples_post_metric_relabeling", "scrape_series_added"})

# The labels exporters put on their series (beyond job and instance), so inputs look like the real thing.
LABELS: dict[str, tuple[str, ...]] = {
    "node_filesystem_": ("device", "fstype", "mountpoint"), "node_cpu_seconds_total": ("cpu", "mode"),
    "pg_stat_activity_count": ("datname", "state"), "pg_stat_database_": ("datname",),
    "pg_database_size_bytes": ("datname",), "celery_queue_length": ("queue_name",),
    "celery_worker_up": ("hostname",), "prometheus_rule_evaluation_failures_total": ("rule_group",),
    "alertmanager_notifications_failed_total": ("integration",),
}
