"""The action's tollgate command lines, as the runner would run them: what test_action.py and
test_workflow.py read of action.yml."""

from __future__ import annotations

import os
import re
import subprocess

import yaml

from conftest import ROOT

ACTION = ROOT / "action.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
TOLLGATE = '"$TOLLGATE"'

# what the runner puts in a step's env, for two uses of the action: every optional input given (paths with
# spaces, to prove the quoting) and none
GIVEN = {"TOLLGATE": "tollgate", "OUT": "/tmp/tollgate out", "STACK": "dev", "FAIL_ON": "advisory",
         "POLICY_CONFIG": "stacks/policy config.dev.json", "WAIVERS": "my waivers.yaml", "CHECKOV": "true",
         "BASE": "/tmp/tollgate out/base.json"}
NOT_GIVEN = dict(GIVEN, FAIL_ON="mandatory", POLICY_CONFIG="", WAIVERS="", CHECKOV="", BASE="")


def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def steps() -> list[dict]:
    return action()["runs"]["steps"]


def tollgate_lines(script: str) -> list[str]:
    """Each `"$TOLLGATE" ...` call of a script, continuation lines joined, up to `||` or `;`."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        if TOLLGATE in line:
            call = line[line.index(TOLLGATE):]
            calls.append(re.split(r"\|\||;", call)[0].strip())
    return calls


def expand(call: str, env: dict[str, str]) -> list[str]:
    """The argv bash gives the call with these variables: the way the runner runs the step."""
    words = subprocess.run(["bash", "-c", "printf '%s\\0' " + call[len(TOLLGATE):]], env={**env, "PATH": os.defpath},
                           capture_output=True, text=True, check=True).stdout
    return words.split("\0")[:-1]


def action_commands(env: dict[str, str]) -> list[list[str]]:
    """Every tollgate argv the action runs, in step order (after `tollgate`)."""
    return [expand(call, env) for step in steps() for call in tollgate_lines(step.get("run", ""))]
