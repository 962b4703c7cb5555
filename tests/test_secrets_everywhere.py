"""Secrets are never printed: recognisable secret values are planted everywhere a secret can come in, and every
output tollgate writes is searched for them.

Planted: `secure:` stack config (ciphertext), a config key that is secret by Pulumi.yaml's schema (plaintext in
the stack file), pulumi.Output.secret resource inputs (including values the rules print, such as an instance
type and a tag), a `pulumi stack export` with plaintext and ciphertext secrets, an engine event log holding
plaintext values, and secret values sent to the CrossGuard pack the way the CLI sends them (value included).

Searched: `tollgate preview` in every --format (stdout, --output, --snapshot-out, stderr) from a program, a
stack export and a preview JSON; `tollgate cost` table and json; every file tollgate hands a subprocess (the
capture's request and result, checkov's plan and manifests) and whether those temporary files are kept;
the pack's stdout, stderr and its Analyze, AnalyzeStack and Remediate responses; `tollgate report
--from-event-log` in every format. Narrower checks of part of this live in test_cli, test_adapters,
test_report_formats (renderers) and test_event_log; this module is the one that looks at every output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format

from tollgate.cli import main
from tollgate.evaluate import RULES_DIR, RuleSet, crossguard, judge, known_policies, policy_config, remediate
from tollgate.evaluate.crossguard import start_pack
from tollgate.model import SECRET_SIG, SIG_KEY
from tollgate.project import load_project, load_stack

from conftest import FIXTURES, ROOT

# What is planted, and must come out nowhere.
CIPHERTEXT = "djE6aHVudGVyMi1zZWN1cmUtY2lwaGVydGV4dA=="   # a `secure:` stack config value
PROVIDER_CIPHERTEXT = "djE6aHVudGVyMi1wcm92aWRlci1rZXk="    # `secure:` provider config (aws:secretKey)
SCHEMA_SECRET = "hunter2-schema-secret"                     # plain in the stack file, `secret: true` in Pulumi.yaml
OUTPUT_SECRET = "hunter2-output-secret"                     # pulumi.Output.secret(...) in the program
TYPE_SECRET = "hunter2-instance-type"                       # a secret a rule prints when it is not a secret
BUDGET_SECRET = "31337.77"                                  # a secret budget limit (TG011 prints limits)
EXPORT_SECRETS = ("hunter2-PLAINTEXT-secret", "Q0lQSEVSVEVYVC1zZWNyZXQtdmFsdWU=",  # tests/fixtures/pulumi_json
                  "hunter2-export-instance-type", "hunter2-export-provider-key")   # planted in a copy here
EVENT_LOG_SECRETS = ("hunter2-eventlog-plaintext", "hunter2-eventlog-extra")
WIRE_SECRET = "hunter2-on-the-wire"                         # what the CLI sends the pack as a secret's value
PACK_CONFIG_SECRET = "hunter2-pack-config"
PLANTED = (CIPHERTEXT, PROVIDER_CIPHERTEXT, SCHEMA_SECRET, OUTPUT_SECRET, TYPE_SECRET, BUDGET_SECRET, "31,337.77",
           *EXPORT_SECRETS, *EVENT_LOG_SECRETS, WIRE_SECRET, PACK_CONFIG_SECRET)
FORMATS = ["table", "json", "sarif", "junit", "markdown"]

PROGRAM = f'''
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()
password = config.require_secret("dbPassword")     # secure: in Pulumi.dev.yaml
api_key = config.require_secret("apiKey")          # secret: true in Pulumi.yaml
token = pulumi.Output.secret("{OUTPUT_SECRET}")

aws.ec2.Instance("web", ami="ami-0abc1234", instance_type=pulumi.Output.secret("{TYPE_SECRET}"),
                 user_data=token, tags={{"environment": token, "team": api_key}})
aws.ssm.Parameter("db-password", type="SecureString", value=password)
aws.rds.Instance("db", engine="postgres", instance_class="db.t3.micro",
                 allocated_storage=20, username="app", password=token)
aws.budgets.Budget("budget", budget_type="COST", time_unit="MONTHLY", limit_unit="USD",
                   limit_amount=pulumi.Output.secret("{BUDGET_SECRET}"))
k8s.core.v1.Secret("creds", metadata={{"name": "creds", "namespace": "team-a"}},
                   string_data={{"token": token, "password": password, "key": api_key}})
k8s.apps.v1.Deployment("api", metadata={{"name": "api", "namespace": "team-a"}},
    spec={{"selector": {{"match_labels": {{"app": "api"}}}}, "replicas": 1,
          "template": {{"metadata": {{"labels": {{"app": "api"}}}},
                       "spec": {{"containers": [{{"name": "api", "image": "nginx:1.25",
                                                 "env": [{{"name": "TOKEN", "value": token}}]}}]}}}}}})
pulumi.export("token", token)
'''


def assert_clean(text: str, where: str) -> None:
    for secret in PLANTED:
        assert secret not in text, f"{secret!r} printed in {where}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("secrets-everywhere") / "prog"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "secrets-everywhere", "runtime": "python",
        "config": {"apiKey": {"type": "string", "secret": True}}}))
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": {
        "aws:region": "us-east-1",
        "aws:secretKey": {"secure": f"v1:{PROVIDER_CIPHERTEXT}"},
        "secrets-everywhere:dbPassword": {"secure": f"v1:{CIPHERTEXT}"},
        "secrets-everywhere:apiKey": SCHEMA_SECRET,
        "tollgate:tags": {"project": "p", "environment": "dev", "team": "data", "cost-center": "cc-1",
                          "owner": {"secure": f"v1:{CIPHERTEXT}"}},
    }}))
    (directory / "__main__.py").write_text(PROGRAM)
    return directory


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- tollgate preview: every format, every file it writes ------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_preview_of_a_program_prints_no_secret_in_any_format(capsys, tmp_path, project, fmt):
    snap = tmp_path / "snap.json"
    code, out, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--format", fmt,
                         "--snapshot-out", str(snap))
    assert code == 1, err  # the secret instance type and tags are findings: the rules did read the resources
    assert "web" in out
    for text, where in ((out, "stdout"), (err, "stderr"), (snap.read_text(), "--snapshot-out")):
        assert_clean(text, f"{fmt} {where}")
    # the second pass: a saved snapshot, a report file, markdown's cost change against a base
    report = tmp_path / f"report.{fmt}"
    extra = ["--base-snapshot", str(snap)] if fmt == "markdown" else []
    code, out, err = run(capsys, "preview", "--stack", "dev", "--snapshot", str(snap), "--format", fmt,
                         "--output", str(report), *extra)
    assert code == 1 and out == ""
    assert_clean(report.read_text(), f"{fmt} --output")
    assert_clean(err, f"{fmt} stderr (--snapshot)")


def test_rules_read_secrets_as_secret_and_say_so(capsys, project):
    """The rules saw the resources, and a secret where a rule needs the value is unknown to it (RULES.md): a
    secret instance type cannot be sized, a secret tag cannot be checked; no message takes "[secret]" as a value."""
    _, out, _ = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--format", "json")
    messages = [f["message"] for f in json.loads(out)["findings"] if f["name"] in ("web", "db")]
    assert any("cannot decide the instance size cap at preview" in m for m in messages), messages
    assert any("cannot decide required tag environment at preview" in m for m in messages), messages
    assert not any("[secret]" in m for m in messages), messages


def test_remediation_and_policy_config_print_no_secret(capsys, tmp_path, project):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({remediate.POLICY: "remediate"}))
    code, out, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--format", "json",
                         "--policy-config", str(config))
    assert code == 1 and any(f["rule"] == remediate.POLICY for f in json.loads(out)["findings"])
    assert_clean(out + err, "preview with remediation")


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_cost_prints_no_secret(capsys, project, fmt):
    code, out, err = run(capsys, "cost", "--cwd", str(project), "--stack", "dev", "--format", fmt)
    assert code == 0 and "web" in out
    assert_clean(out + err, f"cost {fmt}")


@pytest.fixture(scope="module")
def export_file(tmp_path_factory) -> Path:
    """tests/fixtures/pulumi_json/export.json with more secrets: a secret instance type, a provider secret."""
    doc = json.loads((FIXTURES / "pulumi_json" / "export.json").read_text())
    for resource in doc["deployment"]["resources"]:
        if resource["urn"].endswith("::bastion"):
            resource["inputs"]["instanceType"] = {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(EXPORT_SECRETS[2])}
        if resource["urn"].endswith("::tagged"):
            resource["inputs"]["secretKey"] = {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(EXPORT_SECRETS[3])}
    path = tmp_path_factory.mktemp("export") / "export.json"
    path.write_text(json.dumps(doc))
    for secret in EXPORT_SECRETS:
        assert secret in path.read_text()
    return path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("flag", ["--from-export", "--from-preview-json"])
def test_preview_of_pulumi_files_prints_no_secret(capsys, tmp_path, export_file, flag, fmt):
    source = export_file if flag == "--from-export" else FIXTURES / "pulumi_json" / "preview.json"
    snap = tmp_path / "snap.json"
    code, out, err = run(capsys, "preview", "--stack", "dev", "--cwd", str(tmp_path), flag, str(source),
                         "--format", fmt, "--snapshot-out", str(snap))
    assert code == 1, err
    for text, where in ((out, "stdout"), (err, "stderr"), (snap.read_text(), "--snapshot-out")):
        assert_clean(text, f"{flag} {fmt} {where}")


# --- files handed to subprocesses: the capture's request/result, checkov's plan and manifests ---------------

@pytest.fixture
def handed_over(monkeypatch, tmp_path):
    """Spy on subprocess.run: copy every file and directory a command is given (before and after it runs)."""
    real_run = subprocess.run
    kept = tmp_path / "handed-over"
    kept.mkdir()
    seen: list[Path] = []

    def keep(argv) -> None:
        for arg in argv:
            path = Path(str(arg))
            if path.is_absolute() and path.exists() and path.name.startswith(("request", "result", "plan", "manifests")):
                target = kept / f"{len(seen)}-{path.name}"
                (shutil.copytree if path.is_dir() else shutil.copy)(path, target)
                seen.append(path)

    def spy(argv, *args, **kwargs):
        keep(argv)
        if kwargs.get("input"):  # the capture's request comes on stdin (its answer through a pipe, no file)
            (kept / f"{len(seen)}-request-stdin.json").write_bytes(kwargs["input"])
        env = kwargs.get("env") or {}
        (kept / f"{len(seen)}-env.json").write_text(json.dumps({k: v for k, v in env.items() if "PULUMI" in k}))
        result = real_run(argv, *args, **kwargs)
        keep(argv)
        return result
    monkeypatch.setattr(subprocess, "run", spy)
    return kept, seen


def _fake_checkov(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "checkov"
    fake.write_text(f"#!{sys.executable}\nimport json\n"
                    "print(json.dumps({'passed': 0, 'failed': 0, 'skipped': 0, 'parsing_errors': 0}))\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(fake))


def test_files_handed_to_the_capture_and_to_checkov_hold_no_secret(capsys, monkeypatch, tmp_path, project,
                                                                   handed_over):
    kept, seen = handed_over
    _fake_checkov(tmp_path, monkeypatch)
    code, out, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--checkov", "--format", "json")
    assert code == 1, err
    names = {p.name for p in seen}
    assert {"plan.json", "manifests"} <= names and list(kept.glob("*-request-stdin.json")), names
    files = [p for p in kept.rglob("*") if p.is_file()]
    assert any(p.suffix == ".yaml" for p in files)  # the Kubernetes Secret and Deployment as manifests
    for path in files:
        assert_clean(path.read_text(encoding="utf-8"), f"{path.name} (handed to a subprocess)")
    assert_clean(out + err, "preview --checkov")
    # nothing is left behind: the temporary directories are gone
    assert not [p for p in seen if p.exists()], [p for p in seen if p.exists()]


@pytest.mark.skipif(os.environ.get("TOLLGATE_SKIP_CHECKOV") == "1", reason="TOLLGATE_SKIP_CHECKOV=1")
def test_real_checkov_findings_print_no_secret(capsys, project):
    code, out, err = run(capsys, "preview", "--cwd", str(project), "--stack", "dev", "--checkov", "--format", "json")
    if code == 2 and "checkov not installed" in err:
        pytest.skip("checkov is not installed (.venv-checkov)")
    assert code == 1, err
    assert any(f["source"] == "checkov" for f in json.loads(out)["findings"])
    assert_clean(out + err, "preview --checkov (real checkov)")


def test_a_secret_of_the_wrong_type_is_not_printed_in_the_error(capsys, tmp_path):
    """A config value that Pulumi.yaml declares secret and typed: the type error must not quote it."""
    (tmp_path / "Pulumi.yaml").write_text("name: typed\nruntime: python\nconfig:\n  dbPort:\n"
                                          "    type: integer\n    secret: true\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  typed:dbPort: {SCHEMA_SECRET}\n")
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    code, out, err = run(capsys, "preview", "--cwd", str(tmp_path), "--stack", "dev")
    assert code == 2 and "typed:dbPort" in err and "its value is not shown" in err
    assert_clean(out + err, "config type error")


# --- the CrossGuard pack: secret values on the wire, as the CLI sends them -------------------------------

def _without_secret_objects(value):
    """The value with every secret object taken out: what is left is what a reader sees in the clear."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return None
        return {k: _without_secret_objects(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secret_objects(v) for v in value]
    return value


def test_the_pack_prints_no_secret_and_judges_secrets_as_the_engine_does(capsys, monkeypatch, project):
    from tollgate.capture.host import capture

    snapshot = capture(project, "dev")
    config = dict(load_stack(load_project(project), "dev").config, **{"secrets-everywhere:other": PACK_CONFIG_SECRET})
    monkeypatch.setattr(crossguard, "SECRET_TEXT", WIRE_SECRET)  # every secret goes over with a value, as the CLI's
    responses = []
    real_call = crossguard.Pack._call

    def record(self, method, request):
        response = real_call(self, method, request)
        responses.append((method, request, response))
        return response
    monkeypatch.setattr(crossguard.Pack, "_call", record)
    policy = {remediate.POLICY: "remediate"}
    with start_pack(ROOT / "policy_pack", snapshot.project, snapshot.stack, config) as running:
        running.configure(policy)
        running.configure_stack()
        findings = running.analyze_snapshot(snapshot)
        pack_stderr = crossguard._tail(running.stderr)
    out, err = capsys.readouterr()  # the pack's stdout after its port is passed on to our stderr
    sent = [r for m, r, _ in responses if m == "Analyze"]
    assert sent and any(WIRE_SECRET in str(r) for r in sent)  # the pack was given the values
    for method, _, response in responses:
        doc = json_format.MessageToDict(response)
        if method == "Remediate":  # properties written back: a secret stays a secret object there
            doc = _without_secret_objects(doc)
        assert_clean(json.dumps(doc), f"{method} response")
    assert_clean(out + err + pack_stderr, "the pack's stdout/stderr")
    assert_clean("\n".join(f.message for f in findings), "the pack's findings")
    # and the verdicts are the engine's, which never had the values
    rules = RuleSet(RULES_DIR)
    engine = judge(snapshot, rules, policy_config.parse(policy, known_policies(rules)))

    def key(f):
        return f.rule, f.urn, f.enforcement, f.message
    assert {key(f) for f in findings if f.source == "crossguard" and f.rule != "cost-within-budget"} == \
        {key(f) for f in engine if f.rule != "cost-within-budget"}


# --- tollgate report --from-event-log -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def event_log(tmp_path_factory) -> Path:
    """The fixture log (plaintext in resource inputs) plus a secret in the prelude's config, a diagnostic, a
    resource's outputs and a remediation's before/after: fields the reader must never copy out."""
    lines = (FIXTURES / "event_log" / "preview-events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    extra = EVENT_LOG_SECRETS[1]
    web = "urn:pulumi:dev::shop::aws:ec2/instance:Instance::web"
    secret = {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(extra)}
    for event in events:
        if "preludeEvent" in event:
            event["preludeEvent"]["config"]["shop:apiKey"] = extra
    events[-1:-1] = [
        {"sequence": 90, "timestamp": 1763794900, "diagnosticEvent": {
            "urn": web, "message": f"warning: userData contains {extra}\n", "color": "never", "severity": "warning"}},
        {"sequence": 91, "timestamp": 1763794901, "resOutputsEvent": {"metadata": {
            "op": "create", "urn": web, "type": "aws:ec2/instance:Instance",
            "new": {"urn": web, "type": "aws:ec2/instance:Instance", "outputs": {"password": secret}}}}},
        {"sequence": 92, "timestamp": 1763794902, "policyRemediationEvent": {
            "resourceUrn": web, "color": "never", "policyName": remediate.POLICY, "policyPackName": "tollgate",
            "policyPackVersion": "0.4.0", "before": {"tags": {"owner": extra}}, "after": {"tags": {"owner": extra}}}},
    ]
    path = tmp_path_factory.mktemp("eventlog") / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    for planted in EVENT_LOG_SECRETS:
        assert planted in path.read_text()
    return path


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown", "json"])
def test_report_from_an_event_log_prints_no_secret(capsys, tmp_path, event_log, fmt):
    code, out, err = run(capsys, "report", "--from-event-log", str(event_log), "--format", fmt)
    assert code == 1 and out
    assert_clean(out + err, f"report {fmt}")
    report = tmp_path / "report.out"
    assert run(capsys, "report", "--from-event-log", str(event_log), "--format", fmt, "--output", str(report))[0] == 1
    assert_clean(report.read_text(), f"report {fmt} --output")


def test_the_planted_values_are_findable(capsys, project):
    """The searches above would find a leak: the planted values are where the tool reads from."""
    text = "\n".join(p.read_text() for p in project.iterdir() if p.is_file())
    for secret in (CIPHERTEXT, PROVIDER_CIPHERTEXT, SCHEMA_SECRET, OUTPUT_SECRET, TYPE_SECRET, BUDGET_SECRET):
        assert secret in text


def test_only_a_snapshot_text_without_the_signature_skips_the_secret_scan(tmp_path):
    """A snapshot file whose text shows no secret signature hands its inputs to the rules unscanned; the
    signature in the text, even spelled with \\u escapes, means every resource is scanned and its secrets read
    "[secret]"."""
    from tollgate.evaluate import pipeline, resource_input
    from tollgate.evaluate.inputs import text_secret_free

    def snapshot_with(password: object) -> str:
        resource = {"urn": "urn:pulumi:dev::p::aws:rds/instance:Instance::db", "type": "aws:rds/instance:Instance",
                    "name": "db", "custom": True, "inputs": {"password": password}}
        return json.dumps({"project": "p", "stack": "dev", "resources": [resource]})

    plain = snapshot_with("not-a-secret")
    secret = snapshot_with({SIG_KEY: SECRET_SIG})
    escaped = secret.replace(SECRET_SIG, SECRET_SIG[0] + "\\u%04x" % ord(SECRET_SIG[1]) + SECRET_SIG[2:])
    assert SECRET_SIG not in escaped and json.loads(escaped) == json.loads(secret)
    assert text_secret_free(plain) and not text_secret_free(secret) and not text_secret_free(escaped)
    for text, free, password in ((plain, True, "not-a-secret"), (secret, False, "[secret]"), (escaped, False, "[secret]")):
        (tmp_path / "snapshot.json").write_text(text)
        for trusted in (False, True):  # the forked child reads the same text trusted
            snapshot, secret_free = pipeline._read(tmp_path / "snapshot.json", trusted=trusted)
            assert secret_free is free
            doc = resource_input(snapshot.resources[0], {}, secret_free)
            assert doc["properties"]["password"] == password
