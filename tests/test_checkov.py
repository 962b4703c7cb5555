"""The checkov bridge: snapshot -> Terraform plan JSON and Kubernetes manifests, checkov in its own virtualenv,
its failed checks mapped back to the Pulumi urns (`tollgate preview --checkov`).

The end-to-end tests run checkov from .venv-checkov, which the README set-up and .ci/run create; they are
skipped only when TOLLGATE_SKIP_CHECKOV=1 is set explicitly.
"""

from __future__ import annotations

import json
import os

import pytest

from tollgate.cli import main
from tollgate.errors import TollgateError
from tollgate.evaluate.checkov import build_manifests, build_plan, locate_checkov, map_results, run_checkov
from tollgate.evaluate.checkov import run as checkov_run
from tollgate.evaluate.checkov.manifests import URN_ANNOTATION
from tollgate.evaluate.checkov.plan import MAP_FILE, SECRET_PLACEHOLDER, terraform_type
from tollgate.model import SECRET_MARKER, UNKNOWN, Resource, Snapshot

from conftest import ROOT, capture_source

SHARED_MAP = ROOT.parent / "shared" / "pulumi-aws-terraform-map.json"
needs_checkov = pytest.mark.skipif(os.environ.get("TOLLGATE_SKIP_CHECKOV") == "1",
                                   reason="TOLLGATE_SKIP_CHECKOV=1: checkov end-to-end tests skipped on request")


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::unit::{type_}::{name}"


def res(type_: str, name: str, inputs: dict, **kw) -> Resource:
    return Resource(urn=urn(type_, name), type=type_, name=name, custom=True, inputs=inputs, **kw)


def snap(*resources: Resource) -> Snapshot:
    return Snapshot("unit", "dev", list(resources))


def planned(plan, address: str) -> dict:
    return next(r for r in plan.document["planned_values"]["root_module"]["resources"] if r["address"] == address)


def change(plan, address: str) -> dict:
    return next(r for r in plan.document["resource_changes"] if r["address"] == address)["change"]


# --- the map ---------------------------------------------------------------------------------------------

def test_map_is_the_shared_map_verbatim_with_its_provenance():
    data = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    assert data["source"].startswith("pulumi/pulumi-aws provider/cmd/pulumi-resource-aws/bridge-metadata.json")
    assert data["notes"] and data["resources"] and data["properties"]
    if SHARED_MAP.exists():
        assert MAP_FILE.read_bytes() == SHARED_MAP.read_bytes()


@pytest.mark.parametrize("token, tf_type", [
    ("aws:s3/bucket:Bucket", "aws_s3_bucket"),                                   # map says ..._legacy (pre-v7)
    ("aws:s3/bucketV2:BucketV2", "aws_s3_bucket"),
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws_s3_bucket_public_access_block"),
    ("aws:s3/bucketVersioning:BucketVersioning", "aws_s3_bucket_versioning"),    # v7 name: via its V2 twin
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     "aws_s3_bucket_server_side_encryption_configuration"),
    ("aws:ec2/instance:Instance", "aws_instance"),
    ("aws:ec2/securityGroup:SecurityGroup", "aws_security_group"),
    ("aws:eks/cluster:Cluster", "aws_eks_cluster"),
    ("aws:eks/nodeGroup:NodeGroup", "aws_eks_node_group"),
    ("aws:madeup/fancyThing:FancyThing", "aws_madeup_fancy_thing"),             # not in the map: naive rule
])
def test_terraform_types(token, tf_type):
    assert terraform_type(token).name == tf_type


def test_non_aws_tokens_have_no_terraform_type():
    assert terraform_type("kubernetes:apps/v1:Deployment") is None
    assert terraform_type("pulumi:providers:aws") is None


# --- snapshot -> plan JSON -------------------------------------------------------------------------------

def test_plan_shape_names_blocks_and_maps():
    bucket = res("aws:s3/bucket:Bucket", "raw-data", {
        "bucket": "raw", "forceDestroy": True, "tags": {"cost-center": "cc1", "Team": "ml", "ownerEmail": "a@b"},
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                                                       "bucketKeyEnabled": True}},
        "versioning": {"enabled": True},
        "lifecycleRules": [{"enabled": True, "expiration": {"days": 30}}],
    })
    plan = build_plan(snap(bucket))
    doc = plan.document
    assert doc["terraform_version"] and doc["planned_values"]["root_module"]["resources"]
    entry = planned(plan, "aws_s3_bucket.raw-data")
    assert entry["type"] == "aws_s3_bucket" and entry["name"] == "raw-data" and entry["mode"] == "managed"
    values = entry["values"]
    assert values["force_destroy"] is True                                        # snake_case
    assert values["tags"] == {"cost-center": "cc1", "Team": "ml", "ownerEmail": "a@b"}   # a map: keys untouched
    assert values["server_side_encryption_configuration"] == [{"rule": [{
        "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}],
        "bucket_key_enabled": True}]}]                                            # nested objects: 1-element lists
    assert values["versioning"] == [{"enabled": True}]
    assert values["lifecycle_rule"] == [{"enabled": True, "expiration": [{"days": 30}]}]   # renamed (map): plural -> block
    rc = next(r for r in doc["resource_changes"] if r["address"] == "aws_s3_bucket.raw-data")
    assert rc["change"]["actions"] == ["create"] and rc["change"]["after"] == values
    assert plan.urns == {"aws_s3_bucket.raw-data": bucket.urn}


def test_renamed_properties_take_precedence_per_resource_and_nested_type():
    cluster = res("aws:eks/cluster:Cluster", "ml", {
        "roleArn": "arn:role", "enabledClusterLogTypes": ["api"],
        "vpcConfig": {"endpointPublicAccess": False, "subnetIds": ["s-1"]},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:key"}},
    })
    nodes = res("aws:eks/nodeGroup:NodeGroup", "ng", {
        "clusterName": "ml", "taints": [{"key": "gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "scalingConfig": {"desiredSize": 1, "maxSize": 2, "minSize": 0},
    })
    versioning = res("aws:s3/bucketVersioning:BucketVersioning", "v",   # v7 token: the map has its V2 twin
                     {"bucket": "b", "versioningConfiguration": {"status": "Enabled", "mfaDelete": "Disabled"}})
    sse = res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "e",
              {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]})
    plan = build_plan(snap(cluster, nodes, versioning, sse))
    c = planned(plan, "aws_eks_cluster.ml")["values"]
    assert c["vpc_config"] == [{"endpoint_public_access": False, "subnet_ids": ["s-1"]}]
    assert c["encryption_config"] == [{"resources": ["secrets"], "provider": [{"key_arn": "arn:key"}]}]
    n = planned(plan, "aws_eks_node_group.ng")["values"]
    assert n["taint"] == [{"key": "gpu", "value": "true", "effect": "NO_SCHEDULE"}]   # taints -> taint (map)
    assert n["scaling_config"] == [{"desired_size": 1, "max_size": 2, "min_size": 0}]
    v = planned(plan, "aws_s3_bucket_versioning.v")["values"]
    assert v["versioning_configuration"] == [{"status": "Enabled", "mfa_delete": "Disabled"}]
    e = planned(plan, "aws_s3_bucket_server_side_encryption_configuration.e")["values"]
    assert e["rule"] == [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]  # rules -> rule


def test_unknown_token_list_of_objects_is_singularized():
    thing = res("aws:madeup/fancyThing:FancyThing", "t", {"corsRules": [{"allowedOrigins": ["*"]}], "hosts": ["a"]})
    values = planned(build_plan(snap(thing)), "aws_madeup_fancy_thing.t")["values"]
    assert values == {"cors_rule": [{"allowed_origins": ["*"]}], "hosts": ["a"]}


def test_unknowns_are_left_out_and_marked_known_after_apply_secrets_are_placeholders():
    bucket = res("aws:s3/bucket:Bucket", "b", {"tags": {"team": "ml"}})
    pab = res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "b-pab",
              {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": UNKNOWN},
              property_dependencies={"bucket": [bucket.urn]})
    db = res("aws:rds/instance:Instance", "db", {"password": dict(SECRET_MARKER), "vpcSecurityGroupIds": [UNKNOWN, "sg-1"],
                                                  "tags": {"team": "ml", "owner": UNKNOWN}})
    plan = build_plan(snap(bucket, pab, db))
    values = planned(plan, "aws_s3_bucket_public_access_block.b-pab")["values"]
    assert values == {"block_public_acls": True}
    assert change(plan, "aws_s3_bucket_public_access_block.b-pab")["after_unknown"] == {
        "bucket": True, "block_public_policy": True}
    # the dependency is a configuration reference: checkov's graph connects the block to its bucket
    conf = next(r for r in plan.document["configuration"]["root_module"]["resources"]
                if r["address"] == "aws_s3_bucket_public_access_block.b-pab")
    assert conf["expressions"]["bucket"]["references"][0] == "aws_s3_bucket.b.id"
    db_values = planned(plan, "aws_db_instance.db")["values"]
    assert db_values["password"] == SECRET_PLACEHOLDER
    assert db_values["vpc_security_group_ids"] == ["sg-1"]
    assert db_values["tags"] == {"team": "ml"}
    text = json.dumps(plan.document)
    assert UNKNOWN not in text and "1b47061264138c4ac30d75fd1eb44270" not in text


def test_policy_objects_become_json_strings_and_addresses_are_unique():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    a = res("aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "b", "policy": doc})
    b = Resource(urn="urn:pulumi:dev::unit::my:C$aws:s3/bucketPolicy:BucketPolicy::p",
                 type="aws:s3/bucketPolicy:BucketPolicy", name="p", custom=True, inputs={"bucket": "c"})
    weird = res("aws:s3/bucket:Bucket", "9 odd/name", {})
    component = Resource(urn=urn("my:C", "c"), type="my:C", name="c", custom=False, inputs={})
    plan = build_plan(snap(a, b, weird, component))
    assert json.loads(planned(plan, "aws_s3_bucket_policy.p")["values"]["policy"]) == doc
    assert plan.urns == {"aws_s3_bucket_policy.p": a.urn, "aws_s3_bucket_policy.p_2": b.urn,
                         "aws_s3_bucket.r_9_odd_name": weird.urn}


# --- snapshot -> Kubernetes manifests ---------------------------------------------------------------------

def test_manifests_one_per_object_with_api_version_kind_name_and_urn():
    dep = res("kubernetes:apps/v1:Deployment", "api", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"annotations": {"checkov.io/skip1": "CKV_K8S_8=mesh"}, "labels": {"app": "api"}},
        "spec": {"template": {"spec": {"containers": [{"name": "api", "image": UNKNOWN,
                                                       "env": [{"name": "PW", "value": dict(SECRET_MARKER)}]}]}}}})
    svc = res("kubernetes:core/v1:Service", "web", {"metadata": {"name": "web-svc", "namespace": "team-a"},
                                                    "spec": {"ports": [{"port": 80}]}})
    ns = res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": UNKNOWN}})
    cm = res("kubernetes:core/v1:ConfigMap", "cfg", {"metadata": {"namespace": UNKNOWN}, "data": {"a": "b"}},
             property_dependencies={"metadata": [ns.urn]})
    chart = res("kubernetes:helm.sh/v3:Release", "chart", {"chart": "x"})
    patch = res("kubernetes:apps/v1:DeploymentPatch", "patch", {"spec": {}})
    manifests = build_manifests(snap(dep, svc, ns, cm, chart, patch))
    docs = {m["metadata"]["name"]: m for _, m in manifests.documents}
    assert set(docs) == {"api", "web-svc", "ns", "cfg"}          # helm and patches are not manifests
    d = docs["api"]
    assert (d["apiVersion"], d["kind"]) == ("apps/v1", "Deployment")
    assert d["metadata"]["annotations"] == {"checkov.io/skip1": "CKV_K8S_8=mesh", URN_ANNOTATION: dep.urn}
    container = d["spec"]["template"]["spec"]["containers"][0]
    assert "image" not in container and container["env"][0]["value"] == SECRET_PLACEHOLDER
    assert (docs["web-svc"]["apiVersion"], docs["web-svc"]["kind"]) == ("v1", "Service")   # core group -> v1
    assert docs["web-svc"]["metadata"]["namespace"] == "team-a"
    assert docs["cfg"]["metadata"]["namespace"] == "ns"          # an unknown namespace from the program's Namespace
    assert manifests.urns == {"Deployment.default.api": dep.urn, "Service.team-a.web-svc": svc.urn,
                              "Namespace.default.ns": ns.urn, "ConfigMap.ns.cfg": cm.urn}
    assert sorted(manifests.files.values()) == sorted(manifests.urns.values())


def test_manifests_write_yaml_files(tmp_path):
    import yaml

    dep = res("kubernetes:apps/v1:Deployment", "api", {"spec": {"replicas": 1}})
    manifests = build_manifests(snap(dep))
    manifests.write(tmp_path / "m")
    (only,) = list((tmp_path / "m").iterdir())
    assert yaml.safe_load(only.read_text())["kind"] == "Deployment"


# --- checkov's JSON -> findings --------------------------------------------------------------------------

def _check(check_id, resource, file_path, severity=None, guideline=None):
    return {"check_id": check_id, "check_name": f"name of {check_id}", "resource": resource,
            "resource_address": resource if "." in resource and not resource[0].isupper() else None,
            "file_path": file_path, "severity": severity, "guideline": guideline}


def test_map_results_severity_enforcement_and_urns():
    bucket = res("aws:s3/bucket:Bucket", "b", {})
    dep = res("kubernetes:apps/v1:Deployment", "api", {})
    reports = [
        {"check_type": "terraform_plan", "summary": {"parsing_errors": 0},
         "results": {"failed_checks": [_check("CKV2_AWS_6", "aws_s3_bucket.b", "/plan.json"),
                                       _check("CKV_CUSTOM_1", "aws_s3_bucket.b", "/plan.json", "HIGH", "https://x")]}},
        {"check_type": "kubernetes", "summary": {"parsing_errors": 0},
         "results": {"failed_checks": [_check("CKV2_K8S_6", "Pod.default.api.app-api", "/0000-deployment-api.yaml"),
                                       _check("CKV_K8S_8", "Deployment.default.api", "/elsewhere.yaml", "LOW")]}},
    ]
    findings = map_results(reports, snap(bucket, dep), {"aws_s3_bucket.b": bucket.urn},
                           {"0000-deployment-api.yaml": dep.urn}, {"Deployment.default.api": dep.urn})
    got = [(f.id, f.urn, f.enforcement, f.severity, f.source) for f in findings]
    assert got == [("CKV2_AWS_6", bucket.urn, "advisory", "medium", "checkov"),
                   ("CKV_CUSTOM_1", bucket.urn, "mandatory", "high", "checkov"),
                   ("CKV2_K8S_6", dep.urn, "advisory", "medium", "checkov"),
                   ("CKV_K8S_8", dep.urn, "advisory", "low", "checkov")]
    assert findings[0].rule == "CKV2_AWS_6" and findings[0].type == "aws:s3/bucket:Bucket" and findings[0].name == "b"
    assert "name of CKV_CUSTOM_1" in findings[1].message and "https://x" in findings[1].message
    # one framework: a single report object; an empty run: a summary without results
    assert len(map_results(reports[0], snap(bucket), {"aws_s3_bucket.b": bucket.urn}, {})) == 2
    assert map_results({"passed": 0, "failed": 0}, snap(), {}, {}) == []


def test_map_results_refuses_what_it_cannot_place():
    with pytest.raises(TollgateError, match="did not write"):
        map_results([{"check_type": "terraform_plan", "results": {"failed_checks": [
            _check("CKV_AWS_1", "aws_s3_bucket.other", "/plan.json")]}}], snap(), {}, {})
    with pytest.raises(TollgateError, match="could not parse"):
        map_results([{"check_type": "kubernetes", "summary": {"parsing_errors": 1},
                      "results": {"failed_checks": []}}], snap(), {}, {})


def test_missing_checkov_is_an_exit_2_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(tmp_path / "nope" / "checkov"))
    with pytest.raises(TollgateError, match="not an executable"):
        locate_checkov()
    monkeypatch.delenv("TOLLGATE_CHECKOV")
    monkeypatch.setattr(checkov_run, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TollgateError, match=r"checkov not installed; run the README set-up \(creates .venv-checkov\)"):
        locate_checkov()
    snapshot_file = tmp_path / "s.json"
    snap(res("aws:s3/bucket:Bucket", "b", {})).write(snapshot_file)
    code = main(["preview", "--stack", "dev", "--snapshot", str(snapshot_file), "--checkov"])
    assert code == 2 and "checkov not installed" in capsys.readouterr().err


@pytest.mark.parametrize("code, expected", [(3, "checkov failed \\(exit 3\\)"),
                                            (1, "checkov's output is not JSON \\(exit 1\\)")])  # a crash exits 1 too
def test_checkov_failure_is_an_error_with_its_stderr(monkeypatch, tmp_path, code, expected):
    fake = tmp_path / "checkov"
    fake.write_text(f"#!/bin/sh\necho 'Traceback: boom, something broke' >&2\nexit {code}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(fake))
    with pytest.raises(TollgateError, match=expected) as info:
        run_checkov(snap(res("aws:s3/bucket:Bucket", "b", {})), cwd=tmp_path)
    assert "boom, something broke" in str(info.value)


# --- end to end: a captured program through checkov --------------------------------------------------------

PROGRAM = '''
import pulumi_aws as aws
import pulumi_kubernetes as k8s

open_bucket = aws.s3.Bucket("open-bucket")                    # no public access block
closed = aws.s3.Bucket("closed-bucket")
aws.s3.BucketPublicAccessBlock("closed-bucket-pab", bucket=closed.id, block_public_acls=True,
                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)

def deployment(name, annotations=None):
    return k8s.apps.v1.Deployment(name,
        metadata={"name": name, "namespace": "team-a", "annotations": annotations or {}},
        spec={"selector": {"match_labels": {"app": name}}, "replicas": 1,
              "template": {"metadata": {"labels": {"app": name}},
                           "spec": {"containers": [{"name": name, "image": "nginx:1.25"}]}}})  # no probes

deployment("api")
deployment("worker", {"checkov.io/skip1": "CKV_K8S_8=liveness is checked by the job runner"})
'''


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    if os.environ.get("TOLLGATE_SKIP_CHECKOV") == "1":
        pytest.skip("TOLLGATE_SKIP_CHECKOV=1: checkov end-to-end tests skipped on request")
    directory = tmp_path_factory.mktemp("checkov-e2e")
    snapshot = capture_source(directory / "prog", PROGRAM)
    return directory, snapshot, run_checkov(snapshot, cwd=directory / "prog")


def _by(findings, urn_):
    return {f.id for f in findings if f.urn == urn_}


@needs_checkov
def test_checkov_reports_missing_probes_and_public_access_block_on_the_right_urns(e2e):
    _, snapshot, findings = e2e
    urns = {r.name: r.urn for r in snapshot.resources}
    assert all(f.source == "checkov" and f.waiver is None for f in findings)
    assert {"CKV_K8S_8", "CKV_K8S_9"} <= _by(findings, urns["api"])          # liveness / readiness probes
    assert "CKV2_AWS_6" in _by(findings, urns["open-bucket"])                 # S3 bucket without public access block
    assert "CKV2_AWS_6" not in _by(findings, urns["closed-bucket"])           # its block is connected to it
    assert not _by(findings, urns["closed-bucket-pab"]) & {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"}
    api = next(f for f in findings if f.urn == urns["api"] and f.id == "CKV_K8S_8")
    assert (api.type, api.name, api.enforcement, api.severity) == ("kubernetes:apps/v1:Deployment", "api",
                                                                   "advisory", "medium")
    assert "Liveness Probe" in api.message


@needs_checkov
def test_checkov_skip_annotation_removes_that_check_only(e2e):
    _, snapshot, findings = e2e
    worker = next(r.urn for r in snapshot.resources if r.name == "worker")
    assert "CKV_K8S_8" not in _by(findings, worker)
    assert "CKV_K8S_9" in _by(findings, worker)


@needs_checkov
def test_cli_checkov_flag_adds_checkov_findings_and_the_projects_checkov_config_applies(e2e, capsys):
    directory, snapshot, findings = e2e
    open_bucket = next(r.urn for r in snapshot.resources if r.name == "open-bucket")
    assert "CKV2_AWS_62" in _by(findings, open_bucket)
    snapshot_file = directory / "snap.json"
    snapshot.write(snapshot_file)
    project = directory / "configured"
    project.mkdir()
    (project / ".checkov.yaml").write_text("skip-check:\n  - CKV2_AWS_62\n")   # checkov's own config file
    code = main(["preview", "--stack", "dev", "--snapshot", str(snapshot_file), "--checkov", "--format", "json",
                 "--cwd", str(project)])
    out, _ = capsys.readouterr()
    report = json.loads(out)
    checkov = [f for f in report["findings"] if f["source"] == "checkov"]
    assert any(f["id"] == "CKV2_AWS_6" and f["urn"] == open_bucket for f in checkov)
    assert not any(f["id"] == "CKV2_AWS_62" for f in checkov)
    assert code in (0, 1)
    code = main(["preview", "--stack", "dev", "--snapshot", str(snapshot_file), "--format", "json"])
    assert not [f for f in json.loads(capsys.readouterr().out)["findings"] if f["source"] == "checkov"]
