"""The CrossGuard pack, spoken to the way the Pulumi CLI speaks to it (tollgate.evaluate.crossguard).

Its policies are the Rego rules of rego/, and on snapshots of real programs (tests/fixtures/) it gives
exactly the findings the engine gives (tollgate.evaluate.rego_findings). A rule's "cannot decide"
verdicts come out of the pack through the advisory policy `<rule>-undecided`; findings name the rule.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb

from conftest import captured
from tollgate.capture.options import seconds
from tollgate.errors import TollgateError
from tollgate.evaluate import (RuleSet, budget_check, crossguard, judge, known_policies, policy_config, rego_findings,
                               remediate, resource_input, rule_input)
from tollgate.evaluate.crossguard import UNDECIDED, start_pack
from tollgate.model import SECRET_SIG, SIG_KEY, UNKNOWN, ProviderRef, Resource, Snapshot
from tollgate.pack_build import build
from tollgate.project import load_project, load_stack

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policy_pack"
FIXTURES = ROOT / "tests" / "fixtures"
STACK = {"name": "dev", "environment": "dev"}
BUCKET = "aws:s3/bucket:Bucket"
URN = "urn:pulumi:dev::tollgate::aws:s3/bucket:Bucket::raw"
TAGS = {"project": "tollgate", "environment": "dev", "team": "data", "cost-center": "cc-1", "owner": "data@example.com"}
LEVEL = {"mandatory": pb.MANDATORY, "advisory": pb.ADVISORY, "remediate": pb.REMEDIATE}
SEVERITY = {"low": pb.POLICY_SEVERITY_LOW, "medium": pb.POLICY_SEVERITY_MEDIUM, "high": pb.POLICY_SEVERITY_HIGH,
            "critical": pb.POLICY_SEVERITY_CRITICAL}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(ROOT / "rego")


@pytest.fixture(scope="module")
def pack():
    with start_pack(PACK, "tollgate", "dev", {"tollgate:environment": "dev"}) as running:
        running.configure_stack()
        yield running


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def analyze(pack, props: dict, provider_props: dict | None = None, type_: str = BUCKET) -> list[pb.AnalyzeDiagnostic]:
    provider = pb.AnalyzerProviderResource(
        type="pulumi:providers:aws", name="default", urn="urn:pulumi:dev::tollgate::pulumi:providers:aws::default",
        properties=_struct(provider_props)) if provider_props is not None else None
    request = pb.AnalyzeRequest(type=type_, name="raw", urn=URN, properties=_struct(props), provider=provider)
    return list(pack.stub.Analyze(request).diagnostics)


def engine_messages(rules: RuleSet, props: dict, type_: str = BUCKET) -> list[str]:
    """What the engine's resource rules say of one resource (Analyze runs no stack rule)."""
    results, errors = rules.evaluate([rule_input(type_, "raw", URN, props, {}, None)], STACK)
    assert not errors
    return [r.message for r in results if r.rule.scope == "resource"]


# --- what the pack declares -------------------------------------------------------------------------

def test_policies_are_the_rules_with_their_metadata(pack, rules):
    info = pack.analyzer_info()
    policies = {p.name: p for p in info.policies}
    assert info.name == "tollgate"
    python_only = {remediate.POLICY, budget_check.RULE}
    assert {n for n in policies if not n.endswith(UNDECIDED)} == {r.name for r in rules.rules} | python_only
    for rule in rules.rules:
        policy = policies[rule.name]
        assert (policy.enforcementLevel, policy.severity) == (LEVEL[rule.enforcement], SEVERITY[rule.severity])
        assert (policy.framework.name, policy.framework.reference) == ("tollgate", rule.id)
        assert (policy.description, policy.displayName) == (rule.description, rule.title)
        assert policy.policy_type == {"resource": pb.POLICY_TYPE_RESOURCE, "stack": pb.POLICY_TYPE_STACK}[rule.scope]


def test_rules_with_undecided_verdicts_get_an_advisory_companion(pack, rules):
    policies = {p.name: p for p in pack.analyzer_info().policies}
    expected = {r.name + UNDECIDED for r in rules.rules
                if r.enforcement != "advisory" and any(h.startswith(("warn_", "stack_warn_")) for h in r.heads)}
    assert expected and {n for n in policies if n.endswith(UNDECIDED)} == expected
    for name in expected:
        rule = rules.rule(name.removesuffix(UNDECIDED))
        companion = policies[name]
        assert (companion.enforcementLevel, companion.severity) == (pb.ADVISORY, SEVERITY[rule.severity])
        assert companion.framework.reference == rule.id


# --- Analyze, one resource at a time -------------------------------------------------------------

def test_a_tagged_bucket_passes(pack, rules):
    assert analyze(pack, {"tags": TAGS}) == []
    assert engine_messages(rules, {"tags": TAGS}) == []


def test_default_tags_arrive_json_encoded_as_the_sdk_sends_provider_inputs(pack):
    assert analyze(pack, {}, {"region": "us-east-1", "defaultTags": json.dumps({"tags": TAGS})}) == []


def test_a_secret_tag_value_is_undecided(pack):
    """A secret is unknown to the rules (RULES.md): the tag cannot be checked, as an unknown one; no value shown."""
    tags = dict(TAGS, owner={SIG_KEY: SECRET_SIG, "value": "someone@example.com"})
    [diag] = analyze(pack, {"tags": tags})
    assert (diag.policyName, diag.enforcementLevel) == ("required-tags" + UNDECIDED, pb.ADVISORY)
    assert "cannot decide required tag owner" in diag.message and "someone@example.com" not in diag.message


def test_a_bucket_lacking_tags_gets_exactly_the_engine_message(pack, rules):
    props = {"tags": {"team": "data"}}
    [message] = engine_messages(rules, props)
    [diag] = analyze(pack, props)
    rule = rules.rule("required-tags")
    assert (diag.policyName, diag.enforcementLevel, diag.severity) == ("required-tags", pb.MANDATORY,
                                                                       pb.POLICY_SEVERITY_HIGH)
    assert diag.message == f"{rule.description}\n{message}"  # pulumi-policy prefixes the policy description


def test_unknown_tags_are_undecided_and_advisory(pack, rules):
    props = {"tags": UNKNOWN}
    [message] = engine_messages(rules, props)
    [diag] = analyze(pack, props)
    assert (diag.policyName, diag.enforcementLevel) == ("required-tags" + UNDECIDED, pb.ADVISORY)
    assert diag.message.endswith("\n" + message)


def test_one_resource_can_get_verdicts_of_both_levels(pack, rules):
    props = {"tags": TAGS, "instanceTypes": ["m5.4xlarge", UNKNOWN], "capacityType": "SPOT"}
    diags = analyze(pack, props, type_="aws:eks/nodeGroup:NodeGroup")
    assert sorted((d.policyName, d.enforcementLevel) for d in diags) == [
        ("gpu-approval" + UNDECIDED, pb.ADVISORY), ("instance-size-cap", pb.MANDATORY),
        ("instance-size-cap" + UNDECIDED, pb.ADVISORY)]
    assert sorted(d.message.split("\n", 1)[1] for d in diags) == sorted(
        engine_messages(rules, props, "aws:eks/nodeGroup:NodeGroup"))


def test_policy_config_can_lower_a_rule_to_advisory():
    with start_pack(PACK, "tollgate", "dev", {}) as running:
        running.configure({"required-tags": {"enforcementLevel": "advisory"}})
        [diag] = analyze(running, {"tags": {}})
    assert (diag.policyName, diag.enforcementLevel) == ("required-tags", pb.ADVISORY)


# --- the pack and the engine agree, on real programs -----------------------------------------------

# An instance without rootBlockDevice gets ebs-gp3's advisory: its AMI decides the root volume's type.
SCENARIOS = {  # fixture -> (rule, resource, enforcement) of every finding it must produce
    "compliant": {("ebs-gp3", "bastion", "advisory")},
    "untagged": {("required-tags", "logs", "mandatory"), ("required-tags", "bastion", "mandatory"),
                 ("required-tags", "scratch", "mandatory"), ("bucket-lifecycle", "logs", "mandatory"),
                 ("bucket-lifecycle", "scratch", "mandatory"), ("budget-required", "tg-untagged-dev", "mandatory"),
                 ("ebs-gp3", "bastion", "advisory")},
    "oversized": {("instance-size-cap", "trainer", "mandatory"), ("instance-size-cap", "mystery", "mandatory"),
                  ("instance-size-cap", "gpu", "mandatory"), ("spot-outside-prod", "gpu", "mandatory"),
                  ("budget-required", "tg-oversized-dev", "mandatory"), ("ebs-gp3", "trainer", "advisory"),
                  ("ebs-gp3", "mystery", "advisory")},
    "unknown_type": {("instance-size-cap", "worker", "advisory"), ("instance-size-cap", "workers", "advisory"),
                     ("gpu-approval", "worker", "advisory"), ("gpu-approval", "workers", "advisory"),
                     ("spot-outside-prod", "workers", "mandatory"), ("required-tags", "exports", "advisory"),
                     ("bucket-lifecycle", "exports", "mandatory"),
                     ("budget-required", "tg-unknown-type-dev", "mandatory"), ("ebs-gp3", "worker", "advisory")},
}


def _judge(scenario: str, rules: RuleSet, policy: dict | None = None):
    """Engine and pack over one fixture; `policy` is a --policy-pack-config document given to both."""
    snapshot = captured(scenario)
    config = load_stack(load_project(FIXTURES / scenario), "dev").config  # PULUMI_CONFIG, as the CLI sets it
    parsed = policy_config.parse(policy or {}, {r.name: rules.config.get(r.name, {}) for r in rules.rules})
    with start_pack(PACK, snapshot.project, snapshot.stack, config) as running:
        running.configure(policy or {})
        running.configure_stack()
        return rego_findings(snapshot, rules, parsed), running.analyze_snapshot(snapshot)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_pack_and_engine_give_the_same_findings(scenario, rules):
    engine, pack = _judge(scenario, rules)
    assert all(f.source == "crossguard" for f in pack)

    def key(f):
        return f.rule, f.id, f.urn, f.type, f.name, f.enforcement, f.severity, f.message
    assert {key(f) for f in pack} == {key(f) for f in engine}
    assert {(f.rule, f.name, f.enforcement) for f in pack} == SCENARIOS[scenario]


def test_policy_config_tunes_pack_and_engine_alike(rules):
    """A stack's policy config (a lower vCPU cap, a rule lowered to advisory) reaches both paths the same way."""
    policy = {"instance-size-cap": {"max_vcpu": {"dev": 1}}, "required-tags": "advisory"}
    engine, pack = _judge("untagged", rules, policy)
    keys = {(f.rule, f.name, f.enforcement, f.message) for f in engine}
    assert keys == {(f.rule, f.name, f.enforcement, f.message) for f in pack}
    assert ("instance-size-cap", "bastion", "mandatory",
            "`bastion` (aws:ec2/instance:Instance) uses t3.micro (2 vCPU), over the dev cap of 1 vCPU; "
            "pick a type with at most 1 vCPU or get a waiver") in keys
    assert {f.enforcement for f in engine if f.rule == "required-tags"} == {"advisory"}


def test_analyze_stack_agrees_with_the_engines_stack_rules(pack, rules):
    snapshot = captured("untagged")
    request = pb.AnalyzeStackRequest(resources=[crossguard._analyzer_resource(r) for r in snapshot.resources])
    response = pack.stub.AnalyzeStack(request)
    results, _ = rules.evaluate([resource_input(r) for r in snapshot.resources], STACK)
    expected = {(r.rule.name, r.urn, r.message) for r in results if r.rule.scope == "stack"}
    assert {(d.policyName.removesuffix(UNDECIDED), d.urn, d.message.split("\n", 1)[-1])
            for d in response.diagnostics} == expected
    assert list(response.not_applicable) == []


def test_custom_timeouts_are_sent_in_seconds():
    assert seconds("1h30m") == 5400
    assert seconds("2.5s") == 2.5
    assert seconds(None) == 0


# --- start-up: the pack fails loudly ------------------------------------------------------------

def _pack_copy(tmp_path: Path, rule_files: list[str], extra: dict[str, str] | None = None) -> Path:
    """A built pack whose tollgate bundles only these rules (the pack reads the rules of the tollgate it loads)."""
    pack_dir = build(tmp_path / "policy_pack")
    rules = pack_dir / "_vendor" / "tollgate" / "rules"
    shutil.rmtree(rules)
    rules.mkdir()
    for name in ["data.json", "lib.rego", "k8s_lib.rego", *rule_files]:  # the libraries every rule may read
        shutil.copy(ROOT / "rego" / name, rules / name)
    for name, text in (extra or {}).items():
        (rules / name).write_text(text, encoding="utf-8")
    return pack_dir


def test_a_listed_rule_missing_from_rego_stops_the_pack(tmp_path):
    pack_dir = _pack_copy(tmp_path, ["required_tags.rego"])
    with pytest.raises(TollgateError) as err:
        with start_pack(pack_dir, "tollgate", "dev", {}):
            pass
    assert err.value.file == str(pack_dir)
    assert "listed but not in" in err.value.message and "instance-size-cap" in err.value.message


EXTRA_RULE = """package tollgate

import rego.v1

# METADATA
# title: Extra
# description: A rule nobody listed.
# custom:
#   id: TG900
#   severity: low
#   enforcement: mandatory
deny_extra_rule contains msg if {
\tinput.never
\tmsg := "never"
}
"""


def test_a_rule_not_in_the_pack_list_stops_the_pack(tmp_path):
    pack_dir = _pack_copy(tmp_path, ["required_tags.rego", "instance_size_cap.rego"], {"extra.rego": EXTRA_RULE})
    with pytest.raises(TollgateError) as err:
        with start_pack(pack_dir, "tollgate", "dev", {}):
            pass
    assert "not listed: extra-rule" in err.value.message


BROKEN_RULE = """package tollgate

import rego.v1

# METADATA
# title: Required tags
# description: Fails at run time, on purpose.
# custom:
#   id: TG001
#   severity: high
#   enforcement: mandatory
deny_required_tags contains msg if {
\tx := to_number("not a number")
\tmsg := sprintf("%v", [x])
}
"""


def test_a_rule_failing_at_run_time_fails_the_analysis_never_passes(tmp_path):
    others = [p.name for p in (ROOT / "rego").glob("*.rego")
              if not p.name.endswith("_test.rego") and p.name not in ("lib.rego", "required_tags.rego")]
    pack_dir = _pack_copy(tmp_path, others, {"required_tags.rego": BROKEN_RULE})
    with start_pack(pack_dir, "tollgate", "dev", {}) as running:
        with pytest.raises(TollgateError) as err:
            running.analyze_snapshot(captured("untagged"))
    assert "rule required-tags (TG001) failed to evaluate" in err.value.message


def test_a_pack_that_prints_no_port_is_an_error(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text("import sys, time\nprint('hello')\nsys.stderr.write('boom')\n"
                                          "time.sleep(30)\n", encoding="utf-8")
    with pytest.raises(TollgateError) as err:
        with start_pack(tmp_path, "tollgate", "dev", {}, timeout=10):
            pass
    assert err.value.file == str(tmp_path) and "did not start" in err.value.message


def test_the_pack_reads_protobuf_numbers_as_the_engine_reads_json():
    """Struct numbers are doubles; the Rego input gets 2, not 2.0, as the engine's snapshot has it."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("tollgate_pack_rego_policies", PACK / "rego_policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._plain({"size": 2.0, "ratio": [0.5, 3.0], "name": UNKNOWN}) == {
        "size": 2, "ratio": [0.5, 3], "name": UNKNOWN}


# --- tag remediation: opt in, and the pack and the engine fill the same tags ---------------------------

def test_tag_remediation_is_off_unless_configured(pack):
    policies = {p.name: p for p in pack.analyzer_info().policies}
    assert policies[remediate.POLICY].enforcementLevel == pb.DISABLED
    request = pb.AnalyzeRequest(type=BUCKET, name="raw", urn=URN, properties=_struct({"tags": {"team": "data"}}))
    assert list(pack.stub.Remediate(request).remediations) == []


def test_remediation_fills_missing_tags_from_the_stack_tag_set():
    stack_tags = dict(TAGS, team="platform")
    with start_pack(PACK, "tollgate", "dev", {"tollgate:tags": json.dumps(stack_tags)}) as running:
        running.configure({remediate.POLICY: "remediate"})
        request = pb.AnalyzeRequest(type=BUCKET, name="raw", urn=URN,
                                      properties=_struct({"bucket": "raw", "tags": {"team": "data"}}))
        [fix] = running.stub.Remediate(request).remediations
    assert fix.policyName == remediate.POLICY
    # the resource's own team tag wins; everything it lacked comes from the stack's tag set
    assert json_format.MessageToDict(fix.properties) == {"bucket": "raw", "tags": dict(stack_tags, team="data")}


ASG = "aws:autoscaling/group:Group"


def test_remediation_adds_tag_blocks_to_an_auto_scaling_group():
    """The provider's default tags never reach an Auto Scaling group: its own blocks are what count, and the
    missing (or blank) ones are added as blocks propagated to its instances."""
    provider = {"defaultTags": {"tags": TAGS}}
    blocks = [{"key": "project", "value": "tollgate", "propagateAtLaunch": True}, {"key": "team", "value": " "}]
    added = remediate.missing_tags(ASG, {"maxSize": 2, "tags": blocks}, provider, TAGS, list(TAGS))
    assert added == {k: v for k, v in TAGS.items() if k != "project"}
    fixed = remediate.remediated({"maxSize": 2, "tags": blocks}, added, ASG)
    assert fixed["maxSize"] == 2 and fixed["tags"][0] == blocks[0]
    assert fixed["tags"][1:] == [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in added.items()]
    # nothing known to fill from: the list, a block or a block's key unknown until apply
    for unknown in (UNKNOWN, [UNKNOWN], [{"key": UNKNOWN, "value": "x"}]):
        assert remediate.missing_tags(ASG, {"tags": unknown}, provider, TAGS, list(TAGS)) == {}
    # a map where the group takes a list counts as no tags, and becomes a list
    added = remediate.missing_tags(ASG, {"tags": {"owner": "x"}}, provider, TAGS, list(TAGS))
    assert added == TAGS and isinstance(remediate.remediated({"tags": {"owner": "x"}}, added, ASG)["tags"], list)


@pytest.mark.parametrize("remediation", [False, True])
def test_an_auto_scaling_group_is_judged_on_its_own_tag_blocks(rules, remediation):
    """Complete default tags on its provider do not make a group tagged (required-tags denies it); with
    remediation on, the engine adds the blocks and the rule passes what remediation wrote."""
    provider = ProviderRef("urn:pulumi:dev::tollgate::pulumi:providers:aws::default", {"defaultTags": {"tags": TAGS}})
    group = Resource(urn="urn:pulumi:dev::tollgate::aws:autoscaling/group:Group::workers", type=ASG, name="workers",
                     custom=True, inputs={"maxSize": 2, "minSize": 0, "tags": [{"key": "team", "value": "data"}]},
                     provider=provider)
    snapshot = Snapshot("tollgate", "dev", [group], tags=dict(TAGS))
    policy = policy_config.parse({remediate.POLICY: "remediate"} if remediation else {}, known_policies(rules))
    found = {(f.rule, f.enforcement) for f in judge(snapshot, rules, policy) if f.urn == group.urn}
    if remediation:
        assert found == {(remediate.POLICY, "remediate")}
    else:
        assert ("required-tags", "mandatory") in found


def test_pack_and_engine_remediate_alike_and_nothing_is_left_to_block(rules):
    """untagged: with remediation on, both paths fill the tags; required-tags no longer blocks."""
    snapshot = captured("untagged")
    snapshot = type(snapshot)(**{**snapshot.__dict__, "tags": dict(TAGS)})
    config = {"tollgate:tags": json.dumps(TAGS)}
    policy = {remediate.POLICY: "remediate"}
    parsed = policy_config.parse(policy, known_policies(rules))
    with start_pack(PACK, snapshot.project, snapshot.stack, config) as running:
        running.configure(policy)
        pack = running.analyze_snapshot(snapshot)
    engine = judge(snapshot, rules, parsed)

    def key(f):
        return f.rule, f.id, f.urn, f.enforcement, f.message
    assert {key(f) for f in pack} == {key(f) for f in engine}
    fixed = {f.name for f in engine if f.rule == remediate.POLICY}
    assert fixed == {"logs", "bastion", "scratch"} and {f.enforcement for f in engine if f.name in fixed
                                                        and f.rule == remediate.POLICY} == {"remediate"}
    # scratch keeps its own (invalid) environment tag: remediation fills, it never overwrites
    assert {(f.rule, f.name) for f in engine if f.rule == "required-tags"} == {("required-tags", "scratch")}
