"""Fail closed on inputs (issue 23): pull-request files and event logs a careless or hostile contributor writes.

Waivers and the policy config are in test_fail_closed_waivers.py; secrets and the capture's result channel in
test_fail_closed_capture.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tollgate.cli import main

from conftest import FIXTURES, captured, preview_state

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown sentinel, also a new provider's id
LOG = FIXTURES / "event_log" / "preview-events.jsonl"


def preview_of(snapshot, ops: dict[str, str], default: str = "same") -> dict:
    """The `pulumi preview --json` of an update of an existing stack: each resource's op by name."""
    steps = []
    for r in snapshot.resources:
        op, state = ops.get(r.name, default), preview_state(r)
        step = {"op": op, "urn": r.urn}
        if op != "create":
            step["oldState"] = state
        if op != "delete":
            step["newState"] = copy.deepcopy(state)
        steps.append(step)
    return {"steps": steps}


def write(tmp_path: Path, doc, name: str = "preview.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def run(capsys, *argv: str, stack: str = "dev") -> tuple[int, str, str]:
    code = main([*argv[:1], "--stack", stack, "--format", "json", *argv[1:]])
    out, err = capsys.readouterr()
    return code, out, err


# --- 1. a pull request that deletes a guard -------------------------------------------------------------

GUARDS = {"raw-lifecycle": "delete", "ml-quota": "delete"}


@pytest.mark.parametrize("also", [{}, {"monthly": "update"}])  # alone, or beside an unrelated change
def test_deleting_a_guard_is_reported_on_the_unchanged_resource_it_exposes(capsys, tmp_path, also):
    path = write(tmp_path, preview_of(captured("pr_guards"), {**GUARDS, **also}))
    code, out, err = run(capsys, "preview", "--cwd", str(tmp_path), "--from-preview-json", str(path))
    found = {(f["id"], f["name"]) for f in json.loads(out)["findings"] if f["enforcement"] == "mandatory"}
    assert code == 1, err
    assert found == {("TG008", "raw"), ("TG013", "ml")}  # bucket and namespace are `same`: the change caused them


def test_findings_the_change_did_not_cause_stay_unreported_on_unchanged_resources(capsys, tmp_path):
    # The same stack already without its guards: an unrelated change (a new budget's update) causes nothing.
    snapshot = captured("pr_guards")
    doc = preview_of(snapshot, {"monthly": "update"})
    doc["steps"] = [s for s in doc["steps"] if s["urn"].rsplit("::", 1)[-1] not in GUARDS]
    path = write(tmp_path, doc)
    code, out, err = run(capsys, "preview", "--cwd", str(tmp_path), "--from-preview-json", str(path))
    assert code == 0 and json.loads(out)["findings"] == [], out
    code, out, _ = run(capsys, "preview", "--cwd", str(tmp_path), "--from-preview-json", str(path),
                       "--include-unchanged")
    assert code == 1 and {f["id"] for f in json.loads(out)["findings"]} == {"TG008", "TG013"}


# --- 2. duplicate urns and type lies in a preview --------------------------------------------------------

def _instance_preview() -> dict:
    p = "urn:pulumi:dev::tg-lie::"
    stack = {"urn": p + "pulumi:pulumi:Stack::tg-lie-dev", "type": "pulumi:pulumi:Stack", "custom": False}

    def instance(size: str) -> dict:
        return {"urn": p + "aws:ec2/instance:Instance::web", "type": "aws:ec2/instance:Instance", "custom": True,
                "inputs": {"instanceType": size, "ami": "ami-0c02fb55956c7d316", "tags": {}}}

    return {"steps": [{"op": "create", "urn": stack["urn"], "newState": stack},
                      {"op": "create", "urn": p + "aws:ec2/instance:Instance::web", "newState": instance("t3.micro")},
                      {"op": "create", "urn": p + "aws:ec2/instance:Instance::web", "newState": instance("p4d.24xlarge")}]}


def _type_lie(doc: dict) -> dict:
    del doc["steps"][2]
    doc["steps"][1]["newState"]["type"] = "aws:ssm/parameter:Parameter"
    return doc


def _replacement_with_two_states(doc: dict) -> dict:
    doc["steps"][1]["op"], doc["steps"][2]["op"] = "create-replacement", "replace"
    return doc


@pytest.mark.parametrize("damage, message", [
    (lambda d: d, "duplicate urn 'urn:pulumi:dev::tg-lie::aws:ec2/instance:Instance::web' in steps[1] (op create) "
                  "and steps[2] (op create)"),
    (_replacement_with_two_states, "steps[1].newState and steps[2].newState give urn "
                                   "'urn:pulumi:dev::tg-lie::aws:ec2/instance:Instance::web' two different states"),
    (_type_lie, "steps[1].newState.type is 'aws:ssm/parameter:Parameter' but its urn says "
                "'aws:ec2/instance:Instance'"),
    (lambda d: d["steps"][1].update(urn=d["steps"][0]["urn"]) or d,
     "steps[1].newState.urn is 'urn:pulumi:dev::tg-lie::aws:ec2/instance:Instance::web', not its step's urn"),
    (lambda d: d["steps"][1].update(op="frobnicate") or d, "steps[1].op 'frobnicate' is not a Pulumi step op"),
])
def test_a_preview_that_lies_about_a_step_is_refused_naming_it(capsys, tmp_path, damage, message):
    path = write(tmp_path, damage(_instance_preview()))
    code, out, err = run(capsys, "preview", "--cwd", str(tmp_path), "--from-preview-json", str(path))
    assert (code, out) == (2, "") and f"{path}: {message}" in err, err


def test_a_replacements_steps_with_the_same_state_are_one_resource(capsys, tmp_path):
    doc = _replacement_with_two_states(_instance_preview())
    doc["steps"][2]["newState"] = copy.deepcopy(doc["steps"][1]["newState"])
    code, out, err = run(capsys, "preview", "--cwd", str(tmp_path), "--from-preview-json", str(write(tmp_path, doc)))
    names = [f["name"] for f in json.loads(out)["findings"] if f["rule"] == "required-tags"]
    assert code == 1 and names == ["web"], err


def test_an_export_that_holds_a_resource_twice_is_refused(capsys, tmp_path):
    doc = json.loads((FIXTURES / "pulumi_json" / "export.json").read_text())
    resources = doc["deployment"]["resources"]
    resources.append(copy.deepcopy(resources[4]))
    path = write(tmp_path, doc, "export.json")
    code, _, err = run(capsys, "preview", "--cwd", str(tmp_path), "--from-export", str(path))
    assert code == 2 and f"duplicate urn {resources[4]['urn']!r} in deployment.resources[4] and " \
                          f"deployment.resources[{len(resources) - 1}]" in err, err


# --- 3. event logs that cannot say the pack passed -------------------------------------------------------

def _log_lines() -> list[str]:
    return LOG.read_text(encoding="utf-8").splitlines()


def _without_policy_findings(lines: list[str]) -> list[str]:
    return [line for line in lines if '"policyEvent"' not in line]


def _pack_crashed(lines: list[str]) -> list[str]:
    """The pack's analyzer failed: the engine says so in an error diagnostic and the preview fails, no finding."""
    crash = {"sequence": 11, "timestamp": 1763794811, "diagnosticEvent": {
        "urn": "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev", "prefix": "error: ", "color": "never",
        "message": "analyzer tollgate failed: rpc error: code = Unknown desc = Traceback (most recent call last)\n"
                   "  ZeroDivisionError: division by zero\n", "severity": "error"}}
    kept = _without_policy_findings(lines)
    return kept[:-1] + [json.dumps(crash)] + kept[-1:]


@pytest.mark.parametrize("edit, message", [
    (_pack_crashed, ":9: the preview failed with an engine error (a policy pack that crashed judges nothing): "
                    "analyzer tollgate failed: rpc error"),
    (lambda lines: [], ": event log is empty"),
    (lambda lines: lines[:4], ": event log ends before its summaryEvent"),
    (lambda lines: lines[:-1], ": event log ends before its summaryEvent"),
    (lambda lines: [line.replace('"PolicyPacks":{"tollgate":"0.4.0"},', '') for line in
                    _without_policy_findings(lines) if "policyAnalyzeSummaryEvent" not in line],
     ": event log shows no policy pack"),
])
def test_an_event_log_that_cannot_say_the_pack_passed_is_exit_2(capsys, tmp_path, edit, message):
    path = write(tmp_path, "".join(line + "\n" for line in edit(_log_lines())), "events.jsonl")
    code = main(["report", "--from-event-log", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "") and f"{path}{message}" in err, err


def test_the_engines_wrap_up_of_a_policy_failure_is_not_an_engine_error(capsys, tmp_path):
    lines = _log_lines()
    wrap_up = {"sequence": 11, "timestamp": 1763794811, "diagnosticEvent": {
        "urn": "", "prefix": "error: ", "message": "preview failed\n", "color": "never", "severity": "error"}}
    path = write(tmp_path, "\n".join(lines[:-1] + [json.dumps(wrap_up)] + lines[-1:]) + "\n", "events.jsonl")
    assert main(["report", "--from-event-log", str(path), "--format", "json"]) == 1  # its mandatory findings
    capsys.readouterr()
    # Without a mandatory finding to explain it, the same failure is the engine's, not the rules' verdict.
    lines = [line for line in lines if '"enforcementLevel":"mandatory"' not in line]
    path = write(tmp_path, "\n".join(lines[:-1] + [json.dumps(wrap_up)] + lines[-1:]) + "\n", "events.jsonl")
    assert main(["report", "--from-event-log", str(path), "--format", "json"]) == 2
    assert "engine error (a policy pack that crashed judges nothing): preview failed" in capsys.readouterr().err
