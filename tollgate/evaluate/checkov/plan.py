"""Snapshot -> a Terraform-plan-shaped JSON of its AWS resources, for `checkov --framework terraform_plan`.

Names come from tollgate/data/pulumi-aws-terraform-map.json (pulumi-aws bridge metadata, provenance inside):
* resource type: the map's entry (`_legacy` stripped: in pulumi-aws v7 `aws:s3/bucket:Bucket` is the upstream
  `aws_s3_bucket`), else the token's `V2` twin (v7 renamed `...V2` resources), else the naive rule
  `aws:<mod>/<camelName>` -> `aws_<mod>_<snake_name>`.
* attribute names: the map's renamed properties for the resource or nested type token take precedence, else
  camelCase -> snake_case. A nested object's type token follows Pulumi's convention
  `aws:<mod>/<ParentPascal><TfNamePascal>:<same>` (e.g. `BucketV2ServerSideEncryptionConfigurationRule`).
  For a token the map does not know, a pluralized list of objects is singularized (`corsRules` -> `cors_rule`).

Shapes (the map has no maxItemsOne data, so one rule for all): every nested object is a Terraform block,
written as a one-element list (as plan JSON writes MaxItems=1 blocks), a list of objects stays a list of
blocks; a map attribute stays an object with its keys untouched. A dict is a map when its attribute is a
known map (`tags`, `tags_all`, ...) or when any key is not a Pulumi property name (lowerCamel identifier),
e.g. `cost-center`. Policy documents given as objects are JSON-encoded strings, as Terraform holds them.

Unknown values (the engine's unknown sentinel) are left out of `planned_values` and marked in the resource's
`resource_changes[].change.after_unknown`, exactly as Terraform writes "known after apply"; checkov runs with
EVAL_TF_PLAN_AFTER_UNKNOWN so that a check asking "is it set?" passes and one asking for a concrete value
fails (see run.py). A property that depends on another resource (Pulumi's property dependencies) is written
as a `configuration` expression `references`, so checkov's graph connects e.g. a public access block to its
bucket. Secrets carry no value in a snapshot: they are written as a placeholder string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from ...bundled import DATA_DIR
from ...model import Resource, Snapshot, UNKNOWN, is_secret

MAP_FILE = DATA_DIR / "pulumi-aws-terraform-map.json"
TERRAFORM_VERSION = "1.9.8"          # the plan format checkov reads; any 1.x works
SECRET_PLACEHOLDER = "tollgate-secret-redacted"
# Terraform map attributes (string -> value), whose keys are data, not property names.
MAP_ATTRIBUTES = {"tags", "tags_all", "variables", "environment_variables", "parameters", "dimensions",
                  "request_parameters", "request_templates", "response_parameters", "response_models"}
JSON_ATTRIBUTES = {"policy", "assume_role_policy", "access_policies", "access_policy", "policy_document",
                   "inline_policy", "container_definitions", "container_properties"}
PROPERTY_NAME = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_OMIT = object()


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def pascal(tf_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in tf_name.split("_"))


def singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


@lru_cache(maxsize=1)
def load_map() -> dict[str, Any]:
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


@dataclass
class TfType:
    name: str                 # aws_s3_bucket
    token: str                # the map's resource token (the V2 twin when that is the one it knows)
    prefixes: list[str]       # "aws:s3/Bucket": token prefixes naming this resource's nested types
    known: bool               # the map knows the resource (its absent properties keep their names)


def terraform_type(token: str) -> Optional[TfType]:
    """The Terraform resource type of a Pulumi aws:* resource token, or None for other providers."""
    match = re.fullmatch(r"aws:([^/]+)/([^:]+):(.+)", token)
    if not match:
        return None
    mod, camel, pascal_name = match.groups()
    resources = load_map()["resources"]
    own = f"aws:{mod}/{pascal_name}"
    if token in resources:
        return TfType(re.sub(r"_legacy$", "", resources[token]), token, [own], True)
    twin = f"aws:{mod}/{camel}V2:{pascal_name}V2"
    if twin in resources:
        return TfType(resources[twin], twin, [own, f"aws:{mod}/{pascal_name}V2"], True)
    return TfType(f"aws_{mod.replace('-', '_')}_{snake(camel)}", token, [own], False)


@dataclass
class _Scope:
    """Where a set of properties lives: the resource itself or one nested object type."""

    prefixes: list[str]       # candidate nested-type token prefixes, e.g. ["aws:s3/BucketServerSideEncryptionConfiguration"]
    known: bool               # the map covers this resource: a property it does not rename keeps its name
    renames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resource(cls, tf: TfType) -> "_Scope":
        return cls(tf.prefixes, tf.known, dict(load_map()["properties"].get(tf.token) or {}))

    def name(self, pulumi_name: str, value: Any) -> str:
        if pulumi_name in self.renames:
            return self.renames[pulumi_name]
        tf_name = snake(pulumi_name)
        if not self.known and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tf_name = singular(tf_name)
        return tf_name

    def child(self, tf_name: str) -> "_Scope":
        """The scope of a nested object: its type token is the parent's plus the Terraform block name."""
        prefixes = [p + pascal(tf_name) for p in self.prefixes]
        props = load_map()["properties"]
        renames = next((props[f"{p}:{p.split('/', 1)[1]}"] for p in prefixes
                        if f"{p}:{p.split('/', 1)[1]}" in props), {})
        return _Scope(prefixes, self.known, dict(renames))


def _is_map(tf_name: str, value: dict[str, Any]) -> bool:
    return tf_name in MAP_ATTRIBUTES or any(not PROPERTY_NAME.match(str(k)) for k in value)


def _scalar(value: Any) -> Any:
    if value == UNKNOWN:
        return _OMIT
    if is_secret(value):
        return SECRET_PLACEHOLDER
    return value


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return value == UNKNOWN


def _map_value(value: Any) -> Any:
    """A map's value: kept as is (no renaming), unknowns left out."""
    if isinstance(value, dict) and not is_secret(value):
        return {k: v for k, v in ((k, _map_value(v)) for k, v in value.items()) if v is not _OMIT}
    if isinstance(value, list):
        return [v for v in (_map_value(v) for v in value) if v is not _OMIT]
    return _scalar(value)


def _convert(tf_name: str, value: Any, scope: _Scope) -> tuple[Any, Any]:
    """(planned value or _OMIT, after_unknown marker or None) for one attribute."""
    if is_secret(value):
        return SECRET_PLACEHOLDER, None
    if value == UNKNOWN:
        return _OMIT, True
    if isinstance(value, dict):
        if tf_name in JSON_ATTRIBUTES:   # a policy document: Terraform holds it as a JSON string
            if _has_unknown(value):       # jsonencode() of an unknown is unknown as a whole
                return _OMIT, True
            return json.dumps(_map_value(value), sort_keys=True), None
        if _is_map(tf_name, value):
            return _map_value(value), None
        block, unknown = _object(value, scope.child(tf_name))
        return [block], ([unknown] if unknown else None)
    if isinstance(value, list):
        items, unknowns, child = [], [], None
        for item in value:
            if isinstance(item, dict) and not is_secret(item):
                child = child or scope.child(tf_name)
                block, unknown = _object(item, child)
                items.append(block)
                unknowns.append(unknown or {})
            elif item == UNKNOWN:       # an unknown element is left out of the list
                unknowns.append(True)
            else:
                items.append(_map_value(item))
                unknowns.append(False)
        if value and not items:
            return _OMIT, True
        return items, (unknowns if any(u for u in unknowns) else None)
    return value, None


def _object(inputs: dict[str, Any], scope: _Scope) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in inputs.items():
        tf_name = scope.name(key, value)
        planned, marker = _convert(tf_name, value, scope)
        if planned is not _OMIT:
            values[tf_name] = planned
        if marker:
            unknown[tf_name] = marker
    return values, unknown


@dataclass
class Plan:
    document: dict[str, Any]
    urns: dict[str, str]           # Terraform address -> Pulumi urn


def _address_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"r_{cleaned}"


def aws_resources(snapshot: Snapshot) -> list[Resource]:
    return [r for r in snapshot.resources if r.custom and r.type.startswith("aws:")]


def build_plan(snapshot: Snapshot) -> Plan:
    planned, changes, configuration = [], [], []
    urns: dict[str, str] = {}
    address_of: dict[str, str] = {}
    for resource in aws_resources(snapshot):
        tf = terraform_type(resource.type)
        if tf is None:
            continue
        base = _address_name(resource.name)
        name, n = base, 1
        while f"{tf.name}.{name}" in urns:
            n += 1
            name = f"{base}_{n}"
        address = f"{tf.name}.{name}"
        urns[address] = resource.urn
        address_of[resource.urn] = address
        scope = _Scope.resource(tf)
        values, unknown = _object(resource.inputs, scope)
        planned.append({"address": address, "mode": "managed", "type": tf.name, "name": name,
                        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
                        "values": values, "sensitive_values": {}})
        changes.append({"address": address, "mode": "managed", "type": tf.name, "name": name,
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "change": {"actions": ["create"], "before": None, "after": values,
                                   "after_unknown": unknown, "before_sensitive": False, "after_sensitive": {}}})
        configuration.append((resource, address, tf.name, name, scope))
    config_resources = []
    for resource, address, tf_name, name, scope in configuration:
        expressions: dict[str, Any] = {}
        for prop, dep_urns in resource.property_dependencies.items():
            refs = []
            for urn in dep_urns:
                if urn in address_of:
                    refs += [f"{address_of[urn]}.id", address_of[urn]]
            if refs:
                expressions[scope.name(prop, resource.inputs.get(prop))] = {"references": refs}
        config_resources.append({"address": address, "mode": "managed", "type": tf_name, "name": name,
                                 "provider_config_key": "aws", "expressions": expressions, "schema_version": 0})
    document = {
        "format_version": "1.2", "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {"name": "aws",
                                                      "full_name": "registry.terraform.io/hashicorp/aws"}},
                          "root_module": {"resources": config_resources}},
    }
    return Plan(document, urns)
