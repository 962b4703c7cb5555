"""SpotComputeEnvironment: Args validation in plain Python; resources and inputs under the SDK mocks (one
capture per program, shared by a module's assertions); zero findings when the program is tagged."""

from __future__ import annotations


import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate

from tollgate_components.spot_compute import (SpotAllocationStrategy, SpotComputeEnvironmentArgs,
                                     queue_orders, spot_retry_strategy)

PROGRAM = """
import pulumi, pulumi_aws as aws
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.spot_compute import SpotComputeEnvironment, SpotComputeEnvironmentArgs
tags = {{"project": "tollgate", "environment": "{env}", "team": "ml", "cost-center": "cc-1", "owner": "ml@example.com"}}
provider = aws.Provider("aws", region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(provider=provider)
SpotComputeEnvironment("batch", SpotComputeEnvironmentArgs(
    subnet_ids=["subnet-a", "subnet-b"], security_group_ids=["sg-1"], {args}), opts=opts)
CostBudget("stack", CostBudgetArgs(limit_usd=500), opts=opts)  # TG010: every stack needs a budget
"""
SPOT = "aws:batch/computeEnvironment:ComputeEnvironment"
PREFIX = "urn:pulumi:{stack}::inline::tollgate:components:SpotComputeEnvironment"


def _capture(tmp_path_factory, env: str, args: str):
    source = PROGRAM.format(env=env, args=args)
    return capture_source(tmp_path_factory.mktemp(env), source, {"tollgate:environment": env}, stack=env)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return _capture(tmp_path_factory, "dev", "max_vcpus=32")


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    return _capture(tmp_path_factory, "prod", (
        'on_demand_fallback=True, fallback_max_vcpus=64, max_vcpus=512, max_instance_vcpus=32, '
        'instance_types=["m5.8xlarge", "m6i.8xlarge", "m5.4xlarge"], '
        'instance_profile_arn="arn:aws:iam::123456789012:instance-profile/batch", '
        'service_role_arn="arn:aws:iam::123456789012:role/batch"'))


def _named(snapshot):
    return {r.name: r for r in snapshot.resources}


def test_dev_children_are_named_and_parented(dev):
    names = _named(dev)
    component = names["batch"]
    assert component.type == "tollgate:components:SpotComputeEnvironment"
    children = {r.name: r.type for r in dev.resources if r.parent == component.urn}
    assert children == {
        "batch-instance-role": "aws:iam/role:Role",
        "batch-instance-policy": "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "batch-instance-profile": "aws:iam/instanceProfile:InstanceProfile",
        "batch-spot": SPOT, "batch-queue": "aws:batch/jobQueue:JobQueue",
        "batch-job": "aws:batch/jobDefinition:JobDefinition"}


def test_dev_spot_environment_scales_to_zero_on_diversified_spot(dev):
    spot = _named(dev)["batch-spot"]
    resources = spot.inputs["computeResources"]
    assert spot.inputs["type"] == "MANAGED" and "serviceRole" not in spot.inputs  # service-linked role
    assert resources["type"] == "SPOT"
    assert resources["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert resources["instanceTypes"] == ["m6i.xlarge", "m5.xlarge", "m7i.xlarge"]
    assert resources["minVcpus"] == 0 and resources["maxVcpus"] == 32
    assert resources["subnets"] == ["subnet-a", "subnet-b"] and resources["securityGroupIds"] == ["sg-1"]
    profile = PREFIX.format(stack="dev") + "$aws:iam/instanceProfile:InstanceProfile::batch-instance-profile"
    assert spot.property_dependencies["computeResources"] == [profile]
    role = _named(dev)["batch-instance-role"]
    assert '"Service": "ec2.amazonaws.com"' in role.inputs["assumeRolePolicy"]


def test_dev_queue_has_only_spot(dev):
    queue = _named(dev)["batch-queue"]
    assert [o["order"] for o in queue.inputs["computeEnvironmentOrders"]] == [1]
    assert queue.property_dependencies["computeEnvironmentOrders"] == [_named(dev)["batch-spot"].urn]
    assert queue.inputs["state"] == "ENABLED"


def test_dev_job_definition_retries_spot_reclaims_only(dev):
    job = _named(dev)["batch-job"].inputs
    assert job["retryStrategy"] == {"attempts": 3, "evaluateOnExits": [
        {"onStatusReason": "Host EC2*", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]}
    assert job["timeout"] == {"attemptDurationSeconds": 3600}
    assert job["platformCapabilities"] == ["EC2"] and job["propagateTags"] is True
    assert '"resourceRequirements": [{"type": "VCPU", "value": "1"}' in job["containerProperties"]


def test_dev_program_passes_every_rule(dev):
    _, findings = evaluate(dev)
    assert findings == []
    # Rules of the catalog not implemented yet: TG005 (maxVcpus <= 64), TG006 (spot), TG007 (scale to zero).
    for ce in (r for r in dev.resources if r.type == SPOT):
        resources = ce.inputs["computeResources"]
        assert resources["maxVcpus"] <= 64 and resources["type"] == "SPOT" and resources["minVcpus"] == 0


def test_prod_fallback_is_on_demand_behind_spot(prod):
    names = _named(prod)
    fallback = names["batch-on-demand"].inputs["computeResources"]
    assert fallback["type"] == "EC2" and fallback["allocationStrategy"] == "BEST_FIT_PROGRESSIVE"
    assert fallback["minVcpus"] == 0 and fallback["maxVcpus"] == 64
    assert names["batch-spot"].inputs["computeResources"]["maxVcpus"] == 512
    queue = names["batch-queue"]
    assert [o["order"] for o in queue.inputs["computeEnvironmentOrders"]] == [1, 2]
    assert set(queue.property_dependencies["computeEnvironmentOrders"]) == {
        names["batch-spot"].urn, names["batch-on-demand"].urn}


def test_prod_uses_given_roles_and_passes_every_rule(prod):
    names = _named(prod)
    assert "batch-instance-role" not in names and "batch-instance-profile" not in names
    spot = names["batch-spot"].inputs
    assert spot["serviceRole"] == "arn:aws:iam::123456789012:role/batch"
    assert spot["computeResources"]["instanceRole"] == "arn:aws:iam::123456789012:instance-profile/batch"
    assert evaluate(prod)[1] == []


def test_queue_orders_put_the_first_environment_first():
    orders = queue_orders(["spot-arn", "on-demand-arn"])
    assert [(o.compute_environment, o.order) for o in orders] == [("spot-arn", 1), ("on-demand-arn", 2)]


def test_retry_strategy_attempts():
    assert spot_retry_strategy(5).attempts == 5


def _args(**overrides):
    return SpotComputeEnvironmentArgs(**{"subnet_ids": ["s"], "security_group_ids": ["g"], **overrides})


def test_args_defaults_are_cheap():
    args = _args()
    assert args.min_vcpus == 0 and args.on_demand_fallback is False
    assert args.allocation_strategy is SpotAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
    assert _args(allocation_strategy="SPOT_CAPACITY_OPTIMIZED").allocation_strategy is \
        SpotAllocationStrategy.SPOT_CAPACITY_OPTIMIZED


@pytest.mark.parametrize("overrides, field", [
    ({"max_vcpus": 0}, "max_vcpus"),
    ({"max_vcpus": -4}, "max_vcpus"),
    ({"max_vcpus": 4.5}, "max_vcpus"),
    ({"min_vcpus": -1}, "min_vcpus"),
    ({"min_vcpus": 20, "max_vcpus": 16}, "min_vcpus"),
    ({"fallback_max_vcpus": 0}, "fallback_max_vcpus"),
    ({"allocation_strategy": "BEST_FIT"}, "allocation_strategy"),
    ({"instance_types": ["m5.xlarge"]}, "instance_types"),
    ({"instance_types": ["m5.xlarge", "m5.xlarge"]}, "instance_types"),
    ({"instance_types": "m5.xlarge"}, "instance_types"),
    ({"instance_types": ["optimal", "m5.xlarge"]}, "instance_types"),
    ({"instance_types": ["m5", "m6i.xlarge"]}, "instance_types"),
    ({"instance_types": ["m5.2xlarge", "m6i.xlarge"]}, "instance_types"),  # 8 vCPU over the default cap of 4
    ({"max_instance_vcpus": 0}, "max_instance_vcpus"),
    ({"job_vcpus": 8}, "job_vcpus"),
    ({"job_memory_mib": 0}, "job_memory_mib"),
    ({"retry_attempts": 0}, "retry_attempts"),
    ({"retry_attempts": 11}, "retry_attempts"),
    ({"job_timeout_seconds": 30}, "job_timeout_seconds"),
])
def test_args_validation_names_the_field(overrides, field):
    with pytest.raises(ValueError, match=rf"^SpotComputeEnvironmentArgs\.{field}: "):
        _args(**overrides)


def test_args_accept_larger_types_under_a_raised_cap():
    assert _args(instance_types=["m5.2xlarge", "m6i.2xlarge"], max_instance_vcpus=8).max_instance_vcpus == 8
