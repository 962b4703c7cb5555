"""Tollgate's reference ML/data platform, composed from the cost-optimized components.

A typical ML workload: a data lake (raw, processed features, model artifacts), batch training and
inference on spot, an EKS cluster with spot worker pools (a small on-demand system pool and a GPU pool
that scales to zero where the stack asks for them), a namespace with quotas per team, and budgets per
team and for the whole stack. Everything a stack varies comes from stacks/Pulumi.<stack>.yaml.
"""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.namespace import Compute, NamespaceGuardrails, NamespaceGuardrailsArgs
from tollgate_components.node_pool import CapacityType, OffHours, TaggedNodePool, TaggedNodePoolArgs
from tollgate_components.spot_compute import SpotComputeEnvironment, SpotComputeEnvironmentArgs
from tollgate_components.tagging import Tagging
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs

config = pulumi.Config("tollgate")
environment = config.require("environment")
network = config.require_object("network")
tagging = Tagging.from_config()  # every taggable AWS resource of the stack gets tollgate:tags
opts = tagging.resource_options()

# --- data lake: each class of data tiers itself to cheaper storage as it ages ---------------------------
PRESETS = {"raw": TieredBucketArgs.raw_data, "processed": TieredBucketArgs.processed_features,
           "artifacts": TieredBucketArgs.model_artifacts}
lake = {name: TieredBucket(f"lake-{name}", PRESETS[name](**overrides), opts=opts)
        for name, overrides in config.require_object("dataLake").items()}

# --- batch training and inference on spot, scaling to zero between jobs --------------------------------
batch = {
    name: SpotComputeEnvironment(f"batch-{name}", SpotComputeEnvironmentArgs(
        subnet_ids=network["subnetIds"], security_group_ids=network["securityGroupIds"],
        max_vcpus=settings["maxVcpus"], instance_types=settings["instanceTypes"],
        max_instance_vcpus=settings.get("maxInstanceVcpus", 4),
        on_demand_fallback=settings.get("onDemandFallback", False),
        expected_vcpu_hours=settings.get("expectedVcpuHours"), instance_tags=tagging.tags), opts=opts)
    for name, settings in config.require_object("batch").items()
}


# --- EKS: the cluster (created unless the stack names one) and its node pools --------------------------
def assume_role_policy(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def role(name: str, service: str, policies: list[str]) -> aws.iam.Role:
    created = aws.iam.Role(name, assume_role_policy=assume_role_policy(service), opts=opts)
    for i, policy in enumerate(policies):
        aws.iam.RolePolicyAttachment(f"{name}-{i}", role=created.name,
                                     policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=opts)
    return created


cluster_config = config.get_object("cluster") or {}
cluster_name: pulumi.Input[str] = cluster_config.get("name") or ""
k8s_opts = None
if not cluster_name:
    cluster = aws.eks.Cluster(
        "platform", role_arn=role("cluster-role", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"]).arn,
        version=cluster_config.get("version"),
        vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=network["subnetIds"]), opts=opts)
    cluster_name = cluster.name
    kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
        lambda v: json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "eks",
            "clusters": [{"name": "eks", "cluster": {"server": v[1], "certificate-authority-data": v[2]}}],
            "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "eks"}}],
            "users": [{"name": "eks", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", v[0]]}}}]}))
    k8s_opts = pulumi.ResourceOptions(provider=k8s.Provider("eks", kubeconfig=kubeconfig))

node_role = role("node-role", "ec2.amazonaws.com",
                 ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])
off_hours = config.get_object("offHours")
pools = {
    name: TaggedNodePool(f"pool-{name}", TaggedNodePoolArgs(
        cluster_name=cluster_name, node_role_arn=node_role.arn, subnet_ids=network["subnetIds"],
        tags=tagging.tags, instance_types=settings["instanceTypes"], max_size=settings["maxSize"],
        min_size=settings.get("minSize"), desired_size=settings.get("desiredSize"),
        capacity_type=CapacityType(settings.get("capacityType", "SPOT")),
        labels={"pool": name}, expected_node_hours=settings.get("expectedNodeHours"),
        expected_peak_nodes=settings.get("peakNodes"),
        off_hours=OffHours(off_hours["timeZone"]) if off_hours and settings.get("offHours", True) else None),
        opts=opts)
    for name, settings in config.require_object("nodePools").items()
}

# --- per team: a namespace with quotas, and a budget on the team's tagged spend ------------------------
budget = config.require_object("budget")
emails = budget.get("emails", [])
for team, settings in config.require_object("teams").items():
    NamespaceGuardrails(f"team-{team}", NamespaceGuardrailsArgs(
        team=team, cost_center=settings["costCenter"], name=team,
        quota_requests=Compute(settings["cpu"], settings["memory"]),
        quota_limits=Compute(str(2 * int(settings["cpu"])), settings["memoryLimit"]),
        gpus=settings.get("gpus", 0)), opts=k8s_opts)
    CostBudget(f"budget-{team}", CostBudgetArgs(limit_usd=settings["budgetUsd"], emails=emails,
                                                filter_tag_values=[team]), opts=opts)

# The whole stack's budget: alerts at 50/80/95/100 % actual and 100/120 % forecasted spend.
CostBudget("budget-stack", CostBudgetArgs(limit_usd=budget["limitUsd"], emails=emails,
                                          anomaly_detection=budget.get("anomalyDetection", False)), opts=opts)

pulumi.export("buckets", {name: bucket.bucket_name for name, bucket in lake.items()})
pulumi.export("job_queues", {name: env.job_queue.name for name, env in batch.items()})
pulumi.export("node_groups", {name: pool.node_group.node_group_name for name, pool in pools.items()})
