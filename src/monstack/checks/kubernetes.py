"""What the Kubernetes output cannot carry, or carries differently, found before anything is written.

- `kubernetes/configmap-size`: a dashboard ConfigMap over 262,144 bytes (client-side `kubectl apply` fails on
  its last-applied annotation: warning) or over 1 MiB (Kubernetes refuses it: error), at the spec's dashboard;
- `kubernetes/time-zone`, `kubernetes/templates`: an AlertmanagerConfig has no time zone for its time intervals
  and no notification template files (`alertmanager: secret` carries both);
- `kubernetes/namespace-matcher`: with the operator's default matcher strategy, an AlertmanagerConfig's route only
  sees alerts whose `namespace` label is its own namespace: the alerts that do not carry it are named (warning).
"""

from __future__ import annotations

from ..alert_labels import alert_labels
from ..errors import Diagnostic
from ..load import Source
from ..model import Model
from ..render.common import Stamp
from ..render.kubernetes import dashboards
from ..render.kubernetes import objects as K


def check(model: Model, source: Source) -> list[Diagnostic]:
    if not K.enabled(model):
        return []
    out = dashboard_sizes(model, source)
    if K.options(model).alertmanager == "config":
        out += time_zones(model, source) + templates(model, source) + namespace_matcher(model, source)
    return out


def dashboard_sizes(model: Model, source: Source) -> list[Diagnostic]:
    stamp = Stamp(spec=source.file or "spec.yaml", out="generated")  # the stamp's paths: a few bytes either way
    out = []
    for where, _, configmap in dashboards.configmaps(model, stamp):
        size = dashboards.size(configmap)
        what = (f"dashboard ConfigMap {configmap['metadata']['name']} is {size:,} bytes"
                + {"alerts": " (the generated Alerts dashboard: a panel per alert)",
                   "slos": " (a generated SLO dashboard: three panels per SLO of a service)"}.get(where[0], ""))
        if size > dashboards.OBJECT_LIMIT:
            out.append(source.diagnostic(where, f"{what}: Kubernetes refuses objects over 1 MiB "
                                         f"({dashboards.OBJECT_LIMIT:,} bytes)", check="kubernetes/configmap-size",
                                         hint="split it into several dashboards (fewer panels or rows each)"))
        elif size > dashboards.APPLY_LIMIT:
            out.append(source.diagnostic(where, f"{what}: over {dashboards.APPLY_LIMIT:,} bytes, a client-side "
                                         "`kubectl apply` fails on its last-applied-configuration annotation",
                                         check="kubernetes/configmap-size", severity="warning",
                                         hint="apply with `kubectl apply --server-side -k kubernetes/` (Argo CD: "
                                              "ServerSideApply=true), or split the dashboard"))
    return out


def time_zones(model: Model, source: Source) -> list[Diagnostic]:
    return [source.diagnostic(("routing", "time_intervals", i, "location"),
                              f"time interval {t.name!r} is in {t.location}, and an AlertmanagerConfig "
                              "(v1alpha1) has no time zone: it would be evaluated in UTC",
                              check="kubernetes/time-zone",
                              hint="set deployment.kubernetes.alertmanager: secret (the whole alertmanager.yaml, "
                                   "with its locations), or write the interval in UTC without `location`")
            for i, t in enumerate(model.spec.routing.time_intervals) if t.location and t.location != "UTC"]


def templates(model: Model, source: Source) -> list[Diagnostic]:
    if not model.spec.routing.templates:
        return []
    return [source.diagnostic(("routing", "templates"), "an AlertmanagerConfig carries no notification template "
                              "files", check="kubernetes/templates",
                              hint="set deployment.kubernetes.alertmanager: secret and mount the templates into "
                                   "the Alertmanager (its spec.configMaps), at the paths `templates` names")]


def namespace_matcher(model: Model, source: Source) -> list[Diagnostic]:
    """Which alerts the operator's `namespace="<ns>"` matcher keeps from the AlertmanagerConfig's receivers."""
    options = K.options(model)
    if options.matcher_strategy == "None":
        return []
    namespace = options.namespace
    never, maybe = [], []
    for alert in alert_labels(model):
        value = alert.fixed.get("namespace")
        if value == namespace:
            continue
        if value is None and "namespace" in alert.dynamic:  # kept from discovered series (their namespace)
            maybe.append(alert.name)
        else:
            never.append(alert.name)
    strategy = ("" if options.matcher_strategy == "OnNamespace" else
                " (OnNamespaceExceptForAlertmanagerNamespace: unless the Alertmanager runs in that namespace)")
    hint = (f"give the alerts the label (labels: {{namespace: {namespace}}}), set the Alertmanager's "
            "alertmanagerConfigMatcherStrategy to {type: None} (kube-prometheus-stack: "
            "alertmanager.alertmanagerSpec.alertmanagerConfigMatcherStrategy.type: None) and say so here "
            "(matcher_strategy: None), or use alertmanager: secret")
    out = []
    where = ("deployment", "kubernetes")
    if never:
        which = (f"none of the {len(never)} alerts carries such a label: none reaches its receivers"
                 if len(never) == len(model.spec.alerts) else
                 f"{len(never)} alert(s) carry no such label and reach none of its receivers: {', '.join(never)}")
        out.append(source.diagnostic(where, f"the operator adds namespace=\"{namespace}\" to the AlertmanagerConfig's "
                                     f"route{strategy}: {which}", check="kubernetes/namespace-matcher",
                                     severity="warning", hint=hint))
    if maybe:
        out.append(source.diagnostic(where, f"the operator adds namespace=\"{namespace}\" to the AlertmanagerConfig's "
                                     f"route{strategy}: {len(maybe)} alert(s) reach its receivers only when their "
                                     f"series come from namespace {namespace}: {', '.join(maybe)}",
                                     check="kubernetes/namespace-matcher", severity="warning", hint=hint))
    return out
