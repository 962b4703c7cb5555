"""Hypothesis strategies for hostile Tollgate inputs (tests/test_properties.py).

A snapshot is drawn as the JSON document `tollgate preview --snapshot FILE` reads: resources of every type
a rule or the cost estimator looks at (and invented ones), with inputs that are sometimes plausible (so the
rules' and pricers' real paths run) and sometimes hostile: wrong types, huge strings, deep nesting, odd
Unicode (control characters, RTL marks, noncharacters; never lone surrogates, which are not text), NaN,
infinities and huge numbers, Pulumi's unknown sentinels, secrets in the snapshot's secret form, provider
defaultTags as objects, JSON strings or garbage.

Every secret carries a plaintext starting with SECRET_PREFIX (a snapshot never should, but a hand-written
or foreign file can): no output may contain that prefix.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from tollgate.cost import free
from tollgate.cost.estimate import PRICERS
from tollgate.cost.usage import KEYS as USAGE_KEYS
from tollgate.evaluate import RULES_DIR, RuleSet
from tollgate.evaluate.rules import taggable_types
from tollgate.model import MAX_DEPTH, SECRET_SIG, SIG_KEY

SECRET_PREFIX = "TGSECRET"
# rego/lib.rego unknown_sentinels: Pulumi's values unknown at preview, one per type.
UNKNOWNS = ("04da6b54-80e4-46f7-96ec-b56ff0331ba9", "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
            "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
            "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", "030794c1-ac77-496b-92df-f27374a8bd58",
            "e48ece36-62e2-4504-bad9-02848725956a")
# A secret as a foreign file may hold it: the snapshot's secret form, its plaintext beside the signature.
SECRET_MARKER = {SIG_KEY: SECRET_SIG, "plaintext": f"{SECRET_PREFIX}0PLAIN"}
TODAY = date(2031, 6, 15)  # the waivers' "today": fixed, so runs are reproducible

REQUIRED_TAGS = ("project", "environment", "team", "cost-center", "owner")
ENVIRONMENTS = ("dev", "staging", "prod", "qa", "", "DEV", "prod ")
INSTANCE_TYPES = ("t3.micro", "t3.medium", "m5.large", "m5.xlarge", "c5.large", "c5.24xlarge", "g4dn.xlarge",
                  "g5.xlarge", "p3.8xlarge", "p4d.24xlarge", "m5.nosuch", "optimal", "m5", "")
DB_CLASSES = ("db.t3.medium", "db.m5.large", "db.r5.24xlarge", "db.r5.4xlarge.tpc2.mem2x", "db.serverless",
              "db.t4g.nano", "db.metal", "cache.m5.large", "cache.t4g.micro", "cache.r6g.12xlarge", "db..large", "db")
NUMBERS = (0, 1, 2, 3, 5, 6, 10, 11, 50, 51, 64, 65, 100, 200, 201, 2048, 2049, 16384, 16385, -1, -5, 0.5, 1.5,
           "3", "0", "1e3", 1e300, 2 ** 53 + 1)
BUCKET_NAMES = ("logs", "raw", "lake-raw", UNKNOWNS[0])
NAMESPACES = ("ml", "default", "team-a", "", UNKNOWNS[0])
ADDRESSES = ("1.2.3.4", "10.0.0.1", UNKNOWNS[0])
GROUP_NAMES = ("workers", "edge", UNKNOWNS[0])
STORAGE_CLASSES = ("STANDARD_IA", "GLACIER", "DEEP_ARCHIVE", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR",
                   "STANDARD", "EXPRESS", "")
CRONS = ("0 8 * * MON-FRI", "0 20 * * *", "*/15 * * * *", "0 0 1 * *", "bad cron", "0 25 * * *", "0 8 * * 1-5/2",
         "0 8 * * SUN,SAT", "60 * * * *", "0 8 ? * 7", "")

# Strings a renderer, a shell or a parser may choke on.
NASTY_PIECES = ("", " ", "\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029",
                "\u202e", "\u200f", "\u2066", "\u200b", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "\U0001f4a5",
                "e\u0301", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u05e2\u05d1\u05e8\u05d9\u05ea",
                "\u4e2d\u6587", "|", "||", "<script>alert(1)</script>", "]]>", "<![CDATA[", "&amp;", "&#0;", "`",
                "```", "\r\n", "\r", "\n", "\t", "%s", "%v", "%d", "{}", "{0}", "${x}", "::", "urn:pulumi:", "\\",
                '"', "'", "null", "NaN", "[secret]", "<!--", "-->", "**", "_", "#", "@here", "C:\\x", "../..")


def _text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Any text but lone surrogates: Hypothesis's characters() include control and unassigned code points."""
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


nasty_text = st.one_of(
    st.sampled_from(NASTY_PIECES),
    _text(),
    st.lists(st.one_of(st.sampled_from(NASTY_PIECES), _text(4)), min_size=2, max_size=5).map("".join),
    st.builds(lambda s, n: (s or "x") * n, _text(3), st.sampled_from((1_000, 5_000, 40_000))),  # huge
)

short_text = st.one_of(st.sampled_from(NASTY_PIECES), _text())
huge_numbers = st.sampled_from((2 ** 63 - 1, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30, 10 ** 300,
                                1.7976931348623157e308, 5e-324, -0.0, float("nan"), float("inf"), float("-inf")))


@st.composite
def secrets(draw: st.DrawFn) -> dict[str, Any]:
    """A secret in the snapshot's form, with a plaintext a foreign file might carry beside the signature."""
    token = f"{SECRET_PREFIX}{draw(st.integers(0, 10 ** 9))}PLAIN"
    shape = draw(st.sampled_from(("value", "plaintext", "ciphertext", "key", "nested", "bare")))
    marker: dict[str, Any] = {SIG_KEY: SECRET_SIG}
    if shape == "key":
        marker[token] = token
    elif shape == "nested":
        marker["value"] = {"tags": {"owner": token}, "list": [token, {"deep": token}]}
    elif shape != "bare":
        marker[shape] = token
    return marker


plain_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2 ** 40), 2 ** 40), huge_numbers,
    st.floats(allow_nan=True, allow_infinity=True), nasty_text, st.sampled_from(UNKNOWNS),
    st.sampled_from(NUMBERS), st.sampled_from(INSTANCE_TYPES),
)
leaves = st.one_of(plain_leaves, secrets())
PROPERTY_KEYS = ("tags", "type", "size", "instanceType", "instanceTypes", "capacityType", "scalingConfig",
                 "computeResources", "metadata", "labels", "spec", "containers", "resources", "status", "rules",
                 "bucket", "environment", "team", "cost-center", "minSize", "maxSize", "desiredSize", "value")
keys = st.one_of(st.sampled_from(PROPERTY_KEYS), st.sampled_from(REQUIRED_TAGS), nasty_text)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3))


hostile = st.recursive(leaves, _containers, max_leaves=5)


def _nest(leaf: Any, depth: int, as_dict: bool) -> Any:
    for _ in range(depth):
        leaf = {"spec": leaf} if as_dict else [leaf]
    return leaf


deep = st.builds(_nest, leaves, st.integers(1, MAX_DEPTH - 16), st.booleans())  # 16: room for the fields above it
# JSON text: a resource's string input is a string whatever it reads like, so these hold no secret (a secret in
# JSON text counts only in a provider's inputs, which are JSON-decoded: see provider_inputs).
json_strings = st.builds(json.dumps, st.one_of(st.recursive(plain_leaves, _containers, max_leaves=5), st.builds(
    lambda t: {"tags": t}, st.dictionaries(st.sampled_from(REQUIRED_TAGS), st.one_of(st.sampled_from(ENVIRONMENTS),
                                                                                     plain_leaves)))))
anything = st.one_of(leaves, leaves, leaves, hostile, deep, json_strings)


def v(*pools: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A value for a field a rule reads: mostly from its plausible pools, sometimes anything at all."""
    plausible = st.sampled_from([x for pool in pools for x in pool])
    return st.one_of(plausible, plausible, plausible, anything)


def some(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any subset of these fields."""
    return st.fixed_dictionaries({}, optional=fields)


def lists_of(element: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(element, max_size=max_size), anything)


def complete_tags(env: Any = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "project": st.sampled_from(("lake", "ml")), "environment": env or st.sampled_from(ENVIRONMENTS),
        "team": st.sampled_from(("data", " ", "")), "cost-center": st.just("cc-1"),
        "owner": st.sampled_from(("a@example.com", UNKNOWNS[4]))})


tags = st.one_of(
    complete_tags(), complete_tags(),
    st.dictionaries(st.one_of(st.sampled_from(REQUIRED_TAGS), nasty_text), v(ENVIRONMENTS), max_size=6),
    st.sampled_from(UNKNOWNS), secrets(), anything,
)
labels = st.one_of(st.fixed_dictionaries({}, optional={"team": v(("data", "")), "cost-center": v(("cc-1",)),
                                                      "environment": v(ENVIRONMENTS)}), anything)
num = v(NUMBERS)
container = st.one_of(some({
    "name": v(("app", "")),
    "resources": st.one_of(some({"requests": some({"cpu": v(("100m", "", " ")), "memory": v(("128Mi",))}),
                                 "limits": some({"cpu": v(("1",)), "memory": v(("1Gi", ""))})}), anything)}), anything)
pod_spec = some({"containers": lists_of(container), "initContainers": lists_of(container)})
workload_spec = some({"replicas": num, "template": some({"spec": pod_spec, "metadata": some({"labels": labels})}),
                      "jobTemplate": some({"spec": some({"template": some({"spec": pod_spec})})})})
metadata = some({"name": v(NAMESPACES), "namespace": v(NAMESPACES), "labels": labels})
ebs = some({"volumeSize": num, "volumeType": v(("gp2", "gp3", "io1", "io2", "standard", "st1")), "iops": num,
            "throughput": num})
lifecycle_rule = st.one_of(some({
    "status": v(("Enabled", "Disabled")), "enabled": v((True, False)),
    "transitions": lists_of(some({"days": num, "storageClass": v(STORAGE_CLASSES)})),
    "expiration": st.one_of(some({"days": num, "date": v(("2030-01-01",))}), anything),
    "abortIncompleteMultipartUpload": some({"daysAfterInitiation": num}),
    "abortIncompleteMultipartUploadDays": num,
    "prefix": v(("", "logs/")), "filter": st.one_of(some({"prefix": v(("", "tmp/"))}), anything)}), anything)
notification = st.one_of(some({
    "notificationType": v(("ACTUAL", "FORECASTED", "X")), "comparisonOperator": v(("GREATER_THAN", "LESS_THAN",
                                                                                    "EQUAL_TO")),
    "threshold": num, "thresholdType": v(("PERCENTAGE", "ABSOLUTE_VALUE"))}), anything)
node_group_fields = {
    "instanceTypes": lists_of(v(INSTANCE_TYPES)), "capacityType": v(("SPOT", "ON_DEMAND")),
    "scalingConfig": st.one_of(some({"minSize": num, "maxSize": num, "desiredSize": num}), anything),
    "diskSize": num, "tags": tags}
batch_fields = {
    "type": v(("MANAGED", "UNMANAGED")), "tags": tags,
    "computeResources": st.one_of(some({
        "type": v(("SPOT", "EC2", "FARGATE", "FARGATE_SPOT")), "instanceTypes": lists_of(v(INSTANCE_TYPES)),
        "minVcpus": num, "maxVcpus": num, "desiredVcpus": num}), anything)}
asg_fields = {
    "minSize": num, "maxSize": num, "desiredCapacity": num, "name": v(GROUP_NAMES), "tags": anything,
    "mixedInstancesPolicy": st.one_of(some({
        "launchTemplate": some({"overrides": lists_of(some({"instanceType": v(INSTANCE_TYPES)}))}),
        "instancesDistribution": some({"onDemandBaseCapacity": num, "onDemandPercentageAboveBaseCapacity": num})}),
        anything)}
k8s_workload = {"metadata": metadata, "spec": st.one_of(workload_spec, pod_spec, anything)}

# Every type a rule or a pricer looks at, with the fields it reads.
SHAPES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "aws:ec2/instance:Instance": {
        "instanceType": v(INSTANCE_TYPES), "tags": tags, "rootBlockDevice": ebs, "ebsBlockDevices": lists_of(ebs),
        "instanceMarketOptions": st.one_of(some({"marketType": v(("spot",))}), anything)},
    "aws:ec2/launchTemplate:LaunchTemplate": {
        "instanceType": v(INSTANCE_TYPES), "tags": tags,
        "blockDeviceMappings": lists_of(st.one_of(some({"deviceName": v(("/dev/xvda",)), "ebs": ebs}), anything)),
        "instanceMarketOptions": st.one_of(some({"marketType": v(("spot",))}), anything)},
    "aws:eks/nodeGroup:NodeGroup": node_group_fields,
    "aws:batch/computeEnvironment:ComputeEnvironment": batch_fields,
    "aws:autoscaling/group:Group": asg_fields,
    "aws:autoscaling/schedule:Schedule": {
        "recurrence": v(CRONS), "minSize": num, "maxSize": num, "desiredCapacity": num,
        "autoscalingGroupName": v(GROUP_NAMES)},
    "aws:rds/instance:Instance": {
        "instanceClass": v(DB_CLASSES), "engine": v(("postgres", "mysql")), "multiAz": v((True, False)),
        "storageType": v(("gp2", "gp3", "io1")), "iops": num, "allocatedStorage": num, "tags": tags},
    "aws:rds/clusterInstance:ClusterInstance": {"instanceClass": v(DB_CLASSES), "tags": tags},
    "aws:rds/cluster:Cluster": {"dbClusterInstanceClass": v(DB_CLASSES), "tags": tags},
    "aws:elasticache/cluster:Cluster": {"nodeType": v(DB_CLASSES), "numCacheNodes": num, "tags": tags},
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "nodeType": v(DB_CLASSES), "numNodeGroups": num, "replicasPerNodeGroup": num, "numCacheClusters": num},
    "aws:ebs/volume:Volume": {"type": v(("gp2", "gp3", "io1", "io2", "standard", "sc1")), "size": num,
                              "iops": num, "throughput": num, "tags": tags},
    "aws:s3/bucket:Bucket": {"bucket": v(BUCKET_NAMES), "tags": tags, "lifecycleRules": lists_of(lifecycle_rule)},
    "aws:s3/bucketV2:BucketV2": {"bucket": v(BUCKET_NAMES), "tags": tags},
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
        "bucket": v(BUCKET_NAMES), "rules": lists_of(lifecycle_rule)},
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {
        "bucket": v(BUCKET_NAMES), "rules": lists_of(lifecycle_rule)},
    "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration": {
        "bucket": v(BUCKET_NAMES), "status": v(("Enabled", "Disabled")), "filter": anything,
        "tierings": lists_of(some({"accessTier": v(("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS")), "days": num}))},
    "aws:budgets/budget:Budget": {
        "budgetType": v(("COST", "USAGE")), "limitAmount": v(("100", "0", "1e9", "abc", "100.50")),
        "limitUnit": v(("USD",)), "timeUnit": v(("MONTHLY", "DAILY")), "notifications": lists_of(notification),
        "costFilters": anything, "tags": tags},
    "aws:ec2/natGateway:NatGateway": {"allocationId": v(("eipalloc-1",)), "tags": tags,
                                      "secondaryAllocationIds": anything},
    "aws:ec2/eip:Eip": {"instance": v(("i-1", "")), "networkInterface": v(("eni-1",)), "address": v(ADDRESSES),
                        "tags": tags},
    "aws:ec2/eipAssociation:EipAssociation": {"allocationId": v(("eipalloc-1",)), "publicIp": v(ADDRESSES)},
    "aws:lb/loadBalancer:LoadBalancer": {"loadBalancerType": v(("application", "network")), "subnetMappings": anything,
                                         "tags": tags},
    "aws:alb/loadBalancer:LoadBalancer": {"loadBalancerType": v(("application",)), "tags": tags},
    "aws:transfer/server:Server": {"endpointDetails": anything, "tags": tags},
    "aws:eks/cluster:Cluster": {"tags": tags, "version": anything},
    "aws:lambda/function:Function": {
        "memorySize": num, "architectures": lists_of(v(("arm64", "x86_64"))), "tags": tags,
        "ephemeralStorage": st.one_of(some({"size": num}), anything)},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"vpcEndpointType": v(("Gateway", "Interface")), "tags": tags},
    "aws:iam/role:Role": {"tags": tags, "assumeRolePolicy": anything},
    "kubernetes:core/v1:Namespace": {"metadata": metadata},
    "kubernetes:core/v1:ResourceQuota": {"metadata": metadata, "spec": anything},
    "kubernetes:core/v1:LimitRange": {"metadata": metadata},
    "kubernetes:apps/v1:Deployment": k8s_workload,
    "kubernetes:apps/v1:StatefulSet": k8s_workload,
    "kubernetes:apps/v1:DaemonSet": k8s_workload,
    "kubernetes:apps/v1beta2:ReplicaSet": k8s_workload,
    "kubernetes:extensions/v1beta1:Deployment": k8s_workload,
    "kubernetes:batch/v1:Job": k8s_workload,
    "kubernetes:batch/v1:CronJob": k8s_workload,
    "kubernetes:core/v1:Pod": k8s_workload,
    "kubernetes:apps/v1:DeploymentPatch": k8s_workload,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": {"metadata": metadata, "spec": some({"maxReplicas": num})},
    "kubernetes:core/v1:Service": {"metadata": metadata, "spec": some({"type": v(("LoadBalancer", "ClusterIP"))})},
    "kubernetes:core/v1:PersistentVolumeClaim": {"metadata": metadata},
    "tollgate:components:TieredBucket": {"usage": st.one_of(st.dictionaries(st.sampled_from(sorted(USAGE_KEYS)),
                                                                             num, max_size=3), anything)},
    "tollgate:components:SpotComputeEnvironment": {"usage": st.dictionaries(st.sampled_from(sorted(USAGE_KEYS)), num)},
}
INVENTED_TYPES = ("aws:made/up:Thing", "kubernetes:apps/v1:Deployment:extra", "kubernetes:", "kubernetes:x:Pod",
                  "aws:", "", "::", "pulumi:providers:aws", "random:index/randomId:RandomId",
                  "aws:s3/bucket:Bucket\u202e", "\u4e2d:\u6587/x:Y")
TAGGABLE_SAMPLE = tuple(sorted(taggable_types())[::37])  # a spread of real taggable AWS types
# Every type a pricer or the free list names, and every type pattern of a rule's METADATA resource_types
# (`*` any text) filled in, so a rule added to rego/ is fed its types without a change here.
COST_TYPES = tuple(sorted((set(PRICERS) | set(free.BY_TYPE) | set(free.K8S_BILLED)
                           | {prefix + "x" for prefix, _ in free.BY_PREFIX})
                          - {"pulumi:pulumi:Stack"}))  # one root stack at most: snapshot_docs adds it
RULE_PATTERNS = tuple(sorted({t for rule in RuleSet(RULES_DIR).rules for t in rule.types}))
FILLERS = ("v1", "v1beta1", "v2beta2", "", "x/y:z", "\u202e", "*", "v1:Extra")
types = st.one_of(st.sampled_from(sorted(SHAPES)), st.sampled_from(sorted(SHAPES)), st.sampled_from(COST_TYPES),
                  st.builds(lambda p, f: p.replace("*", f), st.sampled_from(RULE_PATTERNS), st.sampled_from(FILLERS)),
                  st.sampled_from(TAGGABLE_SAMPLE + INVENTED_TYPES), nasty_text)

# Properties through which one resource depends on another (propertyDependencies keys the rules and pricers read).
LINKS = ("bucket", "launchTemplate", "autoscalingGroupName", "allocationId", "publicIp", "subnetMappings",
         "metadata", "namespace", "mixedInstancesPolicy", "endpointDetails", "secondaryAllocationIds")
names = st.one_of(st.sampled_from(("raw", "logs", "pool-gpu-1", "workers", "nat", "ns", "main")), nasty_text)


def _properties(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    shaped = some(fields)
    extra = st.dictionaries(keys, anything, max_size=3)
    return st.one_of(shaped, shaped, shaped, st.builds(lambda a, b: {**b, **a}, shaped, extra),
                     st.dictionaries(keys, anything, max_size=5))


# Built once: a strategy built per draw costs Hypothesis more than drawing from it.
PROPERTIES = {type_: _properties(fields) for type_, fields in SHAPES.items()}
OTHER_PROPERTIES = _properties({"tags": tags})
K8S_PROPERTIES = _properties({"metadata": metadata,
                               "spec": st.one_of(workload_spec, pod_spec, some({"maxReplicas": num}), anything)})


def properties_of(type_: str) -> st.SearchStrategy[dict[str, Any]]:
    if type_ in PROPERTIES:  # (not `PROPERTIES.get(type_) or`: a strategy's truth is its repr, kilobytes here)
        return PROPERTIES[type_]
    return K8S_PROPERTIES if type_.startswith("kubernetes:") else OTHER_PROPERTIES
default_tags = st.one_of(
    st.builds(lambda t: {"tags": t}, tags), st.builds(lambda t: json.dumps({"tags": t}), tags),
    st.builds(lambda s: json.dumps({"tags": s}), secrets()), st.builds(json.dumps, secrets()),
    st.sampled_from(("{not json", "[1, 2", "", "null", "[]", "{}", '{"tags": "x"}', '{"tags": null}')),
    st.sampled_from(UNKNOWNS), secrets(), anything)
provider_inputs = some({"region": v(("us-east-1", "eu-west-1")), "defaultTags": default_tags,
                        "namespace": v(NAMESPACES), "secretKey": secrets(), "token": st.builds(json.dumps, secrets()),
                        "extra": anything})
options = st.dictionaries(keys, anything, max_size=3)
sources = st.fixed_dictionaries({
    "file": st.one_of(st.sampled_from(("__main__.py", "components/x.py", "my stack/a b.py", "%20#x.py")), nasty_text),
    "line": st.sampled_from((1, 12, 0, -3, 10 ** 6))})
PROVIDERS = ("aws", "kubernetes", "\u202eodd")
custom = st.sampled_from((True, True, True, False))


@st.composite
def resource_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A resource; its URN ("urn": True for a well-formed one, else the text to use) is made by snapshot_docs."""
    type_ = draw(types)
    doc: dict[str, Any] = {"urn": draw(urn_kinds), "type": type_, "name": draw(names), "custom": draw(custom),
                           "inputs": draw(properties_of(type_))}
    if draw(st.booleans()):
        doc["provider"] = {"urn": (draw(st.sampled_from(PROVIDERS)), draw(names)), "inputs": draw(provider_inputs)}
    if draw(st.integers(0, 9)) == 0:
        doc["options"] = draw(options)
    if draw(st.booleans()):
        doc["source"] = draw(sources)
    return doc


urn_kinds = st.one_of(st.just(True), st.just(True), st.just(True), nasty_text)


@st.composite
def snapshot_docs(draw: st.DrawFn, min_resources: int = 60, max_resources: int = 100) -> dict[str, Any]:
    """A snapshot file's document: well formed (Snapshot.from_dict accepts it), hostile in its values."""
    project = draw(st.one_of(st.sampled_from(("lake", "tollgate")), nasty_text.filter(bool)))
    stack = draw(st.one_of(st.sampled_from(("dev", "staging", "prod", "qa")), nasty_text.filter(bool)))
    # Hypothesis gives one test case a bounded amount of choices, about 40 resources' worth: the rest of the
    # snapshot recombines those (type and inputs of one, name of another, provider and position of others),
    # which also puts one type's inputs on another type now and then.
    drawn = draw(st.lists(resource_docs(), min_size=min(20, min_resources), max_size=min(40, max_resources)))
    resources = [dict(r) for r in drawn]
    one = st.integers(0, len(drawn) - 1)
    for _ in range(draw(st.integers(min_resources, max_resources)) - len(drawn)):
        body, name, other = drawn[draw(one)], drawn[draw(one)], drawn[draw(one)]
        r = dict(body, name=name["name"], urn=name["urn"])
        if draw(st.integers(0, 4)) == 0:
            r["type"] = other["type"]
        for key in ("provider", "source", "options"):
            r.pop(key, None)
            if key in other:
                r[key] = other[key]
        resources.append(r)
    providers: dict[str, Any] = {}
    for i, r in enumerate(resources):
        urn = f"urn:pulumi:{stack}::{project}::{r['type']}::{r['name']}" if r["urn"] is True else r["urn"]
        r["urn"] = f"{urn}#{i}"  # unique, as in every Pulumi snapshot
        if "provider" in r:  # one provider, one set of inputs (Snapshot.from_dict refuses two)
            kind, name = r["provider"]["urn"]
            urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:{kind}::{name}"
            r["provider"] = {"urn": urn, "inputs": providers.setdefault(urn, r["provider"]["inputs"])}
    if draw(st.booleans()):  # at most one root stack resource, as in every Pulumi snapshot
        resources.insert(0, {"urn": f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}",
                             "type": "pulumi:pulumi:Stack", "name": f"{project}-{stack}", "custom": False,
                             "inputs": {}})
    urns = [r["urn"] for r in resources]
    # Links between resources: parents (cycles included) and property dependencies, some dangling. (Indexes,
    # not sampled_from(urns): Hypothesis works out the repr of a strategy built per draw, and URNs are long.)
    index = st.integers(0, len(urns) - 1)
    pick = st.one_of(index, index, nasty_text).map(lambda x: urns[x] if isinstance(x, int) else x)
    links = st.dictionaries(st.sampled_from(LINKS), st.lists(pick, max_size=3), max_size=2)
    for r in resources:
        if draw(st.integers(0, 3)) == 0:
            r["parent"] = draw(pick)
        if draw(st.integers(0, 2)) == 0:
            r["property_dependencies"] = draw(links)
            r["dependencies"] = sorted({u for deps in r["property_dependencies"].values() for u in deps})
    return {
        "project": project, "stack": stack, "resources": resources,
        "environment": draw(st.one_of(st.none(), st.sampled_from(ENVIRONMENTS), nasty_text)),
        "tags": draw(st.one_of(st.just({}), complete_tags(), st.dictionaries(nasty_text, v(ENVIRONMENTS),
                                                                             max_size=4))),
        "context_only": [urns[i] for i in draw(st.lists(index, max_size=3))],
    }


def usage_entries(names_and_urns: list[str]) -> st.SearchStrategy[dict[str, dict[str, float]]]:
    """A usage file's entries (already validated numbers: non-negative, finite) for some resources."""
    amounts = st.one_of(st.sampled_from((0.0, 1.0, 10.0, 730.0, 6000.0, 1e6, 1e12, 1e300)),
                        st.floats(0, 1e9, allow_nan=False))
    values = st.dictionaries(st.sampled_from(sorted(USAGE_KEYS)), amounts, max_size=4)
    return st.dictionaries(one_of_them(names_and_urns), values, max_size=8)


def one_of_them(texts: list[str]) -> st.SearchStrategy[str]:
    """One of these (long) texts, or some other text."""
    return st.one_of(st.integers(0, len(texts) - 1), nasty_text).map(lambda x: texts[x] if isinstance(x, int) else x)


def waiver_entries(rule_names: list[str], resource_names: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """waivers.yaml entries: many usable, some broken, blanket, expired, stale or hostile."""
    entry = some({
        "rule": st.one_of(st.sampled_from(rule_names), st.sampled_from(("engine-error", "TG000", "waiver", "TG090",
                                                                       "CKV_AWS_79", "no-such-rule")), short_text),
        "resource": st.one_of(one_of_them(resource_names), st.sampled_from(("*", "?*", "pool-*", "urn:*::*")),
                              one_of_them(resource_names).map(lambda n: n[:3] + "*"), short_text),
        "owner": st.one_of(st.just("lead@example.com"), short_text), "reason": short_text,
        "expires": st.one_of(st.builds(lambda d: TODAY + timedelta(days=d), st.integers(-400, 400)),
                             st.sampled_from(("2031-13-01", "soon", 20310101))),
    })
    junk = st.one_of(st.none(), st.integers(), short_text, st.lists(st.integers(), max_size=2),
                     st.dictionaries(short_text, st.integers(), max_size=2))  # no secrets: this file holds none
    return st.lists(st.one_of(entry, entry, entry, junk), max_size=6)


# --- issue 23: waiver patterns, expiries, damage to a `pulumi preview --json` file ---

PATTERN_PIECES = ("*", "?", "[a-z]", "[!:]", "[]]", "[!x]", "[", "]", "::", "urn:pulumi:", "pool", "gpu", "-", "a",
                  "web", "\\", "!")


def waiver_patterns(names: list[str]) -> st.SearchStrategy[str]:
    """`resource:` patterns: names, names cut short by a wildcard or a class, and runs of wildcard pieces."""
    pieces = st.lists(st.sampled_from(PATTERN_PIECES), min_size=1, max_size=6).map("".join)
    cut = st.tuples(one_of_them(names), st.integers(0, 6), st.sampled_from(PATTERN_PIECES)).map(
        lambda t: t[0][:t[1]] + t[2])
    return st.one_of(one_of_them(names), cut, pieces, pieces.map(lambda p: "urn:pulumi:*::" + p))


def expiries() -> st.SearchStrategy[str]:
    """An `expires:` value as written in YAML: plain or quoted dates, timestamps with zones, numbers, junk."""
    days = st.builds(lambda d: TODAY + timedelta(days=d), st.integers(-800, 800))
    return st.one_of(
        days.map(lambda d: d.isoformat()),
        days.map(lambda d: f"'{d.isoformat()}'"),
        st.tuples(days, st.sampled_from(("T00:00:00+14:00", "T23:59:59-12:00", "T12:00:00Z", " 00:00:00", "t1")))
        .map(lambda t: t[0].isoformat() + t[1]),
        days.map(lambda d: d.strftime("%Y%m%d")), days.map(lambda d: d.strftime("%d/%m/%Y")),
        st.sampled_from(("2031-02-30", "2031-13-01", "2031-1-1", "+2031-01-01", "2031-01-01 ", "~", "null", "[]",
                         "{}", "!!timestamp 2031-01-01", "!!str 2031-01-01", "0x7ef", "1e9", "true")),
        short_text.map(json.dumps),
    )


PREVIEW_DAMAGE = ("duplicate", "duplicate-replacement", "type-lie", "step-urn", "unknown-op", "no-new-state",
                  "old-type-lie", "same-state-replacement")


@st.composite
def preview_damage(draw: st.DrawFn, steps: int) -> tuple[str, int, Any]:
    """Which damage to do to which step of a preview, and with what: (kind, step index, value)."""
    kind = draw(st.sampled_from(PREVIEW_DAMAGE))
    value = draw(st.one_of(st.sampled_from(("aws:ssm/parameter:Parameter", "aws:ec2/instance:Instance",
                                            "pulumi:pulumi:Stack", "aws:s3/bucket:Bucket")), short_text))
    return kind, draw(st.integers(0, steps - 1)), value
