"""README.md of the output folder: how to start the stack, where each UI is, which secrets to provide, which of
the services are the operator's own, and which alerts exist. Prose, so a Jinja2 template
(`templates/stack-README.md.j2`) fed with the same plan `render/compose.py` renders."""

from __future__ import annotations

import ipaddress

from ..model import Model
from . import compose
from .common import Stamp

PATH = "README.md"
TEMPLATE = "stack-README.md.j2"


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    import jinja2  # noqa: PLC0415 - only generation needs it

    from ..starter import templates_dir  # noqa: PLC0415

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["cell"] = cell
    text = env.get_template(TEMPLATE).render(**context(model, stamp))
    return {PATH: text.encode()}


def cell(value: object) -> str:
    """A value inside a Markdown table cell: pipes escaped, on one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def base_url(address: str, port: int) -> str:
    ip = ipaddress.ip_address(address)
    if ip.is_unspecified:
        return f"http://<this host>:{port}"
    return f"http://[{ip}]:{port}" if ip.version == 6 else f"http://{ip}:{port}"


def context(model: Model, stamp: Stamp) -> dict:
    spec = model.spec
    deployment = spec.deployment
    exporters = compose.exporters(model)
    images = deployment.images
    services = [
        {"name": "prometheus", "image": images.prometheus, "role": "scrapes the targets, evaluates the alert rules",
         "health": True},
        {"name": "alertmanager", "image": images.alertmanager, "role": "routes alerts to the receivers",
         "health": True},
        {"name": "grafana", "image": images.grafana, "role": "dashboards, on the Prometheus datasource",
         "health": True},
    ] + [{"name": e.service, "image": getattr(images, e.image_key), "role": f"exporter of {e.what} "
          f"(target {', '.join(e.targets)}), on port {e.port}", "health": e.healthcheck} for e in exporters]
    uis = [{"name": name, "url": base_url(deployment.bind_address, getattr(deployment.ports, name)) + path,
            "what": what}
           for name, path, what in (("prometheus", "/", "queries, targets (`/targets`), alert states (`/alerts`)"),
                                    ("alertmanager", "/", "active alerts, silences"),
                                    ("grafana", "/", f"dashboards; log in as `{deployment.grafana.admin_user}`"))]
    alerts = sorted(model.rules, key=lambda r: (r.group, r.name))
    return {
        "stamp": stamp.text(),
        "spec_file": stamp.spec,
        "out": stamp.out,
        "project": spec.project.name,
        "environment": spec.project.environment,
        "compose_project": compose.project_name(model),
        "network": compose.network_name(model),
        "external_network": deployment.network.external,
        "bind_address": deployment.bind_address,
        "local_only": ipaddress.ip_address(deployment.bind_address).is_loopback,
        "uis": uis,
        "prometheus_url": uis[0]["url"].rstrip("/"),
        "alertmanager_url": uis[1]["url"].rstrip("/"),
        "services": services,
        "own": [{"address": a, "target": t, "role": r, "host": a.rsplit(":", 1)[0]}
                for a, t, r in compose.own_services(model)],
        "secrets": compose.secrets(model),
        "postgres": deployment.postgres if any(e.kind == "postgres" for e in exporters) else None,
        "redis_uris": [compose.redis_uri(model, e) for e in exporters if e.kind == "redis"]
        if deployment.redis.password else [],
        "has_node": any(e.kind == "node" for e in exporters),
        "retention": str(spec.defaults.retention),
        "alerts": alerts,
    }
