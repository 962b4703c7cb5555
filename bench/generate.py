"""Realistic estates of N resources for the benchmarks, as a Snapshot and as the Pulumi program behind it.

A mixed AWS and Kubernetes estate in plausible proportions (S3 buckets with lifecycle configurations and
public access blocks, EC2 instances, EBS volumes, launch templates, EKS node groups with their roles, Batch
environments and queues, RDS instances behind security groups, IAM roles, budgets; namespaces with quotas
and limit ranges, deployments with services, config maps, cron jobs), deterministic for a seed. About 10 %
of the resources break one rule each, spread over the rules (missing owner tag, a stray environment tag,
oversized instances and databases, a GPU in dev, gp2, oversized volumes, on-demand pools, pool bounds,
idle capacity, no multipart-upload abort, k8s containers without limits, missing cost labels, too many
replicas, a namespace without quota).

Both outputs come from one list of declarations:
* `snapshot(n, seed)`: what tollgate's capture records for the program: camelCase inputs, the default aws
  provider configured from stack config (defaultTags), the explicit kubernetes provider, outputs unknown at
  preview (a namespace's name echoes its input), property dependencies, the secret as a marker, source lines;
* `write_program(directory, n, seed)`: Pulumi.yaml (runtime python and no virtualenv, so tollgate runs it
  with its own interpreter), Pulumi.bench.yaml and __main__.py, one pulumi_aws / pulumi_kubernetes
  constructor per line.

Run: .venv/bin/python bench/generate.py --resources N [--seed S] [--snapshot-out FILE] [--program-out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from tollgate.model import SECRET_MARKER, UNKNOWN, Position, ProviderRef, Resource, Snapshot

PROJECT, STACK, ENVIRONMENT = "fleet", "bench", "dev"
VIOLATION_RATE = 0.10
DEFAULT_TAGS = {"project": PROJECT, "environment": ENVIRONMENT, "team": "platform", "cost-center": "cc-platform"}
STACK_TAGS = {**DEFAULT_TAGS, "owner": "platform@example.com"}
TEAMS = {"platform": "cc-platform", "ml": "cc-ml", "data": "cc-data", "web": "cc-web", "payments": "cc-pay",
         "search": "cc-search"}
SUBNETS = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
KUBE_CONTEXT = "bench-cluster"
# Options the SDK itself adds to a type's registrations (pulumi_aws 7 marks the RDS password secret).
SDK_OPTIONS = {"aws:rds/instance:Instance": {"additionalSecretOutputs": ["password", "passwordWo"]}}
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
K8S_PROVIDER = ProviderRef(f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:kubernetes::cluster",
                           {"context": KUBE_CONTEXT})
HEADER = [
    '"""A generated estate (bench/generate.py): AWS and Kubernetes resources of several teams."""',
    "import pulumi",
    "import pulumi_aws as aws",
    "import pulumi_kubernetes as k8s",
    "",
    'db_password = pulumi.Config().require_secret("dbPassword")',
    f'cluster = k8s.Provider("cluster", context="{KUBE_CONTEXT}")',
    "k8s_opts = pulumi.ResourceOptions(provider=cluster)",
    "protected = pulumi.ResourceOptions(protect=True)",
    "",
]
K8S_PROVIDER_LINE = next(i for i, line in enumerate(HEADER, start=1) if line.startswith("cluster = "))


class Map(dict):
    """A map input (tags, labels, data): its keys are data, written as they are in the program."""


class Secret:
    """The stack's secret config value: `db_password` in the program, the secret marker in the snapshot."""


@dataclass(frozen=True)
class Ref:
    """An output of an earlier declaration: `<var>.<attr>` in the program; at preview, `value` (unknown
    unless the output echoes an input) and a property dependency on that resource."""

    index: int
    attr: str
    value: Any = UNKNOWN


@dataclass
class Declared:
    type: str
    name: str
    inputs: dict[str, Any]                      # camelCase, as the engine sees them (Map, Ref, Secret inside)
    opts: Optional[str] = None                  # the program's ResourceOptions variable
    options: dict[str, Any] = field(default_factory=dict)   # the options as the capture records them
    violation: Optional[str] = None             # what this resource is made to break

    @property
    def urn(self) -> str:
        return f"urn:pulumi:{STACK}::{PROJECT}::{self.type}::{self.name}"

    @property
    def var(self) -> str:
        return self.name.replace("-", "_")


def _tags(team: str, name: str, violation: Optional[str]) -> Map:
    tags = Map({"Name": name, "team": team, "cost-center": TEAMS[team], "owner": f"{team}@example.com"})
    if violation == "untagged":
        del tags["owner"]
    if violation == "stray-environment":
        tags["environment"] = "sandbox"
    return tags


def _labels(team: str, violation: Optional[str], **extra: str) -> Map:
    labels = Map({**extra, "team": team, "cost-center": TEAMS[team]})
    if violation == "unlabelled":
        del labels["cost-center"]
    return labels


def _container(rng: random.Random, team: str, name: str, violation: Optional[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": Map({"cpu": rng.choice(["100m", "250m", "500m"]), "memory": "256Mi"}),
                                 "limits": Map({"cpu": "1", "memory": "512Mi"})}
    if violation == "no-limits":
        del resources["limits"]
    return {"name": "app", "image": f"registry.example.com/{team}/{name}:1.{rng.randrange(40)}",
            "ports": [{"containerPort": 8080}], "resources": resources}


class _Estate:
    """Declares groups of resources until there are N, making every tenth or so break one rule."""

    def __init__(self, n: int, seed: int):
        self.n, self.rng = n, random.Random(seed)
        self.decls: list[Declared] = []
        self.flagged = 0
        self.namespaces: dict[str, int] = {}   # team -> index of its latest namespace
        # archetype: (resources it declares, weight, violations it can carry, builder)
        self.archetypes: dict[str, tuple[int, float, list[str], Callable[[str, Optional[str]], None]]] = {
            "bucket": (3, 5, ["no-abort", "untagged"], self.bucket),
            "instance": (1, 14, ["oversized", "gpu-in-dev", "untagged", "stray-environment"], self.instance),
            "volume": (1, 6, ["gp2", "oversized-volume", "untagged"], self.volume),
            "launch-template": (1, 3, ["gp2", "oversized"], self.launch_template),
            "node-group": (3, 1.5, ["on-demand", "unbounded", "idle"], self.node_group),
            "batch": (2, 1, ["on-demand", "unbounded"], self.batch),
            "database": (2, 2, ["oversized"], self.database),
            "security-group": (1, 5, ["untagged"], self.security_group),
            "role": (2, 3, ["untagged"], self.role),
            "team-budget": (1, 0.5, [], self.team_budget),
            "namespace": (3, 2, ["unlabelled", "no-quota"], self.namespace),
            "app": (2, 10, ["no-limits", "unlabelled", "too-many-replicas"], self.app),
            "config-map": (1, 6, [], self.config_map),
            "cron-job": (1, 2, ["no-limits", "unlabelled"], self.cron_job),
        }

    def add(self, type_: str, name: str, inputs: dict[str, Any], violation: Optional[str] = None,
            opts: Optional[str] = None, options: Optional[dict[str, Any]] = None) -> int:
        if type_.startswith("kubernetes:"):
            opts = opts or "k8s_opts"
        options = {**(options or {}), **SDK_OPTIONS.get(type_, {})}
        self.decls.append(Declared(type_, name, inputs, opts, options, violation))
        return len(self.decls) - 1

    def build(self) -> list[Declared]:
        if self.n:
            self.stack_budget()
        names, weights = list(self.archetypes), [a[1] for a in self.archetypes.values()]
        while len(self.decls) < self.n:
            kind, team = self.rng.choices(names, weights)[0], self.rng.choice(list(TEAMS))
            if kind in ("app", "config-map", "cron-job") and team not in self.namespaces:
                kind = "namespace"   # a team's workloads go in its namespace: create that first
            size, _, violations, builder = self.archetypes[kind]
            if size > self.n - len(self.decls):
                kind = self.rng.choice(["instance", "volume", "security-group"])   # fill the tail one by one
                size, _, violations, builder = self.archetypes[kind]
            violate = bool(violations) and self.flagged < round(VIOLATION_RATE * (len(self.decls) + size))
            self.flagged += bool(violate)
            builder(team, self.rng.choice(violations) if violate else None)
        return self.decls

    def label(self, team: str, role: str) -> str:
        return f"{team}-{role}-{len(self.decls):05d}"

    # --- AWS -------------------------------------------------------------------------------------
    def stack_budget(self) -> None:
        """The whole stack's budget, sized so the estimate stays within it (TG010 and TG011 pass)."""
        self.add("aws:budgets/budget:Budget", "fleet-monthly", {
            "budgetType": "COST", "limitAmount": f"{max(1000, 100 * self.n)}", "limitUnit": "USD",
            "timeUnit": "MONTHLY", "tags": _tags("platform", "fleet-monthly", None),
            "notifications": [{"notificationType": kind, "comparisonOperator": "GREATER_THAN", "threshold": pct,
                               "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": ["finops@example.com"]}
                              for kind, pct in (("ACTUAL", 80), ("FORECASTED", 100))]})

    def team_budget(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "budget")
        self.add("aws:budgets/budget:Budget", name, {
            "budgetType": "COST", "limitAmount": str(self.rng.choice([500, 1000, 2500])), "limitUnit": "USD",
            "timeUnit": "MONTHLY", "tags": _tags(team, name, violation),
            "costFilters": [{"name": "TagKeyValue", "values": [f"user:team${team}"]}],
            "notifications": [{"notificationType": "ACTUAL", "comparisonOperator": "GREATER_THAN", "threshold": 90,
                               "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": [f"{team}@example.com"]}]})

    def bucket(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "lake")
        bucket = self.add("aws:s3/bucket:Bucket", name, {"tags": _tags(team, name, violation)},
                          violation)
        rules: list[dict[str, Any]] = [{"id": "tiering", "status": "Enabled", "filter": {}, "transitions": [
            {"days": 30, "storageClass": "STANDARD_IA"}, {"days": 90, "storageClass": "GLACIER_IR"}]}]
        if violation != "no-abort":
            rules.append({"id": "abort-uploads", "status": "Enabled", "filter": {},
                          "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}})
        self.add("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle",
                 {"bucket": Ref(bucket, "id"), "rules": rules})
        self.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public-access",
                 {"bucket": Ref(bucket, "id"), "blockPublicAcls": True, "blockPublicPolicy": True,
                  "ignorePublicAcls": True, "restrictPublicBuckets": True})

    def instance(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "vm")
        small = ["t3.micro", "t3.small", "t3.medium", "t3.large", "m5.large", "c5.large", "m6i.large"]
        size = {"oversized": "m5.4xlarge", "gpu-in-dev": "g5.xlarge"}.get(violation or "", self.rng.choice(small))
        self.add("aws:ec2/instance:Instance", name, {
            "ami": "ami-0c7217cdde317cfec", "instanceType": size, "subnetId": self.rng.choice(SUBNETS),
            "rootBlockDevice": {"volumeType": "gp3", "volumeSize": 20, "encrypted": True},
            "metadataOptions": {"httpTokens": "required"}, "tags": _tags(team, name, violation)}, violation)

    def volume(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "disk")
        self.add("aws:ebs/volume:Volume", name, {
            "availabilityZone": self.rng.choice(["us-east-1a", "us-east-1b"]), "encrypted": True,
            "type": "gp2" if violation == "gp2" else "gp3",
            "size": 1000 if violation == "oversized-volume" else self.rng.choice([20, 50, 100, 200]),
            "tags": _tags(team, name, violation)}, violation)

    def launch_template(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "template")
        self.add("aws:ec2/launchTemplate:LaunchTemplate", name, {
            "namePrefix": f"{name}-", "imageId": "ami-0c7217cdde317cfec",
            "instanceType": "c5.4xlarge" if violation == "oversized" else self.rng.choice(
                ["t3.medium", "m5.large", "c5.large"]),
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                "volumeType": "gp2" if violation == "gp2" else "gp3", "volumeSize": 30, "encrypted": "true"}}],
            "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
            "tags": _tags(team, name, None)}, violation)

    def _role(self, team: str, name: str, service: str, policy: str, violation: Optional[str]) -> int:
        document = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        role = self.add("aws:iam/role:Role", name, {"assumeRolePolicy": json.dumps(document),
                                                    "tags": _tags(team, name, violation)}, violation)
        self.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{name}-policy",
                 {"role": Ref(role, "name"), "policyArn": f"arn:aws:iam::aws:policy/{policy}"})
        return role

    def role(self, team: str, violation: Optional[str]) -> None:
        self._role(team, self.label(team, "role"), "lambda.amazonaws.com", "ReadOnlyAccess", violation)

    def node_group(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "pool")
        role = self._role(team, f"{name}-role", "ec2.amazonaws.com", "AmazonEKSWorkerNodePolicy", None)
        scaling = {"minSize": 1 if violation == "idle" else 0, "maxSize": 20 if violation == "unbounded" else 3,
                   "desiredSize": 1}
        self.add("aws:eks/nodeGroup:NodeGroup", name, {
            "clusterName": KUBE_CONTEXT, "nodeRoleArn": Ref(role, "arn"), "subnetIds": SUBNETS,
            "instanceTypes": self.rng.choice([["m5.large", "m6i.large"], ["t3.large", "m5.large"], ["c5.large"]]),
            "capacityType": "ON_DEMAND" if violation == "on-demand" else "SPOT", "scalingConfig": scaling,
            "labels": Map({"team": team, "pool": name}), "tags": _tags(team, name, None)}, violation)

    def batch(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "batch")
        spot = violation != "on-demand"
        environment = self.add("aws:batch/computeEnvironment:ComputeEnvironment", name, {
            "type": "MANAGED", "tags": _tags(team, name, None), "computeResources": {
                "type": "SPOT" if spot else "EC2",
                "allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED" if spot else "BEST_FIT_PROGRESSIVE",
                "minVcpus": 0, "maxVcpus": 256 if violation == "unbounded" else 32,
                "instanceTypes": ["m5.large", "c5.large"], "subnets": SUBNETS,
                "securityGroupIds": ["sg-0123456789abcdef0"],
                "instanceRole": "arn:aws:iam::123456789012:instance-profile/batch-instance",
                "tags": _tags(team, name, None)}}, violation)
        self.add("aws:batch/jobQueue:JobQueue", f"{name}-queue", {
            "state": "ENABLED", "priority": 1, "tags": _tags(team, f"{name}-queue", None),
            "computeEnvironmentOrders": [{"order": 1, "computeEnvironment": Ref(environment, "arn")}]})

    def _security_group(self, team: str, name: str, port: int, cidr: str, violation: Optional[str]) -> int:
        return self.add("aws:ec2/securityGroup:SecurityGroup", name, {
            "description": f"{name} ingress", "vpcId": "vpc-0a1b2c3d4e5f60718",
            "ingress": [{"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": [cidr]}],
            "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
            "tags": _tags(team, name, violation)}, violation)

    def security_group(self, team: str, violation: Optional[str]) -> None:
        self._security_group(team, self.label(team, "sg"), self.rng.choice([443, 8080, 9090]), "10.0.0.0/8", violation)

    def database(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "db")
        group = self._security_group(team, f"{name}-sg", 5432, "10.0.0.0/16", None)
        self.add("aws:rds/instance:Instance", name, {
            "engine": "postgres", "engineVersion": "16.4",
            "instanceClass": "db.r6g.2xlarge" if violation == "oversized" else self.rng.choice(
                ["db.t4g.micro", "db.t4g.small", "db.t4g.medium"]),
            "allocatedStorage": self.rng.choice([20, 50, 100]), "storageType": "gp3", "storageEncrypted": True,
            "username": "app", "password": Secret(), "dbSubnetGroupName": "private", "skipFinalSnapshot": True,
            "vpcSecurityGroupIds": [Ref(group, "id")], "tags": _tags(team, name, None)}, violation,
            opts="protected", options={"protect": True})

    # --- Kubernetes ------------------------------------------------------------------------------
    def _metadata(self, team: str, name: str, violation: Optional[str] = None, **extra: str) -> dict[str, Any]:
        ns = self.namespaces[team]
        return {"name": name, "namespace": Ref(ns, "metadata.name", self.decls[ns].inputs["metadata"]["name"]),
                "labels": _labels(team, violation, **extra)}

    def namespace(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "ns")
        self.namespaces[team] = self.add("kubernetes:core/v1:Namespace", name, {
            "metadata": {"name": name, "labels": _labels(team, violation)}},
            violation)
        if violation == "no-quota":
            self.add("kubernetes:core/v1:ConfigMap", f"{name}-settings",
                     {"metadata": self._metadata(team, "settings"), "data": Map({"TEAM": team})})
            self.add("kubernetes:core/v1:ServiceAccount", f"{name}-deployer",
                     {"metadata": self._metadata(team, "deployer")})
            return
        self.add("kubernetes:core/v1:ResourceQuota", f"{name}-quota", {
            "metadata": self._metadata(team, "compute-quota"), "spec": {"hard": Map({
                "requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "16", "limits.memory": "32Gi",
                "pods": "50"})}})
        self.add("kubernetes:core/v1:LimitRange", f"{name}-limits", {
            "metadata": self._metadata(team, "container-limits"), "spec": {"limits": [{
                "type": "Container", "default": Map({"cpu": "500m", "memory": "512Mi"}),
                "defaultRequest": Map({"cpu": "100m", "memory": "256Mi"})}]}})

    def app(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "app")
        selector = Map({"app": name})
        self.add("kubernetes:apps/v1:Deployment", name, {
            "metadata": self._metadata(team, name, violation, app=name),
            "spec": {"replicas": 6 if violation == "too-many-replicas" else self.rng.choice([1, 2, 3]),
                     "selector": {"matchLabels": selector}, "template": {
                         "metadata": {"labels": Map(selector)},
                         "spec": {"containers": [_container(self.rng, team, name, violation)]}}}}, violation)
        self.add("kubernetes:core/v1:Service", f"{name}-svc", {
            "metadata": self._metadata(team, name, app=name),
            "spec": {"type": "ClusterIP", "selector": Map(selector), "ports": [{"port": 80, "targetPort": 8080}]}})

    def config_map(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "config")
        self.add("kubernetes:core/v1:ConfigMap", name, {
            "metadata": self._metadata(team, name),
            "data": Map({"LOG_LEVEL": self.rng.choice(["info", "warn"]), "FEATURE_FLAGS": "search,checkout"})})

    def cron_job(self, team: str, violation: Optional[str]) -> None:
        name = self.label(team, "cron")
        pod = {"restartPolicy": "OnFailure", "containers": [_container(self.rng, team, name, violation)]}
        self.add("kubernetes:batch/v1:CronJob", name, {
            "metadata": self._metadata(team, name, violation),
            "spec": {"schedule": f"{self.rng.randrange(60)} 3 * * *",
                     "jobTemplate": {"spec": {"template": {"spec": pod}}}}}, violation)


def declare(n: int, seed: int = 0) -> list[Declared]:
    """The estate's N declarations (a stack budget first, then groups of resources)."""
    return _Estate(n, seed).build()


# --- the snapshot ---------------------------------------------------------------------------------
def _resolve(value: Any, decls: list[Declared], deps: list[str]) -> Any:
    if isinstance(value, Ref):
        deps.append(decls[value.index].urn)
        return value.value
    if isinstance(value, Secret):
        return dict(SECRET_MARKER)
    if isinstance(value, dict):
        return {k: _resolve(v, decls, deps) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, decls, deps) for v in value]
    return value


def _k8s_header(type_: str) -> dict[str, str]:
    """What pulumi_kubernetes adds to every object's inputs: apiVersion and kind from the type token."""
    _, group_version, kind = type_.split(":")
    group, api_version = group_version.split("/")
    return {"apiVersion": api_version if group == "core" else group_version, "kind": kind}


def snapshot(n: int, seed: int = 0) -> Snapshot:
    """The Snapshot tollgate's capture makes of `write_program(dir, n, seed)` under `--stack bench`."""
    decls = declare(n, seed)
    aws_version = version("pulumi_aws")
    aws = ProviderRef(f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::default_{aws_version.replace('.', '_')}",
                      {"region": "us-east-1", "defaultTags": {"tags": dict(DEFAULT_TAGS)}, "version": aws_version})
    resources = [
        Resource(STACK_URN, "pulumi:pulumi:Stack", f"{PROJECT}-{STACK}", False, {}),
        Resource(aws.urn, "pulumi:providers:aws", aws.urn.rsplit("::", 1)[1], True, aws.inputs),
        Resource(K8S_PROVIDER.urn, "pulumi:providers:kubernetes", "cluster", True, K8S_PROVIDER.inputs,
                 parent=STACK_URN, source=Position("__main__.py", K8S_PROVIDER_LINE)),
    ]
    for line, decl in enumerate(decls, start=len(HEADER) + 1):
        inputs, property_dependencies, dependencies = {}, {}, []
        for key, value in decl.inputs.items():
            deps: list[str] = []
            inputs[key] = _resolve(value, decls, deps)
            if deps:
                property_dependencies[key] = sorted(set(deps))
                dependencies += deps
        k8s = decl.type.startswith("kubernetes:")
        if k8s:
            inputs.update(_k8s_header(decl.type))
        resources.append(Resource(decl.urn, decl.type, decl.name, True, inputs, parent=STACK_URN,
                                  provider=K8S_PROVIDER if k8s else aws, dependencies=sorted(set(dependencies)),
                                  property_dependencies=property_dependencies, options=dict(decl.options),
                                  source=Position("__main__.py", line)))
    return Snapshot(PROJECT, STACK, resources, ENVIRONMENT, dict(STACK_TAGS))


# --- the program ----------------------------------------------------------------------------------
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _python(value: Any, decls: list[Declared]) -> str:
    """A value as the program writes it: snake_case property names (the SDK turns them into camelCase)."""
    if isinstance(value, Ref):
        return f"{decls[value.index].var}.{value.attr}"
    if isinstance(value, Secret):
        return "db_password"
    if isinstance(value, dict):
        key = str if isinstance(value, Map) else _snake
        return "{" + ", ".join(f"{key(k)!r}: {_python(v, decls)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_python(v, decls) for v in value) + "]"
    return repr(value)


def _sdk_class(type_: str) -> str:
    """`aws:s3/bucket:Bucket` -> `aws.s3.Bucket`; `kubernetes:apps/v1:Deployment` -> `k8s.apps.v1.Deployment`."""
    package, module, name = type_.split(":")
    if package == "kubernetes":
        return f"k8s.{module.replace('/', '.')}.{name}"
    return f"aws.{module.split('/')[0]}.{name}"


def write_program(directory: Path, n: int, seed: int = 0) -> Path:
    """A Pulumi Python project declaring the estate; `tollgate preview --cwd DIR --stack bench` runs it."""
    decls = declare(n, seed)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n"
                                           f"description: a generated estate of {n} resources (seed {seed})\n")
    config = {"aws:region": "us-east-1", "aws:defaultTags": {"tags": DEFAULT_TAGS},
              "tollgate:environment": ENVIRONMENT, "tollgate:tags": STACK_TAGS,
              f"{PROJECT}:dbPassword": {"secure": "v1:c2VjcmV0LWZvci10aGUtYmVuY2g="}}
    (directory / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    (directory / "requirements.txt").write_text("pulumi>=3.200,<4\npulumi-aws>=7.0,<8\npulumi-kubernetes>=4.0,<5\n")
    lines = list(HEADER)
    for decl in decls:
        args = "".join(f", {_snake(k)}={_python(v, decls)}" for k, v in decl.inputs.items())
        opts = f", opts={decl.opts}" if decl.opts else ""
        lines.append(f"{decl.var} = {_sdk_class(decl.type)}({decl.name!r}{args}{opts})")
    (directory / "__main__.py").write_text("\n".join(lines) + "\n")
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshot-out", type=Path)
    parser.add_argument("--program-out", type=Path)
    args = parser.parse_args()
    if args.snapshot_out:
        snapshot(args.resources, args.seed).write(args.snapshot_out)
    if args.program_out:
        write_program(args.program_out, args.resources, args.seed)
    decls = declare(args.resources, args.seed)
    kinds: dict[str, int] = {}
    for decl in decls:
        kinds[decl.type] = kinds.get(decl.type, 0) + 1
    print(f"{len(decls)} resources, {sum(d.violation is not None for d in decls)} made to break a rule")
    for type_, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {type_}")


if __name__ == "__main__":
    main()
