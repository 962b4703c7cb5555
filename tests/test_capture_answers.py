"""What a program asks the engine, answered offline: data sources (computed, from a table, by shape, pinned),
reads, resource methods and typed outputs; and what the capture could not see, said as a finding."""

from __future__ import annotations

import json

import pytest

from conftest import capture_source
from tollgate.evaluate import capture_findings, evaluate
from tollgate.model import UNKNOWN
from programs import ANSWER_CONFIG as CONFIG, ANSWER_TAGS as TAGS, APPLIES, SHAPED


COMPUTED = """
import json
import pulumi
import pulumi_aws as aws

doc = aws.iam.get_policy_document(statements=[
    {"sid": "Assume", "actions": ["sts:AssumeRole"],
     "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com", "ecs.amazonaws.com"]}]},
    {"actions": ["s3:GetObject", "s3:PutObject"], "resources": ["arn:aws:s3:::b/*"],
     "conditions": [{"test": "StringEquals", "variable": "aws:RequestTag/team", "values": ["ml"]}]},
])
region, part, me = aws.get_region(), aws.get_partition(), aws.get_caller_identity()
tags = aws.get_default_tags()
aws.iam.Role("role", assume_role_policy=doc.json)
aws.sns.Topic("facts", display_name=json.dumps({
    "region": region.region, "partition": part.partition, "dns": part.dns_suffix, "account": me.account_id,
    "arn": me.arn, "team": tags.tags["team"], "minified": doc.minified_json}))
"""


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    snapshot = capture_source(tmp_path_factory.mktemp("computed"), COMPUTED, CONFIG)
    return {r.name: r for r in snapshot.resources}


def test_an_iam_policy_document_is_rendered_as_the_provider_renders_it(computed):
    assert computed["role"].inputs["assumeRolePolicy"] == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Sid": "Assume",\n'
        '      "Effect": "Allow",\n      "Action": "sts:AssumeRole",\n      "Principal": {\n'
        '        "Service": [\n          "ecs.amazonaws.com",\n          "ec2.amazonaws.com"\n        ]\n'
        '      }\n    },\n    {\n      "Effect": "Allow",\n      "Action": [\n        "s3:PutObject",\n'
        '        "s3:GetObject"\n      ],\n      "Resource": "arn:aws:s3:::b/*",\n      "Condition": {\n'
        '        "StringEquals": {\n          "aws:RequestTag/team": "ml"\n        }\n      }\n    }\n  ]\n}')


def test_region_partition_account_and_default_tags_come_from_the_stack_config(computed):
    facts = json.loads(computed["facts"].inputs["displayName"])
    assert facts["region"] == "eu-west-1" and facts["partition"] == "aws" and facts["dns"] == "amazonaws.com"
    assert facts["account"] == "000000000000" and facts["arn"] == "arn:aws:iam::000000000000:user/tollgate-preview"
    assert facts["team"] == "t"
    assert json.loads(facts["minified"])["Statement"][0]["Sid"] == "Assume"


ZONES = """
import pulumi_aws as aws
zones = aws.get_availability_zones(state="available")
fewer = aws.get_availability_zones(exclude_names=[zones.names[0]])
for i, zone in enumerate(zones.names[:3]):
    aws.ec2.Subnet(f"subnet-{i}", vpc_id="vpc-0abc", cidr_block=f"10.0.{i}.0/24", availability_zone=zone)
aws.sns.Topic("fewer", display_name=",".join(fewer.names))
"""


def test_availability_zones_come_from_the_sourced_table(tmp_path):
    snapshot = capture_source(tmp_path, ZONES, {**CONFIG, "aws:region": "us-east-1"})
    res = {r.name: r for r in snapshot.resources}
    assert [res[f"subnet-{i}"].inputs["availabilityZone"] for i in range(3)] == ["us-east-1a", "us-east-1b",
                                                                                 "us-east-1c"]
    assert res["fewer"].inputs["displayName"].split(",")[0] == "us-east-1b"


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    snapshot = capture_source(tmp_path_factory.mktemp("shaped"), SHAPED, CONFIG)
    return snapshot, {r.name: r for r in snapshot.resources}


def test_other_data_sources_answer_by_shape_and_what_they_feed_is_unknown(shaped):
    _, res = shaped
    # a list of the declared length, indexable; every string made up is recorded as unknown
    assert res["web"].inputs == {"ami": UNKNOWN, "instanceType": UNKNOWN, "subnetId": UNKNOWN}
    assert res["api"].inputs["ami"] == UNKNOWN and res["api"].inputs["tags"]["Name"] == UNKNOWN
    assert res["api"].inputs["instanceType"] == "t3.micro"


def test_a_placeholder_reaching_a_rule_is_undecided_never_mandatory(shaped):
    snapshot, _ = shaped
    _, findings = evaluate(snapshot)
    web = [(f.rule, f.enforcement, f.message) for f in findings if f.name == "web"]
    assert ("instance-size-cap", "advisory",
            "`web` (aws:ec2/instance:Instance): cannot decide the instance size cap at preview, an instance type "
            "is unknown until apply") in web
    assert all(enforcement == "advisory" for _, enforcement, _ in web)


PINNED = """
import pulumi
import pulumi_aws as aws
size = aws.ssm.get_parameter(name="/team/instance-type")
other = aws.ssm.get_parameter(name="/team/other")
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"])
net = pulumi.StackReference("acme/network/dev")
aws.ec2.Instance("web", ami=ami.id, instance_type=size.value, subnet_id=net.get_output("subnetId"))
aws.ec2.Instance("db", ami=ami.id, instance_type=other.value)
vpc = aws.ec2.Vpc.get("shared", "vpc-0123")
aws.ec2.SecurityGroup("sg", vpc_id=vpc.id, description=vpc.cidr_block)
"""
ANSWERS = """
answers:
  - function: aws:ssm/getParameter:getParameter      # the most specific entry wins
    result: {value: t3.micro}
  - function: aws:ssm/getParameter:getParameter
    args: {name: /team/instance-type}
    result: {value: m5.4xlarge}
  - function: aws:ec2/getAmi:getAmi
    args: {mostRecent: true}
    result: {id: ami-0123456789abcdef0}
  - function: pulumi:pulumi:StackReference
    args: {name: acme/network/dev}
    result: {outputs: {subnetId: subnet-0abc}}
"""


def test_pinned_answers_are_used_and_judged_as_facts(tmp_path):
    (tmp_path / "datasources.dev.yaml").write_text(ANSWERS)
    snapshot = capture_source(tmp_path, PINNED, CONFIG)
    res = {r.name: r for r in snapshot.resources}
    assert res["web"].inputs == {"ami": "ami-0123456789abcdef0", "instanceType": "m5.4xlarge",
                                 "subnetId": "subnet-0abc"}
    assert res["db"].inputs["instanceType"] == "t3.micro"
    # a read: its id is the one asked for; what it reads is made up, so unknown
    assert res["sg"].inputs == {"vpcId": "vpc-0123", "description": UNKNOWN}
    _, findings = evaluate(snapshot)
    assert [(f.name, f.enforcement) for f in findings if f.rule == "instance-size-cap"] == [("web", "mandatory")]


@pytest.mark.parametrize("text, message", [
    ("answers: {}\n", "data source answers need a list under `answers:`"),
    ("answers:\n  - result: {}\n", "answer 1: `function` must be a function token"),
    ("answers:\n  - function: a:b:c\n    result: {}\n    reslt: {}\n", "answer 1 has unknown key(s) reslt"),
    ("answers:\n  - function: a:b:c\n  - function: a:b:c\n    result: 3\n", "answer 1 (a:b:c): `args` must be"),
])
def test_a_malformed_answers_file_is_an_error_naming_its_line(tmp_path, text, message):
    from tollgate.errors import TollgateError

    (tmp_path / "datasources.dev.yaml").write_text(text)
    with pytest.raises(TollgateError) as error:
        capture_source(tmp_path, "import pulumi\n", CONFIG)
    assert message in error.value.message and error.value.file.endswith("datasources.dev.yaml")
    assert error.value.line == (None if "list under" in message else 2)


def test_an_apply_that_does_not_run_and_would_create_resources_is_reported_with_its_line(tmp_path):
    snapshot = capture_source(tmp_path, APPLIES, CONFIG)
    assert "ran" in {r.name for r in snapshot.resources} and "inner-0" not in {r.name for r in snapshot.resources}
    found = [(f.rule, f.id, f.enforcement, f.source, f.message) for f in capture_findings(snapshot)]
    stack_lines = [m.split(":")[1] for *_, m in found]
    assert stack_lines == ["11", "12"]  # the two `apply` lines, in the program as written by capture_source
    assert found[0][:4] == ("apply-skipped", "TG081", "advisory", "capture")
    assert found[0][4] == (
        "__main__.py:11: an `apply` callback that creates resources (aws.ec2.Subnet) did not run at preview: its "
        "value is unknown until the resources it reads are created, so what it creates is not judged; create those "
        "resources outside `apply`, passing the output as an input")
    assert "(aws.s3.BucketPolicy)" in found[1][4]


REMOTE = """
import pulumi

class Widget(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("acme:index:Widget", name, {"size": 3}, opts, remote=True)

w = Widget("w")
# a resource method: the resource is not created at preview, so its answer is unknown
out = pulumi.runtime.call("acme:index:Widget/kubeconfig", {}, w)
pulumi.export("kubeconfig", out)
"""


def test_a_remote_component_with_no_expansion_is_reported_and_strict_makes_it_mandatory(tmp_path):
    snapshot = capture_source(tmp_path, REMOTE, CONFIG)
    urn = "urn:pulumi:dev::inline::acme:index:Widget::w"
    assert [r.urn for r in snapshot.resources if r.type == "acme:index:Widget"] == [urn]
    advisory, = capture_findings(snapshot)
    assert (advisory.rule, advisory.id, advisory.urn, advisory.enforcement) == ("not-expanded", "TG080", urn,
                                                                                "advisory")
    assert advisory.message == (
        "`w` (acme:index:Widget) is built by its provider plugin, which a preview without the Pulumi CLI cannot run "
        "(no offline expansion is known for this component type), so the resources it creates are not judged here; "
        "`pulumi preview --policy-pack` judges them")
    assert [f.enforcement for f in capture_findings(snapshot, strict=True)] == ["mandatory"]


TYPED = """
import pulumi
import pulumi_aws as aws
policy = aws.iam.Policy("p", policy={"Version": "2012-10-17", "Statement": []})
aws.sns.Topic("kind", display_name=policy.policy.apply(lambda text: type(text).__name__ + ":" + text))
"""


def test_an_output_has_the_declared_type_not_an_input_of_another_type_echoed(tmp_path):
    snapshot = capture_source(tmp_path, TYPED, CONFIG)
    kind = next(r for r in snapshot.resources if r.name == "kind")
    assert kind.inputs["displayName"] == 'str:{"Statement":[],"Version":"2012-10-17"}'


def test_notes_are_kept_in_a_snapshot_file_and_checked_when_read(tmp_path):
    from tollgate.errors import TollgateError
    from tollgate.model import Snapshot

    snapshot = capture_source(tmp_path, REMOTE, CONFIG)
    path = tmp_path / "snap.json"
    snapshot.write(path)
    assert Snapshot.read(path).notes == snapshot.notes
    doc = json.loads(path.read_text())
    doc["notes"][0]["rule"] = "made-up"
    path.write_text(json.dumps(doc))
    with pytest.raises(TollgateError, match="notes\\[\\].rule 'made-up' is not one of"):
        Snapshot.read(path)


HELM = """
import pulumi_kubernetes as k8s
k8s.helm.v3.Chart("web", k8s.helm.v3.ChartOpts(chart="nginx", version="15.0.0",
                  fetch_opts=k8s.helm.v3.FetchOpts(repo="https://charts.example.com")))
k8s.helm.v3.Release("db", chart="postgresql", repository_opts={"repo": "https://charts.example.com"})
"""


def test_helm_charts_and_releases_are_reported_as_not_expanded(tmp_path):
    snapshot = capture_source(tmp_path, HELM, CONFIG)
    found = {(f.rule, f.type, f.name): f.message for f in capture_findings(snapshot)}
    assert set(found) == {("not-expanded", "kubernetes:helm.sh/v3:Chart", "web"),
                          ("not-expanded", "kubernetes:helm.sh/v3:Release", "db")}
    assert "rendered by `helm template` inside the provider (kubernetes:helm:template)" in \
        found["not-expanded", "kubernetes:helm.sh/v3:Chart", "web"]
    assert "a Helm release's objects are installed by helm inside the provider" in \
        found["not-expanded", "kubernetes:helm.sh/v3:Release", "db"]


REFERENCES = """
import pulumi
import pulumi_aws as aws
profile = aws.iam.InstanceProfile("profile", role="nodes")
aws.ec2.Instance("vm", ami="ami-1", instance_type="t3.micro", iam_instance_profile=profile)
"""


def test_a_resource_passed_as_an_input_is_recorded_as_the_engine_marshals_it(tmp_path):
    snapshot = capture_source(tmp_path, REFERENCES, CONFIG)
    vm = next(r for r in snapshot.resources if r.name == "vm")
    assert vm.inputs["iamInstanceProfile"] == UNKNOWN  # its id: unknown until the profile is created


def test_a_placeholder_has_the_declared_shape_and_marks_what_text_it_can():
    import enum
    import typing

    from pulumi_aws.ec2 import GetAmiResult

    from tollgate.capture.answers import PLACEHOLDER, placeholder

    class Tier(str, enum.Enum):
        HOT = "hot"
        COLD = "cold"

    assert placeholder(Tier, "t") == "hot"  # the SDK takes only a member
    assert placeholder(typing.Optional[typing.Sequence[int]], "n") == [0, 0, 0]
    assert placeholder(typing.Mapping[str, str], "m") == {}
    ami = placeholder(GetAmiResult, "getAmi")
    assert ami["id"] == f"{PLACEHOLDER}-getAmi.id" and ami["mostRecent"] is False
    assert ami["blockDeviceMappings"][0]["deviceName"] == f"{PLACEHOLDER}-getAmi.blockDeviceMappings-0.deviceName"
