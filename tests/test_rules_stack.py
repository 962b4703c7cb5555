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
from programs import STACK_MESSY as MESSY, STACK_PROD as PROD, STACK_TIDY as TIDY


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
