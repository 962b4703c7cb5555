"""Compute and database rules (TG003-TG007) on real pulumi-aws programs: one capture per program, the
findings of each rule asserted exactly (urn, enforcement, message); every other rule's are ignored.

The dev stack holds resources of every environment: an `environment` tag beats the stack's environment.
"""

from __future__ import annotations

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate
from programs import COMPUTE as PROGRAM, COMPUTE_ENV as ENV


@pytest.fixture(scope="module")
def compute(tmp_path_factory):
    snapshot = capture_source(tmp_path_factory.mktemp("compute"), PROGRAM, {"tollgate:environment": "dev"})
    _, findings = evaluate(snapshot)
    return {r.name: r.urn for r in snapshot.resources}, findings


def findings_of(compute, rule: str) -> set[tuple[str, str, str]]:
    urns, findings = compute
    names = {urn: name for name, urn in urns.items()}
    return {(names[f.urn], f.enforcement, f.message) for f in findings if f.rule == rule}


def label(name: str, type_: str) -> str:
    return f"`{name}` ({type_})"


NG, ASG, CE = "aws:eks/nodeGroup:NodeGroup", "aws:autoscaling/group:Group", "aws:batch/computeEnvironment:ComputeEnvironment"
RDS, AURORA = "aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"


def test_gpu_approval(compute):
    assert findings_of(compute, "gpu-approval") == {
        ("dev-gpu", "mandatory", f"{label('dev-gpu', NG)} uses GPU type g4dn.xlarge (1 nvidia t4 GPU) in dev, where GPU "
                                 "and accelerator types are not allowed; use a CPU instance type, or run GPU and "
                                 "accelerator work in staging or prod"),
        ("train", "mandatory", f"{label('train', NG)} uses GPU type p3.8xlarge (4 nvidia v100 GPUs, 32 vCPU) in staging, "
                               "a large GPU or accelerator type (4+ GPUs or accelerators, or 32+ vCPU) that needs an "
                               "approval: add a waiver, or pick a smaller type (e.g. g5.xlarge, inf2.xlarge)"),
    }  # infer (small GPUs in staging), core and the CPU-only pools pass


def test_database_size_cap(compute):
    assert findings_of(compute, "database-size-cap") == {
        ("orders", "mandatory", f"{label('orders', RDS)} uses instanceClass db.r5.2xlarge, over the dev cap of *.medium; "
                                "pick a class of size medium or smaller or get a waiver"),
        ("legacy", "mandatory", f"{label('legacy', RDS)} uses instanceClass db.r5, whose size Tollgate cannot read, so it "
                                "cannot be checked; use a class named db.<family>.<size> (e.g. db.t4g.medium)"),
        ("cache", "mandatory", f"{label('cache', 'aws:elasticache/cluster:Cluster')} uses nodeType cache.m5.large, over "
                               "the dev cap of *.medium; pick a class of size medium or smaller or get a waiver"),
        ("aurora-1", "advisory", f"{label('aurora-1', AURORA)}: cannot decide the database size cap, instanceClass "
                                 "db.serverless is sized in ACUs, not by class; cap "
                                 "serverlessv2ScalingConfiguration.maxCapacity on the cluster"),
        ("aurora-2", "advisory", f"{label('aurora-2', AURORA)}: cannot decide the database size cap at preview, "
                                 "instanceClass is unknown until apply"),
    }  # small (dev, medium), ledger (prod, 4xlarge), sessions (staging, xlarge) and the Aurora cluster pass


def test_node_pool_bounds(compute):
    assert findings_of(compute, "node-pool-bounds") == {
        ("dev-gpu", "mandatory", f"{label('dev-gpu', NG)} allows up to 8 nodes (scalingConfig.maxSize), over the dev cap "
                                 "of 5 nodes; lower maxSize to at most 5 (tollgate_components.TaggedNodePool) or get a waiver"),
        ("train", "mandatory", f"{label('train', NG)} asks for 3 nodes (scalingConfig.desiredSize), outside its bounds "
                               "[0, 2]; set desiredSize between minSize and maxSize"),
        ("workers", "mandatory", f"{label('workers', ASG)} allows up to 6 nodes (maxSize), over the dev cap of 5 nodes; "
                                 "lower maxSize to at most 5 or get a waiver"),
        ("etl", "mandatory", f"{label('etl', CE)} allows up to 128 vCPU (computeResources.maxVcpus), over the dev cap of "
                             "64 vCPU; lower maxVcpus to at most 64 (tollgate_components.SpotComputeEnvironment) or get a waiver"),
    }  # infer, core (prod: cap 50), edge and etl-spot (64, at the cap) pass


def test_spot_outside_prod(compute):
    assert findings_of(compute, "spot-outside-prod") == {
        ("dev-gpu", "mandatory", f"{label('dev-gpu', NG)} runs ON_DEMAND capacity in dev (capacityType is unset, and "
                                 "ON_DEMAND is the AWS default); set capacityType SPOT outside prod "
                                 "(tollgate_components.TaggedNodePool does)"),
        ("etl", "mandatory", f"{label('etl', CE)} runs EC2 (on-demand) capacity in dev; set computeResources.type SPOT or "
                             "FARGATE_SPOT outside prod (tollgate_components.SpotComputeEnvironment does)"),
    }  # train and infer are SPOT, core is ON_DEMAND in prod, etl-spot is SPOT


def test_scale_to_zero_outside_prod(compute):
    assert findings_of(compute, "scale-to-zero-outside-prod") == {
        ("dev-gpu", "advisory", f"{label('dev-gpu', NG)} keeps 1 nodes running while idle in dev (scalingConfig.minSize 1); "
                                "set minSize to 0 so it scales to zero (tollgate_components.TaggedNodePool does)"),
        ("etl", "advisory", f"{label('etl', CE)} keeps 2 vCPU running while idle in dev (computeResources.minVcpus 2); set "
                            "minVcpus to 0 so it scales to zero (tollgate_components.SpotComputeEnvironment does)"),
    }  # core keeps 2 nodes in prod; the other pools scale to zero
