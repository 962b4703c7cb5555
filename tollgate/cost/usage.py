"""The per-stack usage file (stacks/usage.<stack>.yaml), in the spirit of Infracost's usage file.

    version: 1
    resource_usage:
      lake-raw-bucket: {storage_gb: 6000}      # a resource name, a component name, or a full URN
      batch-training: {vcpu_hours: 2500}

Keys and defaults: docs/usage.md. A missing file is an empty Usage; a malformed one is an error naming
the file and line, because a silently ignored typo would price the stack on defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from ..errors import TollgateError
from ..model import Resource

KEYS = {
    "storage_gb": "GB stored at steady state (S3 bucket)",
    "objects": "objects stored (S3 Intelligent-Tiering monitoring)",
    "data_age_days": "age of the oldest data when nothing expires (S3 bucket)",
    "vcpu_hours": "vCPU-hours per month (Batch compute environment)",
    "node_hours": "node-hours per month (EKS node group, Auto Scaling group)",
    "peak_nodes": "nodes busy at once at the workload's peak (EKS node group, Auto Scaling group)",
    "hours": "hours per month the instance runs (EC2 instance)",
    "gb_processed": "GB per month through the NAT gateway",
    "lcu": "average load balancer capacity units (ALB)",
    "requests": "invocations per month (Lambda)",
    "duration_ms": "average duration per invocation in ms (Lambda)",
    "memory_mb": "memory in MB, if not the function's memorySize (Lambda)",
}
TOP_LEVEL = ("version", "resource_usage")
FIX = "see docs/usage.md for the file's shape and keys"


@dataclass
class Usage:
    """Expected usage by resource name, component name or URN."""

    entries: dict[str, dict[str, float]] = field(default_factory=dict)
    file: Optional[str] = None   # the file read, if there was one
    path: Optional[str] = None   # where the stack's usage file is or would be: what a fix tells the user to edit

    def lookup(self, resource: Resource) -> dict[str, float]:
        """The entry for a resource: by name, then by URN (the more precise key wins)."""
        return {**self.entries.get(resource.name, {}), **self.entries.get(resource.urn, {})}


def usage_path(stack_config_dir: Path, stack: str) -> Path:
    return Path(stack_config_dir) / f"usage.{stack}.yaml"


def load_usage(path: Optional[Path]) -> Usage:
    if path is None:
        return Usage()
    if not Path(path).exists():
        return Usage(path=str(path))
    where = str(path)
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TollgateError(f"usage file is not valid YAML: {getattr(exc, 'problem', exc)}", where,
                            mark.line + 1 if mark else None, FIX) from exc
    if root is None:
        return Usage(file=where, path=where)
    return Usage(_entries(_mapping(root, "the usage file", where), where), where, where)


def stack_usage(cwd: Path, stack: str, saved: bool) -> Optional[Usage]:
    """The usage file of `stack` when `cwd` is a Pulumi project, for every estimate of a run (a base snapshot
    is priced with the same usage, so a change shown is what the resources changed, not the assumptions).
    `saved`: the snapshot comes from a file, which needs no runnable project: then an unreadable project is
    priced without usage."""
    from ..project import load_project

    if not (cwd / "Pulumi.yaml").exists():
        return None
    try:
        return load_usage(usage_path(load_project(cwd).stack_config_dir, stack))
    except TollgateError:
        if not saved:
            raise
        return None


def _fail(message: str, file: str, node: yaml.Node) -> TollgateError:
    return TollgateError(message, file, node.start_mark.line + 1, FIX)


def _mapping(node: yaml.Node, what: str, file: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(f"{what} must be a mapping", file, node)
    seen: set[str] = set()
    for key, _ in node.value:
        if key.value in seen:  # YAML would keep the last one silently
            raise _fail(f"{what}: {key.value!r} is given twice", file, key)
        seen.add(key.value)
    return node.value


def _entries(top: list[tuple[yaml.Node, yaml.Node]], file: str) -> dict[str, dict[str, float]]:
    entries: dict[str, dict[str, float]] = {}
    for key, value in top:
        if key.value not in TOP_LEVEL:
            raise _fail(f"unknown top-level key {key.value!r}; expected {' and '.join(TOP_LEVEL)}", file, key)
        if key.value == "resource_usage" and not (isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null")):
            for name, body in _mapping(value, "resource_usage", file):
                entries[name.value] = _values(name.value, _mapping(body, f"resource_usage.{name.value}", file), file)
    return entries


def _values(owner: str, pairs: list[tuple[yaml.Node, yaml.Node]], file: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for key, node in pairs:
        if key.value not in KEYS:
            raise _fail(f"resource_usage.{owner}: unknown usage key {key.value!r}; known keys: "
                        f"{', '.join(KEYS)}", file, key)
        value = _number(node)
        if value is None or value < 0:
            raise _fail(f"resource_usage.{owner}.{key.value} must be a non-negative number "
                        f"({KEYS[key.value]}), got {node.value if isinstance(node, yaml.ScalarNode) else node.id!r}",
                        file, node)
        values[key.value] = value
    return values


def _number(node: yaml.Node) -> Optional[float]:
    """A YAML number; also an unquoted 2e6, which YAML 1.1 would read as a string."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    value = yaml.SafeLoader("").construct_object(node)
    if isinstance(value, str) and node.style is None:
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
