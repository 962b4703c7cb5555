"""Programs more than one test module runs (each module imports what it needs from here, never another test
module): the rules' scenario programs, which the differential test runs on every path too."""

from __future__ import annotations

# run by test_rules_compute.py
COMPUTE_ENV = {"staging": {"environment": "staging"}, "prod": {"environment": "prod"}}

# run by test_rules_compute.py
COMPUTE = f"""
import pulumi_aws as aws
staging, prod = {COMPUTE_ENV["staging"]!r}, {COMPUTE_ENV["prod"]!r}
common = dict(cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b"])

# Node groups: dev GPU pool on on-demand (the default) that never scales to zero and is too big ...
aws.eks.NodeGroup("dev-gpu", **common, instance_types=["g4dn.xlarge"],
                  scaling_config={{"min_size": 1, "desired_size": 1, "max_size": 8}})
# ... a staging pool of large GPUs whose desired size is above its max ...
aws.eks.NodeGroup("train", **common, instance_types=["p3.8xlarge"], capacity_type="SPOT", tags=staging,
                  scaling_config={{"min_size": 0, "desired_size": 3, "max_size": 2}})
# ... and pools that pass every rule: small staging GPUs on spot, an on-demand prod pool kept warm.
aws.eks.NodeGroup("infer", **common, instance_types=["g5.xlarge", "g4dn.xlarge"], capacity_type="SPOT", tags=staging,
                  scaling_config={{"min_size": 0, "desired_size": 0, "max_size": 3}})
aws.eks.NodeGroup("core", **common, instance_types=["m5.xlarge"], capacity_type="ON_DEMAND", tags=prod,
                  scaling_config={{"min_size": 2, "desired_size": 2, "max_size": 6}})

aws.autoscaling.Group("workers", min_size=0, max_size=6, desired_capacity=2, launch_template={{"id": "lt-0abc"}})
aws.autoscaling.Group("edge", min_size=0, max_size=4, launch_template={{"id": "lt-0abc"}})

batch = dict(subnets=["subnet-0a1b"], security_group_ids=["sg-1"], instance_role="arn:aws:iam::123456789012:instance-profile/ecs")
aws.batch.ComputeEnvironment("etl", type="MANAGED", compute_resources=dict(
    batch, type="EC2", max_vcpus=128, min_vcpus=2, instance_types=["c5.large"]))
aws.batch.ComputeEnvironment("etl-spot", type="MANAGED", compute_resources=dict(
    batch, type="SPOT", max_vcpus=64, instance_types=["c5.large", "m5.large"]))

# Databases and caches.
aws.rds.Instance("orders", engine="postgres", instance_class="db.r5.2xlarge", allocated_storage=20)
aws.rds.Instance("small", engine="postgres", instance_class="db.t4g.medium", allocated_storage=20)
aws.rds.Instance("legacy", engine="postgres", instance_class="db.r5", allocated_storage=20)
aws.rds.Instance("ledger", engine="postgres", instance_class="db.r6g.4xlarge", allocated_storage=20, tags=prod)
aurora = aws.rds.Cluster("aurora", engine="aurora-postgresql", master_username="app", manage_master_user_password=True)
aws.rds.ClusterInstance("aurora-1", cluster_identifier=aurora.id, engine="aurora-postgresql", instance_class="db.serverless")
# A class computed from another resource's output is unknown at preview.
aws.rds.ClusterInstance("aurora-2", cluster_identifier=aurora.id, engine="aurora-postgresql",
                        instance_class=aurora.id.apply(lambda _: "db.r6g.large"))
aws.elasticache.Cluster("cache", engine="redis", node_type="cache.m5.large", num_cache_nodes=1)
aws.elasticache.ReplicationGroup("sessions", description="sessions", node_type="cache.r6g.xlarge", tags=staging)
"""

# run by test_rules_k8s.py
K8S = """
import pulumi
import pulumi_kubernetes as k8s
from tollgate_components.namespace import NamespaceGuardrails, NamespaceGuardrailsArgs

meta, core, apps = k8s.meta.v1, k8s.core.v1, k8s.apps.v1
COST = {"team": "payments", "cost-center": "cc-42"}
SIZED = core.ResourceRequirementsArgs(requests={"cpu": "100m", "memory": "128Mi"}, limits={"cpu": "500m", "memory": "256Mi"})
app = core.ContainerArgs(name="app", image="nginx", resources=SIZED)
select = meta.LabelSelectorArgs(match_labels={"app": "x"})


def template(*containers, init=None):
    return core.PodTemplateSpecArgs(metadata=meta.ObjectMetaArgs(labels={"app": "x", **COST}),
                                    spec=core.PodSpecArgs(containers=list(containers), init_containers=init))


# Guarded the Tollgate way: quota, limit range, cost labels, an HPA within the dev cap, a sized Deployment.
shop = NamespaceGuardrails("shop", NamespaceGuardrailsArgs(team="payments", cost_center="cc-42"))
shop.autoscale("api", max_replicas=3)
apps.Deployment("api", metadata=meta.ObjectMetaArgs(namespace=shop.namespace_name, labels=COST),
                spec=apps.DeploymentSpecArgs(replicas=2, selector=select, template=template(app)))

# An auto-named namespace: its quota is tied to it by the name output only.
batch = core.Namespace("batch", metadata=meta.ObjectMetaArgs(labels=COST))
core.ResourceQuota("batch-quota", metadata=meta.ObjectMetaArgs(namespace=batch.metadata.name),
                   spec=core.ResourceQuotaSpecArgs(hard={"pods": "10"}))

# A namespace with its own provider: the limit range and the CronJob set no namespace of their own.
jobs = core.Namespace("jobs", metadata=meta.ObjectMetaArgs(name="jobs", labels=COST))
in_jobs = k8s.Provider("in-jobs", namespace=jobs.metadata.name)
core.LimitRange("jobs-limits", opts=pulumi.ResourceOptions(provider=in_jobs), spec=core.LimitRangeSpecArgs(
    limits=[core.LimitRangeItemArgs(type="Container", default={"cpu": "500m", "memory": "512Mi"})]))
k8s.batch.v1.CronJob("report", opts=pulumi.ResourceOptions(provider=in_jobs), metadata=meta.ObjectMetaArgs(labels=COST),
                     spec=k8s.batch.v1.CronJobSpecArgs(schedule="0 3 * * *", job_template=k8s.batch.v1.JobTemplateSpecArgs(
                         spec=k8s.batch.v1.JobSpecArgs(template=template(app, init=[app])))))

# prod-labelled: the prod cap (50) applies in the dev stack.
apps.StatefulSet("ledger", metadata=meta.ObjectMetaArgs(labels={"environment": "prod", **COST}),
                 spec=apps.StatefulSetSpecArgs(replicas=20, service_name="ledger", selector=select, template=template(app)))

# Everything wrong: an unlabelled namespace with no quota, a Deployment over the cap with an unsized
# sidecar and a half-sized init container, an HPA over the cap, an unsized Pod.
core.Namespace("scratch", metadata=meta.ObjectMetaArgs(name="scratch"))
migrate = core.ContainerArgs(name="migrate", image="flyway",
                             resources=core.ResourceRequirementsArgs(requests={"cpu": "1", "memory": "1Gi"}))
apps.Deployment("worker", metadata=meta.ObjectMetaArgs(namespace="scratch", labels={"team": "payments"}),
                spec=apps.DeploymentSpecArgs(replicas=5, selector=select,
                                             template=template(app, core.ContainerArgs(name="sidecar", image="envoy"), init=[migrate])))
k8s.autoscaling.v2.HorizontalPodAutoscaler("worker-hpa", metadata=meta.ObjectMetaArgs(namespace="scratch"),
    spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(max_replicas=10, scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
        api_version="apps/v1", kind="Deployment", name="worker")))
core.Pod("debug", metadata=meta.ObjectMetaArgs(namespace="scratch", labels=COST),
         spec=core.PodSpecArgs(containers=[core.ContainerArgs(name="shell", image="busybox")]))

# Values computed from another resource's id are unknown at preview: replicas and a cost label.
sizes = core.ConfigMap("sizes", metadata=meta.ObjectMetaArgs(namespace="jobs"), data={"replicas": "2"})
apps.Deployment("tuned", metadata=meta.ObjectMetaArgs(namespace="jobs", labels={
                    "team": "payments", "cost-center": sizes.id.apply(lambda _: "cc-42")}),
                spec=apps.DeploymentSpecArgs(replicas=sizes.id.apply(lambda _: 2), selector=select, template=template(app)))
"""

# run by test_rules_k8s.py
# A quota whose namespace is computed from something other than a namespace: where it lands is unknown.
K8S_UNDECIDED = """
import pulumi_kubernetes as k8s
meta, core = k8s.meta.v1, k8s.core.v1
core.Namespace("scratch", metadata=meta.ObjectMetaArgs(name="scratch", labels={"team": "payments", "cost-center": "cc-42"}))
target = core.ConfigMap("target", data={"namespace": "scratch"})
core.ResourceQuota("quota", metadata=meta.ObjectMetaArgs(namespace=target.id.apply(lambda _: "scratch")),
                   spec=core.ResourceQuotaSpecArgs(hard={"pods": "10"}))
"""

# run by test_rules_stack.py
STACK_MESSY = """
import pulumi_aws as aws
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs

# Buckets: none of raw's lifecycle, logs' lifecycle forgets multipart uploads, archive is related to
# its lifecycle by its literal name, the components pass.
aws.s3.Bucket("raw")
logs = aws.s3.Bucket("logs")
aws.s3.BucketLifecycleConfiguration("logs-lifecycle", bucket=logs.id, rules=[{
    "id": "tier", "status": "Enabled", "transitions": [{"days": 30, "storage_class": "STANDARD_IA"}]}])
aws.s3.Bucket("archive", bucket="acme-archive")
aws.s3.BucketLifecycleConfiguration("archive-lifecycle", bucket="acme-archive", rules=[
    {"id": "expire", "status": "Enabled", "expiration": {"days": 365}},
    {"id": "abort", "status": "Enabled", "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}])
TieredBucket("features", TieredBucketArgs.processed_features())
TieredBucket("models", TieredBucketArgs.model_artifacts(intelligent_archive_days=90))

# Volumes and launch templates.
aws.ebs.Volume("scratch", availability_zone="us-east-1a", size=500)
aws.ebs.Volume("fast", availability_zone="us-east-1a", type="io2", size=100, iops=5000)
aws.ebs.Volume("data", availability_zone="us-east-1a", type="gp3", size=200)
aws.ec2.LaunchTemplate("workers", block_device_mappings=[{
    "device_name": "/dev/xvda", "ebs": {"volume_type": "gp2", "volume_size": 300}}])
aws.ec2.LaunchTemplate("lean", block_device_mappings=[{
    "device_name": "/dev/xvda", "ebs": {"volume_type": "gp3", "volume_size": 50}}])

# A budget that only speaks once the money is gone.
aws.budgets.Budget("late", budget_type="COST", time_unit="MONTHLY", limit_amount="500.00", limit_unit="USD",
                   notifications=[{"comparison_operator": "GREATER_THAN", "notification_type": "ACTUAL",
                                   "threshold": 120, "threshold_type": "PERCENTAGE",
                                   "subscriber_email_addresses": ["finops@example.com"]}])

# Network: two NAT gateways in dev, an Elastic IP nobody uses, one taken by an association.
for az in ("a", "b"):
    ip = aws.ec2.Eip(f"nat-{az}-ip", domain="vpc")
    aws.ec2.NatGateway(f"nat-{az}", allocation_id=ip.id, subnet_id=f"subnet-{az}")
aws.ec2.Eip("spare", domain="vpc")
bastion = aws.ec2.Eip("bastion-ip", domain="vpc")
aws.ec2.EipAssociation("bastion-ip-assoc", allocation_id=bastion.allocation_id, instance_id="i-0abc")
aws.ec2.Eip("web-ip", domain="vpc", instance="i-0def")
"""

# run by test_rules_stack.py
STACK_TIDY = """
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs, Tiering

CostBudget("team", CostBudgetArgs(limit_usd=2000, emails=["ml-leads@example.com"]))
TieredBucket("scratch", TieredBucketArgs(tiering=Tiering.NONE))  # asked for: no savings, TG008 says so
"""

# run by test_rules_stack.py
STACK_PROD = """
import pulumi_aws as aws

for az in ("a", "b", "c"):
    ip = aws.ec2.Eip(f"nat-{az}-ip", domain="vpc")
    aws.ec2.NatGateway(f"nat-{az}", allocation_id=ip.id, subnet_id=f"subnet-{az}")
aws.ebs.Volume("warehouse", availability_zone="us-east-1a", type="gp3", size=4096)
"""

# run by test_capture_answers.py
ANSWER_TAGS = {"project": "p", "environment": "dev", "team": "t", "cost-center": "c", "owner": "o"}

# run by test_capture_answers.py
ANSWER_CONFIG = {"tollgate:environment": "dev", "aws:region": "eu-west-1", "aws:defaultTags": {"tags": ANSWER_TAGS}}

# run by test_capture_answers.py
SHAPED = """
import pulumi
import pulumi_aws as aws
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"])
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": ["vpc-0abc"]}])
size = aws.ssm.get_parameter(name="/team/instance-type")
aws.ec2.Instance("web", ami=ami.id, instance_type=size.value, subnet_id=subnets.ids[2])
aws.ec2.Instance("api", ami=aws.ec2.get_ami_output(most_recent=True, owners=["self"]).id, instance_type="t3.micro",
                 tags={"Name": pulumi.Output.concat("api-", ami.id)})
"""

# run by test_capture_answers.py
APPLIES = """
import json
import pulumi
import pulumi_aws as aws

bucket = aws.s3.Bucket("data")
def subnets(vpc_id):
    for i in range(2):
        aws.ec2.Subnet(f"inner-{i}", vpc_id=vpc_id, cidr_block=f"10.0.{i}.0/24")
vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16")
vpc.id.apply(subnets)
bucket.arn.apply(lambda arn: aws.s3.BucketPolicy("policy", bucket=bucket.id, policy=arn))
# a callback that only computes a value is no loss: not reported
aws.iam.Policy("read", policy=bucket.arn.apply(lambda arn: json.dumps({"Statement": [{"Resource": arn}]})))
# a known value: the callback runs, and what it makes is judged
pulumi.Output.from_input("t3.micro").apply(lambda t: aws.ec2.Instance("ran", ami="ami-1", instance_type=t))
# a data source call: the SDK's code names Resource classes (isinstance tests) but makes none
bucket.id.apply(lambda registry: aws.ecr.get_credentials(registry_id=registry))
"""

# run by test_expand_aws_components.py
SPRAWL = """
import pulumi
import pulumi_awsx as awsx
import pulumi_eks as eks

vpc = awsx.ec2.Vpc("net", number_of_availability_zones=3)
cluster = eks.Cluster("ml", vpc_id=vpc.vpc_id, private_subnet_ids=vpc.private_subnet_ids,
                      desired_capacity=2, max_size=6)
eks.ManagedNodeGroup("workers", cluster=cluster, node_role_arn="arn:aws:iam::123456789012:role/nodes")
pulumi.export("kubeconfig", cluster.get_kubeconfig())  # a resource method: answered unknown
"""
