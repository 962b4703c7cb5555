"""NamespaceGuardrails: cost labels, a quota and a limit range tied to the namespace, an HPA helper;
validation errors name the field; zero findings under every rule."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate

from tollgate_components.namespace import (AutoscaleArgs, Compute, NamespaceGuardrailsArgs,
                                  parse_quantity)

COMPONENT = "urn:pulumi:dev::inline::tollgate:components:NamespaceGuardrails::"
LABELS = {"team": "ml-team", "cost-center": "engineering"}

# Two namespaces in one program (one capture): all defaults, and a named one with GPUs and an autoscaled API.
PROGRAM = """
from tollgate_components.namespace import NamespaceGuardrails, NamespaceGuardrailsArgs, Compute
NamespaceGuardrails("ml-dev", NamespaceGuardrailsArgs(team="ml-team", cost_center="engineering"))
serving = NamespaceGuardrails("serving", NamespaceGuardrailsArgs(
    team="ml-team", cost_center="engineering", name="model-serving", labels={"tier": "inference"}, gpus=1,
    quota_requests=Compute("6", "12Gi"), quota_limits=Compute("12", "24Gi"), max_pods=30))
serving.autoscale("api", min_replicas=2, max_replicas=3, cpu_target=70, memory_target=80)
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("namespace"), PROGRAM, {"tollgate:environment": "dev"})


@pytest.fixture(scope="module")
def res(snapshot):
    return {r.name: r for r in snapshot.resources}


def test_children_are_named_by_role_and_parented_to_the_component(res):
    for component in ("ml-dev", "serving"):
        assert res[component].type == "tollgate:components:NamespaceGuardrails"
        for role in ("namespace", "quota", "limit-range"):
            assert res[f"{component}-{role}"].parent == COMPONENT + component
    assert res["serving-api-hpa"].parent == COMPONENT + "serving"


def test_namespace_name_defaults_to_the_component_name_and_carries_cost_labels(res):
    assert res["ml-dev-namespace"].inputs["metadata"] == {"name": "ml-dev", "labels": LABELS}
    assert res["serving-namespace"].inputs["metadata"] == {"name": "model-serving",
                                                           "labels": dict(LABELS, tier="inference")}


def test_quota_and_limit_range_live_in_the_namespace_by_property_dependency(res):
    for component, ns in (("ml-dev", "ml-dev"), ("serving", "model-serving")):
        for role in ("quota", "limit-range"):
            child = res[f"{component}-{role}"]
            assert child.inputs["metadata"]["namespace"] == ns
            assert child.property_dependencies["metadata"] == [res[f"{component}-namespace"].urn]
            assert LABELS.items() <= child.inputs["metadata"]["labels"].items()


def test_default_quota_keeps_gpus_out_and_limit_range_sizes_containers(res):
    assert res["ml-dev-quota"].inputs["spec"]["hard"] == {
        "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi", "pods": "20",
        "requests.nvidia.com/gpu": "0"}
    assert res["ml-dev-limit-range"].inputs["spec"]["limits"] == [{
        "type": "Container", "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
        "default": {"cpu": "500m", "memory": "512Mi"}, "max": {"cpu": "2", "memory": "4Gi"}}]


def test_sized_quota_with_gpus(res):
    hard = res["serving-quota"].inputs["spec"]["hard"]
    assert (hard["requests.cpu"], hard["limits.memory"], hard["pods"], hard["requests.nvidia.com/gpu"]) == (
        "6", "24Gi", "30", "1")


def test_autoscale_creates_an_hpa_with_slow_scale_down(res):
    hpa = res["serving-api-hpa"].inputs
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["metadata"]["name"] == "api" and hpa["metadata"]["namespace"] == "model-serving"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 3)
    assert [(m["resource"]["name"], m["resource"]["target"]) for m in spec["metrics"]] == [
        ("cpu", {"type": "Utilization", "averageUtilization": 70}),
        ("memory", {"type": "Utilization", "averageUtilization": 80})]
    assert spec["behavior"]["scaleDown"] == {"stabilizationWindowSeconds": 300,
                                             "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}


def test_no_findings_under_the_current_rules(snapshot):
    _, findings = evaluate(snapshot)
    assert findings == []


def test_parse_quantity():
    assert parse_quantity("500m") == Fraction(1, 2)
    assert parse_quantity("2") == parse_quantity("2000m")
    assert parse_quantity("4Gi") == 4 * 2**30 and parse_quantity("1.5k") == 1500
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("4 GB")


@pytest.mark.parametrize("overrides, match", [
    ({"team": ""}, r"NamespaceGuardrailsArgs\.team: '' is not a non-empty Kubernetes label value"),
    ({"cost_center": "R&D"}, r"NamespaceGuardrailsArgs\.cost_center"),
    ({"labels": {"tier": "a b"}}, r"NamespaceGuardrailsArgs\.labels"),
    ({"name": "Model_Serving"}, r"NamespaceGuardrailsArgs\.name: 'Model_Serving' is not a DNS label"),
    ({"max_pods": 0}, r"NamespaceGuardrailsArgs\.max_pods"),
    ({"gpus": -1}, r"NamespaceGuardrailsArgs\.gpus"),
    ({"default_request": Compute("1", "256Mi")},
     r"NamespaceGuardrailsArgs\.default_request: cpu 1 \(default_request\) exceeds 500m \(default_limit\)"),
    ({"default_limit": Compute("500m", "8Gi")},
     r"NamespaceGuardrailsArgs\.default_limit: memory 8Gi \(default_limit\) exceeds 4Gi \(max_per_container\)"),
    ({"quota_requests": Compute("1", "8Gi")},
     r"NamespaceGuardrailsArgs\.quota_requests: cpu 2 \(max_per_container\) exceeds 1 \(quota_requests\)"),
    ({"quota_limits": Compute("8", "4Gi")}, r"NamespaceGuardrailsArgs\.quota_limits: memory 8Gi \(quota_requests\)"),
    ({"max_per_container": Compute("two", "4Gi")},
     r"NamespaceGuardrailsArgs\.max_per_container: cpu: 'two' is not a Kubernetes quantity"),
])
def test_invalid_args_raise_naming_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        NamespaceGuardrailsArgs(**{"team": "ml-team", "cost_center": "engineering", **overrides})


def test_equal_quantities_in_different_units_are_accepted():
    args = NamespaceGuardrailsArgs(team="t", cost_center="c", default_request=Compute("0.5", "512Mi"),
                                   default_limit=Compute("500m", "0.5Gi"))
    assert args.default_limit.cpu == "500m"


@pytest.mark.parametrize("overrides, match", [
    ({"max_replicas": 0}, r"AutoscaleArgs\.max_replicas: 0 must be greater than 0"),
    ({"min_replicas": 4}, r"AutoscaleArgs\.min_replicas: 4 must be within 1\.\.max_replicas \(3\)"),
    ({"min_replicas": 0}, r"AutoscaleArgs\.min_replicas"),
    ({"cpu_target": 0}, r"AutoscaleArgs\.cpu_target"),
    ({"deployment_name": "My API"}, r"AutoscaleArgs\.deployment_name"),
])
def test_invalid_autoscale_args_raise_naming_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        AutoscaleArgs(**{"deployment_name": "api", **overrides})
