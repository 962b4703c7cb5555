"""`tollgate preview` end to end: reports, exit codes, and every way a preview can fail to be done (exit 2)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tollgate import cli
from tollgate.cli import main
from tollgate.evaluate import RULES_DIR, RuleSet, pipeline

from conftest import FIXTURES, ROOT, rules_with


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_repo_dev_stack_passes_with_json_report(capsys):
    code, out, err = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "dev", "--format", "json")
    doc = json.loads(out)
    assert code == 0, err
    assert set(doc) == {"project", "stack", "findings", "summary", "cost"}
    assert doc["cost"]["monthly_usd"] > 0 and doc["cost"]["not_priced"] == 0 and doc["cost"]["price_date"]
    assert doc["project"] == "tollgate" and doc["stack"] == "dev"
    assert doc["summary"]["mandatory"] == 0 and doc["summary"]["passed"] is True
    assert doc["summary"]["rules"] >= 2 and doc["summary"]["resources"] > 3


def test_mandatory_finding_exits_1_and_points_at_the_line(capsys):
    code, out, _ = run(capsys, "preview", "--cwd", str(FIXTURES / "secrets"), "--stack", "dev", "--format", "json")
    assert code == 1
    findings = json.loads(out)["findings"]
    plain = next(f for f in findings if f["name"] == "plain")
    assert set(plain) >= {"rule", "id", "urn", "type", "name", "enforcement", "severity", "message", "source"}
    assert (plain["rule"], plain["id"], plain["enforcement"], plain["source"]) == ("required-tags", "TG001", "mandatory", "rego")
    assert (plain["file"], plain["line"]) == ("__main__.py", 8)


def test_table_groups_by_resource_mandatory_first_with_summary(capsys):
    code, out, _ = run(capsys, "preview", "--cwd", str(FIXTURES / "secrets"), "--stack", "dev")
    assert code == 1
    lines = out.splitlines()
    rules = len(RuleSet(RULES_DIR).rules) + 1  # and cost-within-budget (TG011): every rule that ran
    assert lines[0] == f"Tollgate preview of fixture-secrets/dev: 5 resources, {rules} rules"
    assert "✖ plain  aws:ssm/parameter:Parameter  at __main__.py:8" in lines
    # three untagged parameters, and the stack itself, which has no budget
    assert lines[-1] == "FAIL: 4 mandatory, 0 advisory, 0 remediate findings on 4 of 5 resources"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_reports_and_snapshot_never_contain_secret_values(capsys, tmp_path, fmt):
    snap = tmp_path / "snap.json"
    report = tmp_path / "report.out"
    code, out, err = run(capsys, "preview", "--cwd", str(FIXTURES / "secrets"), "--stack", "dev", "--format", fmt,
                         "--output", str(report), "--snapshot-out", str(snap))
    assert code == 1 and out == ""
    for text in (report.read_text(), snap.read_text(), err):
        for secret in ("hunter2-plaintext-token", "Q2lwaGVydGV4dE5ldmVyVG9CZVByaW50ZWQ=", "QVdTU2VjcmV0S2V5Q2lwaGVydGV4dA=="):
            assert secret not in text
    assert json.loads(snap.read_text())["project"] == "fixture-secrets"


def test_saved_snapshot_is_judged_the_same(capsys, tmp_path):
    snap = tmp_path / "snap.json"
    _, first, _ = run(capsys, "preview", "--cwd", str(FIXTURES / "secrets"), "--stack", "dev", "--format", "json",
                      "--snapshot-out", str(snap))
    code, second, _ = run(capsys, "preview", "--stack", "dev", "--snapshot", str(snap), "--format", "json")
    assert code == 1 and json.loads(first)["findings"] == json.loads(second)["findings"]


def test_program_that_raises_exits_2_naming_file_and_line(capsys):
    code, out, err = run(capsys, "preview", "--cwd", str(FIXTURES / "failing"), "--stack", "dev")
    assert code == 2 and out == ""
    main_py = (FIXTURES / "failing" / "__main__.py").relative_to(Path.cwd())  # as the user can open it from here
    assert f"tollgate: error: {main_py}:5: ValueError: unsupported size 'large'" in err


def test_missing_stack_exits_2_naming_the_expected_file_and_the_stacks_there(capsys):
    code, out, err = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "nope")
    assert code == 2 and out == ""
    assert (f"{ROOT / 'stacks' / 'Pulumi.nope.yaml'}: stack config for `nope` not found; "
            "stacks here: dev, prod, staging\n") in err
    assert f"fix: pick one of them with --stack, or create Pulumi.nope.yaml in {ROOT / 'stacks'}\n" in err


def test_missing_stack_of_the_cost_command_lists_the_stacks_too(capsys):
    code, _, err = run(capsys, "cost", "--cwd", str(ROOT), "--stack", "prd")
    assert code == 2 and "stack config for `prd` not found; stacks here: dev, prod, staging" in err


def test_missing_stack_in_a_project_without_stacks_says_how_to_create_one(capsys, tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: empty\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    code, _, err = run(capsys, "preview", "--cwd", str(tmp_path), "--stack", "dev")
    assert code == 2
    assert f"{tmp_path / 'Pulumi.dev.yaml'}: stack config for `dev` not found; no stack has a config file here" in err
    assert f"fix: create Pulumi.dev.yaml in {tmp_path}\n" in err


def test_malformed_stack_file_exits_2_with_the_line(capsys, tmp_path):
    project = copy_project(FIXTURES / "failing", tmp_path / "p")
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n  bad: [unclosed\n")
    code, _, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev")
    assert code == 2
    assert f"{project / 'Pulumi.dev.yaml'}:4: stack config for `dev` is not valid YAML" in err


def test_config_of_the_wrong_type_exits_2_naming_the_key(capsys, tmp_path):
    project = copy_project(FIXTURES / "structure", tmp_path / "p")
    (project / "stacks" / "Pulumi.test.yaml").write_text("config:\n  aws:region: us-east-1\n  replicas: many\n")
    code, _, err = run(capsys, "preview", "--cwd", str(project), "--stack", "test")
    assert code == 2
    assert "Pulumi.test.yaml:3: config `fixture-structure:replicas` must be of type integer" in err


def test_missing_pulumi_yaml_exits_2_naming_the_directory_searched(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "preview", "--cwd", ".", "--stack", "dev")  # relative: named absolute all the same
    assert code == 2
    assert err == (f"tollgate: error: no Pulumi.yaml in {tmp_path.resolve()}\n"
                   "  fix: run tollgate in a Pulumi project directory or pass --cwd DIR\n")
    code, _, err = run(capsys, "cost", "--cwd", "gone", "--stack", "dev")
    assert code == 2 and f"tollgate: error: directory {tmp_path.resolve() / 'gone'} does not exist\n" in err


def test_rule_that_does_not_compile_exits_2_naming_file_and_line(capsys, tmp_path):
    rules = rules_with(tmp_path, "broken.rego", "deny_broken contains msg if {\n\tmsg := \n}\n")
    code, out, err = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "dev", "--rules", str(rules))
    assert code == 2 and out == ""
    assert f"{rules / 'broken.rego'}:13: Rego rules do not compile: expecting `}}` while parsing set" in err


def test_rule_that_fails_at_run_time_is_an_engine_error_and_exits_2(capsys, tmp_path):
    body = "deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n\tmsg := sprintf(\"%v\", [1 / x])\n}\n"
    rules = rules_with(tmp_path, "broken.rego", body)
    code, out, err = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "dev", "--rules", str(rules),
                         "--format", "json")
    assert code == 2
    errors = [f for f in json.loads(out)["findings"] if f["rule"] == "engine-error"]
    assert len(errors) == 1 and errors[0]["enforcement"] == "mandatory"
    assert errors[0]["message"].startswith("rule broken (TG998) failed to evaluate: broken.rego:14: divide by zero")
    assert "a rule failed to evaluate" in err


def test_console_script_piped_prints_no_progress(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tollgate", "preview", "--cwd", str(ROOT), "--stack", "dev"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[-1].startswith("PASS: 0 mandatory")


def test_progress_line_on_a_terminal(tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "tollgate", "preview", "--cwd", str(ROOT), "--stack", "dev",
                           "--format", "json", "--output", str(out)], stderr=follower, stdout=subprocess.PIPE,
                          timeout=300)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    progress = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "capturing" in progress and re.search(r"judging [\d,]+ resources", progress)
    assert json.loads(out.read_text())["summary"]["passed"] is True


SLOW_PROGRAM = """
import asyncio

import pulumi


async def later(i):
    await asyncio.sleep(0.03 * i)  # registrations spread over ~1.2 s
    return f"value-{i}"


for i in range(40):
    pulumi.CustomResource("test:index:Thing", f"thing-{i}", {"value": later(i)})
"""


def slow_project(tmp_path: Path) -> Path:
    project = tmp_path / "slow"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: slow\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(SLOW_PROGRAM)
    return project


def test_progress_in_a_log_is_plain_lines_at_most_one_per_interval(capfd, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 0.2)
    monkeypatch.setattr(pipeline, "LONG_JUDGING", 40)  # this stack counts as large
    start = time.monotonic()
    code = main(["preview", "--cwd", str(slow_project(tmp_path)), "--stack", "dev", "--format", "json"])
    elapsed = time.monotonic() - start
    out, err = capfd.readouterr()
    assert code == 0 and json.loads(out)["stack"] == "dev"  # stdout is the report alone
    assert "\r" not in err and "\x1b" not in err
    lines = err.splitlines()
    capturing = [line for line in lines if line.startswith("capturing: ")]
    assert all(re.fullmatch(r"capturing: \d+ resources registered \(\d+ s\)", line) for line in capturing)
    assert 2 <= len(capturing) <= elapsed / 0.2 + 1
    assert lines[:-1] == capturing and re.fullmatch(r"judging 4\d resources \.\.\.", lines[-1])  # once


def test_quiet_prints_no_progress(capfd, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 0.2)
    monkeypatch.setattr(pipeline, "LONG_JUDGING", 1)
    project = slow_project(tmp_path)
    code = main(["preview", "--cwd", str(project), "--stack", "dev", "--format", "json", "--quiet"])
    out, err = capfd.readouterr()
    assert code == 0 and json.loads(out)["stack"] == "dev" and err == ""
    code = main(["cost", "--cwd", str(project), "--stack", "dev", "--quiet"])
    out, err = capfd.readouterr()
    assert code == 0 and "TOTAL" in out and err == ""


class FakeStderr(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_writer_rewrites_one_line_on_a_terminal_only(monkeypatch):
    for tty, quiet, want in [(True, False, "\r\033[Kjudging 3 resources ...\r\033[K"), (False, False, ""),
                             (True, True, "")]:
        monkeypatch.setattr(sys, "stderr", FakeStderr(tty))
        progress = cli._Progress(quiet)
        progress.say("judging 3 resources ...")
        progress.done()
        assert sys.stderr.getvalue() == want
    monkeypatch.setattr(sys, "stderr", FakeStderr(False))
    cli._Progress().say("judging 10,003 resources ...", long=True)  # a log hears of long work only
    assert sys.stderr.getvalue() == "judging 10,003 resources ...\n"
    assert cli._Progress(quiet=True).capture_request() is False


def test_capture_child_progress_live_on_a_terminal_plain_in_a_log(monkeypatch):
    from tollgate.capture import child

    assert child._progress(False) is None
    monkeypatch.setattr(sys, "stderr", FakeStderr(True))
    live = child._progress({"live": True})
    for count in range(1, 1251):
        live(count)
    assert sys.stderr.getvalue().split("\r\033[K")[-1] == "capturing: 1,250 resources registered"
    clock = iter([100.0, 101.0, 105.0, 106.0, 109.9, 110.0])
    monkeypatch.setattr(child.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(sys, "stderr", FakeStderr(False))
    plain = child._progress({"every": 5})  # started at 100 s
    for count in (1, 1200, 1300, 1400, 2500):
        plain(count)
    assert sys.stderr.getvalue() == ("capturing: 1,200 resources registered (5 s)\n"
                                     "capturing: 2,500 resources registered (10 s)\n")


def test_policy_config_tunes_and_disables_rules(capsys, tmp_path):
    config = tmp_path / "policy-config.dev.json"
    config.write_text(json.dumps({"instance-size-cap": {"max_vcpu": {"dev": 1}}, "required-tags": "disabled",
                                  "budget-required": "advisory"}))
    code, out, _ = run(capsys, "preview", "--cwd", str(FIXTURES / "secrets"), "--stack", "dev", "--format", "json",
                       "--policy-config", str(config))
    assert code == 0  # required-tags disabled, budget-required lowered: nothing mandatory is left
    assert {(f["rule"], f["enforcement"]) for f in json.loads(out)["findings"]} == {("budget-required", "advisory")}
    code, out, _ = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "dev", "--format", "json",
                       "--policy-config", str(config))
    capped = {f["name"] for f in json.loads(out)["findings"] if f["rule"] == "instance-size-cap"}
    assert code == 1 and {"pool-workers-node-group", "batch-training-spot"} <= capped


@pytest.mark.parametrize("doc, error", [
    ({"instance-size-cap": {"max_vcpus": {"dev": 1}}}, "`instance-size-cap` has no setting `max_vcpus`"),
    ({"instance-size-cap": {"max_vcpu": {"dev": "big"}}},
     "`instance-size-cap.max_vcpu.dev` must be integer (like the default 4), got \"big\""),
    ({"no-such-rule": "advisory"}, "unknown policy `no-such-rule`"),
    ({"required-tags": "strict"}, "`required-tags.enforcementLevel` is 'strict'"),
])
def test_invalid_policy_config_exits_2_naming_the_key(capsys, tmp_path, doc, error):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps(doc))
    code, out, err = run(capsys, "preview", "--cwd", str(ROOT), "--stack", "dev", "--policy-config", str(config))
    assert code == 2 and out == ""
    assert f"{config}: {error}" in err


def test_cost_command_prices_the_stack_and_its_naive_twin(capsys):
    code, out, _ = run(capsys, "cost", "--cwd", str(ROOT), "--stack", "prod", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) >= {"monthly_usd", "baseline_monthly_usd", "price_date", "resources"}
    assert 0 < doc["monthly_usd"] < doc["baseline_monthly_usd"]
    pools = {r["name"]: r for r in doc["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert pools["pool-workers-node-group"]["priced"] and "spot" in pools["pool-workers-node-group"]["basis"]
    code, table_out, _ = run(capsys, "cost", "--cwd", str(ROOT), "--stack", "prod")
    assert code == 0 and "TOTAL" in table_out and "pool-workers-node-group" in table_out


def test_a_program_that_hangs_is_stopped_with_exit_2(capsys, tmp_path):
    project = tmp_path / "hangs"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: hangs\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    code, out, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--timeout", "3")
    assert code == 2 and out == ""
    assert f"{project / '__main__.py'}: the program did not finish within 3 s and was stopped" in err
