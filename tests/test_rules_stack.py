"""Storage, budget and network rules (TG008-TG010, TG015, TG016) on real pulumi-aws programs: one capture
per program, the findings of each rule asserted exactly (resource, enforcement, message); every other
rule's findings are ignored.

Three stacks: `messy` (dev) breaks every rule and holds the components that pass them, `tidy` (dev) has a
CostBudget, `prod` has no budget at all but may run a NAT gateway per AZ and big volumes.
"""

from __future__ import annotations

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate

MESSY = """
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

TIDY = """
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs, Tiering

CostBudget("team", CostBudgetArgs(limit_usd=2000, emails=["ml-leads@example.com"]))
TieredBucket("scratch", TieredBucketArgs(tiering=Tiering.NONE))  # asked for: no savings, TG008 says so
"""

PROD = """
import pulumi_aws as aws

for az in ("a", "b", "c"):
    ip = aws.ec2.Eip(f"nat-{az}-ip", domain="vpc")
    aws.ec2.NatGateway(f"nat-{az}", allocation_id=ip.id, subnet_id=f"subnet-{az}")
aws.ebs.Volume("warehouse", availability_zone="us-east-1a", type="gp3", size=4096)
"""


def _capture(tmp_path_factory, name: str, program: str, stack: str = "dev"):
    snapshot = capture_source(tmp_path_factory.mktemp(name), program, stack=stack)
    _, findings = evaluate(snapshot)
    return snapshot, findings


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return _capture(tmp_path_factory, "messy", MESSY)


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return _capture(tmp_path_factory, "tidy", TIDY)


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    return _capture(tmp_path_factory, "prod", PROD, stack="prod")


def findings_of(captured, rule: str) -> set[tuple[str, str, str]]:
    """(resource name, or the stack's type for the root, enforcement, message) of one rule's findings."""
    snapshot, findings = captured
    names = {r.urn: (r.type if r.type == "pulumi:pulumi:Stack" else r.name) for r in snapshot.resources}
    return {(names[f.urn], f.enforcement, f.message) for f in findings if f.rule == rule}


def label(name: str, type_: str) -> str:
    return f"`{name}` ({type_})"


BUCKET, VOLUME, LT = "aws:s3/bucket:Bucket", "aws:ebs/volume:Volume", "aws:ec2/launchTemplate:LaunchTemplate"
BUDGET, NAT, EIP = "aws:budgets/budget:Budget", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip"


def test_bucket_lifecycle(messy, tidy):
    assert findings_of(messy, "bucket-lifecycle") == {
        ("raw", "mandatory", f"{label('raw', BUCKET)} has no lifecycle rule; use tollgate_components.TieredBucket or add a "
                             "lifecycle configuration that transitions objects to STANDARD_IA (or expires them) and "
                             "aborts incomplete multipart uploads"),
        ("logs", "mandatory", f"{label('logs', BUCKET)} has no enabled lifecycle rule that aborts incomplete multipart "
                              "uploads, whose parts are billed until deleted; add abortIncompleteMultipartUpload "
                              "(e.g. 7 days) or use tollgate_components.TieredBucket"),
    }
    assert findings_of(tidy, "bucket-lifecycle") == {
        ("scratch-bucket", "mandatory", f"{label('scratch-bucket', BUCKET)} has no enabled lifecycle rule that "
                                        "transitions or expires objects; use tollgate_components.TieredBucket or add a "
                                        "transition to STANDARD_IA (or an expiration)"),
    }


def test_ebs_gp3(messy, prod):
    size = "use a smaller volume (bulk data belongs in S3) or get a waiver"
    assert findings_of(messy, "ebs-gp3") == {
        ("scratch", "mandatory", f"{label('scratch', VOLUME)} has no type, so it gets gp2; set type to gp3 "
                                 "(cheaper per GiB, 3,000 IOPS baseline)"),
        ("scratch", "mandatory", f"{label('scratch', VOLUME)} is 500 GiB, over the dev cap of 200 GiB; {size}"),
        ("fast", "mandatory", f"{label('fast', VOLUME)} uses volume type io2; use gp3 (cheaper per GiB than gp2, "
                              "3,000 IOPS and 125 MiB/s baseline, up to 16,000 IOPS provisioned) or get a waiver"),
        ("workers", "mandatory", f"{label('workers', LT)} block device /dev/xvda uses volume type gp2; set "
                                 "ebs.volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver"),
        ("workers", "mandatory", f"{label('workers', LT)} block device /dev/xvda is 300 GiB, over the dev cap of "
                                 f"200 GiB; {size}"),
    }
    assert findings_of(prod, "ebs-gp3") == set()


def test_budget_required(messy, tidy, prod):
    assert findings_of(messy, "budget-required") == {
        ("late", "mandatory", f"{label('late', BUDGET)} has no notification at or below 100 % of its limit (actual "
                              "or forecasted), so nobody hears of an overspend before it happens; add one (e.g. "
                              "ACTUAL GREATER_THAN 80 PERCENTAGE) or use tollgate_components.CostBudget"),
    }
    assert findings_of(tidy, "budget-required") == set()
    assert findings_of(prod, "budget-required") == {
        ("pulumi:pulumi:Stack", "mandatory", "Stack `prod` has no AWS Budget of type COST; add tollgate_components.CostBudget "
                                             "(a monthly budget that alerts on actual and forecasted spend before "
                                             "the limit is reached)"),
    }


def test_nat_gateway_sprawl(messy, prod):
    assert findings_of(messy, "nat-gateway-sprawl") == {
        ("nat-b", "advisory", f"{label('nat-b', NAT)} is NAT gateway 2 of 2 in dev, over the 1 allowed per "
                              "environment outside prod; route the private subnets of every AZ through one NAT "
                              "gateway (and use VPC endpoints for S3 and DynamoDB) or get a waiver"),
    }
    assert findings_of(prod, "nat-gateway-sprawl") == set()


def test_unattached_eip(messy, prod):
    assert findings_of(messy, "unattached-eip") == {
        ("spare", "advisory", f"{label('spare', EIP)} is attached to no instance, network interface or NAT gateway "
                              "and no EipAssociation of the stack takes it, yet it is billed by the hour; attach it "
                              "(instance, networkInterface or an aws.ec2.EipAssociation) or delete it"),
    }
    assert findings_of(prod, "unattached-eip") == set()
