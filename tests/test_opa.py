"""OPA server mode and the OPA bundle give the embedded engine's findings, on OPA's own engine.

No OPA binary can be installed here; tests/opa_server.py serves OPA's REST API with OPA's Go engine
(opa-golib-python-bindings), compiling the whole module set on every policy PUT as OPA does. Set
OPA_URL=http://host:port to also run the equality test against a real OPA server.
"""

from __future__ import annotations

import json
import os
import tarfile
import urllib.request

import pytest
from opa_bindings.engine import OpaEngine

from tollgate.cli import main
from tollgate.evaluate import RULES_DIR, RuleSet, policy_config, rego_findings
from tollgate.evaluate.opa import OpaServer

from conftest import FIXTURES, ROOT, captured, rules_with
from opa_server import OpaRestServer

SCENARIOS = ["compliant", "untagged", "oversized", "unknown_type", "transforms"]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(RULES_DIR)


def key(findings):
    return sorted((f.rule, f.id, f.urn, f.enforcement, f.severity, f.message) for f in findings)


def _same_on_server(url: str, rules: RuleSet) -> None:
    server = OpaServer(url, rules)
    server.load()
    policy = policy_config.parse({"instance-size-cap": {"max_vcpu": {"dev": 1}}},
                                 {r.name: rules.config.get(r.name, {}) for r in rules.rules})
    for scenario in SCENARIOS:
        snapshot = captured(scenario)
        assert key(rego_findings(snapshot, rules, engine=server)) == key(rego_findings(snapshot, rules)), scenario
        tuned = rego_findings(snapshot, rules, policy, engine=server)
        assert key(tuned) == key(rego_findings(snapshot, rules, policy)), scenario


def _put(url: str, path: str, text: str) -> int:
    request = urllib.request.Request(url + path, data=text.encode(), method="PUT")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_fresh_server_refuses_the_rule_files_one_at_a_time(rules):
    """Why the client uploads the merged module: OPA compiles the whole set on every PUT, so a rule file whose
    library is not loaded yet is refused (the failure a regorus stand-in hid)."""
    with OpaRestServer() as opa:
        codes = {name: _put(opa.url, f"/v1/policies/tollgate/{name}", text) for name, text in rules.modules().items()}
    assert codes["bucket_lifecycle.rego"] == 400


def test_the_server_double_reads_any_body_as_opa_does():
    """The double hands a plain `{"input": ...}` body's text to OPA's engine undecoded; any other body (spaces,
    another key after the input) is read the slow way, to the same answer."""
    with OpaRestServer() as opa:
        assert _put(opa.url, "/v1/policies/t.rego", "package t\nimport rego.v1\nx := [input.a, count(input)]\n") == 200
        answers = []
        for body in (b'{"input":{"a":[1,"\\u00e9"]}}', b' {"input": {"a": [1, "\\u00e9"]}} ', b'{"input":{"a":[1,"\\u00e9"]},"x":{"a":2}}'):
            request = urllib.request.Request(opa.url + "/v1/data/t/x?strict-builtin-errors=true", data=body, method="POST")
            with urllib.request.urlopen(request) as answer:
                answers.append(json.loads(answer.read()))
    assert answers == [{"result": [[1, "\u00e9"], 1]}] * 3


def test_opa_server_path_gives_the_embedded_findings(rules):
    with OpaRestServer() as opa:
        _same_on_server(opa.url, rules)
        puts = [path for method, path in opa.state.requests if method == "PUT"]
        assert puts[:2] == ["/v1/policies/tollgate/tollgate_rules.rego", "/v1/policies/tollgate/tollgate_driver.rego"]
        assert {"/v1/data/config", "/v1/data/instance_types", "/v1/data/aws"} <= set(puts)
        # One query a judged snapshot (two per scenario: default and tuned), the input sent once, strictly.
        posts = [path for method, path in opa.state.requests if method == "POST"]
        assert posts == ["/v1/data/tollgate_driver/results?strict-builtin-errors=true"] * (2 * len(SCENARIOS))
        # The next run finds the rules and data as it would write them: it writes nothing (no recompilation).
        opa.state.requests.clear()
        OpaServer(opa.url, rules).load()
        assert [method for method, _ in opa.state.requests] == ["GET"] * (1 + 4)


@pytest.mark.skipif(not os.environ.get("OPA_URL"), reason="set OPA_URL to run against a real OPA server")
def test_real_opa_server_gives_the_embedded_findings(rules):
    _same_on_server(os.environ["OPA_URL"], rules)


def test_an_older_tollgates_modules_are_replaced(rules):
    """A server that holds the per-file modules an older Tollgate wrote: they are deleted (dependents first),
    then the merged module loads; ids outside tollgate/ are left alone."""
    with OpaRestServer() as opa:
        files = rules.modules()
        old = {name: files[name] for name in ("lib.rego", "k8s_lib.rego")}
        old.update({name: text for name, text in files.items() if name not in old})
        for name, text in old.items():
            assert _put(opa.url, f"/v1/policies/tollgate/{name}", text) == 200, name
        assert _put(opa.url, "/v1/policies/other/keep.rego", "package other\nimport rego.v1\nx := 1\n") == 200
        _same_on_server(opa.url, rules)
        assert set(opa.state.modules) == {"tollgate/tollgate_rules.rego", "tollgate/tollgate_driver.rego",
                                          "other/keep.rego"}


def test_cli_opa_mode_matches_the_embedded_report(capsys):
    args = ["preview", "--cwd", str(FIXTURES / "untagged"), "--stack", "dev", "--format", "json"]
    embedded_code = main(args)
    embedded = json.loads(capsys.readouterr().out)
    with OpaRestServer() as opa:
        code = main(args + ["--opa-url", opa.url])
    served = json.loads(capsys.readouterr().out)
    assert code == embedded_code == 1
    assert served["findings"] == embedded["findings"] and served["findings"]


def test_unreachable_server_exits_2_naming_the_url(capsys):
    with OpaRestServer() as opa:
        url = opa.url  # a port that was just free and is closed again
    code = main(["preview", "--cwd", str(ROOT), "--stack", "dev", "--opa-url", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert f"OPA server {url}: cannot reach it (GET /v1/policies)" in err


def test_a_bad_snapshot_is_reported_while_the_server_is_still_being_asked(capsys, tmp_path):
    """The server's rules are checked on a thread while the snapshot loads: a snapshot that does not load is
    still the error reported (the run does not wait for the server, nor report it instead)."""
    with OpaRestServer() as opa:
        url = opa.url  # closed again: the server's check fails too, later
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text("{not json")
    code = main(["preview", "--stack", "dev", "--snapshot", str(snapshot), "--opa-url", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and str(snapshot) in err and "OPA server" not in err


def test_a_rule_opa_refuses_exits_2_with_opas_message_at_the_rule_file(capsys, tmp_path):
    """A rule the embedded engine takes but OPA's compiler refuses (a type error OPA checks at compile time):
    OPA's 400, its code and message, at the line of the rule file (not of the merged module)."""
    body = 'deny_broken contains msg if {\n\tinput.__never_set\n\tmsg := upper(1)\n}\n'
    rules = rules_with(tmp_path, "broken.rego", body)
    line = (rules / "broken.rego").read_text().splitlines().index("\tmsg := upper(1)") + 1
    with OpaRestServer() as opa:
        code = main(["preview", "--cwd", str(ROOT), "--stack", "dev", "--rules", str(rules), "--opa-url", opa.url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert f"OPA server {opa.url}: refused the rules (HTTP 400): broken.rego:{line}: rego_type_error: upper: invalid argument(s)" in err


def test_a_rule_failing_on_the_server_is_an_engine_error(capsys, tmp_path):
    """A builtin error is asked for strictly: OPA answers 500, and that rule alone is an engine error (by
    default OPA would make the expression undefined and the rule silently not fire)."""
    body = "deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n\tmsg := sprintf(\"%v\", [1 / x])\n}\n"
    rules = rules_with(tmp_path, "broken.rego", body)
    with OpaRestServer() as opa:
        code = main(["preview", "--cwd", str(ROOT), "--stack", "dev", "--rules", str(rules), "--opa-url", opa.url,
                     "--format", "json"])
    out, _ = capsys.readouterr()
    errors = [f for f in json.loads(out)["findings"] if f["rule"] == "engine-error"]
    assert code == 2 and len(errors) == 1 and "broken" in errors[0]["message"]
    assert "eval_builtin_error: div: divide by zero" in errors[0]["message"]


def test_bundle_holds_every_module_and_the_data_and_real_opa_evaluates_it_alike(tmp_path, rules):
    out = tmp_path / "bundle.tar.gz"
    assert main(["rego", "bundle", "--out", str(out), "--revision", "r1"]) == 0
    with tarfile.open(out) as tar:
        files = {m.name.lstrip("/"): tar.extractfile(m).read().decode() for m in tar.getmembers()}
    manifest = json.loads(files[".manifest"])
    assert manifest["revision"] == "r1" and manifest["rego_version"] == 1
    assert set(manifest["roots"]) == {"tollgate", "tollgate_driver", "config", "instance_types", "database_classes",
                                      "aws"}
    rule_files = {p.name for p in RULES_DIR.glob("*.rego") if not p.name.endswith("_test.rego")}
    assert {n.split("/", 1)[1] for n in files if n.startswith("tollgate/")} == rule_files | {"tollgate_driver.rego"}
    # OPA's engine loaded from the bundle alone judges a snapshot like tollgate does.
    engine = OpaEngine()
    for name, text in files.items():
        if name.endswith(".rego"):
            engine.add_policy(name, text)
    engine.add_data(json.loads(files["data.json"]))

    class FromBundle:
        def evaluate(self, inputs, stack, config=None, meanwhile=None):  # RuleSet.evaluate's signature
            rows = engine.eval_query("x = data.tollgate_driver.results", rules.driver_input(inputs, stack, config))
            return rules.results(rows[0]["x"]), {}

    for scenario in ("oversized", "untagged"):
        snapshot = captured(scenario)
        assert key(rego_findings(snapshot, rules, engine=FromBundle())) == key(rego_findings(snapshot, rules))
