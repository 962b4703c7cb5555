"""The reference platform and the README's team stack: clean under every rule; misuse is caught."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tollgate.capture.host import capture
from tollgate.evaluate import evaluate

from conftest import ROOT, capture_source

TAGS = {"project": "atlas", "environment": "dev", "team": "ml", "cost-center": "cc-ml", "owner": "ml@example.com"}


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack(request):
    snapshot = capture(ROOT, request.param)
    return snapshot, evaluate(snapshot)[1]


def test_every_stack_previews_clean(stack):
    snapshot, findings = stack
    assert [f for f in findings if f.enforcement == "mandatory"] == []
    assert findings == []  # not even advisories: the platform is the model to copy


def test_every_stack_has_the_platforms_parts(stack):
    snapshot, _ = stack
    kinds = Counter(r.type for r in snapshot.resources)
    assert kinds["tollgate:components:TieredBucket"] == 3
    assert kinds["tollgate:components:SpotComputeEnvironment"] == 2
    assert kinds["tollgate:components:NamespaceGuardrails"] == 2
    assert kinds["tollgate:components:CostBudget"] == 3  # one per team, one for the stack
    pools = {r.name: r.inputs for r in snapshot.resources if r.type == "aws:eks/nodeGroup:NodeGroup"}
    if snapshot.stack == "dev":
        assert set(pools) == {"pool-workers-node-group"}  # no GPU pool in dev (TG003)
    else:
        assert pools["pool-gpu-node-group"]["scalingConfig"]["minSize"] == 0  # the GPU pool scales to zero
    if snapshot.stack == "prod":
        assert pools["pool-system-node-group"]["capacityType"] == "ON_DEMAND"
        assert kinds["aws:batch/computeEnvironment:ComputeEnvironment"] == 3  # training falls back on demand
    else:
        assert {p["capacityType"] for p in pools.values()} == {"SPOT"}
        assert kinds["aws:autoscaling/schedule:Schedule"] == 2 * len(pools)  # off at night and on weekends


def test_the_readme_team_stack_runs_clean(tmp_path):
    readme = (ROOT / "README.md").read_text()
    program = re.search(r"<!-- example: team-stack.*?-->\n```python\n(.*?)```", readme, re.S).group(1)
    snapshot = capture_source(tmp_path, program, {"tollgate:tags": TAGS, "tollgate:environment": "dev"})
    assert {r.type for r in snapshot.resources} >= {"tollgate:components:TieredBucket",
                                                    "tollgate:components:TaggedNodePool",
                                                    "tollgate:components:CostBudget"}
    assert evaluate(snapshot)[1] == []
    from tollgate.cost import estimate

    assert [(i.name, i.basis) for i in estimate(snapshot).not_priced] == []  # its components record their usage


MISUSE = """
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.node_pool import CapacityType, TaggedNodePool, TaggedNodePoolArgs
from tollgate_components.tagging import Tagging
from tollgate_components.tiered_bucket import Tiering, TieredBucket, TieredBucketArgs

tagging = Tagging.from_config()
opts = tagging.resource_options()
TieredBucket("hoard", TieredBucketArgs(tiering=Tiering.NONE), opts=opts)
TaggedNodePool("always-on", TaggedNodePoolArgs(
    cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b2c3d"],
    tags=tagging.tags, instance_types=["m5.large"], capacity_type=CapacityType.ON_DEMAND, min_size=1, max_size=8),
    opts=opts)
CostBudget("team", CostBudgetArgs(limit_usd=500), opts=opts)
"""


def test_expensive_choices_made_explicitly_are_still_caught_in_dev(tmp_path):
    snapshot = capture_source(tmp_path, MISUSE, {"tollgate:tags": TAGS, "tollgate:environment": "dev"})
    found = {(f.rule, f.name, f.enforcement) for f in evaluate(snapshot)[1]}
    assert found == {
        ("bucket-lifecycle", "hoard-bucket", "mandatory"),           # tiering disabled
        ("spot-outside-prod", "always-on-node-group", "mandatory"),  # on-demand pool in dev
        ("node-pool-bounds", "always-on-node-group", "mandatory"),   # 8 nodes over the dev cap of 5
        ("scale-to-zero-outside-prod", "always-on-node-group", "advisory"),
    }
