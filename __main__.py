"""Tollgate's reference program (small for now: the full ML/data platform comes with the components).

A data-lake bucket with a lifecycle, a bastion instance and an EKS worker pool on spot, all tagged
from the stack's `tollgate:tags` through the AWS provider's default tags.
"""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
tags = config.require_object("tags")
worker_types = config.get_object("workerInstanceTypes") or ["m5.large", "m6i.large", "m7i.large"]

# Every taggable resource of the stack gets the required tag set through the provider's default tags.
provider = aws.Provider("aws", region=aws.config.region or "us-east-1",
                        default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(provider=provider)

raw = aws.s3.Bucket("raw", opts=opts)
aws.s3.BucketLifecycleConfiguration(
    "raw-lifecycle", bucket=raw.id, opts=opts,
    rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="tier", status="Enabled",
        transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=30, storage_class="STANDARD_IA"),
                     aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=90, storage_class="GLACIER_IR")],
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7),
    )])

aws.ec2.Instance("bastion", ami="ami-0c02fb55956c7d316", instance_type="t3.micro", opts=opts)

node_role = aws.iam.Role("workers-role", opts=opts, assume_role_policy="""{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
}""")
aws.eks.NodeGroup(
    "workers", opts=opts,
    cluster_name=config.get("clusterName") or "platform",
    node_role_arn=node_role.arn,
    subnet_ids=config.get_object("subnetIds") or ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
    capacity_type="SPOT",
    instance_types=worker_types,
    scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=0, desired_size=1, max_size=3),
    labels={"team": tags["team"], "cost-center": tags["cost-center"], "capacity-type": "spot"},
)

pulumi.export("raw_bucket", raw.id)
