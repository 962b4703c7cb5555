"""The report formats (sarif, junit, markdown) from one findings list, `--fail-on`, and their one shape.

SARIF is validated against the official 2.1.0 schema (tests/data, see its README); JUnit is parsed as
a CI dashboard would; Markdown is checked as the PR comment a reviewer reads.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from tollgate.cli import main
from tollgate.cost import Estimate, LineItem
from tollgate.evaluate import evaluate
from tollgate.model import Finding, Snapshot, Waiver
from tollgate.report import (COST_FORMATS, FORMATS, RenderOptions, Report, build_report, cost_table, junit, markdown,
                             render, render_cost, sarif, table)

from conftest import ROOT, capture_source, captured

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
SECRETS = ("hunter2-plaintext-token", "Q2lwaGVydGV4dE5ldmVyVG9CZVByaW50ZWQ=", "QVdTU2VjcmV0S2V5Q2lwaGVydGV4dA==")
WAIVER = Waiver(rule="bucket-lifecycle", resource="logs", owner="data-lead@example.com",
                reason="log bucket expires objects through an org-wide rule (PLAT-7)", expires="2099-01-31")
# A program whose only finding is advisory: a spot node pool that does not scale to zero in dev (TG007).
ADVISORY_ONLY = """
import pulumi
import pulumi_aws as aws

tags = {"project": "adv", "environment": "dev", "team": "ml", "cost-center": "cc-1", "owner": "ml@example.com"}
provider = aws.Provider("tagged", region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(provider=provider)
role = aws.iam.Role("nodes", assume_role_policy="{}", opts=opts)
aws.eks.NodeGroup("workers", cluster_name="ml", node_role_arn=role.arn, subnet_ids=["subnet-0a1b2c3d"],
                  instance_types=["t3.large"], capacity_type="SPOT",
                  scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=1, min_size=1, max_size=3), opts=opts)
aws.budgets.Budget("monthly", budget_type="COST", limit_amount="500", limit_unit="USD", time_unit="MONTHLY",
                   notifications=[aws.budgets.BudgetNotificationArgs(
                       comparison_operator="GREATER_THAN", threshold=80, threshold_type="PERCENTAGE",
                       notification_type="ACTUAL", subscriber_email_addresses=["finops@example.com"])], opts=opts)
"""


@cache
def judged(fixture: str) -> Report:
    snapshot = captured(fixture)
    rules, findings = evaluate(snapshot)
    return build_report(snapshot, len(rules.rules), findings, rules.rules)


def with_findings(report: Report, findings: list[Finding]) -> Report:
    """The same report over other findings, its summary recounted."""
    counted = build_report(Snapshot(report.project, report.stack, []), report.summary.rules, findings).summary
    return replace(report, findings=findings, summary=replace(counted, resources=report.summary.resources))


def waived(report: Report) -> Report:
    """The untagged report with the lifecycle finding on `logs` waived (as waive.py would attach it)."""
    return with_findings(report, [replace(f, waiver=WAIVER) if (f.rule, f.name) == ("bucket-lifecycle", "logs") else f
                                  for f in report.findings])


def extra_findings(report: Report) -> list[Finding]:
    """Findings of rules outside the Rego rule set: cost, checkov, the tag remediation (shares TG001), engine."""
    stack = next(f for f in report.findings if f.rule == "budget-required")
    logs = replace(next(f for f in report.findings if f.name == "logs"), waiver=None)
    return [
        replace(stack, rule="cost-within-budget", id="TG011", source="cost",
                message="Stack `dev` is estimated at $1,312.00/month, over its $1,000.00 budgets"),
        replace(logs, rule="CKV_AWS_18", id="CKV_AWS_18", source="checkov", severity="medium",
                enforcement="advisory", message="Ensure the S3 bucket has access logging enabled"),
        replace(logs, rule="required-tags-remediation", id="TG001", source="crossguard", severity="low",
                enforcement="remediate", message="`logs`: added tags owner, team from the stack's tag set"),
    ]


def sarif_doc(report: Report) -> dict:
    return json.loads(sarif.render(report))


def validate_sarif(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


# --- SARIF -------------------------------------------------------------------------------------------


def test_sarif_of_a_real_fixture_validates_and_points_at_the_declaring_lines():
    report = judged("untagged")
    doc = sarif_doc(report)
    validate_sarif(doc)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tollgate" and driver["version"] == __import__("tollgate").__version__
    assert driver["informationUri"].startswith("https://")
    lines = {}
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        logical = result["locations"][0]["logicalLocations"][0]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%" and logical["kind"] == "resource"
        lines.setdefault(logical["fullyQualifiedName"].rsplit("::", 1)[-1], set()).add(
            (physical["artifactLocation"]["uri"], physical.get("region", {}).get("startLine")))
    # tests/fixtures/untagged/__main__.py: logs on line 5, bastion 6, scratch 8; the stack has no line
    assert lines == {"logs": {("__main__.py", 5)}, "bastion": {("__main__.py", 6)}, "scratch": {("__main__.py", 8)},
                     "tg-untagged-dev": {("Pulumi.yaml", None)}}
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert len(run["results"]) == len(report.findings)


def test_a_finding_as_json_is_its_dataclass_as_dict():
    """Finding.to_dict (the json format's entry) spells out its fields for speed: the same dict as asdict,
    with a waiver and without, so a field added to Finding cannot go missing from the report."""
    from dataclasses import asdict

    finding = Finding(rule="required-tags", id="TG001", urn="urn:pulumi:dev::p::aws:s3/bucket:Bucket::b",
                      type="aws:s3/bucket:Bucket", name="b", enforcement="mandatory", severity="high",
                      message="b lacks required tags owner", source="rego")
    for f in (finding, replace(finding, waiver=WAIVER)):
        assert f.to_dict() == asdict(f)
        assert list(f.to_dict()) == list(asdict(f))


def test_sarif_rules_levels_and_indexes():
    report = judged("untagged")
    run = sarif_doc(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {m.id for m in report.rules}  # every known rule, firing or not
    tg001 = next(r for r in rules if r["id"] == "TG001")
    assert tg001["name"] == "required-tags" and tg001["shortDescription"]["text"] == "Required tags"
    assert "cost-center" in tg001["fullDescription"]["text"] and "required_tags.rego" in tg001["help"]["text"]
    assert tg001["defaultConfiguration"]["level"] == "error"
    assert tg001["properties"]["severity"] == "high" and tg001["properties"]["security-severity"] == "8.0"
    advisory = next(r for r in rules if r["name"] == "scale-to-zero-outside-prod")
    assert advisory["defaultConfiguration"]["level"] == "warning"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        # every untagged finding is mandatory, but ebs-gp3's on bastion (its AMI decides its root disk: advisory)
        assert result["level"] == ("warning" if result["ruleId"] == "TG009" else "error")
    assert {r["ruleId"] for r in run["results"]} == {"TG001", "TG008", "TG009", "TG010"}


def test_sarif_waived_finding_keeps_its_level_and_is_suppressed():
    doc = sarif_doc(waived(judged("untagged")))
    validate_sarif(doc)
    suppressed = [r for r in doc["runs"][0]["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    result = suppressed[0]
    assert result["ruleId"] == "TG008" and result["level"] == "error"
    assert result["suppressions"] == [{"kind": "external", "status": "accepted", "justification": WAIVER.reason,
                                       "properties": {"owner": WAIVER.owner, "expires": WAIVER.expires,
                                                      "waiver": "logs"}}]


def test_sarif_rules_outside_the_rule_set_get_entries_with_unique_ids():
    report = judged("untagged")
    doc = sarif_doc(with_findings(report, report.findings + extra_findings(report)))
    validate_sarif(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    by_name = {r["name"]: r for r in rules}
    assert by_name["cost-within-budget"]["id"] == "TG011"
    assert by_name["CKV_AWS_18"]["defaultConfiguration"]["level"] == "warning"
    # the remediation shares TG001 with required-tags: SARIF's hierarchical id keeps both apart
    assert by_name["required-tags-remediation"]["id"] == "TG001/required-tags-remediation"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["TG001/required-tags-remediation"] == "note" and levels["CKV_AWS_18"] == "warning"


def test_sarif_fingerprints_are_stable_and_distinct():
    report = judged("untagged")
    first = sarif_doc(report)["runs"][0]["results"]
    again = sarif_doc(with_findings(report, list(reversed(report.findings))))["runs"][0]["results"]
    prints = {r["message"]["text"]: r["partialFingerprints"]["tollgate/v1"] for r in first}
    assert prints == {r["message"]["text"]: r["partialFingerprints"]["tollgate/v1"] for r in again}
    assert len(set(prints.values())) == len(first)  # scratch has two required-tags findings: still two prints


def test_sarif_engine_error_marks_the_run_unsuccessful():
    report = judged("untagged")
    error = replace(report.findings[-1], rule="engine-error", id="TG000", severity="critical",
                    message="rule broken (TG998) failed to evaluate: broken.rego:14: divide by zero")
    doc = sarif_doc(with_findings(report, report.findings + [error]))
    validate_sarif(doc)
    assert doc["runs"][0]["invocations"] == [{"executionSuccessful": False}]
    assert sarif_doc(report)["runs"][0]["invocations"] == [{"executionSuccessful": True}]


# --- JUnit -------------------------------------------------------------------------------------------


def cases(xml: str) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.fromstring(xml).iter("testcase")}


def test_junit_one_case_per_rule_and_resource_failures_for_mandatory():
    report = judged("untagged")
    root = ET.fromstring(junit.render(report))
    assert root.tag == "testsuites" and [s.get("name") for s in root] == ["tollgate.rego"]
    found = cases(junit.render(report))
    failed = {name for name, c in found.items() if c.find("failure") is not None}
    # scratch's two required-tags findings are one (rule, resource) case
    assert failed == {"TG001 required-tags: bastion (aws:ec2/instance:Instance)",
                      "TG001 required-tags: logs (aws:s3/bucket:Bucket)",
                      "TG001 required-tags: scratch (aws:s3/bucket:Bucket)",
                      "TG008 bucket-lifecycle: logs (aws:s3/bucket:Bucket)",
                      "TG008 bucket-lifecycle: scratch (aws:s3/bucket:Bucket)",
                      "TG010 budget-required: tg-untagged-dev (pulumi:pulumi:Stack)"}
    scratch = found["TG001 required-tags: scratch (aws:s3/bucket:Bucket)"]
    assert (scratch.get("file"), scratch.get("line"), scratch.get("classname")) == ("__main__.py", "8",
                                                                                   "tollgate.rego.required-tags")
    failure = scratch.find("failure")
    assert failure.get("type") == "TG001" and 'environment tag "qa"' in failure.text and "lacks required" in failure.text
    # every rule that ran and found nothing has one passing case on the stack
    passing = {name for name, c in found.items() if len(c) == 0}
    assert passing == {f"{m.id} {m.name}: stack dev" for m in report.rules
                       if m.name not in {"required-tags", "bucket-lifecycle", "budget-required", "ebs-gp3"}}
    suite = root[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (str(len(found)), "6", "0")
    assert root.get("failures") == "6"


def test_junit_advisory_passes_with_output_unless_fail_on_advisory():
    report = judged("unknown_type")
    advisory = "TG002 instance-size-cap: worker (aws:ec2/instance:Instance)"
    default = cases(junit.render(report))[advisory]
    assert default.find("failure") is None and "cannot decide the instance size cap" in default.find("system-out").text
    strict = cases(junit.render(report, RenderOptions(fail_on="advisory")))[advisory]
    assert strict.find("failure") is not None
    never = cases(junit.render(report, RenderOptions(fail_on="never")))
    assert all(c.find("failure") is None for c in never.values())


def test_junit_waived_is_skipped_and_other_sources_get_their_suites():
    report = waived(judged("untagged"))
    xml = junit.render(with_findings(report, report.findings + extra_findings(report)))
    root = ET.fromstring(xml)
    assert [s.get("name") for s in root] == ["tollgate.rego", "tollgate.crossguard", "tollgate.cost", "tollgate.checkov"]
    found = cases(xml)
    skipped = found["TG008 bucket-lifecycle: logs (aws:s3/bucket:Bucket)"].find("skipped")
    assert skipped.get("message") == f"waived by {WAIVER.owner} until {WAIVER.expires}: {WAIVER.reason}"
    assert found["TG011 cost-within-budget: tg-untagged-dev (pulumi:pulumi:Stack)"].find("failure") is not None
    checkov = found["CKV_AWS_18 CKV_AWS_18: logs (aws:s3/bucket:Bucket)"]
    assert checkov.find("failure") is None and checkov.find("system-out") is not None
    assert root.get("skipped") == "1"


def test_junit_engine_error_is_an_error_and_the_rule_has_no_passing_case():
    report = judged("untagged")
    meta = next(m for m in report.rules if m.name == "ebs-gp3")
    stack_finding = next(f for f in report.findings if f.rule == "budget-required")
    error = replace(stack_finding, rule="engine-error", id="TG000", severity="critical",
                    message=f"rule {meta.name} ({meta.id}) failed to evaluate: ebs_gp3.rego:20: divide by zero")
    found = cases(junit.render(with_findings(report, report.findings + [error]), RenderOptions(fail_on="never")))
    assert found["TG000 engine-error: tg-untagged-dev (pulumi:pulumi:Stack)"].find("error") is not None
    assert f"{meta.id} ebs-gp3: stack dev" not in found


# --- Markdown ----------------------------------------------------------------------------------------


def estimate_of(monthly: float, baseline: float, resources: list | None = None) -> Estimate:
    """A made-up estimate (the real type), so the cost section is tested on known figures."""
    return Estimate(monthly, baseline, "2026-01-15", resources or [])


def item(name: str, usd: float, priced: bool = True) -> LineItem:
    return LineItem(f"urn:pulumi:dev::p::aws:ec2/instance:Instance::{name}", "aws:ec2/instance:Instance", name,
                    usd, usd * 2, priced, "made up")


def test_markdown_blocks_with_a_mandatory_table_and_folded_advisories():
    text = markdown.render(judged("unknown_type"))
    assert text.splitlines()[1] == "**Tollgate: 3 mandatory findings block this change**"
    assert "`tg-unknown-type/dev`: 7 resources, 15 rules; 3 mandatory, 6 advisory, 0 remediate, 0 waived." in text
    table = text[text.index("### Mandatory findings"):text.index("<details>")]
    assert "| ID | Rule | Resource | Location | Message |" in table
    assert "| TG006 | spot-outside-prod | workers (aws:eks/nodeGroup:NodeGroup) | __main__.py:19 |" in table
    assert "cannot decide" not in table
    folded = text[text.index("<details>"):text.index("</details>")]
    assert "<summary>6 advisory findings</summary>" in folded
    assert "| TG002 | instance-size-cap | worker (aws:ec2/instance:Instance) | __main__.py:16 |" in folded
    assert "### Cost" not in text


def test_markdown_passed_waived_and_fail_on_lines():
    report = judged("untagged")
    assert markdown.status(with_findings(report, [])) == "**Tollgate: passed**"
    only = [f for f in report.findings if f.rule == "budget-required"]
    assert markdown.status(with_findings(report, only)) == "**Tollgate: 1 mandatory finding blocks this change**"
    assert markdown.status(report, "never").startswith("**Tollgate: passed with ")
    text = markdown.render(waived(report))
    waived_section = text[text.index("<summary>1 waived finding</summary>"):]
    assert WAIVER.owner in waived_section and WAIVER.expires in waived_section and "PLAT-7" in waived_section


def test_markdown_fail_on_advisory_status():
    report = judged("unknown_type")
    assert markdown.status(report, "advisory") == "**Tollgate: 3 mandatory and 6 advisory findings block this change**"
    text = markdown.render(report, RenderOptions(fail_on="advisory"))
    assert "<summary>6 advisory findings (blocking: --fail-on advisory)</summary>" in text


def test_table_lists_a_waived_finding_as_waived():
    text = table.render(waived(judged("untagged")))
    assert (f"    WAIVED    TG008 bucket-lifecycle  (mandatory; waived by {WAIVER.owner} until {WAIVER.expires}: "
            f"{WAIVER.reason})") in text
    assert text.splitlines()[-1] == "FAIL: 6 mandatory, 1 advisory, 0 remediate, 1 waived findings on 4 of 5 resources"


def test_markdown_escapes_cells():
    report = judged("untagged")
    evil = replace(report.findings[0], name="a|b", message="pipe | here\nsecond line </details><script>x</script>")
    text = markdown.render(with_findings(report, [evil]))
    assert "a\\|b" in text and "pipe \\| here<br>second line &lt;/details&gt;&lt;script&gt;" in text
    assert "<script>" not in text and text.count("</details>") == 0
    assert markdown.cell("x|y") == "x\\|y"


def priced(report: Report, estimate: Estimate) -> Report:
    """The report carrying an estimate, as preview builds it."""
    return replace(report, cost=estimate)


def test_markdown_cost_change_against_the_base():
    base = estimate_of(1000.0, 1500.0, [item("web", 600.0), item("batch", 400.0)])
    head = estimate_of(1312.0, 2000.0, [item("web", 600.0), item("batch", 512.0), item("gpu", 200.0),
                                               item("mystery", 0.0, priced=False)])
    text = markdown.render(priced(judged("untagged"), head), RenderOptions(base=lambda: base))
    cost = text[text.index("### Cost"):]
    assert "Estimated **$1,312.00/month** at prices of 2026-01-15" in cost
    assert "would cost $2,000.00/month: 34.4% saved" in cost
    assert "**+$312.00/month (from $1,000.00 to $1,312.00)**" in cost
    assert "1 resource not priced (not counted as $0): mystery." in cost
    rows = [line for line in cost.splitlines() if line.startswith("| ") and "$" in line]
    assert rows == ["| gpu | aws:ec2/instance:Instance | new | $200.00 | +$200.00 |",
                    "| batch | aws:ec2/instance:Instance | $400.00 | $512.00 | +$112.00 |"]  # web did not change
    cheaper = markdown.render(priced(judged("untagged"), estimate_of(900.0, 1500.0)),
                              RenderOptions(base=lambda: base))
    assert "**-$100.00/month (from $1,000.00 to $900.00)**" in cheaper
    assert "Change against" not in markdown.render(priced(judged("untagged"), head))


# --- every format, one findings list -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_format_prints_a_secret(fmt):
    report = judged("secrets")
    text = render(report, fmt)
    assert "db-password" in text and "api-token" in text  # the resources are reported...
    for secret in SECRETS:
        assert secret not in text  # ...never their secret values


def test_every_format_reports_the_same_findings():
    report = judged("untagged")
    n = len(report.findings)
    assert len(json.loads(render(report, "json"))["findings"]) == n
    assert len(sarif_doc(report)["runs"][0]["results"]) == n
    failures = ET.fromstring(junit.render(report)).findall(".//failure")
    mandatory = sum(1 for f in report.findings if f.enforcement == "mandatory")  # advisories pass, with output
    assert sum(len(f.text.strip().splitlines()) - 1 for f in failures) == mandatory  # a message line each + urn
    md = markdown.render(report)
    assert sum(1 for line in md.splitlines() if line.startswith("| TG")) == n


# --- one shape: render(report, options) -> str, chosen from one table ------------------------------------


def test_every_format_has_the_one_shape():
    for name, module in FORMATS.items():
        render_ = importlib.import_module(f"tollgate.report.{module}").render
        assert list(inspect.signature(render_).parameters) == ["report", "options"], name
    for name, function in COST_FORMATS.items():
        assert list(inspect.signature(getattr(cost_table, function)).parameters) == ["estimate", "options"], name


def test_render_is_the_format_modules_render():
    report = waived(judged("untagged"))
    options = RenderOptions(fail_on="advisory", width=60)
    assert render(report, "junit", options) == junit.render(report, options)
    assert render(report, "table", options) == table.render(report, options) != table.render(report)
    estimate = estimate_of(10.0, 20.0, [item("web", 10.0)])
    assert render_cost(estimate, "json") == cost_table.render_json(estimate)
    assert render_cost(estimate, "table", options) == cost_table.render_table(estimate, options)


def test_a_run_imports_only_its_own_format(tmp_path, untagged_snapshot):
    """Each format is imported when a report is written in it; the others never are."""
    script = ("import sys\nfrom tollgate.cli import main\n"
              f"main(['preview', '--stack', 'dev', '--snapshot', {str(untagged_snapshot)!r}, '--format', 'json', "
              f"'--output', {str(tmp_path / 'out.json')!r}, '--cwd', {str(tmp_path)!r}])\n"
              "print(sorted(m for m in sys.modules if m.startswith('tollgate.report.')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[-2] == "['tollgate.report.json_report']"


def test_the_cli_never_names_a_format():
    """cli.py hands --format to the report stage; no format is special-cased there."""
    source = (ROOT / "tollgate" / "cli.py").read_text(encoding="utf-8")
    assert not re.search(r"format (==|!=|in)|\.report\.|import_module", source)


# --- CLI: --format, --fail-on, --base-snapshot -----------------------------------------------------------


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def advisory_snapshot(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("advisory")
    path = directory / "snapshot.json"
    capture_source(directory / "program", ADVISORY_ONLY, project="advisory").write(path)
    return path


@pytest.fixture
def untagged_snapshot(tmp_path) -> Path:
    path = tmp_path / "untagged.json"
    captured("untagged").write(path)
    return path


def test_fail_on_advisory(capsys, advisory_snapshot):
    code, out, _ = run(capsys, "preview", "--stack", "dev", "--snapshot", str(advisory_snapshot), "--format", "json")
    findings = json.loads(out)["findings"]
    assert code == 0 and {(f["rule"], f["enforcement"]) for f in findings} == {("scale-to-zero-outside-prod", "advisory")}
    code, _, _ = run(capsys, "preview", "--stack", "dev", "--snapshot", str(advisory_snapshot), "--fail-on", "advisory")
    assert code == 1


def test_fail_on_never_and_mandatory(capsys, untagged_snapshot):
    base = ("preview", "--stack", "dev", "--snapshot", str(untagged_snapshot))
    assert run(capsys, *base)[0] == 1
    assert run(capsys, *base, "--fail-on", "mandatory")[0] == 1
    code, out, _ = run(capsys, *base, "--fail-on", "never", "--format", "markdown")
    assert code == 0 and "**Tollgate: passed with 7 mandatory findings (not blocking: --fail-on never)**" in out


def test_fail_on_never_still_exits_2_when_a_rule_fails(capsys, tmp_path, untagged_snapshot):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rego", rules)
    (rules / "broken.rego").write_text(
        "package tollgate\n\nimport rego.v1\n\n# METADATA\n# title: Broken\n# description: a rule for tests\n"
        "# custom:\n#   id: TG998\n#   severity: low\n#   enforcement: mandatory\n"
        "deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n"
        "\tmsg := sprintf(\"%v\", [1 / x])\n}\n")
    code, out, err = run(capsys, "preview", "--stack", "dev", "--snapshot", str(untagged_snapshot), "--rules", str(rules),
                         "--fail-on", "never", "--format", "junit")
    assert code == 2 and "a rule failed to evaluate" in err
    found = cases(out)
    assert any(c.find("error") is not None for c in found.values()) and "TG998 broken: stack dev" not in found


def test_cli_sarif_and_junit_outputs(capsys, tmp_path, untagged_snapshot):
    out_file = tmp_path / "tollgate.sarif"
    code, out, _ = run(capsys, "preview", "--stack", "dev", "--snapshot", str(untagged_snapshot), "--format", "sarif",
                       "--output", str(out_file), "--fail-on", "never")
    assert code == 0 and out == ""
    doc = json.loads(out_file.read_text())
    validate_sarif(doc)
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) >= 15
    code, out, _ = run(capsys, "preview", "--stack", "dev", "--snapshot", str(untagged_snapshot), "--format", "junit")
    assert code == 1 and ET.fromstring(out).get("failures") == "6"


def test_base_snapshot_is_read_and_a_bad_one_exits_2(capsys, tmp_path, untagged_snapshot):
    base = ("preview", "--stack", "dev", "--snapshot", str(untagged_snapshot), "--format", "markdown")
    code, out, _ = run(capsys, *base, "--base-snapshot", str(untagged_snapshot))
    assert code == 1 and out.splitlines()[1] == "**Tollgate: 7 mandatory findings block this change**"
    assert "### Cost" in out and "Change against the base: **no change ($" in out  # the same snapshot twice
    bad = tmp_path / "base.json"
    bad.write_text('{"resources": []}')
    code, out, err = run(capsys, *base, "--base-snapshot", str(bad))
    assert code == 2 and "not a Tollgate snapshot" in err
    # only a format that shows the change reads the base
    code, out, err = run(capsys, *base[:-1], "table", "--base-snapshot", str(bad))
    assert code == 1 and err == "" and out.startswith("Tollgate preview of")


def test_table_and_markdown_list_findings_in_one_order_and_a_checkov_id_once():
    report = judged("untagged")
    check = Finding(rule="CKV_AWS_18", id="CKV_AWS_18", urn=report.findings[0].urn, type=report.findings[0].type,
                    name=report.findings[0].name, enforcement="mandatory", severity="high",
                    message="Ensure the S3 bucket has access logging enabled", source="checkov")
    both = with_findings(report, [*report.findings[::-1], check])  # handed over in another order
    text, comment = table.render(both), markdown.render(both)
    assert "CKV_AWS_18 CKV_AWS_18" not in text and "MANDATORY CKV_AWS_18\n" in text.replace("  ", " ")
    assert "| CKV_AWS_18 |  |" in comment
    order = [f.message for f in sorted(both.findings, key=lambda f: (f.urn, f.id, f.message))
             if f.enforcement == "mandatory"]
    assert [m for m in order if m in text.replace("\n        ", " ")] == order
    assert sorted(order, key=comment.index) == order
