"""`tollgate report --from-event-log`: the findings of a real CrossGuard preview, from its engine event log."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tollgate.capture.event_log import parse_urn, read_event_log
from tollgate.cli import main
from tollgate.errors import TollgateError
from tollgate.model import Finding

HERE = Path(__file__).resolve().parent
LOG = HERE / "fixtures" / "event_log" / "preview-events.jsonl"
SCHEMA = HERE / "data" / "sarif-schema-2.1.0.json"
SECRET = "hunter2-eventlog-plaintext"
STACK = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
LOGS = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"
WEB = "urn:pulumi:dev::shop::aws:ec2/instance:Instance::web"


def run(tmp_path: Path, fmt: str, *extra: str, log: Path = LOG) -> tuple[int, str]:
    out = tmp_path / f"report.{fmt}"
    code = main(["report", "--from-event-log", str(log), "--format", fmt, "--output", str(out), *extra])
    return code, out.read_text(encoding="utf-8") if out.exists() else ""


def test_policy_events_become_findings_exactly():
    log = read_event_log(LOG)
    assert log.findings == [
        Finding("required-tags", "TG001", LOGS, "aws:s3/bucket:Bucket", "logs", "mandatory", "high",
                "`logs` (aws:s3/bucket:Bucket) is missing required tags: cost-center, environment, owner, team",
                "crossguard"),
        Finding("instance-size-cap", "TG002", WEB, "aws:ec2/instance:Instance", "web", "advisory", "high",
                "`web` (aws:ec2/instance:Instance): instance type is unknown until apply; "
                "cannot check it against the dev cap", "crossguard"),
        Finding("cost-within-budget", "TG011", STACK, "pulumi:pulumi:Stack", "shop-dev", "mandatory", "critical",
                "Stack `dev` is estimated at $4,312.40/month, over its $1,000.00 budget", "crossguard"),
    ]
    assert (log.snapshot.project, log.snapshot.stack) == ("shop", "dev")
    assert [r.name for r in log.snapshot.resources] == ["shop-dev", "default_6_66_0", "logs", "web", "orders-db"]
    assert all(r.inputs == {} for r in log.snapshot.resources)
    assert log.snapshot.resources[-1].type == "aws:rds/instance:Instance"


def test_parse_urn_takes_the_last_qualified_type_part():
    assert parse_urn("urn:pulumi:dev::shop::pulumi:pulumi:Stack$aws:rds/instance:Instance::orders-db") == (
        "dev", "shop", "aws:rds/instance:Instance", "orders-db")
    assert parse_urn("not-a-urn") == ("", "", "", "")


def test_unknown_policy_keeps_whole_message_and_defaults(tmp_path):
    event = {"sequence": 1, "timestamp": 1, "policyEvent": {
        "resourceUrn": LOGS, "message": "Some description\nthe message", "color": "never",
        "policyName": "someone-elses-policy", "policyPackName": "other", "policyPackVersion": "1",
        "policyPackVersionTag": "1", "enforcementLevel": "advisory"}}
    path = tmp_path / "events.jsonl"
    summary = {"sequence": 2, "timestamp": 2, "summaryEvent": {"PolicyPacks": {"other": "1"}, "result": "succeeded"}}
    path.write_text(json.dumps(event) + "\n" + json.dumps(summary) + "\n", encoding="utf-8")
    [finding] = read_event_log(path).findings
    assert (finding.rule, finding.id, finding.severity, finding.message) == (
        "someone-elses-policy", "", "medium", "Some description\nthe message")


def validate_sarif(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:5])


def test_sarif_validates_and_falls_back_to_the_project_file(tmp_path):
    code, text = run(tmp_path, "sarif")
    assert code == 1
    doc = json.loads(text)
    validate_sarif(doc)
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["TG001", "TG002", "TG011"]
    assert [r["level"] for r in results] == ["error", "warning", "error"]
    for result in results:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.yaml"
    assert results[2]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == STACK


def test_junit_parses(tmp_path):
    code, text = run(tmp_path, "junit")
    assert code == 1
    root = ET.fromstring(text)
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert failures and len(failures) == 2  # the two mandatory findings fail under --fail-on mandatory


def test_markdown_has_the_mandatory_table(tmp_path):
    code, text = run(tmp_path, "markdown")
    assert code == 1
    assert "### Mandatory findings" in text
    table = text.split("### Mandatory findings", 1)[1].split("<details>", 1)[0]
    assert "| TG001 | required-tags | logs (aws:s3/bucket:Bucket) |" in table
    assert "| TG011 | cost-within-budget | shop-dev (pulumi:pulumi:Stack) |" in table
    assert "instance-size-cap" not in table


def test_fail_on(tmp_path):
    assert run(tmp_path, "json", "--fail-on", "never")[0] == 0
    assert run(tmp_path, "json", "--fail-on", "mandatory")[0] == 1
    advisory_only = tmp_path / "advisory.jsonl"
    advisory_only.write_text("".join(line + "\n" for line in LOG.read_text(encoding="utf-8").splitlines()
                                     if '"enforcementLevel":"mandatory"' not in line), encoding="utf-8")
    assert run(tmp_path, "json", log=advisory_only)[0] == 0
    assert run(tmp_path, "json", "--fail-on", "advisory", log=advisory_only)[0] == 1


@pytest.mark.parametrize("bad", ['{"sequence": 3, "policyEvent": ', '[1, 2]',
                                 '{"policyEvent": {"policyName": "required-tags", "message": "x"}}',
                                 '{"policyEvent": {"policyName": "x", "message": "x", "enforcementLevel": "loud"}}'])
def test_malformed_line_is_exit_2_naming_file_and_line(tmp_path, capsys, bad):
    lines = LOG.read_text(encoding="utf-8").splitlines()
    lines.insert(4, bad)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TollgateError) as raised:
        read_event_log(path)
    assert (raised.value.file, raised.value.line) == (str(path), 5)
    code, _ = run(tmp_path, "json", log=path)
    assert code == 2
    assert f"{path}:5:" in capsys.readouterr().err


def test_missing_file_is_exit_2(tmp_path, capsys):
    assert run(tmp_path, "json", log=tmp_path / "nope.jsonl")[0] == 2
    assert "event log not found" in capsys.readouterr().err


def test_the_planted_secret_is_in_the_log_but_in_no_report(tmp_path, capsys):
    assert SECRET in LOG.read_text(encoding="utf-8")
    for fmt in ("sarif", "junit", "markdown", "json"):
        _, text = run(tmp_path, fmt)
        assert text and SECRET not in text, fmt
        assert main(["report", "--from-event-log", str(LOG), "--format", fmt]) == 1
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err, fmt
