"""`pulumi preview --json` and `pulumi stack export` files read into the same Snapshot the offline capture makes.

The fixtures in tests/fixtures/pulumi_json are hand-made in the CLI's format (see the README there).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tollgate.capture.pulumi_json import snapshot_from_export, snapshot_from_preview_json
from tollgate.cli import main
from tollgate.errors import TollgateError
from tollgate.evaluate import evaluate
from tollgate.model import SECRET_MARKER

from conftest import FIXTURES, captured, preview_state

HERE = FIXTURES / "pulumi_json"
PREVIEW, EXPORT = HERE / "preview.json", HERE / "export.json"
P = "urn:pulumi:dev::tg-adapters::"
STACK = P + "pulumi:pulumi:Stack::tg-adapters-dev"
DEFAULT = P + "pulumi:providers:aws::default_7_51_1"
TAGGED = P + "pulumi:providers:aws::tagged"
LAKE = P + "tollgate:storage:TieredBucket::lake"
LAKE_BUCKET = P + "tollgate:storage:TieredBucket$aws:s3/bucket:Bucket::lake-bucket"
LOGS = P + "aws:s3/bucket:Bucket::logs"
# The secret values in export.json: neither may reach a snapshot or a report.
PLAINTEXT, CIPHERTEXT = "hunter2-PLAINTEXT-secret", "Q0lQSEVSVEVYVC1zZWNyZXQtdmFsdWU="
TAGS = {"cost-center": "cc-1234", "environment": "dev", "owner": "data-platform", "project": "lake", "team": "data"}


def by_name(snapshot):
    return {r.name: r for r in snapshot.resources}


@pytest.mark.parametrize("read", [snapshot_from_preview_json, snapshot_from_export])
def test_resources_parents_providers_and_dependencies_are_recorded(read):
    path = PREVIEW if read is snapshot_from_preview_json else EXPORT
    snapshot = read(path)
    assert (snapshot.project, snapshot.stack, snapshot.environment, snapshot.tags) == ("tg-adapters", "dev", None, {})
    r = by_name(snapshot)
    assert r["tg-adapters-dev"].type == "pulumi:pulumi:Stack" and r["tg-adapters-dev"].parent is None
    # a component and its child, under an explicit provider whose JSON-encoded defaultTags are decoded
    assert r["lake"].custom is False and r["lake"].provider is None and r["lake"].parent == STACK
    child = r["lake-bucket"]
    assert child.urn == LAKE_BUCKET and child.parent == LAKE and child.custom is True
    assert child.provider.urn == TAGGED and child.provider.inputs["defaultTags"] == {"tags": TAGS}
    assert r["tagged"].inputs["defaultTags"] == {"tags": TAGS} and r["tagged"].provider is None
    # the default provider, resolved from its pulumi:providers:aws resource in the same file
    assert r["logs"].provider.urn == DEFAULT
    assert r["logs"].provider.inputs == {"region": "us-east-1", "version": "7.51.1"}
    assert r["bastion"].dependencies == [LOGS] and r["bastion"].property_dependencies == {"userData": [LOGS]}
    assert r["db-password"].options == {"additionalSecretOutputs": ["value"]}
    if read is snapshot_from_export:  # ResourceV3.sourcePosition: project:///<file>#<line>,<column>
        assert (r["bastion"].source.file, r["bastion"].source.line) == ("__main__.py", 12)


def test_preview_judges_the_new_state_and_skips_deletes_and_unchanged():
    snapshot = snapshot_from_preview_json(PREVIEW)
    r = by_name(snapshot)
    assert r["bastion"].inputs["instanceType"] == "t3.small"  # the update's new state, not the old one
    assert "old-queue" not in r  # deleted: not judged
    # same: kept as context (stack rules and the cost see the whole stack), reported only with the flag
    context = {r.name for r in snapshot.resources if r.urn in snapshot.context_only}
    assert {"archive", "default_7_51_1"} <= context and "tg-adapters-dev" not in context and "bastion" not in context
    everything = snapshot_from_preview_json(PREVIEW, include_unchanged=True)
    assert {"archive", "default_7_51_1"} <= by_name(everything).keys() and everything.context_only == []


def test_a_replacement_is_one_resource_and_pending_deletes_are_skipped(tmp_path):
    data = json.loads(PREVIEW.read_text())
    bastion = next(s for s in data["steps"] if s["urn"].endswith("::bastion"))
    replaced = [dict(copy.deepcopy(bastion), op=op) for op in ("create-replacement", "replace")]
    replaced.append({"op": "delete-replaced", "urn": bastion["urn"], "oldState": bastion["oldState"]})
    data["steps"] = [s for s in data["steps"] if s is not bastion] + replaced
    (tmp_path / "p.json").write_text(json.dumps(data))
    assert [r.name for r in snapshot_from_preview_json(tmp_path / "p.json").resources].count("bastion") == 1
    assert "old-queue" not in by_name(snapshot_from_export(EXPORT))  # "delete": true in the export


def test_secrets_become_markers():
    preview, export = by_name(snapshot_from_preview_json(PREVIEW)), by_name(snapshot_from_export(EXPORT))
    assert preview["db-password"].inputs["value"] == SECRET_MARKER  # "[secret]" as the CLI blinds it
    assert export["db-password"].inputs["value"] == SECRET_MARKER  # ciphertext
    assert export["api-token"].inputs["value"] == SECRET_MARKER  # --show-secrets plaintext
    text = snapshot_from_export(EXPORT).to_json()
    assert PLAINTEXT not in text and CIPHERTEXT not in text and "[secret]" not in text


@pytest.mark.parametrize("fmt", ["json", "table", "sarif"])
@pytest.mark.parametrize("flag,path", [("--from-preview-json", PREVIEW), ("--from-export", EXPORT)])
def test_cli_reads_the_files_and_never_prints_secrets(capsys, tmp_path, fmt, flag, path):
    code = main(["preview", "--stack", "dev", "--cwd", str(tmp_path), flag, str(path), "--format", fmt,
                 "--snapshot-out", str(tmp_path / "snap.json")])
    out, err = capsys.readouterr()
    assert code == 1, err  # the untagged `logs` bucket is a mandatory finding
    assert "logs" in out
    for text in (out, err, (tmp_path / "snap.json").read_text()):
        assert PLAINTEXT not in text and CIPHERTEXT not in text


def test_include_unchanged_judges_same_steps(capsys, tmp_path):
    base = ["preview", "--stack", "dev", "--cwd", str(tmp_path), "--from-preview-json", str(PREVIEW), "--format", "json"]
    main(base)
    names = {f["name"] for f in json.loads(capsys.readouterr().out)["findings"]}
    main(base + ["--include-unchanged"])
    names_all = {f["name"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "archive" not in names and "archive" in names_all


def test_source_flags_are_mutually_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["preview", "--stack", "dev", "--snapshot", "x.json", "--from-export", str(EXPORT)])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_a_stack_other_than_the_files_is_an_error(capsys, tmp_path):
    assert main(["preview", "--stack", "prod", "--cwd", str(tmp_path), "--from-export", str(EXPORT)]) == 2
    assert "stack 'dev', not --stack 'prod'" in capsys.readouterr().err


def _broken(tmp_path, source, edit):
    data = json.loads(source.read_text())
    edit(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("flag,source,edit,field", [
    ("--from-preview-json", PREVIEW, lambda d: d["steps"][3]["newState"].pop("type"), "steps[3].newState.type missing"),
    ("--from-preview-json", PREVIEW, lambda d: d.pop("steps"), "steps missing"),
    ("--from-preview-json", PREVIEW, lambda d: d["steps"][4].pop("newState"), "steps[4].newState missing"),
    ("--from-preview-json", PREVIEW, lambda d: d["steps"][2].pop("op"), "steps[2].op missing"),
    ("--from-preview-json", PREVIEW, lambda d: d["steps"][5]["newState"].update(urn="logs"),
     "steps[5].newState.urn is not a Pulumi urn"),
    ("--from-export", EXPORT, lambda d: d["deployment"]["resources"][4].pop("urn"), "deployment.resources[4].urn missing"),
    ("--from-export", EXPORT, lambda d: d["deployment"]["resources"][4].update(inputs=[]),
     "deployment.resources[4].inputs is not an object"),
    ("--from-export", EXPORT, lambda d: d.pop("deployment"), "deployment missing"),
    ("--from-export", EXPORT, lambda d: d.update(version=2), "only version 3"),
])
def test_malformed_files_exit_2_naming_the_field(capsys, tmp_path, flag, source, edit, field):
    path = _broken(tmp_path, source, edit)
    assert main(["preview", "--stack", "dev", "--cwd", str(tmp_path), flag, str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and field in err, err


def test_not_json_and_missing_files_exit_2(capsys, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["preview", "--stack", "dev", "--cwd", str(tmp_path), "--from-export", str(tmp_path / "bad.json")]) == 2
    assert "bad.json:1: pulumi stack export file is not JSON" in capsys.readouterr().err
    assert main(["preview", "--stack", "dev", "--cwd", str(tmp_path), "--from-preview-json", str(tmp_path / "no.json")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(TollgateError, match="no resources to judge"):
        (tmp_path / "empty.json").write_text('{"steps": []}')
        snapshot_from_preview_json(tmp_path / "empty.json")


def _as_preview_json(snapshot, tmp_path) -> Path:
    """An offline capture written the way `pulumi preview --json` would show a first `pulumi up` of it."""
    steps = []
    for r in snapshot.resources:
        steps.append({"op": "create", "urn": r.urn, "newState": preview_state(r)})
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"steps": steps, "changeSummary": {"create": len(steps)}}))
    return path


@pytest.mark.parametrize("fixture", ["untagged", "compliant"])
def test_findings_equal_the_offline_captures(tmp_path, fixture):
    offline = captured(fixture)
    adapted = snapshot_from_preview_json(_as_preview_json(offline, tmp_path))
    assert [(r.urn, r.provider) for r in adapted.resources] == [(r.urn, r.provider) for r in offline.resources]

    def key(findings):
        return sorted((f.rule, f.urn, f.enforcement, f.message) for f in findings)

    assert key(evaluate(adapted)[1]) == key(evaluate(offline)[1])
    if fixture == "untagged":
        messages = {f.message for f in evaluate(adapted)[1] if f.rule == "required-tags"}
        assert any(m.startswith("`logs` (aws:s3/bucket:Bucket) lacks required tags") for m in messages)


def test_unchanged_resources_count_for_stack_rules_but_are_not_reported(tmp_path, capsys):
    """An update that leaves the stack's budget as it is must not read as "no budget" (budget-required)."""
    data = json.loads(PREVIEW.read_text())
    budget = {"urn": "urn:pulumi:dev::tg-adapters::aws:budgets/budget:Budget::monthly",
              "type": "aws:budgets/budget:Budget", "custom": True,
              "parent": "urn:pulumi:dev::tg-adapters::pulumi:pulumi:Stack::tg-adapters-dev",
              "inputs": {"budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": "100", "limitUnit": "USD",
                         "notifications": [{"comparisonOperator": "GREATER_THAN", "threshold": 80,
                                            "thresholdType": "PERCENTAGE", "notificationType": "ACTUAL"}]}}
    data["steps"].append({"op": "same", "urn": budget["urn"], "oldState": budget, "newState": budget})
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(data))

    def rules_reported(*flags):
        main(["preview", "--stack", "dev", "--cwd", str(tmp_path), "--from-preview-json", str(path),
              "--format", "json", *flags])
        return {(f["rule"], f["name"]) for f in json.loads(capsys.readouterr().out)["findings"]}

    judged = rules_reported()
    assert "budget-required" not in {rule for rule, _ in judged}
    assert not {name for _, name in judged} & {"archive", "monthly"}  # unchanged: not reported
    assert ("bucket-lifecycle", "archive") in rules_reported("--include-unchanged")
