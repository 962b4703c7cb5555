"""Waivers: waivers.yaml -> findings reported as waived; expired, incomplete, stale and blanket waivers are findings.

Unit tests build findings by hand; the end-to-end tests run `tollgate preview` on tests/fixtures/gpu_waiver,
a prod GPU pool of p3.8xlarge class whose only finding is TG003 gpu-approval.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from tollgate.cli import main
from tollgate.errors import TollgateError
from tollgate.evaluate.waive import apply_waivers, load_waivers, read_waivers
from tollgate.model import Finding, Snapshot, Waiver

from conftest import FIXTURES

TODAY = date(2026, 11, 22)
KNOWN = {"gpu-approval": "TG003", "instance-size-cap": "TG002", "engine-error": "TG000"}
STACK = "urn:pulumi:prod::gpu-waiver::pulumi:pulumi:Stack::gpu-waiver-prod"
POOL = "urn:pulumi:prod::gpu-waiver::aws:eks/nodeGroup:NodeGroup::pool-gpu-training"
GPU_MESSAGE = "`pool-gpu-training` uses GPU type p3.8xlarge"


def finding(urn: str = POOL, rule: str = "gpu-approval", id: str = "TG003", enforcement: str = "mandatory",
            message: str = GPU_MESSAGE) -> Finding:
    return Finding(rule=rule, id=id, urn=urn, type=urn.split("::")[2], name=urn.split("::")[3],
                   enforcement=enforcement, severity="high", message=message, source="rego")


def entry(**fields) -> dict:
    base = {"rule": "gpu-approval", "resource": "pool-gpu-*", "owner": "ml-lead@example.com",
            "reason": "Q4 training runs, PLAT-412", "expires": date(2027, 1, 31)}
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def waivers_file(tmp_path: Path, *entries: dict) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": list(entries)}, sort_keys=False))
    return path


def apply(tmp_path: Path, findings: list[Finding], *entries: dict, today: date = TODAY) -> list[Finding]:
    return apply_waivers(findings, load_waivers(waivers_file(tmp_path, *entries)), today, KNOWN, STACK)


def waiver_findings(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.enforcement, f.urn, f.message) for f in findings if f.rule == "waiver"]


# --- loading -------------------------------------------------------------------------------------------

def test_load_reads_each_entry_with_its_line(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("# approvals\nwaivers:\n  - rule: TG003\n    resource: pool-gpu-*\n    owner: a@example.com\n"
                    "    reason: r\n    expires: 2027-01-31\n  - rule: gpu-approval\n    resource: x\n"
                    "    owner: b@example.com\n    reason: r\n    expires: '2027-02-28'\n")
    first, second = load_waivers(path)
    assert (first.rule, first.resource, first.owner, first.expires, first.line) == \
        ("TG003", "pool-gpu-*", "a@example.com", date(2027, 1, 31), 3)
    assert (second.expires, second.where, second.problems) == (date(2027, 2, 28), f"{path}:8", ())


@pytest.mark.parametrize("text, line, message", [
    ("waivers:\n  - rule: [gpu\n", 3, "waivers file is not valid YAML"),
    ("- rule: gpu-approval\n", 1, "waivers file must be a mapping with one key, `waivers:`"),
    ("waivers: []\nwaiver: []\n", 1, "waivers file must be a mapping with one key, `waivers:`"),
    ("\nwaivers: pool-gpu\n", 2, "`waivers:` must be a list of entries"),
])
def test_malformed_file_is_an_error_with_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(TollgateError) as err:
        load_waivers(path)
    assert (err.value.file, err.value.line) == (str(path), line)
    assert err.value.message.startswith(message) and err.value.fix


def test_empty_file_and_absent_default_file_mean_no_waivers(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing approved\n")
    assert load_waivers(tmp_path / "empty.yaml") == []
    assert read_waivers(None, tmp_path) == []


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(TollgateError, match="waivers file not found"):
        read_waivers(tmp_path / "nope.yaml", tmp_path)


def test_default_file_is_read_from_the_project_directory(tmp_path):
    waivers_file(tmp_path, entry())
    assert [w.resource for w in read_waivers(None, tmp_path)] == ["pool-gpu-*"]


# --- matching ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, resource", [
    ("gpu-approval", "pool-gpu-*"),                  # rule name, name pattern
    ("TG003", "pool-gpu-training"),                  # rule id, exact name
    ("gpu-approval", POOL),                          # exact urn
    ("TG003", "urn:pulumi:prod::*::pool-gpu-*"),     # urn pattern ("::" in it)
])
def test_matching_waiver_marks_the_finding_waived_and_keeps_it(tmp_path, rule, resource):
    [waived] = apply(tmp_path, [finding()], entry(rule=rule, resource=resource))
    assert waived.waiver == Waiver("gpu-approval", resource, "ml-lead@example.com", "Q4 training runs, PLAT-412",
                                   "2027-01-31")
    assert waived.message == GPU_MESSAGE and not waived.blocking


def test_waiver_covers_only_its_rule_and_resources(tmp_path):
    other_pool = POOL.replace("pool-gpu-training", "pool-cpu")
    size = finding(rule="instance-size-cap", id="TG002", message="too big")
    out = apply(tmp_path, [finding(), finding(urn=other_pool), size], entry())
    assert sorted((f.urn, f.rule, f.waiver is not None) for f in out) == [
        (other_pool, "gpu-approval", False), (POOL, "gpu-approval", True), (POOL, "instance-size-cap", False)]


def test_name_pattern_does_not_match_urns_and_matching_is_case_sensitive(tmp_path):
    out = apply(tmp_path, [finding()], entry(resource="*nodeGroup*"), entry(resource="POOL-GPU-*"))
    assert out[0].waiver is None
    assert [m for _, _, m in waiver_findings(out)][0].endswith("matches no finding; delete it (a stale waiver "
                                                               "would silently approve a future regression)")


def test_first_active_waiver_in_the_file_wins(tmp_path):
    out = apply(tmp_path, [finding()], entry(owner="first@example.com"), entry(owner="second@example.com"))
    assert out[0].waiver.owner == "first@example.com" and waiver_findings(out) == []


# --- expiry --------------------------------------------------------------------------------------------

def test_waiver_holds_through_its_expiry_date(tmp_path):
    [waived] = apply(tmp_path, [finding()], entry(expires=TODAY), today=TODAY)
    assert waived.waiver is not None


def test_expired_waiver_leaves_the_finding_blocking_and_says_so_beside_it(tmp_path):
    path = waivers_file(tmp_path, entry(expires=TODAY - timedelta(days=1)))
    out = apply_waivers([finding()], load_waivers(path), TODAY, KNOWN, STACK)
    assert [f.blocking for f in out if f.rule == "gpu-approval"] == [True]
    assert waiver_findings(out) == [(
        "mandatory", POOL,
        f"{path}:2: waiver for gpu-approval on `pool-gpu-*` owned by ml-lead@example.com expired on 2026-11-21; "
        f"gpu-approval on `pool-gpu-training` blocks again: renew the waiver (a new review) or fix the resource")]
    assert [f.id for f in out if f.rule == "waiver"] == ["TG090"]


def test_expired_waiver_over_an_advisory_finding_is_advisory(tmp_path):
    out = apply(tmp_path, [finding(enforcement="advisory")], entry(expires=date(2026, 1, 31)))
    [(level, urn, message)] = waiver_findings(out)
    assert (level, urn) == ("advisory", POOL) and "gpu-approval on `pool-gpu-training` is reported again" in message


def test_expired_waiver_that_covers_nothing_is_advisory(tmp_path):
    path = waivers_file(tmp_path, entry(expires=date(2026, 1, 31)))
    out = apply_waivers([], load_waivers(path), TODAY, KNOWN, STACK)
    assert waiver_findings(out) == [("advisory", STACK, f"{path}:2: waiver for gpu-approval on `pool-gpu-*` owned by "
                                                        f"ml-lead@example.com expired on 2026-01-31 and covers no "
                                                        f"finding; delete it")]


def test_expired_waiver_superseded_by_a_renewed_one_is_advisory(tmp_path):
    out = apply(tmp_path, [finding()], entry(expires=date(2026, 1, 31)), entry(owner="new@example.com"))
    assert out[0].waiver.owner == "new@example.com"
    assert [e for e, _, _ in waiver_findings(out)] == ["advisory"]


# --- entries that waive nothing --------------------------------------------------------------------------

def test_incomplete_entry_is_a_mandatory_finding_naming_its_line_and_fields(tmp_path):
    path = waivers_file(tmp_path, entry(owner=None, reason=""))
    out = apply_waivers([finding()], load_waivers(path), TODAY, KNOWN, STACK)
    assert out[0].blocking  # an incomplete waiver waives nothing
    assert waiver_findings(out) == [(
        "mandatory", STACK,
        f"{path}:2: waiver entry is incomplete: missing owner, reason; write `waivers:` followed by a list of "
        f"entries with rule, resource, owner, reason, expires (YYYY-MM-DD)")]


@pytest.mark.parametrize("fields, problem", [
    ({"expires": "31/01/2027"}, "expires `31/01/2027` is not a date (YYYY-MM-DD)"),
    ({"expires": None}, "missing expires"),
    ({"expiry": "2027-01-31", "expires": None}, "missing expires; unknown key `expiry`"),
])
def test_bad_dates_and_unknown_keys_are_findings(tmp_path, fields, problem):
    out = apply(tmp_path, [finding()], entry(**fields))
    [(level, _, message)] = waiver_findings(out)
    assert level == "mandatory" and f"waiver entry is incomplete: {problem};" in message
    assert out[0].blocking


def test_entry_that_is_not_a_mapping_is_a_finding(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - gpu-approval pool-gpu-training\n")
    [(level, _, message)] = waiver_findings(apply_waivers([], load_waivers(path), TODAY, KNOWN, STACK))
    assert level == "mandatory" and message.startswith(f"{path}:2: waiver entry is incomplete: entry is not a mapping")


def test_unknown_rule_is_a_finding(tmp_path):
    [(level, _, message)] = waiver_findings(apply(tmp_path, [finding()], entry(rule="gpu-aproval")))
    assert level == "mandatory" and message.endswith(
        "waiver names rule `gpu-aproval`, which is not a Tollgate rule; use a rule name or id "
        "(e.g. gpu-approval or TG003) or a checkov check id (e.g. CKV_AWS_79)")


def test_checkov_check_waivable_by_id_whether_or_not_checkov_ran(tmp_path):
    check = finding(rule="CKV_AWS_79", id="CKV_AWS_79", message="Ensure IMDSv1 is not enabled")
    assert apply(tmp_path / "ran", [check], entry(rule="CKV_AWS_79"))[0].waiver is not None
    [(level, _, _)] = waiver_findings(apply(tmp_path / "not-run", [], entry(rule="CKV_AWS_79")))
    assert level == "advisory"  # stale, not an unknown rule


def test_stale_waiver_is_advisory(tmp_path):
    path = waivers_file(tmp_path, entry(resource="pool-gpu-retired"))
    out = apply_waivers([finding()], load_waivers(path), TODAY, KNOWN, STACK)
    assert waiver_findings(out) == [("advisory", STACK, f"{path}:2: waiver for gpu-approval on `pool-gpu-retired` "
                                                        f"owned by ml-lead@example.com matches no finding; delete it "
                                                        f"(a stale waiver would silently approve a future regression)")]


@pytest.mark.parametrize("resource", ["*", "**", "?*", "urn:pulumi:prod::gpu-waiver::aws:eks/nodeGroup:NodeGroup::*",
                                      "*::*"])
def test_blanket_waiver_is_refused(tmp_path, resource):
    out = apply(tmp_path, [finding()], entry(resource=resource))
    assert out[0].blocking
    [(level, urn, message)] = waiver_findings(out)
    assert (level, urn) == ("mandatory", STACK)
    assert f"blanket waiver for gpu-approval on `{resource}` owned by ml-lead@example.com refused: the pattern " \
           f"names no resource; name the resources (a urn or a name pattern such as pool-gpu-*), or disable the " \
           f"rule for the stack in --policy-config" in message


@pytest.mark.parametrize("rule", ["engine-error", "TG000"])
def test_engine_error_cannot_be_waived(tmp_path, rule):
    broken = finding(urn=STACK, rule="engine-error", id="TG000", message="rule x failed to evaluate")
    out = apply(tmp_path, [broken], entry(rule=rule, resource=STACK))
    assert out[0].blocking
    [(level, _, message)] = waiver_findings(out)
    assert level == "mandatory" and message.endswith(
        f"waiver for {rule} on `{STACK}` owned by ml-lead@example.com refused: an engine failure cannot be waived "
        f"(a rule that failed judged nothing); fix the rule that failed")


def test_waiver_findings_cannot_be_waived(tmp_path):
    out = apply(tmp_path, [], entry(owner=None), entry(rule="TG090", resource=STACK))
    assert all(f.blocking for f in out) and len(out) == 2


def test_advisory_findings_can_be_waived_and_leave_the_advisory_count(tmp_path):
    [waived] = apply(tmp_path, [finding(enforcement="advisory")], entry())
    assert waived.waiver is not None and waived.enforcement == "advisory"


# --- end to end: tollgate preview on a captured program ----------------------------------------------------

def project(tmp_path: Path, *entries: dict) -> Path:
    """The gpu_waiver fixture with waivers.yaml replaced by these entries (none: no waivers file)."""
    root = shutil.copytree(FIXTURES / "gpu_waiver", tmp_path / "gpu_waiver",
                           ignore=shutil.ignore_patterns("__pycache__"))
    (root / "waivers.yaml").unlink()
    if entries:
        waivers_file(root, *entries)
    return root


def preview(capsys, root: Path, *extra: str, stack: str = "prod"):
    code = main(["preview", "--cwd", str(root), "--stack", stack, "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def today() -> date:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).date()


def test_fixture_without_waivers_fails_on_gpu_approval_only(capsys, tmp_path):
    code, doc, _ = preview(capsys, project(tmp_path))
    assert code == 1
    assert [(f["id"], f["name"], f["waiver"]) for f in doc["findings"]] == [("TG003", "pool-gpu-training", None)]


def test_waiver_beside_pulumi_yaml_approves_the_gpu_pool(capsys, tmp_path):
    expires = today() + timedelta(days=30)
    code, doc, err = preview(capsys, project(tmp_path, entry(expires=expires)))
    assert code == 0, err
    [f] = doc["findings"]
    assert (f["id"], f["enforcement"]) == ("TG003", "mandatory")  # reported as waived, not removed
    assert f["waiver"] == {"rule": "gpu-approval", "resource": "pool-gpu-*", "owner": "ml-lead@example.com",
                           "reason": "Q4 training runs, PLAT-412", "expires": expires.isoformat()}
    assert (doc["summary"]["mandatory"], doc["summary"]["waived"], doc["summary"]["passed"]) == (0, 1, True)


def test_expired_waiver_fails_with_the_expiry_finding(capsys, tmp_path):
    expired = today() - timedelta(days=1)
    code, doc, _ = preview(capsys, project(tmp_path, entry(expires=expired)))
    assert code == 1
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["gpu-approval"]["waiver"] is None
    assert by_rule["waiver"]["enforcement"] == "mandatory" and by_rule["waiver"]["name"] == "pool-gpu-training"
    assert f"expired on {expired.isoformat()}" in by_rule["waiver"]["message"]


def test_resource_cannot_waive_itself_with_tags(capsys, tmp_path):
    root = project(tmp_path)
    snap = tmp_path / "snapshot.json"
    code, doc, _ = preview(capsys, root, "--snapshot-out", str(snap), stack="selftagged")
    pool = next(r for r in Snapshot.read(snap).resources if r.name == "pool-gpu-training")
    assert pool.inputs["tags"] == {"tollgate-waiver": "gpu-approval", "tollgate:waive": "TG003",
                                   "waiver": "gpu-approval"}
    assert code == 1
    assert [(f["id"], f["waiver"]) for f in doc["findings"]] == [("TG003", None)]


def test_waiver_comes_only_from_the_file_even_for_a_self_tagged_resource(capsys, tmp_path):
    root = project(tmp_path, entry(owner="ml-lead@example.com", expires=today()))
    code, doc, _ = preview(capsys, root, stack="selftagged")
    assert code == 0
    assert doc["findings"][0]["waiver"]["owner"] == "ml-lead@example.com"


def test_program_cannot_write_its_own_waiver(capsys, tmp_path):
    root = project(tmp_path)
    waiver = yaml.safe_dump({"waivers": [entry(expires=today() + timedelta(days=30))]})
    with (root / "__main__.py").open("a") as main_py:
        main_py.write(f"\nopen('waivers.yaml', 'w').write({waiver!r})\n")
    code, doc, _ = preview(capsys, root)
    assert (root / "waivers.yaml").exists()  # the program did write it, after Tollgate had read the waivers
    assert code == 1 and doc["findings"][0]["waiver"] is None


def test_snapshot_mode_reads_waivers_from_cwd(capsys, tmp_path):
    root = project(tmp_path)
    snap = tmp_path / "snapshot.json"
    assert preview(capsys, root, "--snapshot-out", str(snap))[0] == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    waivers_file(elsewhere, entry(expires=today()))
    code, doc, _ = preview(capsys, elsewhere, "--snapshot", str(snap))
    assert code == 0 and doc["summary"]["waived"] == 1


def test_explicit_waivers_flag_and_malformed_file_exit_2_with_the_line(capsys, tmp_path):
    root = project(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("waivers:\n  - rule: gpu-approval\n   resource: x\n")
    code, doc, err = preview(capsys, root, "--waivers", str(bad))
    assert code == 2 and doc is None
    assert f"tollgate: error: {bad}:3: waivers file is not valid YAML" in err


def test_incomplete_waiver_fails_the_preview_naming_the_line(capsys, tmp_path):
    root = project(tmp_path, entry(owner=None, expires=today() + timedelta(days=30)))
    code, doc, _ = preview(capsys, root)
    assert code == 1
    [problem] = [f for f in doc["findings"] if f["rule"] == "waiver"]
    assert problem["message"].startswith(f"{root / 'waivers.yaml'}:2: waiver entry is incomplete: missing owner;")
