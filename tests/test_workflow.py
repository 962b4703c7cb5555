"""The PR workflow parses, runs a matrix over the repository's stacks, and calls only real tollgate flags."""

from __future__ import annotations

import shlex

import yaml

from tollgate.cli import _parser

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "policy-preview.yml"


def tollgate_commands(doc: dict) -> list[list[str]]:
    commands = []
    for step in doc["jobs"]["preview"]["steps"]:
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            if ".venv/bin/tollgate" in line:
                words = shlex.split(line.split("||")[0].replace("${{ matrix.stack }}", "dev"))
                commands.append(words[words.index(".venv/bin/tollgate") + 1:])
    return commands


def test_workflow_parses_and_covers_every_stack():
    doc = yaml.safe_load(WORKFLOW.read_text())
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert sorted(doc["jobs"]["preview"]["strategy"]["matrix"]["stack"]) == stacks
    assert doc["permissions"]["security-events"] == "write"  # SARIF upload
    uses = [step.get("uses", "") for step in doc["jobs"]["preview"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)


def test_every_tollgate_call_uses_real_flags():
    commands = tollgate_commands(yaml.safe_load(WORKFLOW.read_text()))
    formats = set()
    for argv in commands:
        args = _parser().parse_args(argv)  # exits (SystemExit) on an unknown flag or value
        formats.add(args.format)
    assert {"sarif", "markdown"} <= formats
    assert any("--base-snapshot" in argv for argv in commands)
    assert any(argv[argv.index("--fail-on") + 1] == "mandatory" for argv in commands if "--fail-on" in argv)
