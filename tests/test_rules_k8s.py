"""Kubernetes rules (TG012-TG014) on real pulumi-kubernetes programs: one capture per program, the
findings of each rule asserted exactly (resource, enforcement, message); every other rule's are ignored.

The dev stack (replica cap 3) holds a prod-labelled StatefulSet: the stack decides the environment, so
the label buys it no prod cap.
"""

from __future__ import annotations

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate
from programs import K8S as PROGRAM, K8S_UNDECIDED as UNDECIDED


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
        ("ledger", "mandatory", f"{label('ledger', 'kubernetes:apps/v1:StatefulSet')} runs 20 replicas, over the dev "
                                "cap of 3; set spec.replicas to at most 3 (or scale with an HPA within the cap) or get a waiver"),
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
