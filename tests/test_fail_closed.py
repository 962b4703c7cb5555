"""Fail closed: every way a judgement can break ends in a mandatory engine-error finding or exit 2, never a pass.

Paths covered elsewhere (not repeated here):
  a rule that fails at run time (divide by zero) .. test_cli.test_rule_that_fails_at_run_time_is_an_engine_error_and_exits_2
  a rule that does not compile ................. test_cli.test_rule_that_does_not_compile_exits_2_naming_file_and_line
  --fail-on never with a failing rule .......... test_report_formats.test_fail_on_never_still_exits_2_when_a_rule_fails
  a rule failing on the OPA server (HTTP 500) .. test_opa.test_a_rule_failing_on_the_server_is_an_engine_error
  an unreachable OPA server .................... test_opa.test_unreachable_server_exits_2_naming_the_url
  a Rego rule failing inside the pack .......... test_policy_pack.test_a_rule_failing_at_run_time_fails_the_analysis_never_passes
  a pack that does not start ................... test_policy_pack.test_a_pack_that_prints_no_port_is_an_error
  checkov missing, exit 3, exit 1 without JSON . test_checkov.test_missing_checkov_is_an_exit_2_error,
                                                 test_checkov.test_checkov_failure_is_an_error_with_its_stderr
  the program raises / hangs (--timeout) ....... test_cli.test_program_that_raises_exits_2_naming_file_and_line,
                                                 test_cli.test_a_program_that_hangs_is_stopped_with_exit_2
  a missing or malformed stack file, Pulumi.yaml test_cli (test_missing_stack_..., test_malformed_stack_file_...)
  malformed --from-preview-json / --from-export  test_adapters.test_malformed_files_exit_2_naming_the_field,
                                                 test_adapters.test_not_json_and_missing_files_exit_2
  a malformed --base-snapshot .................. test_report_formats.test_base_snapshot_is_read_and_a_bad_one_exits_2
  a malformed event log ........................ test_event_log.test_malformed_line_is_exit_2_naming_file_and_line
  a malformed policy config / waivers file ..... test_cli.test_invalid_policy_config_exits_2_naming_the_key,
                                                 test_waivers.test_explicit_waivers_flag_and_malformed_file_exit_2_...
  an engine error cannot be waived ............. test_waivers.test_engine_error_cannot_be_waived
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import types
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tollgate import cost
from tollgate.cli import main
from tollgate.errors import TollgateError
from tollgate.evaluate import RULES_DIR, RuleSet, budget_check, crossguard, remediate
from tollgate.evaluate.checkov import run_checkov
from tollgate.evaluate.crossguard import start_pack
from tollgate.model import Resource, Snapshot

from conftest import ROOT, captured
from opa_server import OpaRestServer
from conftest import rules_with


class Panic(BaseException):
    """What a Rust panic in regorus looks like from Python: pyo3's PanicException derives from BaseException."""


def preview(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["preview", "--stack", "dev", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def untagged(tmp_path_factory) -> Path:
    """A snapshot with mandatory findings (so "no findings" can never look like the right answer)."""
    path = tmp_path_factory.mktemp("snap") / "untagged.json"
    captured("untagged").write(path)
    return path


def engine_errors(out: str) -> list[dict]:
    return [f for f in json.loads(out)["findings"] if f["rule"] == "engine-error"]


# --- Rego rules that raise at run time ------------------------------------------------------------------

@pytest.mark.parametrize("body, error", [
    # a resource rule: a builtin given a number where it takes a string
    ("deny_broken contains msg if {\n\tmsg := upper(count(input.__name))\n}\n", "`upper` expects string argument"),
    # a stack rule: concat over a number
    ('stack_deny_broken contains f if {\n\tf := {"urn": "x", "msg": concat(", ", count(input.resources))}\n}\n',
     "`concat` expects array/set of strings"),
])
def test_a_builtin_called_with_a_wrong_type_is_an_engine_error(capsys, tmp_path, untagged, body, error):
    rules = rules_with(tmp_path, "broken.rego", body)
    code, out, err = preview(capsys, "--snapshot", str(untagged), "--rules", str(rules), "--format", "json",
                             "--fail-on", "never")
    assert code == 2 and "a rule failed to evaluate" in err
    [finding] = engine_errors(out)
    assert finding["enforcement"] == "mandatory" and finding["id"] == "TG000"
    assert finding["message"].startswith("rule broken (TG998) failed to evaluate: broken.rego:") and error in finding["message"]
    # the other rules still judged: one broken rule hides nobody's verdict
    assert any(f["rule"] == "required-tags" for f in json.loads(out)["findings"])


def test_a_rule_that_does_not_compile_stops_the_pack(tmp_path):
    pack_dir = _pack_copy(tmp_path)
    (tmp_path / "rego" / "required_tags.rego").write_text(
        (ROOT / "rego" / "required_tags.rego").read_text(encoding="utf-8") + "\ndeny_required_tags contains msg if {\n")
    with pytest.raises(TollgateError) as err:
        with start_pack(pack_dir, "tollgate", "dev", {}, timeout=60):
            pass
    assert "did not start" in err.value.message and "Rego rules do not compile" in err.value.message


# --- the embedded engine crashing ---------------------------------------------------------------------

@pytest.mark.parametrize("crash", [Panic("rust panic: already borrowed"), ValueError("bad value"), SystemExit(0)],
                         ids=["panic", "value-error", "sys-exit-0"])
def test_an_engine_crash_exits_2(capsys, monkeypatch, untagged, crash):
    def boom(self, *args, **kwargs):
        raise crash
    monkeypatch.setattr(RuleSet, "evaluate", boom)
    code, out, err = preview(capsys, "--snapshot", str(untagged), "--fail-on", "never")
    assert code == 2 and out == ""
    assert f"tollgate: internal error: {type(crash).__name__}" in err


def test_an_engine_panic_exits_2_from_the_console_script(untagged):
    """The process's own exit status: an uncaught BaseException would exit 1, which a gate reads as "findings"."""
    script = textwrap.dedent(f"""
        import sys
        from tollgate.cli import main
        from tollgate.evaluate import RuleSet

        class PanicException(BaseException):
            pass

        def boom(self, *args, **kwargs):
            raise PanicException("called `Result::unwrap()` on an `Err` value")

        RuleSet.evaluate = boom
        sys.exit(main(["preview", "--stack", "dev", "--snapshot", {str(untagged)!r}]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "internal error: PanicException" in proc.stderr


# --- the Python policies raising: in the engine ------------------------------------------------------------

def _raise(*args, **kwargs):
    raise ValueError("injected policy failure")


def test_cost_within_budget_raising_exits_2(capsys, monkeypatch, untagged):
    monkeypatch.setattr(budget_check, "cost_findings", _raise)
    code, out, err = preview(capsys, "--snapshot", str(untagged), "--fail-on", "never")
    assert code == 2 and out == "" and "injected policy failure" in err


def test_tag_remediation_raising_exits_2(capsys, monkeypatch, tmp_path, untagged):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({remediate.POLICY: "remediate"}))
    monkeypatch.setattr(remediate, "missing_tags", _raise)
    code, out, err = preview(capsys, "--snapshot", str(untagged), "--policy-config", str(config), "--fail-on", "never")
    assert code == 2 and out == "" and "injected policy failure" in err


# --- ... and in the CrossGuard pack, over gRPC -----------------------------------------------------------

def _pack_copy(tmp_path: Path, prelude: str = "") -> Path:
    """The pack in a checkout of its own in tmp_path (policy_pack/ beside tollgate/, whose rules are ../rego),
    its __main__ preceded by `prelude`."""
    for name in ("policy_pack", "tollgate", "rego"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    main_py = tmp_path / "policy_pack" / "__main__.py"
    main_py.write_text(textwrap.dedent(prelude) + main_py.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "policy_pack"


@pytest.mark.parametrize("patch, error, policy", [
    ("from tollgate.evaluate import budget_check\nbudget_check.cost_findings = _injected",
     'ValueError("injected TG011 failure")', None),
    ("from tollgate.evaluate import remediate\nremediate.missing_tags = _injected",
     'ValueError("injected remediation failure")', {remediate.POLICY: "remediate"}),
    # the engine panicking inside the pack: answered at once, not a call left hanging until the deadline
    ("from tollgate.evaluate import RuleSet\nRuleSet.evaluate = _injected",
     'type("PanicException", (BaseException,), {})("injected panic")', None),
], ids=["cost-within-budget", "tag-remediation", "engine-panic"])
def test_a_raising_policy_in_the_pack_fails_the_analysis(tmp_path, monkeypatch, patch, error, policy):
    prelude = f"def _injected(*args, **kwargs):\n    raise {error}\n\n{patch}\n\n"
    monkeypatch.setattr(crossguard, "DEADLINE", 30.0)  # a pack that never answers fails the test in 30 s, not 120
    snapshot = captured("untagged")
    with start_pack(_pack_copy(tmp_path, prelude), snapshot.project, snapshot.stack, {}) as running:
        running.configure(policy or {})
        running.configure_stack()
        with pytest.raises(TollgateError) as err:
            running.analyze_snapshot(snapshot)
    assert "the policy pack failed: UNKNOWN" in err.value.message and "injected" in err.value.message


# --- checkov crashing ---------------------------------------------------------------------------------------

def _fake_checkov(tmp_path: Path, monkeypatch, body: str) -> None:
    fake = tmp_path / "checkov"
    fake.write_text("#!/bin/sh\n" + body + "\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(fake))


def _bucket_snapshot() -> Snapshot:
    urn = "urn:pulumi:dev::unit::aws:s3/bucket:Bucket::b"
    return Snapshot("unit", "dev", [Resource(urn=urn, type="aws:s3/bucket:Bucket", name="b", custom=True, inputs={})])


@pytest.mark.parametrize("body, error", [
    ("echo 'Segmentation fault' >&2; exit 139", r"checkov failed \(exit 139\)"),
    ("kill -9 $$", r"checkov failed \(exit -9\)"),                          # killed (the OOM killer)
    ("echo 'not json at all'", "checkov's output is not JSON"),             # exit 0, no JSON
    ("echo '{\"results\": {\"failed_checks\": ['", "checkov's output is not JSON"),  # cut off mid-report
    ("echo '{}'", "checkov's output is not a report"),                     # JSON, but no report in it
    ("echo '[]'", "checkov's output is not a report"),
    ("echo '\"ok\"'", "checkov's output is not a report"),
    ("echo '[{\"check_type\": \"terraform_plan\", \"results\": \"none\"}]'", "checkov's output is not a report"),
    ("echo '{\"passed\": 0, \"failed\": 2}'; exit 1", "checkov's output is not a report"),  # failures, no results
])
def test_checkov_crashing_or_printing_garbage_is_an_error(tmp_path, monkeypatch, body, error):
    _fake_checkov(tmp_path, monkeypatch, body)
    with pytest.raises(TollgateError, match=error):
        run_checkov(_bucket_snapshot(), cwd=tmp_path)


def test_checkov_garbage_fails_the_preview_with_exit_2(tmp_path, monkeypatch, capsys):
    _fake_checkov(tmp_path, monkeypatch, "echo '{}'")
    snapshot = tmp_path / "s.json"
    _bucket_snapshot().write(snapshot)
    code, out, err = preview(capsys, "--snapshot", str(snapshot), "--cwd", str(tmp_path), "--checkov",
                             "--fail-on", "never")
    assert code == 2 and out == "" and "checkov's output is not a report" in err


def test_checkov_killed_by_timeout_is_an_error(tmp_path, monkeypatch):
    _fake_checkov(tmp_path, monkeypatch, "exec sleep 60")
    with pytest.raises(TollgateError, match="checkov did not finish within 1 s"):
        run_checkov(_bucket_snapshot(), cwd=tmp_path, timeout=1)


def test_checkov_that_cannot_be_executed_is_an_error(tmp_path, monkeypatch):
    fake = tmp_path / "checkov"
    fake.write_text("#!/bin/sh\necho '{}'\n")  # not executable
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(fake))
    with pytest.raises(TollgateError, match="checkov could not be started"):
        run_checkov(_bucket_snapshot(), cwd=tmp_path)


# --- OPA server errors (a loopback server on OPA's own engine, made to misbehave) -----------------------------

def _misbehaving(opa: OpaRestServer, method: str, code: int, body: bytes) -> None:
    """Every `method` request to the server gets this answer from now on (policies load normally before)."""
    def answer(self: BaseHTTPRequestHandler) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    opa.server.RequestHandlerClass = type("Misbehaving", (opa.server.RequestHandlerClass,), {method: answer})


@pytest.mark.parametrize("body", [
    b"{}",                                              # undefined: the driver is not loaded on the server
    b'{"result": {}}',                                  # an object where the set's rows should be
    b'{"result": null}',
    b'{"result": [[0, "deny_no_such_rule", "m"]]}',     # rows of a head we do not know
    b'{"result": [[0, "deny_required_tags"]]}',         # rows missing their message
    b"[]",
], ids=["no-result", "result-object", "result-null", "unknown-head", "short-row", "not-an-object"])
def test_an_opa_answer_with_missing_fields_is_an_engine_error(capsys, untagged, body):
    with OpaRestServer() as opa:
        _misbehaving(opa, "do_POST", 200, body)
        code, out, err = preview(capsys, "--snapshot", str(untagged), "--opa-url", opa.url, "--format", "json",
                                 "--fail-on", "never")
    assert code == 2 and "a rule failed to evaluate" in err
    errors = engine_errors(out)
    assert len(errors) == len(RuleSet(ROOT / "rego").rules)
    assert all("the OPA server's answer is malformed" in f["message"] and f["enforcement"] == "mandatory"
               for f in errors)


def test_an_opa_answer_that_is_not_json_exits_2(capsys, untagged):
    with OpaRestServer() as opa:
        _misbehaving(opa, "do_POST", 200, b"<html>proxy error</html>")
        code, out, err = preview(capsys, "--snapshot", str(untagged), "--opa-url", opa.url)
    assert code == 2 and out == "" and f"OPA server {opa.url}: the answer to POST" in err and "is not JSON" in err


def test_opa_http_500_on_every_query_is_an_engine_error_per_rule(capsys, untagged):
    with OpaRestServer() as opa:
        _misbehaving(opa, "do_POST", 500, b'{"code": "internal_error", "message": "out of memory"}')
        code, out, err = preview(capsys, "--snapshot", str(untagged), "--opa-url", opa.url, "--format", "json")
    assert code == 2
    errors = engine_errors(out)
    assert errors and all("out of memory" in f["message"] for f in errors)


def test_opa_http_500_on_loading_the_rules_exits_2(capsys, untagged):
    with OpaRestServer() as opa:
        _misbehaving(opa, "do_PUT", 500, b'{"code": "internal_error", "message": "storage failure"}')
        code, out, err = preview(capsys, "--snapshot", str(untagged), "--opa-url", opa.url)
    assert code == 2 and out == "" and f"OPA server {opa.url}:" in err


# --- the cost estimator raising ---------------------------------------------------------------------------

def test_a_cost_estimator_exception_exits_2(capsys, monkeypatch, untagged):
    monkeypatch.setattr(cost, "estimate", _raise)
    code, out, err = preview(capsys, "--snapshot", str(untagged), "--fail-on", "never")
    assert code == 2 and out == "" and "injected policy failure" in err
    assert main(["cost", "--stack", "dev", "--snapshot", str(untagged)]) == 2
    assert capsys.readouterr().out == ""


# --- malformed snapshot inputs -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "{not json",
    "[]",
    '{"project": "p", "stack": "dev"}',
    '{"project": "p", "stack": "dev", "resources": ["a string"]}',
    '{"project": "p", "stack": "dev", "resources": [{"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b"}]}',
    '{"project": "p", "stack": "dev", "resources": [{"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", '
    '"type": "aws:s3/bucket:Bucket", "name": "b", "custom": true, "inputs": "not an object"}]}',
], ids=["not-json", "a-list", "no-resources", "resource-not-an-object", "resource-without-type", "inputs-a-string"])
def test_a_malformed_snapshot_exits_2(capsys, tmp_path, text):
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    code, _, err = preview(capsys, "--snapshot", str(path), "--fail-on", "never")
    assert code == 2 and "tollgate:" in err


def _one_bucket(inputs_json: str) -> str:
    return ('{"project": "p", "stack": "dev", "resources": [{"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", '
            f'"type": "aws:s3/bucket:Bucket", "name": "b", "custom": true, "inputs": {inputs_json}}}]}}')


@pytest.mark.parametrize("inputs_json, error", [
    ('{"size": 1' + "0" * 5000 + "}", "5001 digits is too large"),
    ('{"size": 1' + "0" * 400 + "}", "too large to judge"),
    ('{"tags": {"team": "a\\ud800b"}}', "lone surrogate"),
    ('{"x": ' + "[" * 250 + "0" + "]" * 250 + "}", "nested more than 200 levels"),
], ids=["5001-digit-number", "401-digit-number", "lone-surrogate", "250-levels"])
def test_a_snapshot_the_engine_cannot_hold_is_refused(capsys, tmp_path, inputs_json, error):
    """What the load's fast path (scalars checked only where the text could hold them) must still refuse."""
    path = tmp_path / "snapshot.json"
    path.write_text(_one_bucket(inputs_json))
    with pytest.raises(TollgateError, match=error):
        Snapshot.read(path)
    code, _, err = preview(capsys, "--snapshot", str(path), "--fail-on", "never")
    assert code == 2 and error in err


def test_a_snapshot_that_is_not_utf8_exits_2(capsys, tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_bytes(_one_bucket('{"tags": {"team": "cafe"}}').encode().replace(b"cafe", b"caf\xe9"))  # Latin-1
    code, _, err = preview(capsys, "--snapshot", str(path), "--fail-on", "never")
    assert code == 2 and "not UTF-8" in err and str(path) in err


def test_the_trusted_load_reads_what_the_checked_load_reads_and_checks_nothing(tmp_path, monkeypatch):
    """The forked child's load (trusted: its parent checks the same text) reads the same snapshot, and
    repeats no check: a URN twice passes it, so only the parent's verdict on the file can count."""
    from tollgate.evaluate import pipeline

    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import generate  # bench/generate.py

    text = generate.snapshot(300, seed=3).to_json()
    path = tmp_path / "s.json"
    path.write_text(text)
    assert pipeline._read(path, trusted=True) == pipeline._read(path)
    assert Snapshot.from_checked(json.loads(text)) == Snapshot.parse(text, path)
    doc = json.loads(text)
    doc["resources"].append(doc["resources"][0])
    path.write_text(json.dumps(doc))
    assert len(pipeline._read(path, trusted=True)[0].resources) == len(doc["resources"])
    with pytest.raises(TollgateError, match="appears twice"):
        pipeline._read(path)


def test_the_fast_load_reads_what_the_full_checks_read(tmp_path, monkeypatch):
    """Snapshot.read skips per-value checks the file's text rules out; it must read the same snapshot."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import generate  # bench/generate.py

    snapshot = generate.snapshot(300, seed=1)
    (tmp_path / "snapshot.json").write_text(snapshot.to_json(), encoding="utf-8")
    with_checks = Snapshot.from_dict(json.loads(snapshot.to_json()), "<text>")
    assert Snapshot.read(tmp_path / "snapshot.json") == with_checks == snapshot


# --- a large snapshot file: part judged by a child forked before the load ------------------------------------

@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    """A generated estate large enough for `tollgate preview --snapshot` to fork its judging child."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import generate  # bench/generate.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path = tmp_path_factory.mktemp("large") / "snapshot.json"
    generate.snapshot(2500, seed=2).write(path)
    return path


def _record_forks(monkeypatch) -> list[int]:
    import os

    from tollgate.evaluate import parallel

    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)  # an OPA stand-in may serve on a thread
    children: list[int] = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: children.append(real_fork()) or children[-1])
    return children


def _verdict(out: str) -> tuple:
    report = json.loads(out)
    return report["summary"], report["findings"], report["cost"]["monthly_usd"]


@pytest.mark.parametrize("remediation", [False, True])
def test_a_large_snapshot_is_judged_on_two_cores_with_the_verdict_of_one(capsys, monkeypatch, large, tmp_path,
                                                                         remediation):
    """The child forked before the load judges the last resources' rules (and only it forks); the report is
    the one a single process gives, with the opt-in tag remediation too (the child remediates its part)."""
    from tollgate.evaluate import parallel, pipeline

    options = ["--stack", "bench", "--snapshot", str(large), "--format", "json"]
    if remediation:
        config = tmp_path / "policy-config.json"
        config.write_text(json.dumps({"required-tags-remediation": "remediate"}))
        options += ["--policy-config", str(config)]
    children = _record_forks(monkeypatch)
    code, out, _ = preview(capsys, *options)
    assert len(children) == 1
    monkeypatch.setattr(parallel, "fork_allowed", lambda n: False)
    alone_code, alone, _ = preview(capsys, *options)
    assert len(children) == 1
    assert code == alone_code == 1
    assert _verdict(out) == _verdict(alone)
    assert _verdict(out)[0]["mandatory"] > 0
    remediated = [f for f in json.loads(out)["findings"] if f["enforcement"] == "remediate"]
    assert bool(remediated) == remediation
    if remediation:  # some in the child's part: resources after the split
        split = parallel.split_at(RuleSet(RULES_DIR), [r.type for r in Snapshot.read(large).resources],
                                  pipeline.PARENT_SHARE_BEFORE_LOAD)
        last = {r.urn for r in Snapshot.read(large).resources[split:]}
        assert {f["urn"] for f in remediated} & last


def test_a_child_that_judged_another_snapshot_is_not_believed(capsys, monkeypatch, large):
    """A child whose load differs from the parent's (here: it drops the last resource) answers for another
    split of another stack: its rows are dropped and the parent judges that part itself."""
    import os

    from tollgate import model
    from tollgate.evaluate import parallel

    parent, from_checked = os.getpid(), Snapshot.from_checked.__func__

    def from_checked_in_child(cls, data, origin="<snapshot>"):
        snapshot = from_checked(cls, data, origin)
        return snapshot if os.getpid() == parent else model.Snapshot(**{**vars(snapshot),
                                                                         "resources": snapshot.resources[:-1]})

    children = _record_forks(monkeypatch)
    monkeypatch.setattr(Snapshot, "from_checked", classmethod(from_checked_in_child))
    collected, answers = [], []
    collect = parallel.Forked.collect
    monkeypatch.setattr(parallel.Forked, "collect", lambda self, *a: collected.append(collect(self, *a)) or collected[-1])
    monkeypatch.setattr(parallel, "json", types.SimpleNamespace(  # what the child answered, as read here
        dumps=json.dumps, loads=lambda text: answers.append(json.loads(text)) or answers[-1]))
    code, out, _ = preview(capsys, "--stack", "bench", "--snapshot", str(large), "--format", "json")
    assert len(children) == 1 and collected == [None]
    assert answers and answers[0]["count"] == len(Snapshot.read(large).resources) - 1  # it answered, for another stack
    monkeypatch.undo()
    alone_code, alone, _ = preview(capsys, "--stack", "bench", "--snapshot", str(large), "--format", "json")
    assert (code, _verdict(out)) == (alone_code, _verdict(alone))


def test_a_snapshot_that_fails_its_checks_stops_the_forked_child(capsys, monkeypatch, tmp_path, large):
    """The parent's load refuses the file (a URN twice) while the child runs: exit 2 with the load's error,
    and the child is stopped and reaped."""
    doc = json.loads(large.read_text())
    doc["resources"].append(doc["resources"][5])
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(doc))
    _assert_refused_and_child_reaped(capsys, monkeypatch, path, "appears twice")


def test_a_large_file_that_is_not_utf8_stops_the_forked_child(capsys, monkeypatch, tmp_path, large):
    """The child is forked before the file is read (its size decides): when the parent's read refuses it,
    exit 2 with the read's error, and the child is stopped and reaped."""
    path = tmp_path / "latin1.json"
    path.write_bytes(large.read_bytes().replace(b'"project": "fleet"', b'"project": "fl\xe9et"', 1))
    _assert_refused_and_child_reaped(capsys, monkeypatch, path, "snapshot file is not UTF-8 text")


def _assert_refused_and_child_reaped(capsys, monkeypatch, path: Path, error: str) -> None:
    import os

    children = _record_forks(monkeypatch)
    code, out, err = preview(capsys, "--stack", "bench", "--snapshot", str(path))
    assert code == 2 and out == "" and error in err
    assert len(children) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)


def test_the_tollgate_program_leaves_once_its_whole_report_is_written(capsys, tmp_path, large):
    """`python -m tollgate` (as the console script) ends a preview of a saved file without freeing what it
    built (cli._leave): its report, piped or written to --output, is whole, and its exit code is the verdict's."""
    _, alone, _ = preview(capsys, "--stack", "bench", "--snapshot", str(large), "--format", "json")
    program = [sys.executable, "-m", "tollgate", "preview", "--stack", "bench", "--snapshot", str(large), "--quiet"]
    piped = subprocess.run(program + ["--format", "json"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert piped.returncode == 1 and piped.stderr == ""
    assert _verdict(piped.stdout) == _verdict(alone)
    report = tmp_path / "report.sarif"
    written = subprocess.run(program + ["--format", "sarif", "--output", str(report)], capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
    assert (written.returncode, written.stdout, written.stderr) == (1, "", "")
    results = json.loads(report.read_text())["runs"][0]["results"]
    assert len(results) == len(json.loads(alone)["findings"])
    rules = rules_with(tmp_path, "broken.rego", "deny_broken contains msg if {\n\tmsg := sprintf(\"%v\", [1 / 0])\n}\n")
    failed = subprocess.run(program + ["--rules", str(rules), "--format", "json"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert failed.returncode == 2 and "a rule failed to evaluate" in failed.stderr
    assert any(f["rule"] == "engine-error" for f in json.loads(failed.stdout)["findings"])


def test_a_self_referencing_input_is_an_error_never_a_judgement():
    """The secret scan's encoder skips the circular-reference check (inputs come from JSON or protobuf):
    a value that did refer to itself still ends in the scan's error, as a too-deep one does."""
    from tollgate.evaluate import rule_input

    looped: dict = {"name": "x"}
    looped["self"] = looped
    with pytest.raises(TollgateError, match="cannot be judged: RecursionError"):
        rule_input("aws:s3/bucket:Bucket", "b", "urn:b", {"tags": looped}, {}, None)
