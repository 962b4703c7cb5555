"""Kubernetes rules (TG012-TG014) on real pulumi-kubernetes programs: one capture per program, the
findings of each rule asserted exactly (resource, enforcement, message); every other rule's are ignored.

The dev stack (replica cap 3) holds a prod-labelled StatefulSet: an `environment` label plays the
part of the AWS environment tag.
"""

from __future__ import annotations

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate

PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s
from tollgate_components.namespace import NamespaceGuardrails, NamespaceGuardrailsArgs

meta, core, apps = k8s.meta.v1, k8s.core.v1, k8s.apps.v1
COST = {"team": "payments", "cost-center": "cc-42"}
SIZED = core.ResourceRequirementsArgs(requests={"cpu": "100m", "memory": "128Mi"}, limits={"cpu": "500m", "memory": "256Mi"})
app = core.ContainerArgs(name="app", image="nginx", resources=SIZED)
select = meta.LabelSelectorArgs(match_labels={"app": "x"})


def template(*containers, init=None):
    return core.PodTemplateSpecArgs(metadata=meta.ObjectMetaArgs(labels={"app": "x", **COST}),
                                    spec=core.PodSpecArgs(containers=list(containers), init_containers=init))


# Guarded the Tollgate way: quota, limit range, cost labels, an HPA within the dev cap, a sized Deployment.
shop = NamespaceGuardrails("shop", NamespaceGuardrailsArgs(team="payments", cost_center="cc-42"))
shop.autoscale("api", max_replicas=3)
apps.Deployment("api", metadata=meta.ObjectMetaArgs(namespace=shop.namespace_name, labels=COST),
                spec=apps.DeploymentSpecArgs(replicas=2, selector=select, template=template(app)))

# An auto-named namespace: its quota is tied to it by the name output only.
batch = core.Namespace("batch", metadata=meta.ObjectMetaArgs(labels=COST))
core.ResourceQuota("batch-quota", metadata=meta.ObjectMetaArgs(namespace=batch.metadata.name),
                   spec=core.ResourceQuotaSpecArgs(hard={"pods": "10"}))

# A namespace with its own provider: the limit range and the CronJob set no namespace of their own.
jobs = core.Namespace("jobs", metadata=meta.ObjectMetaArgs(name="jobs", labels=COST))
in_jobs = k8s.Provider("in-jobs", namespace=jobs.metadata.name)
core.LimitRange("jobs-limits", opts=pulumi.ResourceOptions(provider=in_jobs), spec=core.LimitRangeSpecArgs(
    limits=[core.LimitRangeItemArgs(type="Container", default={"cpu": "500m", "memory": "512Mi"})]))
k8s.batch.v1.CronJob("report", opts=pulumi.ResourceOptions(provider=in_jobs), metadata=meta.ObjectMetaArgs(labels=COST),
                     spec=k8s.batch.v1.CronJobSpecArgs(schedule="0 3 * * *", job_template=k8s.batch.v1.JobTemplateSpecArgs(
                         spec=k8s.batch.v1.JobSpecArgs(template=template(app, init=[app])))))

# prod-labelled: the prod cap (50) applies in the dev stack.
apps.StatefulSet("ledger", metadata=meta.ObjectMetaArgs(labels={"environment": "prod", **COST}),
                 spec=apps.StatefulSetSpecArgs(replicas=20, service_name="ledger", selector=select, template=template(app)))

# Everything wrong: an unlabelled namespace with no quota, a Deployment over the cap with an unsized
# sidecar and a half-sized init container, an HPA over the cap, an unsized Pod.
core.Namespace("scratch", metadata=meta.ObjectMetaArgs(name="scratch"))
migrate = core.ContainerArgs(name="migrate", image="flyway",
                             resources=core.ResourceRequirementsArgs(requests={"cpu": "1", "memory": "1Gi"}))
apps.Deployment("worker", metadata=meta.ObjectMetaArgs(namespace="scratch", labels={"team": "payments"}),
                spec=apps.DeploymentSpecArgs(replicas=5, selector=select,
                                             template=template(app, core.ContainerArgs(name="sidecar", image="envoy"), init=[migrate])))
k8s.autoscaling.v2.HorizontalPodAutoscaler("worker-hpa", metadata=meta.ObjectMetaArgs(namespace="scratch"),
    spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(max_replicas=10, scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
        api_version="apps/v1", kind="Deployment", name="worker")))
core.Pod("debug", metadata=meta.ObjectMetaArgs(namespace="scratch", labels=COST),
         spec=core.PodSpecArgs(containers=[core.ContainerArgs(name="shell", image="busybox")]))

# Values computed from another resource's id are unknown at preview: replicas and a cost label.
sizes = core.ConfigMap("sizes", metadata=meta.ObjectMetaArgs(namespace="jobs"), data={"replicas": "2"})
apps.Deployment("tuned", metadata=meta.ObjectMetaArgs(namespace="jobs", labels={
                    "team": "payments", "cost-center": sizes.id.apply(lambda _: "cc-42")}),
                spec=apps.DeploymentSpecArgs(replicas=sizes.id.apply(lambda _: 2), selector=select, template=template(app)))
"""

# A quota whose namespace is computed from something other than a namespace: where it lands is unknown.
UNDECIDED = """
import pulumi_kubernetes as k8s
meta, core = k8s.meta.v1, k8s.core.v1
core.Namespace("scratch", metadata=meta.ObjectMetaArgs(name="scratch", labels={"team": "payments", "cost-center": "cc-42"}))
target = core.ConfigMap("target", data={"namespace": "scratch"})
core.ResourceQuota("quota", metadata=meta.ObjectMetaArgs(namespace=target.id.apply(lambda _: "scratch")),
                   spec=core.ResourceQuotaSpecArgs(hard={"pods": "10"}))
"""


def capture_findings(tmp_path_factory, name: str, program: str):
    snapshot = capture_source(tmp_path_factory.mktemp(name), program, {"tollgate:environment": "dev"})
    _, findings = evaluate(snapshot)
    return {r.urn: r.name for r in snapshot.resources}, findings


@pytest.fixture(scope="module")
def k8s(tmp_path_factory):
    return capture_findings(tmp_path_factory, "k8s", PROGRAM)


@pytest.fixture(scope="module")
def undecided(tmp_path_factory):
    return capture_findings(tmp_path_factory, "k8s-undecided", UNDECIDED)


def findings_of(captured, rule: str) -> set[tuple[str, str, str]]:
    names, findings = captured
    return {(names[f.urn], f.enforcement, f.message) for f in findings if f.rule == rule}


def label(name: str, type_: str) -> str:
    return f"`{name}` ({type_})"


DEPLOYMENT, NAMESPACE = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Namespace"
SIZE_IT = "set cpu and memory requests and limits on every container"


def test_k8s_resource_limits(k8s):
    worker = label("worker", DEPLOYMENT)
    assert findings_of(k8s, "k8s-resource-limits") == {
        ("worker", "mandatory", f"{worker} container `sidecar` lacks requests.cpu, requests.memory, limits.cpu, "
                                f"limits.memory; {SIZE_IT}"),
        ("worker", "mandatory", f"{worker} init container `migrate` lacks limits.cpu, limits.memory; {SIZE_IT}"),
        ("worker", "mandatory", f"{worker} runs 5 replicas, over the dev cap of 3; set spec.replicas to at most 3 "
                                "(or scale with an HPA within the cap) or get a waiver"),
        ("worker-hpa", "mandatory", f"{label('worker-hpa', 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler')} "
                                    "scales to 10 replicas, over the dev cap of 3; set spec.maxReplicas to at most 3 "
                                    "(tollgate_components.NamespaceGuardrails.autoscale defaults to the dev cap) or get a waiver"),
        ("debug", "mandatory", f"{label('debug', 'kubernetes:core/v1:Pod')} container `shell` lacks requests.cpu, "
                               f"requests.memory, limits.cpu, limits.memory; {SIZE_IT}"),
        ("tuned", "advisory", f"{label('tuned', DEPLOYMENT)}: cannot check spec.replicas at preview, it is unknown "
                              "until apply; build it from known values"),
    }


def test_k8s_namespace_quota(k8s):
    # shop (component), batch (by the name output), jobs (by its provider) are guarded.
    assert findings_of(k8s, "k8s-namespace-quota") == {
        ("scratch", "mandatory", f"{label('scratch', NAMESPACE)} has no ResourceQuota or LimitRange in it; use "
                                 "tollgate_components.NamespaceGuardrails or create a ResourceQuota whose metadata.namespace "
                                 "is this namespace's metadata.name output"),
    }


def test_k8s_namespace_quota_undecided(undecided):
    assert findings_of(undecided, "k8s-namespace-quota") == {
        ("scratch", "advisory", f"{label('scratch', NAMESPACE)}: cannot decide at preview whether "
                                f"{label('quota', 'kubernetes:core/v1:ResourceQuota')} is in it, a namespace name is "
                                "unknown until apply; set metadata.namespace of `quota` from this namespace's "
                                "metadata.name output"),
    }


def test_k8s_cost_labels(k8s):
    assert findings_of(k8s, "k8s-cost-labels") == {
        ("scratch", "mandatory", f"{label('scratch', NAMESPACE)} lacks cost labels team, cost-center; use "
                                 "tollgate_components.NamespaceGuardrails or add them to metadata.labels"),
        ("worker", "mandatory", f"{label('worker', DEPLOYMENT)} lacks cost labels cost-center; add them to the "
                                "workload's metadata.labels (pod template labels alone do not count)"),
        ("tuned", "advisory", f"{label('tuned', DEPLOYMENT)}: cannot check cost labels at preview, "
                              "metadata.labels.cost-center is unknown until apply; build labels from known values"),
    }
