"""The pack answers Analyze and AnalyzeStack itself (policy_pack/serving.py `serve`): one decoding and one
evaluation a call, where pulumi-policy's own loop decodes the request for each policy. These tests hold the fast
path to the SDK's: the same responses, byte for byte, on real programs, on the bench estate and on odd values;
the engine's one-resource evaluation to its batch one; and a failing rule or engine still fails the call.
In process (the servicer called directly), so each request is judged by both paths side by side.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties

from bench import generate
from conftest import captured
from tollgate.evaluate import RULES_DIR, RuleSet, resource_input
from tollgate.evaluate.crossguard import _analyzer_resource, _resource_fields
from tollgate.model import SECRET_SIG, SIG_KEY, UNKNOWN

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["compliant", "oversized", "secrets", "unknown_type", "untagged"]
ASSET_SIG, ARCHIVE_SIG = "c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7"
PROVIDER = "urn:pulumi:dev::tollgate::pulumi:providers:aws::default"


@pytest.fixture(scope="module")
def pack(monkeypatch_module):
    """rego_policies loaded as the pack loads it, the stack's environment `dev`."""
    for key, value in {"PULUMI_PROJECT": "tollgate", "PULUMI_STACK": "dev", "PULUMI_DRY_RUN": "true",
                       "PULUMI_CONFIG": json.dumps({"tollgate:environment": "dev"})}.items():
        monkeypatch_module.setenv(key, value)
    monkeypatch_module.syspath_prepend(str(ROOT / "policy_pack"))
    spec = importlib.util.spec_from_file_location("rego_policies", ROOT / "policy_pack" / "rego_policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.stack.cache_clear()
    return module


@pytest.fixture(scope="module")
def policies(pack):
    """The pack's policies, made once: their rule engine lives on a thread of its own, and is freed there."""
    made = pack.policies([r.name for r in RuleSet(RULES_DIR).rules])
    yield made
    made[0]._tollgate_rules.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def servicer(policies, fast: bool, extra: list | None = None, config: dict | None = None):
    """The SDK's servicer over the pack's policies; `fast=False` makes it answer with the SDK's own loop."""
    made = sdk._PolicyAnalyzerServicer("tollgate", "0.0.1", policies + (extra or []), EnforcementLevel.ADVISORY,
                                       None, None, None, None, None, None, None)
    if not fast:
        made._tollgate_policies = None
    if config:
        request = pb.ConfigureAnalyzerRequest()
        for name, (level, props) in config.items():
            request.policyConfig[name].enforcementLevel = level
            request.policyConfig[name].properties.update(props)
        made.Configure(request, None)
    made.ConfigureStack(pb.AnalyzerStackConfigureRequest(stack="dev", project="tollgate", dry_run=True), None)
    return made


def both(policies, requests, stack_request, **kwargs):
    """Every request answered by the fast path and by the SDK's loop."""
    fast, slow = servicer(policies, True, **kwargs), servicer(policies, False, **kwargs)
    pairs = [(fast.Analyze(r, None), slow.Analyze(r, None)) for r in requests]
    pairs.append((fast.AnalyzeStack(stack_request, None), slow.AnalyzeStack(stack_request, None)))
    assert fast._tollgate_policies and slow._tollgate_policies is None  # each path was the one taken
    return pairs


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _secret(value):
    return {SIG_KEY: SECRET_SIG, "value": value}


def odd_requests() -> list[pb.AnalyzeRequest]:
    """Values the fast decoding must read as the SDK does: secrets (nested, in the provider), assets, archives,
    doubles, nulls, booleans, unknowns, a type no rule judges."""
    tags = {"project": "p", "environment": "dev", "team": "t", "cost-center": "c"}
    provider = pb.AnalyzerProviderResource(type="pulumi:providers:aws", name="default", urn=PROVIDER, properties=_struct(
        {"region": "us-east-1", "token": _secret("hunter2"), "defaultTags": json.dumps({"tags": tags})}))
    props = [
        {"instanceType": _secret("x9.secretsize"), "tags": {"owner": _secret("a@b.c"), "n": 2.0}},
        {"instanceType": "m5.4xlarge", "tags": {"owner": UNKNOWN}, "ebsBlockDevices": [{"volumeSize": 500.0,
         "volumeType": "gp2"}, None, True, 1.5, [_secret({"deep": ["x"]})]]},
        {"instanceType": UNKNOWN, "userData": {SIG_KEY: ASSET_SIG, "path": "boot.sh", "hash": "abc"}},
        {"code": {SIG_KEY: ARCHIVE_SIG, "assets": {"a": {SIG_KEY: ASSET_SIG, "text": "x", "hash": "h"}}}},
        {}]
    made = [pb.AnalyzeRequest(type="aws:ec2/instance:Instance", name=f"odd{i}",
                              urn=f"urn:pulumi:dev::tollgate::aws:ec2/instance:Instance::odd{i}",
                              properties=_struct(p), provider=provider) for i, p in enumerate(props)]
    return made + [pb.AnalyzeRequest(type="random:index/randomId:RandomId", name="rid", urn="urn:x::rid",
                                     properties=_struct({"byteLength": 8.0}))]


def _stack_request(requests: list[pb.AnalyzeRequest]) -> pb.AnalyzeStackRequest:
    return pb.AnalyzeStackRequest(resources=[pb.AnalyzerResource(
        type=r.type, name=r.name, urn=r.urn, properties=r.properties, options=r.options, provider=r.provider,
        dependencies=[requests[0].urn, "urn:not:in:the:request"]) for r in requests])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_fast_path_answers_as_the_sdk_on_real_programs(policies, scenario):
    snapshot = captured(scenario)
    requests = [pb.AnalyzeRequest(**_resource_fields(r)) for r in snapshot.resources]
    stack_request = pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in snapshot.resources])
    for fast, slow in both(policies, requests, stack_request):
        assert fast == slow


def test_the_fast_path_answers_as_the_sdk_on_the_bench_estate(policies):
    estate = generate.snapshot(400).resources
    pairs = both(policies, [pb.AnalyzeRequest(**_resource_fields(r)) for r in estate],
                 pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in estate]))
    assert all(fast == slow for fast, slow in pairs)
    assert sum(len(fast.diagnostics) for fast, _ in pairs) > 30  # the estate breaks rules: the comparison bites


def test_the_fast_path_answers_as_the_sdk_on_odd_values_and_blinds_secrets(policies):
    requests = odd_requests()
    pairs = both(policies, requests, _stack_request(requests))
    assert all(fast == slow for fast, slow in pairs)
    text = "".join(str(fast) for fast, _ in pairs)
    assert "diagnostics" in text and "x9.secretsize" not in text and "hunter2" not in text and "a@b.c" not in text


def test_the_fast_path_answers_as_the_sdk_under_a_policy_config(policies):
    config = {"instance-size-cap": (pb.MANDATORY, {"max_vcpu": {"dev": 1}}), "required-tags": (pb.ADVISORY, {}),
              "ebs-gp3": (pb.DISABLED, {})}
    estate = generate.snapshot(150).resources
    pairs = both(policies, [pb.AnalyzeRequest(**_resource_fields(r)) for r in estate],
                 pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in estate]), config=config)
    assert all(fast == slow for fast, slow in pairs)
    names = {d.policyName for fast, _ in pairs for d in fast.diagnostics}
    assert "instance-size-cap" in names and "ebs-gp3" not in names


def test_the_pack_serves_on_the_engines_thread_with_the_same_answers(policies):
    """The pack's gRPC server pool is the engine's own thread (`_ServerPool`): a call evaluates where it is
    answered, without a hand-off, and answers as a call from another thread does."""
    engine_thread = policies[0]._tollgate_rules.thread
    assert sdk.futures.ThreadPoolExecutor(max_workers=4) is engine_thread  # what PolicyPack makes its server with
    estate = generate.snapshot(150).resources
    requests = [pb.AnalyzeRequest(**_resource_fields(r)) for r in estate]
    stack_request = pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in estate])
    fast, slow = servicer(policies, True), servicer(policies, False)
    on_engine = engine_thread.submit(lambda: [fast.Analyze(r, None) for r in requests]
                                     + [fast.AnalyzeStack(stack_request, None)]).result()
    assert on_engine == [slow.Analyze(r, None) for r in requests] + [slow.AnalyzeStack(stack_request, None)]
    assert any(response.diagnostics for response in on_engine)


def test_a_configure_between_calls_changes_the_next_answer(policies):
    """The fast path keeps its list of policies, levels and configs between calls: a Configure replaces it."""
    [request] = [r for r in odd_requests() if r.name == "odd1"]
    made = servicer(policies, True)
    before = made.Analyze(request, None)
    assert {"ebs-gp3", "instance-size-cap"} <= {d.policyName for d in before.diagnostics}
    config = {"ebs-gp3": (pb.DISABLED, {}), "instance-size-cap": (pb.MANDATORY, {"max_vcpu": {"dev": 64}})}
    configure = pb.ConfigureAnalyzerRequest()
    for name, (level, props) in config.items():
        configure.policyConfig[name].enforcementLevel = level
        configure.policyConfig[name].properties.update(props)
    made.Configure(configure, None)
    after = made.Analyze(request, None)
    assert after == servicer(policies, False, config=config).Analyze(request, None)
    assert not {"ebs-gp3", "instance-size-cap"} & {d.policyName for d in after.diagnostics}
    made.Configure(pb.ConfigureAnalyzerRequest(), None)
    assert made.Analyze(request, None) == before


def test_the_fast_decoding_is_the_sdks_decoding_then_plain(pack):
    serving = sys.modules["serving"]  # policy_pack/serving.py, as rego_policies imported it
    """Value for value (2.0 is 2, a secret "[secret]"), not only where a rule's verdict shows it."""
    for request in odd_requests():
        sdk_side = pack._plain(deserialize_properties(json_format.MessageToDict(serving._blinded(request).properties)))
        assert serving._plain_struct(request.properties) == sdk_side
        assert json.dumps(serving._plain_struct(request.properties)) == json.dumps(sdk_side)  # ints stay ints


def test_a_signature_the_sdk_refuses_is_refused_on_the_fast_path_too(policies):
    request = pb.AnalyzeRequest(type="aws:s3/bucket:Bucket", name="b", urn="urn:x::b",
                                properties=_struct({"ref": {SIG_KEY: "5cf8f73096256a8f31e491e813e4eb8e"}}))
    for made in (servicer(policies, True), servicer(policies, False)):
        with pytest.raises(AssertionError, match="Unrecognized signature"):
            made.Analyze(request, None)


def test_a_secret_asset_in_an_archive_is_refused_never_unwrapped(policies):
    """The SDK's decoding unwraps a secret in an archive's assets, leaving no mark to blind: both paths
    blind it first, and the SDK then refuses the archive, so its value reaches no rule."""
    asset = {SIG_KEY: ASSET_SIG, "text": "hunter4", "hash": "h"}
    request = pb.AnalyzeRequest(type="aws:lambda/function:Function", name="f", urn="urn:x::f",
                                properties=_struct({"code": {SIG_KEY: ARCHIVE_SIG, "assets": {"a": _secret(asset)}}}))
    for made in (servicer(policies, True), servicer(policies, False)):
        with pytest.raises(AssertionError, match="AssetArchive's assets"):
            made.Analyze(request, None)


def test_a_policy_of_another_kind_is_served_by_the_sdk(policies):
    def validate(args, report_violation):
        report_violation(f"seen {args.props['instanceType']}")
    other = ResourceValidationPolicy("other", "another pack's policy", validate=validate,
                                     enforcement_level=EnforcementLevel.ADVISORY)
    made = servicer(policies, True, extra=[other])
    [request] = [r for r in odd_requests() if r.name == "odd1"]
    response = made.Analyze(request, None)
    assert made._tollgate_policies is None
    assert "seen m5.4xlarge" in {d.message.split("\n")[-1] for d in response.diagnostics if d.policyName == "other"}
    assert response == servicer(policies, False, extra=[other]).Analyze(request, None)


def test_an_engine_panic_on_the_fast_path_fails_the_call_at_once(policies, monkeypatch):
    def panic(*args, **kwargs):
        raise type("PanicException", (BaseException,), {})("injected panic")
    made = servicer(policies, True)
    monkeypatch.setattr(RuleSet, "evaluate_resource", panic)
    with pytest.raises(RuntimeError, match="the rule engine crashed: PanicException: injected panic"):
        made.Analyze(odd_requests()[1], None)


def test_one_resource_evaluation_gives_the_batch_results():
    """RuleSet.evaluate_resource (engines kept per type) against evaluate([doc])'s resource results."""
    rules = RuleSet(RULES_DIR)
    docs = [resource_input(r) for r in generate.snapshot(300).resources]
    docs += [resource_input(r) for scenario in SCENARIOS for r in captured(scenario).resources]
    stack = {"name": "dev", "environment": "dev"}
    found = 0
    for doc in docs + docs[::-1]:  # the kept engines, met again in another order
        expected, errors = rules.evaluate([doc], stack)
        got, got_errors = rules.evaluate_resource(doc, stack)
        assert not errors and not got_errors
        key = [(r.head, r.message, r.index) for r in expected if r.rule.scope == "resource"]
        assert sorted(key) == sorted((r.head, r.message, r.index) for r in got)
        found += len(got)
    assert found > 30


def test_a_rule_failing_at_run_time_is_named_by_the_one_resource_evaluation(tmp_path):
    for path in RULES_DIR.iterdir():
        if path.suffix in (".rego", ".json") and not path.name.endswith("_test.rego"):
            (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    rule = (tmp_path / "ebs_gp3.rego").read_text(encoding="utf-8")
    first = "deny_ebs_gp3 contains msg if {\n\tnot ebs_gp3_ok"  # a head body begins with its rule's fast path
    head = rule.index(first) + len(first)
    (tmp_path / "ebs_gp3.rego").write_text(rule[:head] + '\n\tto_number("not a number") > 0' + rule[head:])
    rules = RuleSet(tmp_path)
    doc = resource_input(next(r for r in generate.snapshot(200).resources if r.type == "aws:ebs/volume:Volume"))
    doc["properties"] = dict(doc["properties"], type="gp2")  # a volume the fast path does not vouch for: heads run
    results, errors = rules.evaluate_resource(doc, {"name": "dev", "environment": "dev"})
    assert [rule.name for rule in errors] == ["ebs-gp3"]
