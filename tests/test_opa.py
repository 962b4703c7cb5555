"""OPA server mode and the OPA bundle give the embedded engine's findings.

No OPA server can be installed here (the binary is in none of the registries these machines reach), so
the client path runs against tests/opa_double.py, a loopback server answering OPA's REST API with the
embedded engine. Set OPA_URL=http://host:port to also run the equality test against a real OPA server.
"""

from __future__ import annotations

import json
import os
import tarfile

import pytest
import regorus

from tollgate.cli import main
from tollgate.evaluate import RULES_DIR, RuleSet, policy_config, rego_findings
from tollgate.evaluate.opa import OpaServer

from conftest import FIXTURES, ROOT, captured
from opa_double import OpaDouble

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


def test_opa_server_path_gives_the_embedded_findings(rules):
    with OpaDouble() as opa:
        _same_on_server(opa.url, rules)
        # The rules went to the server as policies, the config and facts as data; one query per rule.
        puts = {path for method, path in opa.state.requests if method == "PUT"}
        assert {"/v1/policies/tollgate/required_tags.rego", "/v1/policies/tollgate/tollgate_driver.rego",
                "/v1/data/config", "/v1/data/instance_types", "/v1/data/aws"} <= puts
        posts = {path for method, path in opa.state.requests if method == "POST"}
        assert posts == {f"/v1/data/tollgate_driver/rule_{r.name.replace('-', '_')}" for r in rules.rules}


@pytest.mark.skipif(not os.environ.get("OPA_URL"), reason="set OPA_URL to run against a real OPA server")
def test_real_opa_server_gives_the_embedded_findings(rules):
    _same_on_server(os.environ["OPA_URL"], rules)


def test_cli_opa_mode_matches_the_embedded_report(capsys):
    args = ["preview", "--cwd", str(FIXTURES / "untagged"), "--stack", "dev", "--format", "json"]
    embedded_code = main(args)
    embedded = json.loads(capsys.readouterr().out)
    with OpaDouble() as opa:
        code = main(args + ["--opa-url", opa.url])
    served = json.loads(capsys.readouterr().out)
    assert code == embedded_code == 1
    assert served["findings"] == embedded["findings"] and served["findings"]


def test_unreachable_server_exits_2_naming_the_url(capsys):
    with OpaDouble() as opa:
        url = opa.url  # a port that was just free and is closed again
    code = main(["preview", "--cwd", str(ROOT), "--stack", "dev", "--opa-url", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert f"OPA server {url}: cannot load the rules" in err


def test_a_rule_failing_on_the_server_is_an_engine_error(capsys, tmp_path):
    from conftest import rules_with

    body = "deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n\tmsg := sprintf(\"%v\", [1 / x])\n}\n"
    rules = rules_with(tmp_path, "broken.rego", body)
    with OpaDouble() as opa:
        code = main(["preview", "--cwd", str(ROOT), "--stack", "dev", "--rules", str(rules), "--opa-url", opa.url,
                     "--format", "json"])
    out, _ = capsys.readouterr()
    errors = [f for f in json.loads(out)["findings"] if f["rule"] == "engine-error"]
    assert code == 2 and len(errors) == 1 and "divide by zero" in errors[0]["message"]


def test_bundle_holds_every_module_and_the_data_and_evaluates_alike(tmp_path, rules):
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
    # An engine loaded from the bundle alone judges a snapshot like tollgate does.
    engine = regorus.Engine()
    for name, text in files.items():
        if name.endswith(".rego"):
            engine.add_policy(name, text)
    engine.add_data(json.loads(files["data.json"]))

    class FromBundle:
        def evaluate(self, inputs, stack, config=None):
            engine.set_input(rules.driver_input(inputs, stack, config))
            raw = json.loads(engine.eval_query_as_json("data.tollgate_driver.results"))
            return rules.results(raw["result"][0]["expressions"][0]["value"]), {}

    snapshot = captured("oversized")
    assert key(rego_findings(snapshot, rules, engine=FromBundle())) == key(rego_findings(snapshot, rules))
