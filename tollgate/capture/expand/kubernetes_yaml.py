"""Kubernetes yaml/v2 ConfigFile and ConfigGroup, expanded as pulumi-kubernetes' provider registers their objects
(provider/pkg/provider/yaml/v2/{configfile,configgroup,yaml}.go):

* parse: the files (a ConfigGroup's may be glob patterns: matches sorted), then the `yaml` text, then `objs`;
  empty documents are skipped; an object with an `items` list stands for its items (a List);
* normalize: group `core` is the core group (`core/v1` -> `v1`); a namespaced kind without a namespace gets
  the provider's default namespace: its `namespace` config, else none (the provider with no reachable
  cluster, as offline); a kind it cannot place (a custom kind with no CRD among the objects) keeps none;
* register: name `<prefix>:<namespace>/<name>` or `<prefix>:<name>`, the prefix the component's name unless
  `resourcePrefix` is given ("" for none); type `kubernetes:<apiVersion>:<kind>`, the built-in core kinds under
  `core/v1`; `skipAwait` adds the `pulumi.com/skipAwait` annotation; a Secret's data and stringData are secret.
  They are listed in the order given (the provider registers them in dependency order: the verdicts are the same).
Helm charts and kustomizations are rendered inside the provider by helm and kustomize: never expanded here.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from ..wire import SECRET_SIG, SIG_KEY, UNKNOWN
from . import Child, Component, NotExpanded, expander

SECRET = {SIG_KEY: SECRET_SIG}
SKIP_AWAIT = "pulumi.com/skipAwait"
# The core kinds the provider registers under `kubernetes:core/v1:` (sdk/go/kubernetes/yaml/v2/kinds.go).
CORE_V1_KINDS = frozenset("Binding ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume "
                          "PersistentVolumeClaim Pod PodTemplate ReplicationController ResourceQuota Secret "
                          "Service ServiceAccount".split())
# The built-in kinds whose scope the provider knows without a cluster (provider/pkg/kinds/kinds.go).
NAMESPACED_KINDS = frozenset("Binding ConfigMap ControllerRevision CronJob CSIStorageCapacity DaemonSet Deployment "
                             "Endpoints EndpointSlice Event HorizontalPodAutoscaler Ingress Job Lease LimitRange "
                             "NetworkPolicy PersistentVolumeClaim Pod PodDisruptionBudget PodTemplate ReplicaSet "
                             "ReplicationController ResourceQuota Role RoleBinding Secret Service ServiceAccount "
                             "StatefulSet".split())
CLUSTER_KINDS = frozenset("APIService CertificateSigningRequest ClusterRole ClusterRoleBinding CSIDriver CSINode "
                          "CustomResourceDefinition FlowSchema IngressClass MutatingWebhookConfiguration Namespace Node "
                          "PersistentVolume PodSecurityPolicy PriorityClass PriorityLevelConfiguration RuntimeClass "
                          "StorageClass ValidatingWebhookConfiguration VolumeAttachment".split())
# The built-in group versions (kinds.go KnownGroupVersions), as group -> versions; "" is the core group.
KNOWN_GROUP_VERSIONS = {
    "": "v1", "admissionregistration.k8s.io": "v1 v1alpha1 v1beta1", "apiextensions.k8s.io": "v1 v1beta1",
    "apiregistration.k8s.io": "v1 v1beta1", "apps": "v1 v1beta1 v1beta2", "auditregistration.k8s.io": "v1alpha1",
    "autoscaling": "v1 v2 v2beta1 v2beta2", "batch": "v1 v1beta1 v2alpha1",
    "certificates.k8s.io": "v1 v1alpha1 v1beta1", "coordination.k8s.io": "v1 v1alpha1 v1alpha2 v1beta1",
    "discovery.k8s.io": "v1 v1beta1", "events.k8s.io": "v1 v1beta1", "extensions": "v1beta1",
    "flowcontrol.apiserver.k8s.io": "v1 v1alpha1 v1beta1 v1beta2 v1beta3", "meta": "v1",
    "networking.k8s.io": "v1 v1alpha1 v1beta1", "node.k8s.io": "v1 v1alpha1 v1beta1", "policy": "v1 v1beta1",
    "rbac.authorization.k8s.io": "v1 v1alpha1 v1beta1",
    "resource.k8s.io": "v1 v1alpha1 v1alpha2 v1alpha3 v1beta1 v1beta2",
    "scheduling.k8s.io": "v1 v1alpha1 v1alpha2 v1beta1", "settings.k8s.io": "v1alpha1",
    "storage.k8s.io": "v1 v1alpha1 v1beta1", "storagemigration.k8s.io": "v1alpha1 v1beta1",
}
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # Go's url.Parse(...).IsAbs(): the provider fetches it
GLOB = re.compile(r"(?:^|[^\\])[*?\[]")       # the provider's isGlobPattern


@expander("kubernetes:helm.sh/v4:Chart")
def helm_chart(component: Component) -> list[Child]:
    raise NotExpanded("a Helm chart is rendered by helm inside the provider")


@expander("kubernetes:kustomize/v2:Directory")
def kustomize_directory(component: Component) -> list[Child]:
    raise NotExpanded("a kustomization is built by kustomize inside the provider")


@expander("kubernetes:yaml/v2:ConfigFile")
def config_file(component: Component) -> list[Child]:
    file = _known(component, "file")
    if not isinstance(file, str):
        raise NotExpanded("its `file` input is not a path")
    return _register(component, _read(file, "file", component.pwd, glob=False))


@expander("kubernetes:yaml/v2:ConfigGroup")
def config_group(component: Component) -> list[Child]:
    objs: list[Any] = []
    for i, file in enumerate(_strings(_known(component, "files"), "files")):
        objs += _read(file, f"files[{i}]", component.pwd, glob=True)
    texts = _known(component, "yaml")
    for i, text in enumerate(_strings(texts, "yaml")):
        objs += _documents(text, "`yaml`" if isinstance(texts, str) else f"`yaml[{i}]`")
    given = _known(component, "objs")
    objs += [given] if isinstance(given, dict) else list(given or [])
    return _register(component, objs)


def _known(component: Component, key: str) -> Any:
    """An input's value, which must be known (and not secret) for the objects to follow from it."""
    value = component.inputs.get(key)
    path = _where(value, key, lambda v: v == UNKNOWN)
    if path is not None:
        raise NotExpanded(f"`{path}` is unknown until apply")
    # Within an object a secret is one more value: the object is still seen, not so a secret object.
    secret = _where(value, key, lambda v: v == SECRET, depth=1 if key == "objs" else -1)
    if secret is not None:
        raise NotExpanded(f"`{secret}` is a secret, whose value a preview does not see")
    return value


def _where(value: Any, path: str, hit: Callable[[Any], bool], depth: int = -1) -> Optional[str]:
    """The path of the first part of `value` (`depth` levels down, -1: any) that `hit`s, e.g. `objs[0].spec`."""
    if hit(value):
        return path
    if isinstance(value, dict) and depth:
        found = (_where(v, f"{path}.{k}", hit, depth - 1) for k, v in value.items())
    elif isinstance(value, list) and depth:
        found = (_where(v, f"{path}[{i}]", hit, depth - 1) for i, v in enumerate(value))
    else:
        return None
    return next((p for p in found if p is not None), None)


def _strings(value: Any, key: str) -> list[str]:
    values = [value] if isinstance(value, str) else value or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise NotExpanded(f"`{key}` holds something other than strings")
    return values


def _read(file: str, key: str, pwd: Path, glob: bool) -> list[Any]:
    """The objects of a file (a ConfigGroup's: of each file a pattern matches), relative to the program's cwd."""
    if URL.match(file):
        raise NotExpanded(f"`{key}` ({file}) is fetched over the network by the provider, which a preview offline "
                          "does not do")
    objs: list[Any] = []
    for path in _glob(file, pwd) if glob and GLOB.search(file) else [file]:
        try:
            text = (pwd / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NotExpanded(f"file `{path}` cannot be read ({exc.__class__.__name__}: "
                              f"{getattr(exc, 'strerror', None) or exc})") from exc
        objs += _documents(text, f"file `{path}`")
    return objs


def _glob(pattern: str, pwd: Path) -> list[str]:
    """Go's filepath.Glob, sorted: `*`, `?` and `[...]` within one path element, dot files included."""
    matches = [""]
    for depth, part in enumerate(pattern.split("/")):
        step = []
        for prefix in matches:
            if not GLOB.search(part):
                step.append(f"{prefix}/{part}" if depth else part)
                continue
            try:
                names = os.listdir(pwd / prefix if prefix else pwd)
            except OSError:
                continue
            rule = part.replace("[^", "[!")  # Go negates a class with ^, fnmatch with !
            step += [f"{prefix}/{n}" if depth else n for n in names if fnmatch.fnmatchcase(n, rule)]
        matches = step
    return sorted(m for m in matches if os.path.lexists(pwd / m))


class Loader(yaml.SafeLoader):
    """YAML as the provider reads it (sigs.k8s.io/yaml): a date stays the string it is written as."""


Loader.yaml_implicit_resolvers = {
    c: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
    for c, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _documents(text: str, where: str) -> list[Any]:
    try:
        docs = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError as exc:
        raise NotExpanded(f"{where} is not valid YAML ({' '.join(str(exc).split())})") from exc
    objs = []
    for n, doc in enumerate(docs, 1):
        if doc is not None and not isinstance(doc, dict):
            raise NotExpanded(f"document {n} of {where} is not a mapping, which the provider rejects")
        if doc:
            objs.append(plain(doc))
    return objs


def plain(value: Any) -> Any:
    """JSON as YAML becomes in the provider: every key a string."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else yaml.safe_dump(k).split("\n")[0]): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bytes):  # !!binary: the provider passes the decoded text on
        return value.decode("utf-8", "replace")
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _flatten(objs: list[Any]) -> list[dict[str, Any]]:
    """A List (any object with an `items` list) is replaced by its items, in place, recursively."""
    out: list[dict[str, Any]] = []
    for obj in objs:
        if not isinstance(obj, dict):
            raise NotExpanded(f"an object is not a mapping ({str(obj)[:60]}), which the provider rejects")
        out += _flatten(obj["items"]) if isinstance(obj.get("items"), list) else [obj]
    return out


def _register(component: Component, given: list[Any]) -> list[Child]:
    given_prefix = _known(component, "resourcePrefix")
    prefix = given_prefix if isinstance(given_prefix, str) else component.name  # "" is given: no prefix
    skip_await = _known(component, "skipAwait") is True
    objs = [_checked(copy.deepcopy(o)) for o in _flatten(given)]
    default = _default_namespace(component.provider_config.get("kubernetes", {}))
    children, names = [], set()
    for obj in objs:
        metadata = obj["metadata"]
        if not metadata.get("namespace") and _namespaced(obj["apiVersion"], obj["kind"], objs):
            metadata.pop("namespace", None)
            if default:
                metadata["namespace"] = default
        name = f"{metadata['namespace']}/{metadata['name']}" if metadata.get("namespace") else metadata["name"]
        name = f"{prefix}:{name}" if prefix else name
        type_ = _type(obj["apiVersion"], obj["kind"])
        if (type_, name) in names:
            raise NotExpanded(f"two objects would both be {type_} `{name}`, which the engine rejects")
        names.add((type_, name))
        children.append(Child(type=type_, name=name, inputs=_inputs(obj, skip_await)))
    return children


def _checked(obj: dict[str, Any]) -> dict[str, Any]:
    """An object the provider registers: kind, apiVersion (group `core` spelled as the core group) and a name."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    metadata = obj.get("metadata")
    for field, value in (("kind", kind), ("apiVersion", api_version), ("metadata", metadata),
                         ("metadata.name", metadata.get("name") if isinstance(metadata, dict) else None)):
        if value == SECRET:
            raise NotExpanded(f"an object's {field} is a secret, whose value a preview does not see")
    if not (isinstance(kind, str) and kind and isinstance(api_version, str) and 1 <= len(api_version.split("/")) <= 2
            and all(api_version.split("/"))):
        raise NotExpanded(f"an object has no kind and apiVersion ({str(obj)[:60]}), which the provider rejects")
    if api_version.startswith("core/"):
        obj["apiVersion"] = api_version[len("core/"):]
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise NotExpanded(f"a {kind} has no metadata.name, which the provider rejects")
    return obj


def _default_namespace(config: dict[str, Any]) -> str:
    """The namespace the provider gives namespaced objects that name none, from its config alone."""
    namespace = config.get("namespace")
    if isinstance(namespace, str) and namespace:
        return namespace
    # Rendering to a directory needs no cluster: the provider then assumes "default".
    return "default" if str(config.get("renderYamlToDirectory") or "").strip() else ""


def _namespaced(api_version: str, kind: str, objs: list[dict[str, Any]]) -> bool:
    """Whether the kind lives in a namespace, as the provider decides it offline; unknown scope counts as not."""
    group, _, version = api_version.rpartition("/")
    base = kind.removesuffix("Patch").removesuffix("List")
    if version in KNOWN_GROUP_VERSIONS.get(group, "").split() and (base in NAMESPACED_KINDS or base in CLUSTER_KINDS):
        return base in NAMESPACED_KINDS
    for crd in objs:
        spec = crd.get("spec") if isinstance(crd.get("spec"), dict) else {}
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        if (crd["kind"] == "CustomResourceDefinition" and crd["apiVersion"].startswith("apiextensions.k8s.io/")
                and spec.get("group") == group and names.get("kind") == kind):
            return spec.get("scope") == "Namespaced"
    return False


def _type(api_version: str, kind: str) -> str:
    if api_version == "v1" and kind in CORE_V1_KINDS:
        return f"kubernetes:core/v1:{kind}"
    return f"kubernetes:{api_version}:{kind}"


def _inputs(obj: dict[str, Any], skip_await: bool) -> dict[str, Any]:
    if skip_await:
        metadata = obj["metadata"]
        if not isinstance(metadata.get("annotations"), dict):
            metadata["annotations"] = {}
        metadata["annotations"][SKIP_AWAIT] = "true"
    if obj["apiVersion"] == "v1" and obj["kind"] == "Secret":
        # The provider marks these secret whatever the manifest says, so that no plan shows them.
        obj.update({k: SECRET for k in ("data", "stringData") if k in obj})
    return obj
