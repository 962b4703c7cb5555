"""The PR workflow parses, runs the repository's own action (action.yml) for each of the repository's stacks,
and through it calls only real tollgate flags."""

from __future__ import annotations

import yaml

from tollgate.cli import _parser

from conftest import ROOT
from action_lines import GIVEN, action_commands

WORKFLOW = ROOT / ".github" / "workflows" / "policy-preview.yml"


def preview_job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["preview"]


def action_step() -> dict:
    [step] = [step for step in preview_job()["steps"] if step.get("uses") == "./"]
    return step


def test_workflow_parses_and_covers_every_stack():
    doc = yaml.safe_load(WORKFLOW.read_text())
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert sorted(preview_job()["strategy"]["matrix"]["stack"]) == stacks
    assert doc["permissions"]["security-events"] == "write"  # SARIF upload
    assert doc["permissions"]["pull-requests"] == "write"  # the PR comment
    assert action_step()["with"]["stack"] == "${{ matrix.stack }}"


def test_each_stack_gets_its_policy_config():
    """stacks/policy-config.<stack>.json, for each stack that has one (hashFiles is empty for one that has not)."""
    config = action_step()["with"]["policy-config"]
    assert "hashFiles(format('stacks/policy-config.{0}.json', matrix.stack))" in config
    assert "format('stacks/policy-config.{0}.json', matrix.stack)" in config.split("&&")[1]
    stacks = set(preview_job()["strategy"]["matrix"]["stack"])
    configs = {p.name.split(".")[1] for p in (ROOT / "stacks").glob("policy-config.*.json")}
    assert configs and configs <= stacks


def test_every_tollgate_call_uses_real_flags():
    gate = action_step()["with"]["fail-on"]
    commands = action_commands(dict(GIVEN, FAIL_ON=gate))
    formats = set()
    for argv in commands:
        args = _parser().parse_args(argv)  # exits (SystemExit) on an unknown flag or value
        formats.add(args.format)
    assert {"sarif", "markdown"} <= formats
    assert any("--base-snapshot" in argv for argv in commands)
    assert commands[-1][commands[-1].index("--fail-on") + 1] == "mandatory"
