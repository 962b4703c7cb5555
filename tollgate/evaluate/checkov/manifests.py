"""Snapshot -> one Kubernetes YAML manifest per kubernetes:* resource, for `checkov --framework kubernetes`.

apiVersion and kind come from the resource's inputs (the Pulumi Kubernetes SDK records both), else from its
type token (`kubernetes:apps/v1:Deployment` -> `apps/v1` / `Deployment`; the core group is plain `v1`).
metadata.name is the program's (else the Pulumi resource name: the provider would auto-name it from that,
with a random suffix no preview knows); metadata.namespace is kept when set. Checkov names a result
`<Kind>.<namespace>.<name>` (namespace `default` when unset): that key maps back to the urn, and each
manifest also carries the urn as the annotation `tollgate.dev/urn`. Annotations the program set are kept, so
checkov's own skip annotations (`checkov.io/skip1: CKV_K8S_8=reason`) work as they do on a plain manifest.
Unknown values are left out; secrets (which a snapshot holds without value) become a placeholder string.
Helm, yaml/kustomize and `...Patch`/`...List` types are not manifests of one object and are not written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from ...model import Resource, Snapshot, UNKNOWN, is_secret
from .plan import SECRET_PLACEHOLDER

URN_ANNOTATION = "tollgate.dev/urn"
NOT_MANIFESTS = ("helm.sh/", "yaml/", "kustomize/")
_OMIT = object()


def _clean(value: Any) -> Any:
    if value == UNKNOWN:
        return _OMIT
    if is_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: v for k, v in ((k, _clean(v)) for k, v in value.items()) if v is not _OMIT}
    if isinstance(value, list):
        return [v for v in (_clean(v) for v in value) if v is not _OMIT]
    return value


def api_version_kind(resource: Resource) -> Optional[tuple[str, str]]:
    """(apiVersion, kind) of a kubernetes:* resource that is one Kubernetes object, else None."""
    match = re.fullmatch(r"kubernetes:([^:]+):(.+)", resource.type)
    if not match or not resource.custom:
        return None
    group_version, kind = match.groups()
    if group_version.startswith(NOT_MANIFESTS) or kind.endswith(("Patch", "List")):
        return None
    api_version = resource.inputs.get("apiVersion")
    kind = resource.inputs.get("kind") or kind
    if not isinstance(api_version, str) or api_version == UNKNOWN:
        api_version = group_version[len("core/"):] if group_version.startswith("core/") else group_version
    if not isinstance(kind, str) or kind == UNKNOWN or "/" not in api_version and api_version != "v1":
        return None
    return api_version, kind


@dataclass
class Manifests:
    documents: list[tuple[str, dict[str, Any]]]    # (file name, manifest)
    urns: dict[str, str]                           # checkov's "Kind.namespace.name" -> Pulumi urn
    files: dict[str, str]                          # file name -> Pulumi urn (one object per file)

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for file_name, manifest in self.documents:
            (directory / file_name).write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


def kubernetes_resources(snapshot: Snapshot) -> list[Resource]:
    return [r for r in snapshot.resources if api_version_kind(r) is not None]


def _namespace_dependency(snapshot: Snapshot, resource: Resource) -> Optional[str]:
    """An unknown namespace that comes from a Namespace of this program (auto-named or an output): its name.

    Left unset it would read as `default`, which it is not (checkov would report CKV_K8S_21 wrongly)."""
    by_urn = {r.urn: r for r in snapshot.resources}
    for urn in resource.property_dependencies.get("metadata", []) + resource.dependencies:
        dep = by_urn.get(urn)
        if dep is not None and dep.type == "kubernetes:core/v1:Namespace":
            name = (dep.inputs.get("metadata") or {}).get("name")
            return name if isinstance(name, str) and name != UNKNOWN else dep.name
    return None


def build_manifests(snapshot: Snapshot) -> Manifests:
    documents: list[tuple[str, dict[str, Any]]] = []
    urns: dict[str, str] = {}
    files: dict[str, str] = {}
    for index, resource in enumerate(kubernetes_resources(snapshot)):
        api_version, kind = api_version_kind(resource)  # type: ignore[misc]
        manifest = _clean({k: v for k, v in resource.inputs.items() if k not in ("apiVersion", "kind")})
        metadata = dict(manifest.get("metadata") or {})
        base = metadata.get("name") if isinstance(metadata.get("name"), str) else resource.name
        namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else None
        if namespace is None and (resource.inputs.get("metadata") or {}).get("namespace") == UNKNOWN:
            namespace = _namespace_dependency(snapshot, resource)
        if namespace:
            metadata["namespace"] = namespace
        namespace = namespace or "default"
        name, n = base, 1
        while f"{kind}.{namespace}.{name}" in urns:   # two Pulumi resources of one name (say, in two components)
            n += 1
            name = f"{base}-{n}"
        metadata["name"] = name
        metadata["annotations"] = {**(metadata.get("annotations") or {}), URN_ANNOTATION: resource.urn}
        urns[f"{kind}.{namespace}.{name}"] = resource.urn
        file_name = f"{index:04d}-{kind.lower()}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.yaml"
        files[file_name] = resource.urn
        documents.append((file_name, {"apiVersion": api_version, "kind": kind, "metadata": metadata,
                           **{k: v for k, v in manifest.items() if k != "metadata"}}))
    return Manifests(documents, urns, files)
