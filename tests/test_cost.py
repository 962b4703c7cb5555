"""Cost estimate of compute and managed services: known resources priced to the cent from the table
(tollgate/data/aws-us-east-1.yaml), their naive twins, the free and the not-priced paths.

Every expected number is worked out by hand from the table in the comment beside it.
"""

from __future__ import annotations

import json

import pytest

from conftest import capture_source
from tollgate.cost import estimate
from tollgate.report.cost_table import render_json, render_table

TAGS = {"project": "mlops", "environment": "dev", "team": "ml", "cost-center": "cc-ml", "owner": "ml@example.com"}

PROGRAM = f"""
import pulumi_aws as aws
from tollgate_components.node_pool import TaggedNodePool, TaggedNodePoolArgs, OffHours
from tollgate_components.spot_compute import SpotComputeEnvironment, SpotComputeEnvironmentArgs

tags = {TAGS!r}
pool = dict(cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b"])
net = dict(subnet_ids=["subnet-0a1b"], security_group_ids=["sg-1"])
ami = "ami-0123456789abcdef0"

aws.ec2.Instance("box", ami=ami, instance_type="m5.large", root_block_device={{"volume_size": 30, "volume_type": "gp3"}})
aws.ec2.Instance("spot-box", ami=ami, instance_type="t3.large", instance_market_options={{"market_type": "spot"}})
# A current type the price table does not price: known to the rules, not priced here.
aws.ec2.Instance("tiny-box", ami=ami, instance_type="t2.micro")
TaggedNodePool("workers", TaggedNodePoolArgs(**pool, tags=tags, instance_types=["m5.2xlarge", "m6i.2xlarge", "m7i.2xlarge"],
               desired_size=3, max_size=10))
TaggedNodePool("office", TaggedNodePoolArgs(**pool, tags=tags, instance_types=["m5.large", "m6i.large"], desired_size=2,
               max_size=4, off_hours=OffHours(time_zone="Europe/Berlin")))
SpotComputeEnvironment("etl", SpotComputeEnvironmentArgs(**net, expected_vcpu_hours=1000, on_demand_fallback=True))
SpotComputeEnvironment("adhoc", SpotComputeEnvironmentArgs(**net))

lt = aws.ec2.LaunchTemplate("asg-template", image_id=ami, instance_type="c5.large")
asg = aws.autoscaling.Group("asg", min_size=0, max_size=4, desired_capacity=2, vpc_zone_identifiers=["subnet-0a1b"],
                            launch_template={{"id": lt.id, "version": "$Latest"}})
aws.autoscaling.Schedule("asg-night", autoscaling_group_name=asg.name, scheduled_action_name="night",
                         recurrence="0 22 * * *", min_size=0, max_size=0, desired_capacity=0)
aws.autoscaling.Schedule("asg-morning", autoscaling_group_name=asg.name, scheduled_action_name="morning",
                         recurrence="0 6 * * 0-7", min_size=0, max_size=4, desired_capacity=2)
mixed_lt = aws.ec2.LaunchTemplate("mixed-template", image_id=ami)
aws.autoscaling.Group("mixed", min_size=1, max_size=6, desired_capacity=3, vpc_zone_identifiers=["subnet-0a1b"],
    mixed_instances_policy={{
        "launch_template": {{"launch_template_specification": {{"launch_template_id": mixed_lt.id}},
                            "overrides": [{{"instance_type": "m5.large"}}, {{"instance_type": "m6i.large"}}]}},
        "instances_distribution": {{"on_demand_base_capacity": 1, "on_demand_percentage_above_base_capacity": 0}}}})

aws.eks.Cluster("ml", role_arn="arn:aws:iam::123456789012:role/eks", vpc_config={{"subnet_ids": ["subnet-0a1b"]}})
aws.ec2.NatGateway("nat", subnet_id="subnet-0a1b", allocation_id="eipalloc-1")
aws.lb.LoadBalancer("web", subnets=["subnet-0a1b", "subnet-2c3d"])
aws.lb.LoadBalancer("edge", load_balancer_type="network", subnets=["subnet-0a1b"])
aws.rds.Instance("db", engine="postgres", instance_class="db.t3.large", allocated_storage=20, username="app",
                 manage_master_user_password=True)
aws.rds.Instance("big-db", engine="postgres", instance_class="db.r6g.large", allocated_storage=20, username="app",
                 manage_master_user_password=True)
aws.elasticache.Cluster("cache", engine="redis", node_type="cache.m5.large", num_cache_nodes=2)
aws.ebs.Volume("fast", availability_zone="us-east-1a", size=500, type="gp3", iops=6000, throughput=250)
aws.ebs.Volume("plain", availability_zone="us-east-1a", size=100)
aws.ebs.Volume("piops", availability_zone="us-east-1a", size=100, type="io1", iops=1000)
aws.lambda_.Function("fn", role="arn:aws:iam::123456789012:role/fn", package_type="Image",
                     image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:1", memory_size=512,
                     architectures=["arm64"])
aws.lambda_.Function("idle-fn", role="arn:aws:iam::123456789012:role/fn", package_type="Image",
                     image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:1")
aws.dynamodb.Table("events", attributes=[{{"name": "id", "type": "S"}}], hash_key="id", billing_mode="PAY_PER_REQUEST")
aws.iam.Role("app-role", assume_role_policy="{{}}")
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("cost"), PROGRAM, {"tollgate:environment": "dev"})


@pytest.fixture(scope="module")
def items(snapshot):
    from tollgate.cost.usage import Usage
    usage = Usage({"nat": {"gb_processed": 100}, "fn": {"requests": 1_000_000, "duration_ms": 200}})
    return {i.name: i for i in estimate(snapshot, usage).resources}


def cents(x: float) -> float:
    return round(x, 2)


def test_on_demand_instance_with_its_gp3_root_volume(items):
    box = items["box"]
    # m5.large on-demand 0.096 × 730 = 70.08; 30 GB gp3 × 0.08 = 2.40. Naive: gp2 30 × 0.10 = 3.00.
    assert cents(box.monthly_usd) == 72.48 and cents(box.baseline_monthly_usd) == 73.08
    assert box.priced and "m5.large on-demand $0.0960/h × 730 h" in box.basis


def test_spot_instance_from_the_spot_feed(items):
    # t3.large spot 0.0273 × 730 = 19.929; naive on-demand 0.0832 × 730 = 60.736.
    assert cents(items["spot-box"].monthly_usd) == 19.93 and cents(items["spot-box"].baseline_monthly_usd) == 60.74


def test_spot_node_group_with_three_types(items):
    ng = items["workers-node-group"]
    # mean spot (0.1524 + 0.1688 + 0.1755) / 3 = 0.4967 / 3; 3 nodes × 730 h × 0.4967 / 3 = 362.591
    # + 3 nodes × 20 GB gp3 × 0.08 = 4.80 (the component's launch template disk) -> 367.391
    assert cents(ng.monthly_usd) == 367.39
    # naive: on-demand mean (0.384 + 0.384 + 0.4032) / 3 = 0.3904; 3 × 730 × 0.3904 = 854.976 + 3 × 20 × 0.10 = 6.00
    assert cents(ng.baseline_monthly_usd) == 860.98
    assert "3 × 730 h × mean(m5.2xlarge, m6i.2xlarge, m7i.2xlarge) spot $0.1656/h" in ng.basis


def test_off_hours_schedules_cut_node_hours(items):
    ng = items["office-node-group"]
    # Down at 20:00 Mon-Fri, up at 07:00 Mon-Fri: on 13 h × 5 weekdays = 65 of 168 hours a week, weekends off.
    node_hours = 2 * 65 / 168 * 730                              # 564.881 node-hours
    expected = node_hours * (0.0418 + 0.0369) / 2 + node_hours / 730 * 20 * 0.08
    assert cents(expected) == 23.47 and cents(ng.monthly_usd) == 23.47
    # naive: 2 nodes on-demand always on: 2 × 730 × 0.096 = 140.16 + 2 × 20 GB gp2 = 4.00
    assert cents(ng.baseline_monthly_usd) == 144.16
    assert "office-scale-down, office-scale-up" in ng.basis and "564.9 node-h" in ng.basis


def test_auto_scaling_group_with_its_launch_template_and_daily_schedules(items):
    # 2 × c5.large on 06:00-22:00 every day (dow 0-7: 7 is Sunday again): 2 × 16/24 × 730 × 0.085 = 82.733
    assert cents(items["asg"].monthly_usd) == 82.73
    assert cents(items["asg"].baseline_monthly_usd) == 124.10          # 2 × 730 × 0.085


def test_mixed_instances_group_prices_its_on_demand_base_and_spot_rest(items):
    # 3 nodes: 1 on-demand base, 0 % on-demand above it. mean on-demand 0.096, mean spot (0.0418 + 0.0369) / 2
    # 730 × (0.096 + 2 × 0.03935) = 127.531; naive 3 × 730 × 0.096 = 210.24
    assert cents(items["mixed"].monthly_usd) == 127.53 and cents(items["mixed"].baseline_monthly_usd) == 210.24


def test_batch_environment_prices_expected_vcpu_hours_at_spot(items):
    spot = items["etl-spot"]
    # default types m6i/m5/m7i.xlarge (4 vCPU): spot (0.0828 + 0.0627 + 0.0885) / 12 = 0.0195 per vCPU-h
    assert cents(spot.monthly_usd) == 19.50
    assert cents(spot.baseline_monthly_usd) == 48.80           # on-demand (0.192 + 0.192 + 0.2016) / 12 × 1000
    assert "1,000 vCPU-h (component etl)" in spot.basis


def test_on_demand_fallback_expects_no_hours_and_says_how_to_change_that(items):
    fallback = items["etl-on-demand"]
    assert fallback.priced and fallback.monthly_usd == 0 == fallback.baseline_monthly_usd
    assert "on-demand fallback behind spot" in fallback.basis and "vcpu_hours" in fallback.basis


def test_batch_environment_without_usage_is_not_priced(items):
    adhoc = items["adhoc-spot"]
    assert not adhoc.priced and adhoc.monthly_usd == 0
    assert "set vcpu_hours for adhoc-spot" in adhoc.basis and "expected_vcpu_hours on its SpotComputeEnvironment" in adhoc.basis


def test_managed_services(items):
    assert cents(items["ml"].monthly_usd) == 73.00                     # EKS 0.10 × 730
    assert cents(items["nat"].monthly_usd) == 37.35                    # 0.045 × 730 + 100 GB × 0.045
    assert items["web"].monthly_usd == pytest.approx(22.265)           # (0.0225 + 1 LCU × 0.008) × 730
    assert cents(items["db"].monthly_usd) == 108.15                    # 0.145 × 730 + 20 GB × 0.115
    assert cents(items["cache"].monthly_usd) == 227.76                 # 2 × 0.156 × 730
    for name in ("ml", "nat", "web", "db", "cache"):
        assert items[name].baseline_monthly_usd == items[name].monthly_usd   # no lever to turn off


def test_ebs_volumes_and_the_gp2_twin(items):
    # gp3 500 GB × 0.08 = 40 + 3,000 IOPS over 3,000 × 0.005 = 15 + 125 MiB/s over 125 × 0.04 = 5
    assert cents(items["fast"].monthly_usd) == 60.00
    assert cents(items["fast"].baseline_monthly_usd) == 50.00          # naive gp2: 500 × 0.10 (no IOPS bought)
    assert cents(items["plain"].monthly_usd) == 10.00 == cents(items["plain"].baseline_monthly_usd)  # gp2 default
    assert cents(items["piops"].monthly_usd) == 77.50                  # io1 100 × 0.125 + 1,000 × 0.065


def test_lambda_is_priced_from_usage_only(items):
    # 1M requests × 0.20/M + 1M × 0.2 s × 0.5 GB = 100,000 GB-s × 0.0000133334 (arm64) = 1.33334
    assert cents(items["fn"].monthly_usd) == 1.53
    assert cents(items["fn"].baseline_monthly_usd) == 1.87             # naive x86: 100,000 × 0.0000166667 + 0.20
    assert not items["idle-fn"].priced and "requests and duration_ms" in items["idle-fn"].basis


def test_what_the_table_lacks_is_not_priced_never_zero(items):
    assert not items["big-db"].priced and "db.r6g.large is not in the price table" in items["big-db"].basis
    assert not items["events"].priced
    assert items["events"].basis == "aws:dynamodb/table:Table is not in the price table"
    assert not items["edge"].priced and "network load balancers" in items["edge"].basis


def test_a_known_type_without_a_price_is_not_priced_never_zero(items, snapshot):
    tiny = items["tiny-box"]
    assert not tiny.priced and tiny.monthly_usd == 0 == tiny.baseline_monthly_usd
    assert tiny.basis == "instance type t2.micro: known EC2 type without a price in the price table"
    assert "tiny-box" in {i.name for i in estimate(snapshot).not_priced}


def test_known_types_without_a_price_in_pools_and_batch_are_not_priced():
    from tollgate.model import Resource
    ng = Resource("urn:pulumi:dev::p::aws:eks/nodeGroup:NodeGroup::ng", "aws:eks/nodeGroup:NodeGroup", "ng", True,
                  {"instanceTypes": ["t4g.small", "m5.large", "t9x.large"],
                   "scalingConfig": {"minSize": 0, "maxSize": 3, "desiredSize": 1}})
    assert not _one(ng).priced
    assert _one(ng).basis == ("instance types t4g.small: known EC2 type without a price in the price table; "
                              "t9x.large: not a current EC2 type")
    # Batch sizes its price by vCPU: t2.micro's 1 vCPU is known, its price is not (no error, no $0).
    ce = Resource("urn:pulumi:dev::p::aws:batch/computeEnvironment:ComputeEnvironment::ce",
                  "aws:batch/computeEnvironment:ComputeEnvironment", "ce", True,
                  {"type": "MANAGED", "computeResources": {"type": "SPOT", "maxVcpus": 8, "minVcpus": 1,
                                                           "instanceTypes": ["t2.micro", "c5.large"]}})
    assert not _one(ce).priced and _one(ce).monthly_usd == 0
    assert _one(ce).basis == "instance types t2.micro: known EC2 type without a price in the price table"


def test_free_by_nature_is_priced_at_zero_with_a_reason(items):
    for name, why in (("app-role", "IAM"), ("asg-template", "template"), ("asg-night", "scheduled action"),
                      ("etl-queue", "no charge"), ("workers", "component")):
        assert items[name].priced and items[name].monthly_usd == 0 and why in items[name].basis


def test_totals_count_priced_lines_only(snapshot):
    est = estimate(snapshot)
    priced = [i for i in est.resources if i.priced]
    assert est.monthly_usd == pytest.approx(sum(i.monthly_usd for i in priced))
    assert est.baseline_monthly_usd == pytest.approx(sum(i.baseline_monthly_usd for i in priced))
    assert {i.name for i in est.not_priced} >= {"big-db", "events", "edge", "adhoc-spot", "idle-fn"}
    assert est.price_date == "2026-07"


def test_json_report_shape_and_cents(snapshot):
    est = estimate(snapshot)
    doc = json.loads(render_json(est))
    assert set(doc) == {"monthly_usd", "baseline_monthly_usd", "price_date", "resources"}
    assert doc["monthly_usd"] == round(est.monthly_usd, 2) and doc["price_date"] == "2026-07"
    box = next(r for r in doc["resources"] if r["name"] == "box")
    assert box == {"urn": box["urn"], "type": "aws:ec2/instance:Instance", "name": "box", "monthly_usd": 72.48,
                   "baseline_monthly_usd": 73.08, "priced": True, "basis": box["basis"]}
    assert len(doc["resources"]) == len(snapshot.resources)     # free lines too


def test_table_lists_costs_totals_and_what_is_not_priced(snapshot):
    text = render_table(estimate(snapshot))
    assert "as of 2026-07" in text and "TOTAL" in text
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("workers-node-group "))
    assert row.split()[2:] == ["$367.39", "$860.98", "$493.59", "57.3%"]  # savings with one decimal everywhere
    assert not any(line.startswith("app-role ") for line in lines)       # free lines stay in the JSON
    not_priced = len(estimate(snapshot).not_priced)
    assert f"{not_priced} resources not priced, in neither total:" in text and "events (dynamodb/Table)" in text


def test_a_table_with_everything_priced_has_no_not_priced_line_and_counts_read_alike():
    from tollgate.model import Resource, Snapshot

    bucket = Resource("urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", "aws:s3/bucket:Bucket", "b", True, {})
    role = Resource("urn:pulumi:dev::p::aws:iam/role:Role::r", "aws:iam/role:Role", "r", True, {})
    text = render_table(estimate(Snapshot("p", "dev", [role])))
    assert "not priced" not in text.lower()
    assert "1 resource cost nothing by itself" in text and "TOTAL (0 resources)" in text
    text = render_table(estimate(Snapshot("p", "dev", [bucket, role])))
    assert "1 resource not priced, in neither total:" in text


def _one(resource):
    from tollgate.model import Snapshot
    return estimate(Snapshot("p", "dev", [resource])).resources[0]


def test_kubernetes_objects_that_provision_billed_resources_are_not_priced():
    from tollgate.model import Resource
    svc = Resource("urn:pulumi:dev::p::kubernetes:core/v1:Service::lb", "kubernetes:core/v1:Service", "lb", True,
                   {"spec": {"type": "LoadBalancer"}})
    pvc = Resource("urn:pulumi:dev::p::kubernetes:core/v1:PersistentVolumeClaim::data",
                   "kubernetes:core/v1:PersistentVolumeClaim", "data", True, {})
    cm = Resource("urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::cfg", "kubernetes:core/v1:ConfigMap", "cfg", True, {})
    assert not _one(svc).priced and "load balancer" in _one(svc).basis
    assert not _one(pvc).priced and "volume" in _one(pvc).basis
    assert _one(cm).priced and "runs on priced nodes" in _one(cm).basis


def test_another_region_is_priced_at_the_tables_region_and_says_so():
    from tollgate.model import ProviderRef, Resource
    cluster = Resource("urn:pulumi:dev::p::aws:eks/cluster:Cluster::eu", "aws:eks/cluster:Cluster", "eu", True, {},
                       provider=ProviderRef("urn:pulumi:dev::p::pulumi:providers:aws::eu", {"region": "eu-west-1"}))
    item = _one(cluster)
    assert cents(item.monthly_usd) == 73.00 and "(us-east-1 prices; resource in eu-west-1)" in item.basis


def test_node_group_with_unknown_desired_size_asks_for_node_hours():
    from tollgate.model import UNKNOWN, Resource
    ng = Resource("urn:pulumi:dev::p::aws:eks/nodeGroup:NodeGroup::ng", "aws:eks/nodeGroup:NodeGroup", "ng", True,
                  {"instanceTypes": ["m5.large"], "scalingConfig": {"minSize": 0, "maxSize": 3, "desiredSize": UNKNOWN}})
    item = _one(ng)
    assert not item.priced and "set node_hours for ng" in item.basis


def _gpu_pool(peak=None):
    from tollgate.model import Resource
    usage = {"node_hours": 352} if peak is None else {"node_hours": 352, "peak_nodes": peak}
    component = Resource("urn:pulumi:prod::p::tollgate:components:TaggedNodePool::gpu",
                         "tollgate:components:TaggedNodePool", "gpu", False, {"usage": usage})
    group = Resource("urn:pulumi:prod::p::tollgate:components:TaggedNodePool$aws:eks/nodeGroup:NodeGroup::gpu-ng",
                     "aws:eks/nodeGroup:NodeGroup", "gpu-ng", True,
                     {"instanceTypes": ["g4dn.xlarge"], "capacityType": "SPOT", "diskSize": 20,
                      "scalingConfig": {"minSize": 0, "maxSize": 4, "desiredSize": 0}}, parent=component.urn)
    from tollgate.model import Snapshot
    return next(i for i in estimate(Snapshot("p", "prod", [component, group])).resources if i.name == "gpu-ng")


def test_peak_nodes_size_the_naive_twin_of_a_pool_that_scales_to_zero():
    # 352 node-h of g4dn.xlarge; naive: on-demand 0.526 × 730 per node + 20 GB gp2 × 0.10 = 383.98 + 2.00.
    one = _gpu_pool()
    assert cents(one.baseline_monthly_usd) == cents(730 * 0.526 + 2.00) == 385.98   # one node when it may scale to 0
    two = _gpu_pool(peak=2)
    assert cents(two.baseline_monthly_usd) == cents(2 * (730 * 0.526 + 2.00)) == 771.96
    assert two.monthly_usd == one.monthly_usd                                       # the stack's own cost is unchanged
    assert "naive: 2 node(s) on-demand always on" in two.basis


def test_peak_nodes_above_the_pools_maximum_is_not_priced():
    item = _gpu_pool(peak=5)
    assert not item.priced and "peak_nodes 5" in item.basis and "maxSize 4" in item.basis
