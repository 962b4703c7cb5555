"""The sourced table of every current EC2 type, RDS class and ElastiCache node type
(tollgate/data/aws-instance-types.json, scripts/gen_instance_types.py), and the rules that read it: a type
the price table does not price is known all the same; only a malformed or retired name is unknown.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, capture_source
from tollgate.evaluate import evaluate
from tollgate.evaluate.rules import reference_data

DATA = ROOT / "tollgate" / "data"
TABLE = json.loads((DATA / "aws-instance-types.json").read_text(encoding="utf-8"))
EC2 = TABLE["ec2_instance_types"]
MIRRORS = Path("/work/.mirror")
NEEDED = ("aws+karpenter-provider-aws", "kubernetes+autoscaler", "getmoto+moto", "aws-cloudformation+cfn-lint",
          "awsdocs+amazon-rds-user-guide", "vantage-sh+ec2instances.info")


@pytest.mark.parametrize("type_, vcpu, memory_gib", [
    ("t2.micro", 1, 1), ("t2.medium", 2, 4), ("t4g.nano", 2, 0.5), ("t4g.small", 2, 2), ("m7i.large", 2, 8),
    ("m7i.4xlarge", 16, 64), ("g5.xlarge", 4, 16), ("p5.48xlarge", 192, 2048), ("inf2.xlarge", 4, 16),
    ("trn1.32xlarge", 128, 512), ("p3.8xlarge", 32, 244),
])
def test_current_types_with_their_specs(type_, vcpu, memory_gib):
    assert (EC2[type_]["vcpu"], EC2[type_]["memory_gib"]) == (vcpu, memory_gib)


def test_gpus_with_their_model():
    assert EC2["t2.micro"]["gpus"] == 0 and "gpu_model" not in EC2["t2.micro"]
    assert (EC2["g5.xlarge"]["gpus"], EC2["g5.xlarge"]["gpu_manufacturer"], EC2["g5.xlarge"]["gpu_model"]) == (1, "nvidia", "a10g")
    assert (EC2["p5.48xlarge"]["gpus"], EC2["p5.48xlarge"]["gpu_model"]) == (8, "h100")
    assert (EC2["g6f.large"]["gpus"], EC2["g6f.large"]["gpu_model"], EC2["g6f.large"]["gpu_share"]) == (0, "l4", 0.125)


def test_other_accelerators_with_their_name():
    assert EC2["inf2.xlarge"]["accelerators"] == {"count": 1, "name": "inferentia2", "manufacturer": "aws"}
    assert EC2["trn1.32xlarge"]["accelerators"] == {"count": 16, "name": "trainium", "manufacturer": "aws"}
    assert EC2["inf2.xlarge"]["gpus"] == EC2["trn1.32xlarge"]["gpus"] == 0
    assert EC2["vt1.3xlarge"]["accelerators"]["name"] == "u30"              # media accelerator (DescribeInstanceTypes)
    # Karpenter and the autoscaler both count dl1's Gaudi chips as GPUs; the table keeps their word.
    assert (EC2["dl1.24xlarge"]["gpus"], EC2["dl1.24xlarge"]["gpu_model"]) == (8, "gaudi-hl-205")


def test_every_priced_type_is_in_the_table_with_the_same_specs():
    prices = yaml.safe_load((DATA / "aws-us-east-1.yaml").read_text(encoding="utf-8"))["ec2_on_demand_hourly"]
    for type_, row in prices.items():
        spec = EC2[type_]
        assert (spec["vcpu"], spec["memory_gib"], spec["gpus"]) == (row["vcpu"], row["memory_gib"], row.get("gpus", 0)), type_
        assert spec.get("gpu_model") == row.get("gpu_model"), type_


def test_databases_and_caches():
    rds, cache = TABLE["rds_classes"], TABLE["cache_node_types"]
    assert {"db.t4g.micro", "db.r8g.large", "db.m7g.xlarge", "db.serverless", "db.r5.4xlarge.tpc2.mem2x"} <= set(rds)
    assert {"cache.t4g.micro", "cache.r7g.large", "cache.m5.large"} <= set(cache)
    assert (rds["db.r6g.large"]["vcpu"], rds["db.r6g.large"]["memory_gib"]) == (2, 16)
    assert not {"db.foo.large", "cache.m9z.large"} & (set(rds) | set(cache))


def test_every_entry_names_its_source_and_every_source_its_commit_and_date():
    named = {part.split("_v")[0] if part.startswith("karpenter_v") else part
             for table in ("ec2_instance_types", "rds_classes", "cache_node_types")
             for spec in TABLE[table].values() if spec for part in spec["source"].split("+")}
    assert named <= set(TABLE["sources"]) | {"karpenter"}
    for name, source in TABLE["sources"].items():
        assert source.get("commit") or source.get("commits") or name == "ec2", name
        if name != "ec2" and name != "moto_history":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["date"]), name
    assert set(TABLE["as_of"]) == {"ec2_instance_types", "rds_classes", "cache_node_types"}


def test_the_rules_read_every_type():
    data = reference_data()
    # every EC2 type, and the Redshift and OpenSearch-only node types the rules size the same way (rules.py)
    extra = set(data["instance_types"]) - set(EC2)
    assert set(EC2) <= set(data["instance_types"]) and extra
    assert all(t.startswith(("redshift.", "or1.", "or2.", "om2.", "oi2.")) for t in extra)
    assert data["instance_types"]["inf2.xlarge"]["accelerated"] and data["instance_types"]["inf2.xlarge"]["devices"] == 1
    assert not data["instance_types"]["t2.micro"]["accelerated"]
    assert set(data["database_classes"]["db"]) == set(TABLE["rds_classes"])
    assert set(data["database_classes"]["cache"]) == set(TABLE["cache_node_types"])


def test_availability_zones_of_each_commercial_region():
    zones = json.loads((DATA / "aws-availability-zones.json").read_text(encoding="utf-8"))
    us_east = zones["regions"]["us-east-1"]
    assert us_east["names"] == [f"us-east-1{c}" for c in "abcdef"]
    assert us_east["zone_ids"] == [f"use1-az{n}" for n in range(1, 7)]
    assert {"eu-west-1", "ap-southeast-7", "mx-central-1"} <= set(zones["regions"])
    assert not any(r.startswith(("cn-", "us-gov-")) for r in zones["regions"])
    for region, entry in zones["regions"].items():
        assert entry["names"] and entry["zone_ids"], region
        assert all(name.startswith(region) for name in entry["names"]), region
    assert "mapping" in zones["source"] and zones["source"]["moto"]["commit"]


@pytest.mark.skipif(not all((MIRRORS / name / "repo").is_dir() for name in NEEDED),
                    reason="the source mirrors (/work/.mirror/...) are not on this machine")
def test_the_generator_is_deterministic_and_matches_the_committed_tables(tmp_path):
    outputs = []
    for run in ("a", "b"):
        out, zones = tmp_path / f"{run}.json", tmp_path / f"{run}-zones.json"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_instance_types.py"), "--generated",
                        TABLE["generated"], "--out", str(out), "--zones-out", str(zones)], check=True,
                       capture_output=True)
        outputs.append((out.read_text(encoding="utf-8"), zones.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    assert outputs[0] == ((DATA / "aws-instance-types.json").read_text(encoding="utf-8"),
                          (DATA / "aws-availability-zones.json").read_text(encoding="utf-8"))


PROGRAM = """
import pulumi_aws as aws
ami = "ami-0123456789abcdef0"
aws.ec2.Instance("tiny", ami=ami, instance_type="t2.micro")
aws.ec2.Instance("graviton", ami=ami, instance_type="t4g.small")
aws.ec2.Instance("big", ami=ami, instance_type="m7i.4xlarge")
aws.ec2.Instance("typo", ami=ami, instance_type="t9x.large")
aws.ec2.Instance("gpu", ami=ami, instance_type="g5.xlarge")
aws.ec2.Instance("infer", ami=ami, instance_type="inf2.xlarge")
"""


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    snapshot = capture_source(tmp_path_factory.mktemp("types"), PROGRAM, {"tollgate:environment": "dev"})
    _, found = evaluate(snapshot)
    names = {r.urn: r.name for r in snapshot.resources}
    return {(names[f.urn], f.rule): f.message for f in found if f.rule in ("instance-size-cap", "gpu-approval")}


def test_instance_size_cap_knows_every_current_type(findings):
    as_of = TABLE["as_of"]["ec2_instance_types"]
    assert {name for name, rule in findings if rule == "instance-size-cap"} == {"big", "typo"}
    assert findings["big", "instance-size-cap"] == (
        "`big` (aws:ec2/instance:Instance) uses m7i.4xlarge (16 vCPU), over the dev cap of 4 vCPU; pick a type with "
        "at most 4 vCPU or get a waiver")
    assert findings["typo", "instance-size-cap"] == (
        "`typo` (aws:ec2/instance:Instance) uses instance type \"t9x.large\", which is not in Tollgate's table of "
        f"current EC2 instance types (sources as of {as_of}): a malformed or retired name, so its size cannot be "
        "checked; use a current type (e.g. m7i.large)")


def test_gpu_approval_reports_gpus_and_accelerators_in_dev(findings):
    assert {name for name, rule in findings if rule == "gpu-approval"} == {"gpu", "infer"}
    assert findings["gpu", "gpu-approval"] == (
        "`gpu` (aws:ec2/instance:Instance) uses GPU type g5.xlarge (1 nvidia a10g GPU) in dev, where GPU and "
        "accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in staging or prod")
    assert findings["infer", "gpu-approval"] == (
        "`infer` (aws:ec2/instance:Instance) uses accelerator type inf2.xlarge (1 aws inferentia2 accelerator) in dev, "
        "where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in "
        "staging or prod")
