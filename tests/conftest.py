"""Shared fixtures: captured snapshots are cached per session (each capture starts a Python process)."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import pytest

from tollgate.capture.host import capture
from tollgate.model import UNKNOWN, Snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def captured(fixture: str, stack: str = "dev") -> Snapshot:
    return capture(FIXTURES / fixture, stack)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def capture_source(directory: Path, source: str, config: dict | None = None, stack: str = "dev",
                   project: str = "inline") -> Snapshot:
    """Write a one-file Pulumi program and capture it offline; it imports tollgate_components from the
    environment it runs in, as a user's program does.

    Each call runs the program in its own Python process under the capture monitor, like `tollgate preview`.
    """
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    stack_config = {"aws:region": "us-east-1", **(config or {})}
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": stack_config}))
    (directory / "__main__.py").write_text(source)
    return capture(directory, stack)


BROKEN_RULE_METADATA = """package tollgate

import rego.v1

# METADATA
# title: Broken
# description: a rule for tests
# custom:
#   id: TG998
#   severity: low
#   enforcement: mandatory
"""


def rules_with(tmp_path: Path, name: str, body: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rego", rules)
    (rules / name).write_text(BROKEN_RULE_METADATA + body)
    return rules


def preview_state(r) -> dict:
    """A snapshot Resource as a `pulumi preview --json` step's state shows it (outputs as its inputs)."""
    state = {"urn": r.urn, "custom": r.custom, "type": r.type, "inputs": r.inputs, "outputs": r.inputs}
    if r.type.startswith("pulumi:providers:"):  # the engine keeps a provider's object inputs JSON-encoded
        state["inputs"] = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in r.inputs.items()}
    if r.parent:
        state["parent"] = r.parent
    if r.provider:
        state["provider"] = f"{r.provider.urn}::{UNKNOWN}"
    if r.dependencies:
        state["dependencies"] = r.dependencies
    if r.property_dependencies:
        state["propertyDependencies"] = r.property_dependencies
    return state
