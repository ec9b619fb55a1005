"""What every Kubernetes object monstack writes shares: names, metadata, Secret references, file paths.

Object names are RFC 1123 (lower case, digits, `-`), made from the spec's names; two spec names that would give
the same object name get a numbered suffix, in spec order, so the output stays stable. Secrets are never values:
a reference (`{env: NAME}`, `{file: /path}`) becomes a key of the one Secret the user creates
(`credentials_secret`), read through `secretKeyRef`s.
"""

from __future__ import annotations

import re

from ...model import Model
from ...spec.deployment import Kubernetes
from ...spec.routing import SecretRef

FOLDER = "kubernetes"
MONITORING_V1 = "monitoring.coreos.com/v1"
MONITORING_V1ALPHA1 = "monitoring.coreos.com/v1alpha1"


def options(model: Model) -> Kubernetes:
    return model.spec.deployment.kubernetes or Kubernetes()


def enabled(model: Model) -> bool:
    return model.spec.deployment.kind == "kubernetes"


def slug(*parts: str, limit: int = 63) -> str:
    """An RFC 1123 name from spec names: lower case, every other character a dash, at most `limit` long."""
    name = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-") or "x"
    return name[:limit].rstrip("-")


class Names:
    """Unique object names within one kind, handed out in a stable (spec) order."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, *parts: str, limit: int = 63) -> str:
        base = slug(*parts, limit=limit - 3)
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}-{n}"
        self.taken.add(name)
        return name


def metadata(model: Model, name: str, labels: dict[str, str] | None = None) -> dict:
    out: dict = {"name": name, "namespace": options(model).namespace}
    if labels:
        out["labels"] = dict(sorted(labels.items()))
    return out


def resource(api_version: str, kind: str, meta: dict, body_key: str, body: dict) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, body_key: body}


def operator_labels(model: Model) -> dict[str, str]:
    return dict(options(model).labels)


def rule_labels(model: Model) -> dict[str, str]:
    chosen = options(model).rule_labels
    return dict(chosen if chosen is not None else options(model).labels)


def credentials_secret(model: Model) -> str:
    return options(model).credentials_secret or slug(model.spec.project.name, "monitoring-credentials", limit=253)


def config_secret(model: Model) -> str:
    return options(model).config_secret or slug("alertmanager", model.spec.project.name, limit=253)


def secret_key(ref: SecretRef) -> str:
    """The key of a reference in the credentials Secret: `{env: SLACK_URL}` -> slack_url, `{file: /a/b}` -> file_a_b
    (the names the compose stack gives its secrets)."""
    return ref.env.lower() if ref.env else file_key(ref.file)


def file_key(file: str) -> str:
    """The key of a file (a `{file:}` secret, a TLS file of a target) in the credentials Secret."""
    return "file_" + (re.sub(r"[^a-z0-9]+", "_", file.lower()).strip("_") or "secret")


def secret_key_ref(model: Model, ref: SecretRef) -> dict:
    return {"name": credentials_secret(model), "key": secret_key(ref)}


def file_key_ref(model: Model, file: str) -> dict:
    return {"name": credentials_secret(model), "key": file_key(file)}


def path(*parts: str) -> str:
    return "/".join((FOLDER, *parts))
