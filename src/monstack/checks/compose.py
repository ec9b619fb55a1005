"""The docker-compose stack (deployment kind compose): what would make it wrong, each at its target's line (check
`compose`)."""

from __future__ import annotations

from ..errors import Diagnostic
from ..load import Source
from ..model import Model
from ..spec.routing import SecretRef
from ..render.compose import (BLACKBOX_MODULES, CORE, DEFAULT_WATCHED, RUNNABLE, wanted_secrets, scraped, split,
                              watched)


def check(model: Model, source: Source) -> list[Diagnostic]:
    """What would make the stack wrong: two targets needing one exporter service to watch two things, an
    exporter named like a core service, a core target scraped on a port its service does not listen on."""
    out: list[Diagnostic] = []
    if model.spec.deployment.kind != "compose":
        return out  # no compose stack: checks/kubernetes.py checks the Kubernetes output
    first: dict[str, tuple[int, object]] = {}
    for i, target in enumerate(model.spec.targets):
        job = model.job(target.name)
        if job is None or target.where is not None or (job.catalog.exporter is not None and target.kind not in RUNNABLE):
            continue  # the user's own exporters
        kind = job.catalog
        host, port = split(job.address)
        where = ("targets", i, "exporter" if target.exporter else "address" if target.address else "name")
        if kind.exporter is None:  # serves its own metrics: the stack's prometheus/alertmanager, or the user's app
            if target.kind in CORE and host == target.kind and port != kind.port:
                out.append(source.diagnostic(where, f"the stack's {host} service listens on {host}:{kind.port}, "
                                             f"not {port}", check="compose",
                                             hint=f"drop `address` to scrape the stack's own {host}"))
            continue
        if host in CORE:
            out.append(source.diagnostic(where, f"exporter host {host!r} is the stack's {host} service",
                                         check="compose", hint="give the exporter its own `exporter: host:port`"))
            continue
        if target.kind == "probe" and target.module and target.module not in BLACKBOX_MODULES:
            out.append(source.diagnostic(("targets", i, "module"), f"module {target.module!r} is not in the "
                                         "blackbox_exporter image's configuration", check="compose",
                                         severity="warning", hint=f"modules there: {', '.join(sorted(BLACKBOX_MODULES))}; "
                                         "or mount your own config.yml over /etc/blackbox_exporter/config.yml"))
        if target.kind not in ("node", "probe", "pushgateway") and target.address is None and target.probe is None:
            out.append(source.diagnostic(("targets", i), f"no `address`: the stack's {host} watches "
                                         f"{DEFAULT_WATCHED[target.kind]}", check="compose", severity="warning",
                                         hint="set `address: host:port` of the service it should watch"))
        if host not in first:
            first[host] = (i, target)
            continue
        j, other = first[host]
        same = (other.kind, watched(other), split(scraped(model, other))[1]) == (target.kind, watched(target), port)
        if not same:
            out.append(source.diagnostic(
                where, f"exporter {host} is already the {other.kind} exporter of target {other.name!r} "
                f"(targets[{j}]): one exporter service watches one service", check="compose",
                hint=f"give target {target.name!r} its own `exporter: host:port` (e.g. {host}-2:{kind.port})"))
    mounted: dict[str, SecretRef] = {}
    for ref, _, _ in wanted_secrets(model):
        if mounted.setdefault(ref.path, ref) != ref:
            out.append(source.diagnostic(("deployment",), f"two different secrets would be mounted at {ref.path}",
                                         check="compose", hint="use one reference (env or file) per secret"))
            break
    return out
