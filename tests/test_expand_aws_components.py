"""Remote eks and awsx components judged as the resources their plugins create (docs/remote-components.md).

Two captured dev stacks made only of remote components: `sprawl` keeps every default (a cluster whose default
node group may grow to 6 nodes, an on-demand managed node group, a VPC with a NAT gateway per AZ, no tags, no
budget) and `lean` fixes each of them; then each mapping on its own, without a capture.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import capture_source
from tollgate.capture.expand import Component, NotExpanded, expand
from tollgate.capture.wire import UNKNOWN
from tollgate.evaluate import evaluate
from programs import SPRAWL


LEAN = """
import pulumi
import pulumi_awsx as awsx
import pulumi_eks as eks
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.tagging import Tagging

tagging = Tagging.from_config()
opts = tagging.resource_options()  # the children's provider: default tags from tollgate:tags
vpc = awsx.ec2.Vpc("net", number_of_availability_zones=3, nat_gateways={"strategy": "Single"}, opts=opts)
# Provider default tags never reach an Auto Scaling group: the default node group lists them itself.
cluster = eks.Cluster("ml", vpc_id=vpc.vpc_id, private_subnet_ids=vpc.private_subnet_ids, opts=opts,
                      node_group_options={"desired_capacity": 2, "min_size": 0, "max_size": 3,
                                          "spot_price": "0.02", "auto_scaling_group_tags": tagging.tags})
eks.ManagedNodeGroup("workers", cluster=cluster, node_role_arn="arn:aws:iam::123456789012:role/nodes",
                     capacity_type="SPOT", scaling_config={"min_size": 0, "desired_size": 1, "max_size": 3},
                     opts=opts)
CostBudget("platform", CostBudgetArgs(limit_usd=2000, emails=["finops@example.com"]))
pulumi.export("kubeconfig", cluster.get_kubeconfig())
"""

TAGS = {"project": "ml", "environment": "dev", "team": "data", "cost-center": "cc-42", "owner": "ml@example.com"}
ASG, LT, NG = "aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/nodeGroup:NodeGroup"
NAT, EIP, SUBNET, ROUTES = ("aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/subnet:Subnet",
                            "aws:ec2/routeTable:RouteTable")
VPC_CHILDREN = [("aws:ec2/vpc:Vpc", "net"), ("aws:ec2/internetGateway:InternetGateway", "net")] + [
    (t, f"net-{kind}-{az}") for az in (1, 2, 3) for kind in ("public", "private") for t in (SUBNET, ROUTES)] + [
    (t, f"net-{az}") for az in (1, 2, 3) for t in (EIP, NAT)]


def _capture(tmp_path_factory, name: str, program: str, config: dict):
    snapshot = capture_source(tmp_path_factory.mktemp(name), program, {"tollgate:environment": "dev", **config})
    return snapshot, evaluate(snapshot)[1]


@pytest.fixture(scope="module")
def sprawl(tmp_path_factory):
    return _capture(tmp_path_factory, "sprawl", SPRAWL, {})


@pytest.fixture(scope="module")
def lean(tmp_path_factory):
    return _capture(tmp_path_factory, "lean", LEAN, {"tollgate:tags": TAGS})


def label(name: str, type_: str) -> str:
    return f"`{name}` ({type_})"


def test_every_default_breaks_the_rule_that_guards_it(sprawl):
    _, findings = sprawl
    judged = {(f.id, f.enforcement, f.type, f.name) for f in findings if f.id != "TG016"}
    untagged = [("aws:eks/cluster:Cluster", "ml-eksCluster"), (LT, "ml-launchTemplate"), (ASG, "ml"),
                (NG, "workers"), *VPC_CHILDREN]
    assert judged == {("TG001", "mandatory", t, n) for t, n in untagged} | {
        ("TG005", "mandatory", ASG, "ml"),
        ("TG006", "mandatory", NG, "workers"),
        ("TG007", "advisory", NG, "workers"),
        ("TG010", "mandatory", "pulumi:pulumi:Stack", "inline-dev"),
        ("TG015", "advisory", NAT, "net-2"),
        ("TG015", "advisory", NAT, "net-3"),
    }
    messages = {(f.id, f.name): f.message for f in findings}
    assert messages["TG005", "ml"] == (f"{label('ml', ASG)} allows up to 6 nodes (maxSize), over the dev cap of 5 "
                                       "nodes; lower maxSize to at most 5 or get a waiver")
    assert messages["TG006", "workers"] == (
        f"{label('workers', NG)} runs ON_DEMAND capacity in dev (capacityType is unset, and ON_DEMAND is the AWS "
        "default); set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)")
    assert messages["TG015", "net-3"] == (
        f"{label('net-3', NAT)} is NAT gateway 3 of 3 in dev, over the 1 allowed per environment outside prod; "
        "route the private subnets of every AZ through one NAT gateway (and use VPC endpoints for S3 and DynamoDB) "
        "or get a waiver")
    assert messages["TG001", "ml"].startswith(f"{label('ml', ASG)} lacks required tags cost-center, environment, "
                                              "owner, project, team; the provider's default tags do not reach")


def test_budget_rule_fires_only_through_the_expansion(sprawl):
    snapshot, _ = sprawl
    by_urn = {r.urn: r for r in snapshot.resources}
    for r in snapshot.resources:
        if r.type.startswith("aws:"):  # every AWS resource is a component's child: none declared by the program
            top = r
            while by_urn[top.parent].type != "pulumi:pulumi:Stack":
                top = by_urn[top.parent]
            assert top.type in {"eks:index:Cluster", "eks:index:ManagedNodeGroup", "awsx:ec2:Vpc"}, r.urn
    assert not snapshot.notes  # each component expanded


def test_eips_are_never_called_unattached(sprawl):
    # The NAT gateway takes its EIP's allocation id, unknown at preview: at worst the rule cannot decide.
    _, findings = sprawl
    eips = [f for f in findings if f.id == "TG016"]
    assert {f.enforcement for f in eips} <= {"advisory"}
    assert not [f for f in eips if "is attached to no instance" in f.message]


def test_each_eip_is_linked_to_its_nat_gateway(sprawl):
    snapshot, findings = sprawl
    assert not [f for f in findings if f.id == "TG016"]
    eips = {r.name: r.urn for r in snapshot.resources if r.type == "aws:ec2/eip:Eip"}
    nats = [r for r in snapshot.resources if r.type == NAT]
    assert nats and all(r.property_dependencies["allocationId"] == [eips[r.name]] for r in nats)


def test_the_fixed_stack_has_no_mandatory_finding(lean):
    snapshot, findings = lean
    assert [(f.id, f.name, f.message) for f in findings if f.enforcement == "mandatory"] == []
    names = {(r.type, r.name): r for r in snapshot.resources}
    assert names[ASG, "ml"].inputs["maxSize"] == 3
    assert names[NG, "workers"].inputs["capacityType"] == "SPOT"
    assert [r.name for r in snapshot.resources if r.type == NAT] == ["net-1"]
    # The children's provider is the component's: the tagged one, whose default tags count for TG001.
    assert names[NG, "workers"].provider.inputs["defaultTags"] == {"tags": TAGS}


def test_kubeconfig_of_a_cluster_is_unknown_not_a_crash(sprawl):
    snapshot, _ = sprawl
    assert any(r.type == "eks:index:Cluster" and r.name == "ml" for r in snapshot.resources)


# --- each mapping on its own ---------------------------------------------------------------------------------

def children(type_: str, inputs: dict, name: str = "c", region: str = "us-east-1") -> dict[tuple[str, str], dict]:
    found = expand(Component(type_, name, f"urn:pulumi:dev::p::{type_}::{name}", inputs, Path("."),
                             {"aws": {"region": region}}))
    return {(child.type, child.name): child.inputs for child in found}


def test_cluster_defaults_make_the_default_node_group():
    made = children("eks:index:Cluster", {"tags": {"team": "ml"}, "clusterTags": {"team": "x", "tier": "1"}})
    assert made["aws:eks/cluster:Cluster", "c-eksCluster"]["tags"] == {"Name": "c-eksCluster", "team": "ml",
                                                                       "tier": "1"}
    assert made[LT, "c-launchTemplate"] == {"instanceType": "t3.medium", "blockDeviceMappings": []}
    group = made[ASG, "c"]
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (1, 2, 2)
    assert group["tags"] == [  # the cluster's tags do not reach it
        {"key": "kubernetes.io/cluster/c-eksCluster", "value": "owned", "propagateAtLaunch": True},
        {"key": "Name", "value": "c-eksCluster-worker", "propagateAtLaunch": True}]


@pytest.mark.parametrize("inputs", [{"skipDefaultNodeGroup": True}, {"fargate": True},
                                    {"autoMode": {"enabled": True}}])
def test_cluster_without_default_node_group(inputs):
    assert list(children("eks:index:Cluster", inputs)) == [("aws:eks/cluster:Cluster", "c-eksCluster")]


@pytest.mark.parametrize("inputs, why", [
    ({"fargate": UNKNOWN}, "Fargate"),
    ({"nodeGroupOptions": {"maxSize": 3}, "maxSize": 4}, "nodeGroupOptions and maxSize are both set"),
    ({"nodeGroupOptions": UNKNOWN}, "nodeGroupOptions are unknown"),
])
def test_cluster_not_expanded(inputs, why):
    with pytest.raises(NotExpanded, match=why):
        children("eks:index:Cluster", inputs)


def test_node_group_v2_on_spot_and_al2():
    made = children("eks:index:NodeGroupV2", {
        "cluster": "urn:pulumi:dev::p::eks:index:Cluster::ml", "spotPrice": "0.05", "operatingSystem": "AL2",
        "instanceType": "m5.large", "autoScalingGroupTags": {"team": "ml"}, "maxSize": UNKNOWN})
    spot = {"marketType": "spot", "spotOptions": {"maxPrice": "0.05"}}
    assert made[LT, "c-launchTemplate"] == {
        "instanceType": "m5.large", "instanceMarketOptions": spot,
        "blockDeviceMappings": [{"deviceName": UNKNOWN, "ebs": {"volumeSize": 20, "volumeType": "gp2"}}]}
    group = made[ASG, "c"]
    assert group["maxSize"] == UNKNOWN  # passed through: TG005 cannot decide
    assert [t["key"] for t in group["tags"]] == ["team", "kubernetes.io/cluster/ml-eksCluster", "Name"]


def test_managed_node_group_defaults_and_what_it_passes_on():
    made = children("eks:index:ManagedNodeGroup", {
        "cluster": "urn:pulumi:dev::p::eks:index:Cluster::ml", "nodeRoleArn": "arn:role", "tags": {"team": "ml"},
        "scalingConfig": {"maxSize": 4}, "operatingSystem": "AL2023", "labels": {"pool": "a"}})
    assert made == {(NG, "c"): {"nodeRoleArn": "arn:role", "tags": {"team": "ml"}, "labels": {"pool": "a"},
                                "clusterName": UNKNOWN, "subnetIds": UNKNOWN,
                                "scalingConfig": {"minSize": 1, "maxSize": 4, "desiredSize": 2}}}
    custom = children("eks:index:ManagedNodeGroup", {"kubeletExtraArgs": "--max-pods=20", "diskSize": 50})
    assert custom[NG, "c"]["launchTemplate"] == {"id": UNKNOWN, "version": UNKNOWN}
    assert "diskSize" not in custom[NG, "c"]


@pytest.mark.parametrize("nat, gateways, eips", [
    (None, ["c-1", "c-2", "c-3"], ["c-1", "c-2", "c-3"]),
    ({"strategy": "Single"}, ["c-1"], ["c-1"]),
    ({"strategy": "None"}, [], []),
    ({"strategy": "OnePerAz", "elasticIpAllocationIds": ["eipalloc-1", "eipalloc-2", "eipalloc-3"]},
     ["c-1", "c-2", "c-3"], []),
])
def test_vpc_nat_strategies(nat, gateways, eips):
    made = children("awsx:ec2:Vpc", {} if nat is None else {"natGateways": nat})
    assert [n for t, n in made if t == NAT] == gateways
    assert [n for t, n in made if t == EIP] == eips
    if nat and nat.get("elasticIpAllocationIds"):
        assert made[NAT, "c-2"]["allocationId"] == "eipalloc-2"


def test_vpc_subnets_tags_and_zones():
    made = children("awsx:ec2:Vpc", {
        "availabilityZoneNames": ["eu-west-1a", "eu-west-1b"], "tags": {"team": "net"}, "cidrBlock": "10.1.0.0/16",
        "subnetNameTagStrategy": "AvailabilityZone", "natGateways": {"strategy": "Single"},
        "subnetSpecs": [{"type": "Isolated", "name": "db"}, {"type": "Public"}, {"type": "Unused"}]})
    assert made["aws:ec2/vpc:Vpc", "c"] == {"cidrBlock": "10.1.0.0/16", "tags": {"Name": "c", "team": "net"}}
    assert [n for t, n in made if t == SUBNET] == ["c-public-1", "c-db-1", "c-public-2", "c-db-2"]
    assert made[SUBNET, "c-db-2"] == {"vpcId": UNKNOWN, "availabilityZone": "eu-west-1b", "mapPublicIpOnLaunch": False,
                                      "tags": {"Name": "c-db-1b", "team": "net", "SubnetType": "Isolated"}}
    assert made[NAT, "c-1"]["tags"] == made[EIP, "c-1"]["tags"] == {"team": "net", "Name": "c-1"}


def test_vpc_zones_from_the_region_table_and_unknowns():
    made = children("awsx:ec2:Vpc", {"numberOfAvailabilityZones": 2, "tags": UNKNOWN}, region="ap-northeast-1")
    assert [i["availabilityZone"] for (t, _), i in made.items() if t == SUBNET] == [
        "ap-northeast-1a", "ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1c"]
    assert {i["tags"] for (t, _), i in made.items() if t == NAT} == {UNKNOWN}
    with pytest.raises(NotExpanded, match="natGateways.strategy 'Sometimes'"):
        children("awsx:ec2:Vpc", {"natGateways": {"strategy": "Sometimes"}})
    with pytest.raises(NotExpanded, match="ap-northeast-1 has 3 availability zones, fewer than the 4"):
        children("awsx:ec2:Vpc", {"numberOfAvailabilityZones": 4}, region="ap-northeast-1")


def test_ecs_services():
    fargate = children("awsx:ecs:FargateService", {
        "cluster": "arn:cluster", "tags": {"team": "web"}, "continueBeforeSteadyState": True,
        "taskDefinitionArgs": {"container": {"name": "web", "image": "nginx"}, "cpu": "256", "memory": "512"}})
    assert list(fargate) == [("awsx:ecs:FargateTaskDefinition", "c"), ("aws:ecs/taskDefinition:TaskDefinition", "c"),
                             ("aws:ec2/securityGroup:SecurityGroup", "c-sg"), ("aws:ecs/service:Service", "c")]
    service = fargate["aws:ecs/service:Service", "c"]
    assert (service["desiredCount"], service["launchType"], service["waitForSteadyState"]) == (1, "FARGATE", False)
    assert fargate["aws:ecs/taskDefinition:TaskDefinition", "c"]["cpu"] == "256"
    ec2 = children("awsx:ecs:EC2Service", {"taskDefinition": "arn:td", "capacityProviderStrategies": [
        {"capacityProvider": "spot", "weight": 1}]})
    assert ec2 == {("aws:ecs/service:Service", "c"): {
        "taskDefinition": "arn:td", "capacityProviderStrategies": [{"capacityProvider": "spot", "weight": 1}],
        "waitForSteadyState": True}}


def test_application_load_balancer():
    made = children("awsx:lb:ApplicationLoadBalancer", {"tags": {"team": "web"}, "listener": {"port": 443}})
    assert list(made) == [("aws:ec2/securityGroup:SecurityGroup", "c"), ("aws:lb/loadBalancer:LoadBalancer", "c"),
                          ("aws:lb/targetGroup:TargetGroup", "c"), ("aws:lb/listener:Listener", "c-0")]
    assert made["aws:lb/loadBalancer:LoadBalancer", "c"] == {
        "tags": {"team": "web"}, "loadBalancerType": "application", "subnets": UNKNOWN, "securityGroups": [UNKNOWN]}
    assert made["aws:lb/listener:Listener", "c-0"]["protocol"] == "HTTPS"
    assert made["aws:lb/targetGroup:TargetGroup", "c"]["port"] == 443


TRANSFORMED = """
import pulumi
import pulumi_eks as eks

def owner_tag(args):
    # a stack transform: under the engine it reaches what a remote component's plugin registers too
    if args.type_ == "aws:autoscaling/group:Group":
        tags = [{"key": "owner", "value": "ml@example.com", "propagateAtLaunch": True}]
        return pulumi.ResourceTransformResult({**args.props, "tags": tags}, args.opts)

pulumi.runtime.register_resource_transform(owner_tag)
eks.Cluster("ml", max_size=2)
"""


def test_stack_transforms_reach_expanded_children_and_links_are_recorded(tmp_path_factory):
    snapshot, _ = _capture(tmp_path_factory, "transformed", TRANSFORMED, {})
    res = {(r.type, r.name): r for r in snapshot.resources}
    group, template = res[ASG, "ml"], res[LT, "ml-launchTemplate"]
    assert group.inputs["tags"] == [{"key": "owner", "value": "ml@example.com", "propagateAtLaunch": True}]
    assert group.property_dependencies == {"launchTemplate": [template.urn]}
    assert group.dependencies == [template.urn]
