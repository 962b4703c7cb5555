"""The reference platform's stacks are fully priced from what their components record, and every
cost lever they pull (spot, off-hours, lifecycle tiers, gp3) shows as a saving against the naive twin."""

from __future__ import annotations

import pytest

from tollgate.capture.host import capture
from tollgate.cost import estimate, load_usage, usage_path

from conftest import ROOT

PRICED_TYPES = ("aws:eks/nodeGroup:NodeGroup", "aws:s3/bucket:Bucket", "aws:batch/computeEnvironment:ComputeEnvironment")


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack(request):
    snapshot = capture(ROOT, request.param)
    return snapshot, estimate(snapshot, load_usage(usage_path(ROOT / "stacks", request.param)))


def test_every_resource_is_priced_and_the_levers_save(stack):
    _, est = stack
    assert [(i.name, i.basis) for i in est.not_priced] == []
    assert 0 < est.monthly_usd < est.baseline_monthly_usd
    for item in est.resources:
        if item.type in PRICED_TYPES and item.monthly_usd:
            assert item.monthly_usd < item.baseline_monthly_usd, item.name


def test_component_usage_reaches_buckets_and_batch(stack):
    _, est = stack
    for item in est.resources:
        if item.type in PRICED_TYPES[1:] and item.name.endswith(("-bucket", "-spot")):
            assert "(component " in item.basis, item.name


def test_dev_workers_are_off_nights_and_weekends(stack):
    snapshot, est = stack
    if snapshot.stack != "dev":
        pytest.skip("off-hours run in dev only")
    workers = next(i for i in est.resources if i.name == "pool-workers-node-group")
    # 1 node, 07:00-20:00 Mon-Fri: 65 of 168 h; mean spot (0.0627 + 0.0828 + 0.0885) / 3 = 0.078; 20 GB gp3 1.60
    node_hours = 65 / 168 * 730
    assert round(workers.monthly_usd, 2) == round(node_hours * 0.078 + node_hours / 730 * 1.60, 2) == 22.65


def test_prod_gpu_pool_twin_keeps_the_seed_workloads_two_nodes_on(stack):
    snapshot, est = stack
    if snapshot.stack != "prod":
        pytest.skip("peakNodes is set in prod")
    gpu = next(i for i in est.resources if i.name == "pool-gpu-node-group")
    assert "352 node-h (component pool-gpu)" in gpu.basis and "naive: 2 node(s) on-demand always on" in gpu.basis
