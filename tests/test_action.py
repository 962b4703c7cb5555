"""The reusable GitHub Action (action.yml) and the pre-commit hook (.pre-commit-hooks.yaml): they parse, declare
their inputs, call only real tollgate flags, and let no input into a script."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib

import pytest
import yaml

from tollgate.cli import _parser, main

from action_lines import ACTION, GIVEN, HOOKS, NOT_GIVEN, TOLLGATE, action, action_commands, expand, steps, tollgate_lines
from conftest import FIXTURES, ROOT

# input -> (required, default); None: no default
INPUTS = {
    "stack": (True, None),
    "working-directory": (False, "."),
    "fail-on": (False, "mandatory"),
    "policy-config": (False, ""),
    "waivers": (False, ""),
    "comment": (False, "true"),
    "sarif": (False, "true"),
    "python-version": (False, "3.11"),
    "version": (False, ""),  # empty: the action's own checkout
}

def test_action_parses_and_declares_every_input():
    doc = action()
    assert doc["name"] and doc["description"] and doc["runs"]["using"] == "composite"
    declared = doc["inputs"]
    for name, (required, default) in INPUTS.items():
        assert declared[name]["description"], name
        assert bool(declared[name].get("required")) == required, name
        if default is not None:
            assert str(declared[name]["default"]) == default, name
    assert set(re.findall(r"\w+", declared["fail-on"]["description"])) >= {"mandatory", "advisory", "never"}


def test_no_input_reaches_a_script():
    for step in steps():
        for script in (step.get("run", ""), step.get("with", {}).get("script", "")):
            assert "${{" not in script, step.get("name") or step.get("id")  # context only through env:


def test_every_tollgate_call_uses_real_flags():
    for env in (GIVEN, NOT_GIVEN):
        commands = action_commands(env)
        formats = set()
        for argv in commands:
            args = _parser().parse_args(argv)  # exits (SystemExit) on an unknown flag or value
            assert args.command == "preview" and args.stack == "dev"
            formats.add(args.format)
        assert {"sarif", "markdown"} <= formats
        assert any("--snapshot-out" in argv for argv in commands)
        assert any("--base-snapshot" in argv for argv in commands) == bool(env["BASE"])


def test_optional_inputs_are_passed_only_when_given():
    judged = [argv for argv in action_commands(GIVEN) if "--cwd" not in argv]  # the base run judges nothing
    for argv in judged:
        assert argv[argv.index("--policy-config") + 1] == GIVEN["POLICY_CONFIG"]
        assert argv[argv.index("--waivers") + 1] == GIVEN["WAIVERS"]
        assert "--checkov" in argv
    for argv in action_commands(NOT_GIVEN):
        assert not {"--policy-config", "--waivers", "--checkov"} & set(argv)


def test_every_variable_of_a_call_is_in_its_step_env():
    for step in steps():
        for call in tollgate_lines(step.get("run", "")):
            used = set(re.findall(r"\$\{?([A-Z_]+)", call))
            assert used <= set(step.get("env", {})), (step.get("name"), used - set(step.get("env", {})))


def test_the_last_step_gates_on_fail_on():
    gate = steps()[-1]
    assert gate["if"].startswith("always()")  # a failed comment or upload does not skip the gate
    assert gate["env"]["FAIL_ON"] == "${{ inputs.fail-on }}"
    assert "||" not in gate["run"]  # its exit code, 1 or 2, is the action's
    argv = action_commands(GIVEN)[-1]
    assert argv[argv.index("--fail-on") + 1] == GIVEN["FAIL_ON"] and "--snapshot" in argv


def test_sarif_is_uploaded_and_the_comment_posted():
    by_uses = {step.get("uses", "").split("@")[0]: step for step in steps()}
    upload = by_uses["github/codeql-action/upload-sarif"]
    assert "always()" in upload["if"] and "inputs.sarif == 'true'" in upload["if"]
    assert "inputs.comment == 'true'" in by_uses["actions/github-script"]["if"]
    assert by_uses["actions/setup-python"]["with"]["python-version"] == "${{ inputs.python-version }}"


def test_tollgate_is_installed_from_the_action_or_the_given_version():
    install = next(step for step in steps() if step.get("id") == "setup")
    assert install["env"]["VERSION"] == "${{ inputs.version }}"
    assert '-e "$GITHUB_ACTION_PATH"' in install["run"] and '"tollgate-iac==$VERSION"' in install["run"]


def _heredoc(step_id: str) -> str:
    """The Python a step runs from a `<<'EOF'` here-document."""
    script = next(step for step in steps() if step.get("id") == step_id)["run"]
    return re.search(r"<<'EOF'\n(.*?)\nEOF\n", script, re.S).group(1)


@pytest.mark.parametrize("pulumi_yaml,virtualenv", [
    ("name: p\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n", "venv"),
    ("name: p\nruntime: python\n", ""),
    ("name: p\nruntime:\n  name: python\n", ""),
    (None, ""),  # no project: tollgate preview says so in the next step
])
def test_the_program_virtualenv_is_read_from_pulumi_yaml(tmp_path, pulumi_yaml, virtualenv):
    if pulumi_yaml is not None:
        (tmp_path / "Pulumi.yaml").write_text(pulumi_yaml)
    out = subprocess.run([sys.executable, "-c", _heredoc("project")], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == virtualenv


def test_sarif_paths_are_made_relative_to_the_repository(tmp_path):
    sarif = tmp_path / "tollgate.sarif"
    main(["preview", "--stack", "dev", "--cwd", str(tmp_path), "--from-preview-json",
          str(FIXTURES / "pulumi_json" / "preview.json"), "--format", "sarif", "--output", str(sarif)])
    before = sarif.read_text()
    subprocess.run([sys.executable, "-c", _heredoc("capture"), str(sarif), "infra/my project/"], check=True)
    uris = re.findall(r'"uri": "([^"]*)"', sarif.read_text())
    assert uris and len(uris) == len(re.findall(r'"uri": "', before))
    assert all(uri.startswith("infra/my%20project/") for uri in uris)


# the pre-commit hook


def hook() -> dict:
    hooks = yaml.safe_load(HOOKS.read_text())
    assert [h["id"] for h in hooks] == ["tollgate-preview"]
    return hooks[0]


def test_hook_runs_the_console_script_once():
    spec = hook()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entry = shlex.split(spec["entry"])
    assert spec["language"] == "python" and entry[0] in scripts and spec["pass_filenames"] is False
    args = _parser().parse_args(entry[1:] + spec["args"])
    assert args.command == "preview" and args.stack == "dev"


@pytest.mark.parametrize("user_args", [
    ["--stack", "prod", "--policy-config", "stacks/policy-config.prod.json", "--quiet"],
    ["--stack", "staging", "--cwd", "infra", "--fail-on", "advisory"],
])
def test_hook_args_a_user_sets_parse(user_args):
    assert _parser().parse_args(shlex.split(hook()["entry"])[1:] + user_args).stack == user_args[1]


@pytest.mark.parametrize("path,runs", [
    ("__main__.py", True), ("Pulumi.dev.yaml", True), ("stacks/policy-config.dev.json", True),
    ("rego/gpu_approval.rego", True), ("waivers.yml", True), ("README.md", False), ("Makefile", False),
])
def test_hook_files(path, runs):
    assert bool(re.search(hook()["files"], path)) == runs


def test_workflow_inputs_are_the_actions():
    """GitHub only warns about an input the action does not declare: a typo would pass silently."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "policy-preview.yml").read_text())
    uses = [step for step in workflow["jobs"]["preview"]["steps"] if step.get("uses") == "./"]
    assert uses and all(set(step["with"]) <= set(action()["inputs"]) for step in uses)
