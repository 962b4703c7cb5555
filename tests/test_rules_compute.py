"""Compute and database rules (TG003-TG007) on real pulumi-aws programs: one capture per program, the
findings of each rule asserted exactly (urn, enforcement, message); every other rule's are ignored.

The dev stack holds resources tagged staging and prod: the stack decides the environment, so every one is
judged by the dev caps (and its tag is a required-tags finding, not asserted here).
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
        ("train", "mandatory", f"{label('train', NG)} uses GPU type p3.8xlarge (4 nvidia v100 GPUs) in dev, where GPU "
                               "and accelerator types are not allowed; use a CPU instance type, or run GPU and "
                               "accelerator work in staging or prod"),
        *(("infer", "mandatory", f"{label('infer', NG)} uses GPU type {gpu} in dev, where GPU and accelerator types are "
                                 "not allowed; use a CPU instance type, or run GPU and accelerator work in staging or prod")
          for gpu in ("g4dn.xlarge (1 nvidia t4 GPU)", "g5.xlarge (1 nvidia a10g GPU)")),
    }  # a staging tag allows no GPU in a dev stack; core and the CPU-only pools pass


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
        ("ledger", "mandatory", f"{label('ledger', RDS)} uses instanceClass db.r6g.4xlarge, over the dev cap of *.medium; "
                                "pick a class of size medium or smaller or get a waiver"),
        ("sessions", "mandatory", f"{label('sessions', 'aws:elasticache/replicationGroup:ReplicationGroup')} uses nodeType "
                                  "cache.r6g.xlarge, over the dev cap of *.medium; pick a class of size medium or smaller "
                                  "or get a waiver"),
    }  # small (dev, medium) and the Aurora cluster pass; prod and staging tags buy no bigger class


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
        ("core", "mandatory", f"{label('core', NG)} allows up to 6 nodes (scalingConfig.maxSize), over the dev cap of 5 "
                              "nodes; lower maxSize to at most 5 (tollgate_components.TaggedNodePool) or get a waiver"),
    }  # infer, edge and etl-spot (64, at the cap) pass; core's prod tag buys no prod cap


def test_spot_outside_prod(compute):
    assert findings_of(compute, "spot-outside-prod") == {
        ("dev-gpu", "mandatory", f"{label('dev-gpu', NG)} runs ON_DEMAND capacity in dev (capacityType is unset, and "
                                 "ON_DEMAND is the AWS default); set capacityType SPOT outside prod "
                                 "(tollgate_components.TaggedNodePool does)"),
        ("etl", "mandatory", f"{label('etl', CE)} runs EC2 (on-demand) capacity in dev; set computeResources.type SPOT or "
                             "FARGATE_SPOT outside prod (tollgate_components.SpotComputeEnvironment does)"),
        ("core", "mandatory", f"{label('core', NG)} runs ON_DEMAND capacity in dev; set capacityType SPOT outside prod "
                              "(tollgate_components.TaggedNodePool does)"),
    }  # train, infer and etl-spot are SPOT; core's prod tag buys no on-demand pool


def test_scale_to_zero_outside_prod(compute):
    assert findings_of(compute, "scale-to-zero-outside-prod") == {
        ("dev-gpu", "advisory", f"{label('dev-gpu', NG)} keeps 1 nodes running while idle in dev (scalingConfig.minSize 1); "
                                "set minSize to 0 so it scales to zero (tollgate_components.TaggedNodePool does)"),
        ("etl", "advisory", f"{label('etl', CE)} keeps 2 vCPU running while idle in dev (computeResources.minVcpus 2); set "
                            "minVcpus to 0 so it scales to zero (tollgate_components.SpotComputeEnvironment does)"),
        ("core", "advisory", f"{label('core', NG)} keeps 2 nodes running while idle in dev (scalingConfig.minSize 2); "
                             "set minSize to 0 so it scales to zero (tollgate_components.TaggedNodePool does)"),
    }  # the other pools scale to zero
