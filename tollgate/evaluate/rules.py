"""The rules of rego/: each rule file's METADATA read into a Rule, and the reference data the rules read.

A rule file holds one rule: deny_/warn_ heads (stack_deny_/stack_warn_ for a stack rule) and one `# METADATA`
block (title, description, custom: id, severity, enforcement, resource_types); see README: Rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Optional

import yaml

from ..bundled import DATA_DIR
from ..errors import YAML_LOADER, TollgateError

PACKAGE = "tollgate"
# Rule heads pulumi-policy-opa would also see: ^(deny|warn)(_[a-zA-Z0-9]+)*$, kept lower case here.
HEAD = re.compile(r"^(deny|warn|stack_deny|stack_warn)_([a-z0-9_]+)\s+contains\b", re.M)
METADATA = re.compile(r"^# METADATA\n((?:#.*\n)+)", re.M)


@dataclass(frozen=True)
class Rule:
    """One guardrail: a `rego/<name>.rego` file whose deny head carries METADATA."""

    name: str          # kebab-case policy name, e.g. required-tags
    id: str            # TG001
    title: str
    description: str
    severity: str      # low|medium|high|critical
    enforcement: str   # mandatory|advisory|remediate
    scope: str         # resource|stack
    file: str
    heads: tuple[str, ...]  # deny_x / warn_x or stack_deny_x / stack_warn_x
    types: tuple[str, ...] = ()  # resource rules: the types it judges (`*` any text: `aws:*`, `kubernetes:apps/*:Deployment`)
    fast_path: str = ""  # `<name>_ok` when the file defines it: true only where no head reports (README: Rules)

    def applies_to(self, type_: str) -> bool:
        return any(_matches(pattern, type_) for pattern in self.types)


def _matches(pattern: str, type_: str) -> bool:
    head, star, tail = pattern.partition("*")
    return type_ == pattern if not star else (len(type_) >= len(head) + len(tail) and type_.startswith(head)
                                               and type_.endswith(tail))


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    verdict: str                 # deny (rule's enforcement) | warn (advisory: cannot decide)
    message: str
    index: Optional[int] = None  # resource rules: position in the evaluated inputs
    urn: Optional[str] = None    # stack rules: the resource the finding is about
    head: str = ""               # the head that reported it (deny_x, warn_x, ...)


def _parse_metadata(text: str, path: Path) -> dict[str, Any]:
    blocks = METADATA.findall(text)
    if len(blocks) != 1:
        raise TollgateError(f"expected exactly one `# METADATA` block, found {len(blocks)}", str(path),
                            fix="put one METADATA block (title, description, custom: id/severity/enforcement) "
                                "above the rule's deny head")
    body = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in blocks[0].splitlines())
    try:
        meta = yaml.load(body, Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise TollgateError(f"METADATA is not valid YAML: {exc}", str(path)) from exc
    custom = meta.get("custom") or {}
    missing = [k for k in ("title", "description") if not meta.get(k)]
    missing += [f"custom.{k}" for k in ("id", "severity", "enforcement") if not custom.get(k)]
    if missing:
        raise TollgateError(f"METADATA lacks {', '.join(missing)}", str(path))
    return meta


def _fast_path(text: str, path: Path, name: str) -> str:
    """`<name>_ok` when the rule file defines it, after checking that each of the rule's head bodies begins
    with `not <name>_ok`: the heads then report nothing where it holds, so the embedded driver may skip them
    there (driver.group_module) and the pack or OPA, evaluating the heads themselves, reach the same verdict."""
    ok = f"{name}_ok"
    if not re.search(rf"^{ok}\s+if\b", text, re.M):
        return ""
    bodies = re.findall(rf"^(?:deny|warn)_{name}\s+contains\b[^\n]*\{{\n\s*([^\n]*)", text, re.M)
    # (A body cut off at the end of the file is left to the compiler, whose error says more.)
    if not bodies or any(first.strip() not in (f"not {ok}", "") for first in bodies):
        raise TollgateError(f"{ok} is defined, but not every head body of the rule begins with `not {ok}`", str(path),
                            fix=f"begin each deny_{name}/warn_{name} body with `not {ok}`, or rename {ok}")
    return ok


def load_rule(path: Path, text: str) -> Rule:
    """The Rule of a rule file (one whose text has a HEAD), its METADATA checked against its heads."""
    heads = HEAD.findall(text)
    names = {name for _, name in heads}
    if len(names) != 1:
        raise TollgateError(f"a rule file must define deny_/warn_ heads for one rule, found {sorted(names) or 'none'}",
                            str(path), fix="one rule per file: deny_<rule> (and optional warn_<rule>)")
    meta = _parse_metadata(text, path)
    custom = meta["custom"]
    kinds = {kind for kind, _ in heads}
    # pulumi-policy-opa reads the level from the head: deny = mandatory, warn = advisory.
    if (custom["enforcement"] == "mandatory") != bool(kinds & {"deny", "stack_deny"}):
        raise TollgateError(f"enforcement {custom['enforcement']} does not match heads {sorted(kinds)}", str(path),
                            fix="mandatory rules report with deny_<rule>, advisory ones only with warn_<rule>")
    scope = "stack" if kinds & {"stack_deny", "stack_warn"} else "resource"
    name = names.pop()
    types = custom.get("resource_types", ["*"])  # without the list, a rule judges every resource
    if scope == "resource" and not (isinstance(types, list) and types and all(_type_pattern(t) for t in types)):
        raise TollgateError(f"METADATA custom.resource_types must be a list of resource types, not {types!r}", str(path),
                            fix='e.g. resource_types: ["aws:ec2/instance:Instance"], or a prefix such as "aws:*"; '
                                "the engine hands the rule only resources of these types")
    return Rule(
        fast_path=_fast_path(text, path, name),
        name=name.replace("_", "-"), id=str(custom["id"]), title=meta["title"],
        description=" ".join(str(meta["description"]).split()), severity=str(custom["severity"]),
        enforcement=str(custom["enforcement"]), scope=scope, file=str(path),
        heads=tuple(sorted(f"{kind}_{name}" for kind in kinds)),
        types=tuple(types) if scope == "resource" else (),
    )


def _type_pattern(value: object) -> bool:
    """`pkg:module:Type`, or one with a single `*` standing for any text (`aws:*`, `kubernetes:apps/*:Deployment`, `*`)."""
    return isinstance(value, str) and (value.count("*") == 1 or value.count("*") == 0 and value.count(":") == 2)


@cache
def taggable_types() -> frozenset[str]:
    """AWS resource types that accept `tags` (generated from pulumi-aws: scripts/gen_aws_taggable.py)."""
    return frozenset(json.loads((DATA_DIR / "aws-taggable-types.json").read_text(encoding="utf-8"))["types"])


@cache
def reference_data() -> dict[str, Any]:
    """Facts the rules need: every current EC2 type, RDS class and ElastiCache node type (the sourced table
    tollgate/data/aws-instance-types.json, scripts/gen_instance_types.py), taggable AWS types."""
    table = json.loads((DATA_DIR / "aws-instance-types.json").read_text(encoding="utf-8"))
    names = {"instance_types": "EC2 instance types", "db": "RDS instance classes", "cache": "ElastiCache node types"}
    dates = {"instance_types": table["as_of"]["ec2_instance_types"], "db": table["as_of"]["rds_classes"],
             "cache": table["as_of"]["cache_node_types"]}
    ec2 = {t: _rule_spec(spec) for t, spec in table["ec2_instance_types"].items()}
    return {"instance_types": {**ec2, **_other_node_types()},
            "database_classes": {"db": _class_specs(table["rds_classes"]), "cache": _class_specs(table["cache_node_types"])},
            "aws": {"taggable_types": {t: True for t in sorted(taggable_types())},
                    "tables": {k: {"name": names[k], "as_of": dates[k]} for k in names}}}


# Node types sold by Redshift and OpenSearch that are no EC2 type, as the rules read them (lib.rego keys a
# Redshift type `redshift.<type>`; an OpenSearch type is read without `.search`). Sources: the Amazon Redshift
# Management Guide, "Node type details" (current RA3 and DC2 types), and the Amazon OpenSearch Service
# Developer Guide, "Supported instance types" (OR1, OR2, OM2, OI2: 1 vCPU medium, 2 large, 4 xlarge, 4N Nxlarge).
REDSHIFT_NODE_TYPES = {"ra3.large": (2, 16), "ra3.xlplus": (4, 32), "ra3.4xlarge": (12, 96),
                       "ra3.16xlarge": (48, 384), "dc2.large": (2, 15), "dc2.8xlarge": (32, 244)}
OPENSEARCH_FAMILIES = {"or1": 8, "or2": 8, "om2": 4, "oi2": 8}  # GiB of memory per vCPU
OPENSEARCH_SIZES = {"medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32,
                    "12xlarge": 48, "16xlarge": 64}


def _other_node_types() -> dict[str, Any]:
    def spec(vcpu: int, memory: float) -> dict[str, Any]:
        return {"vcpu": vcpu, "memory_gib": memory, "gpus": 0, "accelerators": 0, "accelerated": False}

    redshift = {f"redshift.{t}": spec(v, m) for t, (v, m) in REDSHIFT_NODE_TYPES.items()}
    search = {f"{f}.{size}": spec(v, v * gib) for f, gib in OPENSEARCH_FAMILIES.items()
              for size, v in OPENSEARCH_SIZES.items()}
    return {**redshift, **search}


def _rule_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """An EC2 type as the rules read it: vCPU, memory, GPUs and other accelerators; a type with either also has
    `devices` (both counted), `kind` (GPU or accelerator) and `device` (them in words, for a message)."""
    gpus, other = spec["gpus"], spec.get("accelerators", {}).get("count", 0)
    has_gpu = gpus > 0 or "gpu_model" in spec  # a GPU share (g6f) counts no whole GPU, but is a GPU type
    kind = "GPU" if has_gpu else "accelerator" if other else ""
    rule_spec = {"vcpu": spec["vcpu"], "memory_gib": spec["memory_gib"], "gpus": gpus, "accelerators": other,
                 "accelerated": bool(kind)}
    if kind:  # only on such types: each field is data the engine loads, for every type of the table
        rule_spec.update(devices=gpus + other, kind=kind, device=_device_text(spec, kind))
    return rule_spec


def _device_text(spec: dict[str, Any], kind: str) -> str:
    """`1 nvidia a10g GPU`, `0.125 of one nvidia l4 GPU`, `16 aws trainium accelerators`."""
    if kind == "GPU":
        count = spec["gpus"] or f"{spec.get('gpu_share', 'a share')} of one"
        words = (count, spec.get("gpu_manufacturer"), spec.get("gpu_model"), "GPUs" if spec["gpus"] > 1 else "GPU")
    else:
        acc = spec["accelerators"]
        words = (acc["count"], acc.get("manufacturer"), acc["name"], "accelerators" if acc["count"] > 1 else "accelerator")
    return " ".join(str(w) for w in words if w)


def _class_specs(classes: dict[str, Any]) -> dict[str, Any]:
    """RDS classes or ElastiCache node types by name: vCPU and memory where the table gives them."""
    return {name: {k: v for k, v in spec.items() if k in ("vcpu", "memory_gib")} for name, spec in classes.items()}
