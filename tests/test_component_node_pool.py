"""TaggedNodePool: spot and scale-to-zero by default, cost tags on node group, nodes and volumes, GPU taint,
off-hours schedules; validation errors name the field; zero findings under every rule."""

from __future__ import annotations


import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate
from tollgate.model import UNKNOWN

from tollgate_components.node_pool import CapacityType, OffHours, TaggedNodePoolArgs

TAGS = {"project": "mlops", "environment": "dev", "team": "ml-team", "cost-center": "engineering",
        "owner": "ml-team@example.com"}
POOL = "urn:pulumi:dev::inline::tollgate:components:TaggedNodePool::"

# Three pools in one program (one capture): dev web pool with off-hours, staging GPU pool, prod on-demand pool.
PROGRAM = f"""
from tollgate_components.node_pool import TaggedNodePool, TaggedNodePoolArgs, OffHours, CapacityType
tags = {TAGS!r}
common = dict(cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b"])
TaggedNodePool("web", TaggedNodePoolArgs(**common, tags=tags, instance_types=["m5.large", "m6i.large", "t3.large"],
               max_size=3, labels={{"workload": "api"}}, off_hours=OffHours(time_zone="Europe/Berlin")))
TaggedNodePool("gpu", TaggedNodePoolArgs(**common, tags=dict(tags, environment="staging"),
               instance_types=["g4dn.xlarge", "g5.xlarge"], max_size=2))
TaggedNodePool("core", TaggedNodePoolArgs(**common, tags=dict(tags, environment="prod"), instance_types=["m5.xlarge"],
               capacity_type=CapacityType.ON_DEMAND, max_size=6, kubernetes_version="1.33"))
# A stack needs a budget (TG010): with it, the program is clean under every rule.
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
CostBudget("budget", CostBudgetArgs(limit_usd=500, tags=tags))
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("node_pool"), PROGRAM, {"tollgate:environment": "dev"})


@pytest.fixture(scope="module")
def res(snapshot):
    return {r.name: r for r in snapshot.resources}


def test_children_are_named_by_role_and_parented_to_the_component(res):
    for pool in ("web", "gpu", "core"):
        assert res[pool].type == "tollgate:components:TaggedNodePool"
        for role in ("node-group", "launch-template"):
            assert res[f"{pool}-{role}"].parent == POOL + pool
    assert res["web-scale-down"].parent == res["web-scale-up"].parent == POOL + "web"
    assert not any(r.type == "aws:autoscaling/schedule:Schedule" for r in res.values() if r.parent != POOL + "web")


def test_dev_pool_is_spot_scales_to_zero_and_carries_tags_and_labels(res):
    ng = res["web-node-group"].inputs
    assert ng["capacityType"] == "SPOT"
    assert ng["instanceTypes"] == ["m5.large", "m6i.large", "t3.large"]
    assert ng["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 3}
    assert ng["tags"] == TAGS
    assert ng["labels"] == {"workload": "api", "team": "ml-team", "cost-center": "engineering", "capacity-type": "spot"}
    assert ng["amiType"] == "AL2023_x86_64_STANDARD" and "taints" not in ng
    assert ng["updateConfig"] == {"maxUnavailablePercentage": 33}
    assert res["web-node-group"].options["ignoreChanges"] == ["scalingConfig.desiredSize"]
    # The node group uses the component's launch template (its id is unknown until apply).
    assert res["web-node-group"].property_dependencies["launchTemplate"] == [res["web-launch-template"].urn]


def test_launch_template_puts_tags_on_instances_and_volumes_and_uses_gp3(res):
    lt = res["web-launch-template"].inputs
    assert lt["tags"] == TAGS
    assert [(s["resourceType"], s["tags"]) for s in lt["tagSpecifications"]] == [("instance", TAGS), ("volume", TAGS)]
    assert lt["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeSize": 20, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}}]
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert "instanceType" not in lt  # the node group's instance types decide


def test_off_hours_scale_the_asg_to_zero_at_night_and_restore_it_in_the_morning(res):
    down, up = res["web-scale-down"].inputs, res["web-scale-up"].inputs
    assert (down["recurrence"], down["minSize"], down["maxSize"], down["desiredCapacity"]) == ("0 20 * * 1-5", 0, 0, 0)
    assert (up["recurrence"], up["minSize"], up["maxSize"], up["desiredCapacity"]) == ("0 7 * * 1-5", 0, 3, 0)
    assert down["timeZone"] == up["timeZone"] == "Europe/Berlin"
    # The ASG name is a node group output: unknown at preview, and a dependency on the node group.
    assert down["autoscalingGroupName"] == UNKNOWN
    assert res["web-scale-down"].property_dependencies["autoscalingGroupName"] == [res["web-node-group"].urn]


def test_gpu_pool_gets_the_nvidia_ami_and_a_gpu_taint(res):
    ng = res["gpu-node-group"].inputs
    assert ng["amiType"] == "AL2023_x86_64_NVIDIA"
    assert ng["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert ng["capacityType"] == "SPOT" and ng["tags"]["environment"] == "staging"


def test_prod_on_demand_pool_keeps_one_node(res):
    ng = res["core-node-group"].inputs
    assert ng["capacityType"] == "ON_DEMAND" and ng["version"] == "1.33"
    assert ng["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 6}
    assert ng["labels"]["capacity-type"] == "on_demand"


# Each pool in a stack of its own environment (the stack decides it, not a tag), with the budget a stack needs.
POOL_STACKS = {
    "dev": 'TaggedNodePool("web", TaggedNodePoolArgs(**common, tags=tags, instance_types=["m5.large", "m6i.large", '
           '"t3.large"], max_size=3, off_hours=OffHours(time_zone="Europe/Berlin")))',
    "staging": 'TaggedNodePool("gpu", TaggedNodePoolArgs(**common, tags=tags, instance_types=["g4dn.xlarge", '
               '"g5.xlarge"], max_size=2))',
    "prod": 'TaggedNodePool("core", TaggedNodePoolArgs(**common, tags=tags, instance_types=["m5.xlarge"], '
            'capacity_type=CapacityType.ON_DEMAND, max_size=6))',
}


@pytest.mark.parametrize("env", sorted(POOL_STACKS))
def test_no_findings_under_the_current_rules(tmp_path, env):
    program = f"""
from tollgate_components.node_pool import TaggedNodePool, TaggedNodePoolArgs, OffHours, CapacityType
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
tags = {dict(TAGS, environment=env)!r}
common = dict(cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b"])
{POOL_STACKS[env]}
CostBudget("budget", CostBudgetArgs(limit_usd=500, tags=tags))
"""
    _, findings = evaluate(capture_source(tmp_path, program, {"tollgate:environment": env}, stack=env))
    assert findings == []


def args(**overrides) -> TaggedNodePoolArgs:
    base = dict(cluster_name="ml", node_role_arn="arn", subnet_ids=["s"], tags=TAGS,
                instance_types=["m5.large", "m6i.large"], max_size=3)
    return TaggedNodePoolArgs(**{**base, **overrides})


@pytest.mark.parametrize("overrides, match", [
    ({"tags": {k: v for k, v in TAGS.items() if k != "owner"}}, r"TaggedNodePoolArgs\.tags: .*owner"),
    ({"tags": dict(TAGS, team=" ")}, r"TaggedNodePoolArgs\.tags: .*team"),
    ({"tags": dict(TAGS, environment="production")}, r"TaggedNodePoolArgs\.tags: environment 'production'"),
    ({"tags": dict(TAGS, team="ML Team")}, r"TaggedNodePoolArgs\.tags: team 'ML Team' is not a valid Kubernetes"),
    ({"capacity_type": "RESERVED"}, r"TaggedNodePoolArgs\.capacity_type: 'RESERVED'"),
    ({"instance_types": ["m5.large"]}, r"TaggedNodePoolArgs\.instance_types: a SPOT pool needs at least 2"),
    ({"instance_types": ["m5.large", "m5.huge"]}, r"TaggedNodePoolArgs\.instance_types: .*unknown: \['m5.huge'\]"),
    ({"instance_types": ["m5.large", "m5.large"]}, r"TaggedNodePoolArgs\.instance_types: .*distinct"),
    ({"instance_types": ["m5.large", "g4dn.xlarge"]}, r"TaggedNodePoolArgs\.instance_types: .*mixes GPU"),
    ({"max_size": 0}, r"TaggedNodePoolArgs\.max_size: 0 must be at least 1"),
    ({"min_size": 2, "desired_size": 1}, r"TaggedNodePoolArgs\.desired_size: need 0 <= min_size \(2\)"),
    ({"desired_size": 4}, r"TaggedNodePoolArgs\.desired_size: .*<= max_size \(3\)"),
    ({"ami_type": "AL2023_x86_64_NVIDIA"}, r"TaggedNodePoolArgs\.ami_type: AL2023_x86_64_NVIDIA does not fit"),
    ({"labels": {"tier": "not valid!"}}, r"TaggedNodePoolArgs\.labels"),
    ({"disk_size_gib": 0}, r"TaggedNodePoolArgs\.disk_size_gib"),
    ({"expected_peak_nodes": -1}, r"TaggedNodePoolArgs\.expected_peak_nodes: must be a non-negative number"),
    ({"expected_peak_nodes": 4}, r"TaggedNodePoolArgs\.expected_peak_nodes: 4 is above max_size 3"),
    ({"tags": dict(TAGS, environment="prod"), "off_hours": OffHours()},
     r"TaggedNodePoolArgs\.off_hours: .*off_hours_in_prod=True"),
])
def test_invalid_args_raise_naming_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        args(**overrides)


@pytest.mark.parametrize("overrides, match", [
    ({"time_zone": "Mars/Olympus"}, r"OffHours\.time_zone: 'Mars/Olympus' is not an IANA time zone"),
    ({"scale_down": "0 20 * *"}, r"OffHours\.scale_down: '0 20 \* \*' is not a 5-field cron"),
    ({"scale_up": "0 7 * * 1-5; rm"}, r"OffHours\.scale_up"),
])
def test_invalid_off_hours_raise_naming_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        OffHours(**overrides)


def test_defaults_are_the_cheap_choice():
    a = args()
    assert (a.capacity_type, a.min_size, a.desired_size, a.taints, a.off_hours) == (CapacityType.SPOT, 0, 0, [], None)
    prod = args(tags=dict(TAGS, environment="prod"), capacity_type="ON_DEMAND", instance_types=["m5.large"])
    assert (prod.capacity_type, prod.min_size) == (CapacityType.ON_DEMAND, 1)
    assert args(tags=dict(TAGS, environment="prod"), off_hours=OffHours(), off_hours_in_prod=True).off_hours
