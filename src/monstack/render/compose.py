"""docker-compose.yml: Prometheus, Alertmanager, Grafana and one exporter per exporter target, on one network.

The service names are the hosts prometheus.yml scrapes (`Job.address`), and each exporter is told to
listen on the port scraped there. Only the three UIs are published, on `deployment.bind_address`. Secrets are
compose `secrets:` fed by an environment variable or a host file and mounted where the program reads them
(`SecretRef.path`); the file holds no value. The application and the services it watches (`address` of the
targets) are the user's own: they join the monitoring network, they are not generated here.

Mounted folders are the output's own (`./prometheus`, `./alertmanager`, `./grafana/...`): whole folders, not
single files, so an atomic regeneration (new inode) is seen by a reload.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ..model import Model
from ..spec.routing import SecretRef
from .alertmanager import secret_refs
from .common import Stamp, dump_yaml

PATH = "docker-compose.yml"
NETWORK = "monitoring"
CORE = ("prometheus", "alertmanager", "grafana")  # always generated, under these names
DEFAULT_WATCHED = {"postgres": "postgres:5432", "redis": "redis:6379", "celery": "redis:6379", "mysql": "mysql:3306",
                   "nginx": "nginx:8080"}
VOLUMES = {"prometheus": "/prometheus", "alertmanager": "/alertmanager", "grafana": "/var/lib/grafana"}
HEALTH = {  # only images known to ship wget (busybox or Alpine based); redis/postgres/celery exporters: none
    "prometheus": "http://127.0.0.1:9090/-/healthy",
    "alertmanager": "http://127.0.0.1:9093/-/healthy",
    "grafana": "http://127.0.0.1:3000/api/health",
}
DESCRIPTION = {"node": "the Docker host (CPU, memory, filesystems)", "postgres": "PostgreSQL at {}",
               "redis": "Redis at {}", "celery": "the Celery broker at {}", "mysql": "MySQL at {}",
               "nginx": "nginx's stub_status at {}", "probe": "probes of {}",
               "pushgateway": "the metrics batch jobs push (kept across restarts)"}
# blackbox_exporter's image ships this configuration (/etc/blackbox_exporter/config.yml) with these modules.
BLACKBOX_MODULES = frozenset({"http_2xx", "http_post_2xx", "tcp_connect", "pop3s_banner", "grpc", "grpc_plain",
                              "ssh_banner", "irc_banner", "icmp", "icmp_ttl5"})


@dataclass(frozen=True)
class Exporter:
    """One generated exporter service, named and listening as prometheus.yml scrapes it."""

    service: str
    port: int
    kind: str
    watches: str | None  # host:port of the user's service it connects to (None for node)
    targets: tuple[str, ...]

    @property
    def image_key(self) -> str:
        return "pushgateway" if self.kind == "pushgateway" else f"{self.kind}_exporter"

    @property
    def what(self) -> str:
        return DESCRIPTION[self.kind].format(self.watches)

    @property
    def healthcheck(self) -> bool:
        return self.kind in ("node", "probe", "pushgateway")  # busybox images with wget


@dataclass
class Secret:
    """A compose secret: its name, where it comes from, where it is mounted, and who reads it."""

    name: str
    ref: SecretRef
    services: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.ref.path

    @property
    def source(self) -> str:
        return f"environment variable {self.ref.env}" if self.ref.env else f"file {self.ref.file}"


def split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def watched(target) -> str | None:
    if target.kind in ("node", "pushgateway"):
        return None
    if target.probe is not None:
        return ", ".join(target.probe)
    return target.address or DEFAULT_WATCHED.get(target.kind)


RUNNABLE = frozenset(DESCRIPTION)  # the exporter kinds this stack knows how to run


def _stack_targets(model: Model):
    """(target, job) of every target whose exporter the stack runs: a known exporter kind at one address
    (instances and discovered targets are the user's own exporters, on their hosts)."""
    for target in model.spec.targets:
        job = model.job(target.name)
        if job is not None and target.where in (None, "probe"):
            yield target, job


def scraped(model: Model, target) -> str:
    job = model.job(target.name)
    return job.address if job is not None else target.exporter or target.address or "app:8000"


def exporters(model: Model) -> list[Exporter]:
    """The exporter services, one per distinct scraped host (targets sharing one are merged), sorted by name."""
    found: dict[str, Exporter] = {}
    for target, job in _stack_targets(model):
        if target.kind not in RUNNABLE or (job.catalog.exporter is None and target.kind != "pushgateway"):
            continue
        host, port = split(job.address)
        if host in CORE:
            continue  # refused by check()
        known = found.get(host)
        if known is None:
            found[host] = Exporter(host, port, target.kind, watched(target), (target.name,))
        else:  # the same exporter scraped by two jobs (check() refuses it watching two different services)
            found[host] = Exporter(host, known.port, known.kind, known.watches, known.targets + (target.name,))
    return [found[name] for name in sorted(found)]


def own_services(model: Model) -> list[tuple[str, str, str]]:
    """(address, target, role) of what the user runs and the stack only reaches: apps, watched services,
    and a Prometheus or Alertmanager that is not the stack's own."""
    out = []
    for job in model.jobs:
        target, kind = job.target, job.catalog
        addresses = [i.address for i in job.instances] if job.exporter is None else []
        if kind.declared or kind.exporter is None or target.where is not None or target.kind not in RUNNABLE:
            out += [(a, job.name, "scraped by Prometheus") for a in addresses if split(a)[0] not in CORE]
        elif watched(target):
            out.append((watched(target), job.name, f"watched by {split(job.address)[0]}"))
        if job.exporter is not None:
            out.append((job.exporter, job.name, "asked by Prometheus about each probe"))
    return sorted(set(out))


def wanted_secrets(model: Model) -> list[tuple[SecretRef, str, str]]:
    """(reference, reading service, what it is) of every secret, in a stable order."""
    deployment = model.spec.deployment
    wanted: list[tuple[SecretRef, str, str]] = [
        (ref, "alertmanager", "a receiver credential in alertmanager.yml") for ref in secret_refs(model)]
    wanted.append((deployment.grafana.admin_password, "grafana", "the Grafana admin password"))
    for job in model.jobs:
        auth = job.target.basic_auth.password if job.target.basic_auth else job.target.bearer_token
        if auth is not None:
            wanted.append((auth, "prometheus", f"the scrape credential of job {job.name}"))
    for i, entry in enumerate(model.spec.remote_write):
        auth = entry.basic_auth.password if entry.basic_auth else entry.bearer_token
        if auth is not None:
            wanted.append((auth, "prometheus", f"the credential of remote_write {entry.name or i + 1}"))
    for exporter in exporters(model):
        if exporter.kind == "postgres" and deployment.postgres.password:
            wanted.append((deployment.postgres.password, exporter.service,
                           f"the password of PostgreSQL role {deployment.postgres.user}"))
        if exporter.kind == "redis" and deployment.redis.password:
            wanted.append((deployment.redis.password, exporter.service,
                           f'redis_exporter password file: {{"{redis_uri(model, exporter)}": "<password>"}}'))
        if exporter.kind == "mysql" and deployment.mysql.password:
            wanted.append((deployment.mysql.password, exporter.service,
                           f"the password of MySQL user {deployment.mysql.user}"))
        if exporter.kind == "celery" and deployment.celery.broker_url:
            wanted.append((deployment.celery.broker_url, exporter.service, "the Celery broker URL"))
    return wanted


def secrets(model: Model) -> list[Secret]:
    """Every secret the stack mounts, once each (by the path it is read from), with its readers."""
    by_path: dict[str, Secret] = {}
    names: set[str] = set()
    for ref, service, purpose in wanted_secrets(model):
        secret = by_path.get(ref.path)
        if secret is None:
            secret = by_path[ref.path] = Secret(_unique(_secret_name(ref), names), ref)
        if service not in secret.services:
            secret.services.append(service)
        if purpose not in secret.purposes:
            secret.purposes.append(purpose)
    return sorted(by_path.values(), key=lambda s: s.name)


def _secret_name(ref: SecretRef) -> str:
    if ref.env:
        return ref.env.lower()
    return "file_" + (re.sub(r"[^a-z0-9]+", "_", ref.file.lower()).strip("_") or "secret")


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def redis_uri(model: Model, exporter: Exporter) -> str:
    user = model.spec.deployment.redis.user
    return f"redis://{user + '@' if user else ''}{exporter.watches}"


def network_name(model: Model) -> str:
    return model.spec.deployment.network.name or f"{model.spec.project.name}-monitoring"


def project_name(model: Model) -> str:
    return f"{model.spec.project.name}-monitoring"


# --- rendering ---------------------------------------------------------------------------------------------------

def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    deployment = model.spec.deployment
    images = deployment.images
    mounts = secrets(model)
    services = {"prometheus": (images.prometheus, _prometheus(model), HEALTH["prometheus"]),
                "alertmanager": (images.alertmanager, _alertmanager(model), HEALTH["alertmanager"]),
                "grafana": (images.grafana, _grafana(model), HEALTH["grafana"])}
    for exporter in exporters(model):
        health = f"http://127.0.0.1:{exporter.port}/" if exporter.healthcheck else None
        services[exporter.service] = (getattr(images, exporter.image_key), _exporter(model, exporter), health)
    network: dict = {"name": network_name(model)}
    network.update({"external": True} if deployment.network.external else {"driver": "bridge"})
    document: dict = {
        "name": project_name(model),
        "services": {name: _service(name, image, body, health, mounts)
                     for name, (image, body, health) in services.items()},
        "networks": {NETWORK: network},
        "volumes": {f"{name}-data": {} for name in [*VOLUMES, *(["pushgateway"] if any(
            e.kind == "pushgateway" for e in exporters(model)) else [])]},
    }
    if mounts:
        document["secrets"] = {s.name: {"environment": s.ref.env} if s.ref.env else {"file": s.ref.file}
                               for s in mounts}
    return {PATH: dump_yaml(_escape(document), stamp)}


def _published(model: Model, service: str, port: int) -> list[dict]:
    deployment = model.spec.deployment
    return [{"target": port, "published": str(getattr(deployment.ports, service)),
             "host_ip": deployment.bind_address, "protocol": "tcp"}]


def _prometheus(model: Model) -> dict:
    return {
        "image": model.spec.deployment.images.prometheus,
        "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                    f"--storage.tsdb.retention.time={model.spec.defaults.retention}", "--web.enable-lifecycle"],
        "volumes": ["./prometheus:/etc/prometheus:ro", "prometheus-data:/prometheus"],
        "ports": _published(model, "prometheus", 9090),
    }


def _alertmanager(model: Model) -> dict:
    return {
        # a single instance: no cluster gossip port
        "command": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
                    "--cluster.listen-address="],
        "volumes": ["./alertmanager:/etc/alertmanager:ro", "alertmanager-data:/alertmanager"],
        "ports": _published(model, "alertmanager", 9093),
    }


def _grafana(model: Model) -> dict:
    grafana = model.spec.deployment.grafana
    return {
        "environment": {
            "GF_SECURITY_ADMIN_USER": grafana.admin_user,
            "GF_SECURITY_ADMIN_PASSWORD__FILE": grafana.admin_password.path,
            "GF_AUTH_ANONYMOUS_ENABLED": "false",
            "GF_USERS_ALLOW_SIGN_UP": "false",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
        },
        "volumes": ["./grafana/provisioning:/etc/grafana/provisioning:ro",
                    "./grafana/dashboards:/etc/grafana/dashboards:ro", "grafana-data:/var/lib/grafana"],
        "ports": _published(model, "grafana", 3000),
        "depends_on": ["prometheus"],
    }


def _exporter(model: Model, exporter: Exporter) -> dict:
    deployment = model.spec.deployment
    listen = f"--web.listen-address=:{exporter.port}"
    if exporter.kind == "node":  # the host's view: its root filesystem and its processes
        return {"command": ["--path.rootfs=/host", listen], "volumes": ["/:/host:ro,rslave"], "pid": "host"}
    if exporter.kind == "postgres":
        pg = deployment.postgres
        env = {"DATA_SOURCE_URI": f"{exporter.watches}/{pg.database}?sslmode={pg.sslmode}", "DATA_SOURCE_USER": pg.user}
        if pg.password:
            env["DATA_SOURCE_PASS_FILE"] = pg.password.path
        return {"command": [listen], "environment": env}
    if exporter.kind == "redis":
        redis = deployment.redis
        env = {"REDIS_ADDR": f"redis://{exporter.watches}"}
        if redis.user:
            env["REDIS_USER"] = redis.user
        if redis.password:
            env["REDIS_PASSWORD_FILE"] = redis.password.path
        return {"command": [listen], "environment": env}
    if exporter.kind in ("nginx", "probe", "pushgateway", "mysql"):
        return _more_exporter(model, exporter, listen)
    celery = deployment.celery
    port = f"--port={exporter.port}"
    if celery.broker_url:  # the exporter takes the URL only as an argument: read it from the secret at start
        script = f'exec python /app/cli.py --broker-url="$(cat {shlex.quote(celery.broker_url.path)})" {port}'
        return {"entrypoint": ["/bin/sh", "-c", script]}
    vhost = celery.vhost if celery.vhost is not None else ("0" if celery.scheme.startswith("redis") else "")
    return {"command": [f"--broker-url={celery.scheme}://{exporter.watches}/{vhost}", port]}


def _more_exporter(model: Model, exporter: Exporter, listen: str) -> dict:
    if exporter.kind == "nginx":
        return {"command": [f"--nginx.scrape-uri=http://{exporter.watches}/stub_status", listen]}
    if exporter.kind == "probe":  # the image's own configuration, with the usual modules
        return {"command": ["--config.file=/etc/blackbox_exporter/config.yml", listen]}
    if exporter.kind == "pushgateway":  # persisted, so that a restart does not lose the last pushes
        return {"command": [listen, "--persistence.file=/data/pushgateway.db", "--persistence.interval=1m"],
                "volumes": ["pushgateway-data:/data"]}
    mysql = model.spec.deployment.mysql
    multi = model.job(exporter.targets[0]).exporter is not None
    address = [] if multi else [f"--mysqld.address={exporter.watches}"]
    if mysql.password is None:
        return {"command": [*address, f"--mysqld.username={mysql.user}", listen]}
    # mysqld_exporter reads a password from a [client] section (the one auth_module=client names): write it at
    # start from the secret, so the file never leaves the container and no value is in this file
    host = "" if multi else "host=%s\\nport=%s\\n" % tuple(exporter.watches.rsplit(":", 1))
    script = (f"umask 077; printf '[client]\\nuser=%s\\npassword=%s\\n{host}' {shlex.quote(mysql.user)} "
              f"\"$(cat {shlex.quote(mysql.password.path)})\" > /tmp/.my.cnf && "
              f"exec /bin/mysqld_exporter --config.my-cnf=/tmp/.my.cnf {listen}")
    return {"entrypoint": ["/bin/sh", "-c", script]}


def _service(name: str, image: str, body: dict, health: str | None, mounts: list[Secret]) -> dict:
    """The image, the service's own settings, then what every service has: secrets, network, healthcheck,
    restart policy, no privilege escalation, bounded logs."""
    service = {"image": image, **body}
    mine = [s for s in mounts if name in s.services]
    if mine:
        service["secrets"] = [{"source": s.name, "target": s.target} for s in mine]
    service["networks"] = [NETWORK]
    if health:
        service["healthcheck"] = {"test": ["CMD", "wget", "-q", "-O", "/dev/null", health],
                                  "interval": "30s", "timeout": "5s", "retries": 3, "start_period": "30s"}
    service["restart"] = "unless-stopped"
    service["security_opt"] = ["no-new-privileges:true"]
    service["logging"] = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
    return service


def _escape(value):
    """Compose interpolates `$` in every string: a literal one is written `$$`."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    return value


# --- checks (run by pipeline.resolve, with the spec's positions) -------------------------------------------------
