"""Issue 22, "Close the evasions": each way a careless change slipped past the rules is a fixture program
under tests/fixtures/evasions_*/, captured offline and judged; each must give exactly the findings below
(rule, resource, enforcement, a fragment of the message). Before the issue each one exited 0 with none.

Every fixture is a dev stack; the stack's missing budget (budget-required) is left out of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import captured
from tollgate.evaluate import RULES_DIR, RuleSet, judge

M, A = "mandatory", "advisory"
OVER_DEV = "over the dev cap of"
ENV_TAG = 'has environment tag "prod", but its stack\'s environment is "dev"'
UNKNOWN = "is unknown until apply"
LIFECYCLE_AMBIGUOUS = "is computed from several buckets and may or may not be this one"
ROOT_FROM_AMI = "sets no rootBlockDevice, so the AMI's mapping decides its root volume's type"
GPU_IN_DEV = "in dev, where GPU and accelerator types are not allowed"
NO_LIMITS = "lacks requests.cpu, requests.memory, limits.cpu, limits.memory"

EXPECTED = {
    # 1. A prod tag in a dev stack: the stack's environment decides every cap, and the tag is TG001.
    "evasions_env_tag": {
        ("required-tags", name, M, ENV_TAG) for name in ("big", "gpu", "pool", "data", "db")
    } | {
        ("instance-size-cap", "big", M, f"uses m5.8xlarge (32 vCPU), {OVER_DEV} 4 vCPU"),
        ("instance-size-cap", "gpu", M, f"uses p3.2xlarge (8 vCPU), {OVER_DEV} 4 vCPU"),
        ("gpu-approval", "gpu", M, f"uses GPU type p3.2xlarge (1 nvidia v100 GPU) {GPU_IN_DEV}"),
        ("node-pool-bounds", "pool", M, f"allows up to 50 nodes (scalingConfig.maxSize), {OVER_DEV} 5 nodes"),
        ("spot-outside-prod", "pool", M, "runs ON_DEMAND capacity in dev"),
        ("ebs-gp3", "data", M, f"is 16000 GiB, {OVER_DEV} 200 GiB"),
        ("database-size-cap", "db", M, f"uses instanceClass db.r5.4xlarge, {OVER_DEV} *.medium"),
        ("ebs-gp3", "big", A, ROOT_FROM_AMI),
        ("ebs-gp3", "gpu", A, ROOT_FROM_AMI),
    },
    # 2. Secret values: each rule that needs one cannot decide (advisory), never passes silently.
    "evasions_secrets": {
        ("node-pool-bounds", "pool", A, f"scalingConfig.maxSize {UNKNOWN}"),
        ("node-pool-bounds", "workers", A, f"maxSize {UNKNOWN}"),
        ("ebs-gp3", "data", A, f"type {UNKNOWN}"),
        ("ebs-gp3", "data", A, f"size {UNKNOWN}"),
        ("ebs-gp3", "tmpl", A, f"block device /dev/xvda ebs.volumeType {UNKNOWN}"),
        ("k8s-resource-limits", "api", A, "cannot check spec.replicas at preview"),
        ("k8s-resource-limits", "api-hpa", A, "cannot check spec.maxReplicas at preview"),
        ("required-tags", "owned", A, f"cannot decide required tag owner at preview, its value {UNKNOWN}"),
        ("required-tags", "owned", A, f"cannot decide required tag team at preview, its value {UNKNOWN}"),
    },
    # 3. Every way of buying capacity is judged, Kubernetes workloads by shape.
    "evasions_types": {
        ("instance-size-cap", name, M, f"uses p4d.24xlarge (96 vCPU), {OVER_DEV} 4 vCPU")
        for name in ("p4d", "spot", "fleet", "ec2-fleet", "endpoint")
    } | {
        ("gpu-approval", name, M, f"uses GPU type p4d.24xlarge (8 nvidia a100 GPUs) {GPU_IN_DEV}")
        for name in ("p4d", "spot", "fleet", "ec2-fleet", "endpoint")
    } | {
        ("instance-size-cap", "abs", M, f"by instanceRequirements with vcpuCount.max 96, {OVER_DEV} 4 vCPU"),
        ("gpu-approval", "abs", M, f"selects accelerator instance types by instanceRequirements in dev"),
        ("instance-size-cap", "notebook", M, f"uses p3.8xlarge (32 vCPU), {OVER_DEV} 4 vCPU"),
        ("gpu-approval", "notebook", M, f"uses GPU type p3.8xlarge (4 nvidia v100 GPUs) {GPU_IN_DEV}"),
        ("instance-size-cap", "emr-group", M, f"uses r5.24xlarge (96 vCPU), {OVER_DEV} 4 vCPU"),
        ("instance-size-cap", "emr-fleet", M, f"uses r5.24xlarge (96 vCPU), {OVER_DEV} 4 vCPU"),
        ("instance-size-cap", "warehouse", M, f"uses redshift.ra3.16xlarge (48 vCPU), {OVER_DEV} 4 vCPU"),
        ("instance-size-cap", "search", M, f"uses r6g.12xlarge (48 vCPU), {OVER_DEV} 4 vCPU"),
        ("database-size-cap", "docs", M, f"uses instanceClass db.r6g.16xlarge, {OVER_DEV} *.medium"),
        ("database-size-cap", "graph", M, f"uses instanceClass db.r6g.16xlarge, {OVER_DEV} *.medium"),
        ("database-size-cap", "mem", M, f"uses nodeType db.r6g.16xlarge, {OVER_DEV} *.medium"),
        ("k8s-resource-limits", "rc", M, f"container `web` {NO_LIMITS}"),
        ("k8s-resource-limits", "rc", M, f"runs 500 replicas, {OVER_DEV} 3"),
        ("k8s-resource-limits", "rollout", M, f"container `web` {NO_LIMITS}"),
        ("k8s-resource-limits", "rollout", M, f"runs 500 replicas, {OVER_DEV} 3"),
    },
    # 4. A configuration computed from two buckets covers neither for sure; the one made from `kept.id` covers it.
    "evasions_lifecycle": {
        ("bucket-lifecycle", "good", A, LIFECYCLE_AMBIGUOUS),
        ("bucket-lifecycle", "bad", A, LIFECYCLE_AMBIGUOUS),
    },
    # 5. Root disks, RDS storage types, Kubernetes GPUs, a zero-width tag value.
    "evasions_misses": {
        ("ebs-gp3", "web", M, "block device rootBlockDevice uses volume type gp2; set volumeType to gp3"),
        ("ebs-gp3", "bastion", A, ROOT_FROM_AMI),
        ("ebs-gp3", "orders", M, "uses storageType gp2; set storageType to gp3"),
        ("ebs-gp3", "ledger", M, "uses storageType io1; set storageType to gp3"),
        ("gpu-approval", "infer", M, "requests GPUs (nvidia.com/gpu) in dev, where GPUs are not allowed"),
        ("required-tags", "logs", M, "lacks required tags owner;"),
    },
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(RULES_DIR)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_evasion_gives_exactly_its_findings(fixture, rules):
    findings = [f for f in judge(captured(fixture), rules) if f.rule != "budget-required"]
    expected = EXPECTED[fixture]
    unmatched = [f"{f.rule} {f.name} {f.enforcement}: {f.message}" for f in findings
                 if not any((f.rule, f.name, f.enforcement) == e[:3] and e[3] in f.message for e in expected)]
    missing = [e for e in expected
               if not any((f.rule, f.name, f.enforcement) == e[:3] and e[3] in f.message for f in findings)]
    assert not missing, f"expected findings not reported: {missing}"
    assert not unmatched, f"findings not expected: {unmatched}"
    assert len(findings) == len(expected)  # one finding per expectation, none twice


def test_no_secret_text_is_judged_as_a_value():
    """The secret marker never reaches a message as if it were a type, a size or a tag."""
    findings = judge(captured("evasions_secrets"), RuleSet(RULES_DIR))
    assert findings and not any("[secret]" in f.message for f in findings)


# --- every pulumi-aws type that is sized by an instance type, class, node type or volume type is judged ---

# Types with such an input that no rule judges, each with why. A new pulumi-aws type with such an input
# fails test_every_sized_aws_type_is_judged_or_listed until a rule's METADATA names it or it is added here.
NOT_JUDGED = {
    # Not capacity the stack buys: filters, names, templates, metadata.
    "aws:ec2/vpcDhcpOptions:VpcDhcpOptions": "netbios_node_type is a NetBIOS setting, not a size",
    "aws:securityhub/insight:Insight": "a filter on findings, buys nothing",
    "aws:ecs/capacityProvider:CapacityProvider": "allowed/excluded type filters of an ASG the ASG rules judge",
    "aws:lambda/capacityProvider:CapacityProvider": "allowed/excluded type filters, no size of its own",
    "aws:sagemaker/algorithm:Algorithm": "lists the types an algorithm supports, buys nothing",
    "aws:sagemaker/domain:Domain": "default and hidden types offered to users; apps and spaces are billed",
    "aws:sagemaker/userProfile:UserProfile": "default and hidden types offered to a user, buys nothing",
    "aws:redshift/scheduledAction:ScheduledAction": "a scheduled resize; the cluster's own node type is judged",
    "aws:eks/cluster:Cluster": "control-plane and etcd types of EKS Provisioned Control Plane, sold as tiers",
    "aws:ecs/service:Service": "a managed EBS volume per task, sized by the task, not a fleet volume",
    "aws:imagebuilder/containerRecipe:ContainerRecipe": "build-time volumes of an image recipe",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "build-time volumes of an image recipe",
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": "short-lived image build hosts",
    "aws:ec2/ami:Ami": "block device mappings of an image; the instances launched from it are judged",
    "aws:ec2/amiCopy:AmiCopy": "block device mappings of an image copy",
    "aws:ec2/amiFromInstance:AmiFromInstance": "block device mappings of an image",
    "aws:ebs/volumeCopy:VolumeCopy": "a copy of a volume, whose size and type come from its source",
    "aws:outposts/capacityTask:CapacityTask": "capacity on an Outpost already bought",
    "aws:ec2/dedicatedHost:DedicatedHost": "a whole host, priced per host: its type's vCPU are not the bill",
    # Managed services sized by their own node types, which Tollgate's tables do not hold yet.
    "aws:appstream/fleet:Fleet": "AppStream stream.* types: no sourced table yet",
    "aws:appstream/imageBuilder:ImageBuilder": "AppStream stream.* types: no sourced table yet",
    "aws:codebuild/fleet:Fleet": "CodeBuild compute types: no sourced table yet",
    "aws:codecatalyst/devEnvironment:DevEnvironment": "CodeCatalyst dev environment sizes: no sourced table",
    "aws:cloudsearch/domain:Domain": "CloudSearch search.* types: no sourced table yet",
    "aws:dax/cluster:Cluster": "DAX dax.* node types: no sourced table yet",
    "aws:dms/replicationInstance:ReplicationInstance": "DMS dms.* classes: no sourced table yet",
    "aws:drs/replicationConfigurationTemplate:ReplicationConfigurationTemplate": "DRS replication servers",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": "its member groups' node types are judged",
    "aws:finspace/kxCluster:KxCluster": "FinSpace kx.* node types: no sourced table yet",
    "aws:fsx/ontapVolume:OntapVolume": "an FSx volume inside a file system sized by throughput",
    "aws:fsx/openZfsVolume:OpenZfsVolume": "an FSx volume inside a file system sized by throughput",
    "aws:gamelift/fleet:Fleet": "GameLift fleets: no sourced table of their instance types yet",
    "aws:gamelift/gameServerGroup:GameServerGroup": "GameLift game server groups: not priced or judged yet",
    "aws:m2/environment:Environment": "Mainframe Modernization M2.* types: no sourced table yet",
    "aws:memorydb/multiRegionCluster:MultiRegionCluster": "its regional clusters' node types are judged",
    "aws:mq/broker:Broker": "Amazon MQ mq.* types: no sourced table yet",
    "aws:msk/cluster:Cluster": "MSK kafka.* types: no sourced table yet",
    "aws:pipes/pipe:Pipe": "an EventBridge Pipes target's batch job parameters, not capacity",
    "aws:sagemaker/app:App": "Studio apps: ml.* types, but billed per app session; not judged yet",
    "aws:sagemaker/space:Space": "Studio spaces: billed per app session; not judged yet",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "jobs: billed per run; not judged yet",
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": "jobs: billed per run; not judged yet",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "jobs: billed per run; not judged yet",
    "aws:sagemaker/trainingJob:TrainingJob": "jobs: billed per run; not judged yet",
    "aws:timestreaminfluxdb/dbCluster:DbCluster": "Timestream db.influx.* types: no sourced table yet",
    "aws:timestreaminfluxdb/dbInstance:DbInstance": "Timestream db.influx.* types: no sourced table yet",
    "aws:workspacesweb/portal:Portal": "WorkSpaces Web portal tiers, not instances",
}

SIZED_INPUT = re.compile(r"(^|_)(instance_types?|instance_class|node_type|volume_type)$")
_TOKEN = re.compile(r"super\((\w+), __self__\).__init__\(\s*'(aws:[^']+)'")
_RESOURCE = re.compile(r"^class (\w+)\(pulumi\.CustomResource\):", re.M)
_ARGS = re.compile(r"^class (\w+Args):", re.M)
_ARGS_REF = re.compile(r"'(\w+Args)'")
_PARAM = re.compile(r"(\w+): ")


def _classes(text: str, pattern: re.Pattern) -> dict[str, str]:
    starts = list(pattern.finditer(text))
    return {m.group(1): text[m.start():(n.start() if n else len(text))] for m, n in zip(starts, starts[1:] + [None])}


def _signature(chunk: str, method: str) -> str:
    return chunk.split(f"def {method}", 1)[1].split("):", 1)[0] if f"def {method}" in chunk else ""


def sized_aws_types() -> dict[str, list[str]]:
    """Each pulumi-aws resource type with an input (at any depth of its Args) named like an instance type,
    instance class, node type or volume type, read from the installed SDK's generated source."""
    import pulumi_aws

    found: dict[str, list[str]] = {}
    for module in sorted(p for p in Path(pulumi_aws.__file__).parent.iterdir() if (p / "_inputs.py").is_file()):
        args = _classes((module / "_inputs.py").read_text(encoding="utf-8"), _ARGS)

        def names(signature: str, seen: set[str]) -> set[str]:
            out = set(_PARAM.findall(signature))
            for ref in set(_ARGS_REF.findall(signature)) - seen:
                if ref in args:
                    seen.add(ref)
                    out |= names(_signature(args[ref], "__init__"), seen)
            return out

        for path in module.glob("[!_]*.py"):
            for chunk in _classes(path.read_text(encoding="utf-8"), _RESOURCE).values():
                tokens = _TOKEN.findall(chunk)
                hits = sorted(n for n in names(_signature(chunk, "_internal_init"), set()) if SIZED_INPUT.search(n))
                if tokens and hits:
                    found[tokens[0][1]] = hits
    return found


def test_every_sized_aws_type_is_judged_or_listed(rules):
    sized = sized_aws_types()
    assert "aws:ec2/instance:Instance" in sized and "aws:rds/instance:Instance" in sized  # the scan reads the SDK
    judged = {t for t in sized if any(r.applies_to(t) and r.types != ("aws:*",) for r in rules.rules)}
    unaccounted = sorted(set(sized) - judged - set(NOT_JUDGED))
    assert not unaccounted, ("pulumi-aws types with an instance/node/volume type input that no rule's METADATA "
                             f"resource_types names and NOT_JUDGED does not list: {unaccounted}")
    assert not judged & set(NOT_JUDGED), f"listed as not judged, but a rule judges them: {sorted(judged & set(NOT_JUDGED))}"
    assert not set(NOT_JUDGED) - set(sized), f"no longer sized in pulumi-aws: {sorted(set(NOT_JUDGED) - set(sized))}"
