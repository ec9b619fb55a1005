"""kubernetes/dashboards/<uid>.yaml: each Grafana dashboard in a ConfigMap labelled for the Grafana sidecar.

The ConfigMap's `<uid>.json` is byte for byte grafana/dashboards/<uid>.json. Kubernetes refuses an object over
1 MiB, and a client-side `kubectl apply` copies the whole object into its last-applied-configuration
annotation, which may not exceed 262,144 bytes: `checks.dashboard_sizes` measures each object as it is sent
(compact JSON) and warns, or refuses, at the spec's dashboard.
"""

from __future__ import annotations

import json

from ... import boards as B
from ...model import Model
from .. import dashboards
from ..common import Stamp, dump_json
from . import objects as K

APPLY_LIMIT = 262_144  # bytes of all annotations of an object: kubectl apply's last-applied-configuration
OBJECT_LIMIT = 1_048_576  # bytes of a ConfigMap's data (1 MiB)


def configmaps(model: Model, stamp: Stamp) -> list[tuple[tuple, str, dict]]:
    """(the spec path it comes from: `dashboards[i]`, `alerts` for the generated Alerts dashboard, `slos` for an SLO
    dashboard; relative path; ConfigMap)."""
    names = K.Names()
    out = []
    spec_boards = len(model.spec.dashboards)
    for i, board in enumerate(B.boards(model)):
        where = ("dashboards", i) if i < spec_boards else ("alerts",) if board.name == B.RESERVED else ("slos",)
        text = dump_json(dashboards.dashboard(board, model.spec.project.name, stamp)).decode()
        name = names("dashboard", board.uid, limit=253)
        meta = K.metadata(model, name, dict(K.options(model).dashboard_labels))
        configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {f"{board.uid}.json": text}}
        out.append((where, K.path("dashboards", f"{name}.yaml"), configmap))
    return out


def objects(model: Model, stamp: Stamp) -> dict[str, dict]:
    return {path: configmap for _, path, configmap in configmaps(model, stamp)}


def size(obj: dict) -> int:
    """Bytes of the object as kubectl sends it and stores it in last-applied-configuration (compact JSON)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())
