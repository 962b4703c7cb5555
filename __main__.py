"""Tollgate's reference program (small for now: the full platform comes with the components)."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
tags = config.require_object("tags")

# Every taggable resource of the stack gets the required tag set through the provider's default tags.
provider = aws.Provider("aws", region=aws.config.region or "us-east-1",
                        default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(provider=provider)

raw = aws.s3.Bucket("raw", opts=opts)
aws.s3.BucketLifecycleConfiguration(
    "raw-lifecycle", bucket=raw.id, opts=opts,
    rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="tier", status="Enabled",
        transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=30, storage_class="STANDARD_IA")],
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7),
    )])

aws.ec2.Instance("bastion", ami="ami-0c02fb55956c7d316", instance_type="t3.micro", opts=opts)

pulumi.export("raw_bucket", raw.id)
