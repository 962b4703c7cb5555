"""NamespaceGuardrails: a Kubernetes namespace that cannot outgrow its budget (quota, limit range, cost labels)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

UNITS = {"m": Fraction(1, 1000), "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
         "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
GPU = "requests.nvidia.com/gpu"


def parse_quantity(text: str) -> Fraction:
    """A Kubernetes quantity ("500m", "2", "4Gi") as an exact number, so "1" and "1000m" compare equal."""
    match = QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity such as '500m', '2' or '4Gi'")
    return Fraction(match[1]) * UNITS[match[2] or ""]


@dataclass(frozen=True)
class Compute:
    """CPU and memory as Kubernetes quantities."""

    cpu: str
    """CPU, e.g. '500m' or '2'."""
    memory: str
    """Memory, e.g. '512Mi' or '4Gi'."""

    def spec(self) -> dict[str, str]:
        return {"cpu": self.cpu, "memory": self.memory}


def _fail(field_name: str, message: str) -> None:
    raise ValueError(f"NamespaceGuardrailsArgs.{field_name}: {message}")


@dataclass
class NamespaceGuardrailsArgs:
    team: str
    """Team label (cost allocation); a valid Kubernetes label value."""
    cost_center: str
    """cost-center label (cost allocation); a valid Kubernetes label value."""
    name: Optional[str] = None
    """Namespace name; default the component's name."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra namespace labels; team and cost-center always win."""
    default_request: Compute = Compute("100m", "256Mi")
    """Requests of a container that states none."""
    default_limit: Compute = Compute("500m", "512Mi")
    """Limits of a container that states none."""
    max_per_container: Compute = Compute("2", "4Gi")
    """Largest limits one container may have."""
    quota_requests: Compute = Compute("4", "8Gi")
    """Sum of requests of all pods in the namespace."""
    quota_limits: Compute = Compute("8", "16Gi")
    """Sum of limits of all pods in the namespace."""
    max_pods: int = 20
    """Most pods in the namespace."""
    gpus: int = 0
    """GPUs the namespace may request; 0 (the default) keeps GPU pods out, more must be asked for."""

    def __post_init__(self) -> None:
        for key, value in (("team", self.team), ("cost_center", self.cost_center), *self.labels.items()):
            if not value or not LABEL_VALUE.match(value):
                _fail("labels" if key not in ("team", "cost_center") else key,
                      f"{value!r} is not a non-empty Kubernetes label value (letters, digits, '-', '_', '.')")
        if self.name is not None and not DNS_LABEL.match(self.name):
            _fail("name", f"{self.name!r} is not a DNS label (lower-case letters, digits, '-', up to 63)")
        if self.max_pods < 1:
            _fail("max_pods", f"{self.max_pods} must be at least 1")
        if self.gpus < 0:
            _fail("gpus", f"{self.gpus} must be 0 or more")
        for resource in ("cpu", "memory"):
            self._check_sizes(resource)

    def _quantity(self, field_name: str, resource: str) -> Fraction:
        try:
            return parse_quantity(getattr(getattr(self, field_name), resource))
        except ValueError as exc:
            _fail(field_name, f"{resource}: {exc}")

    def _check_sizes(self, resource: str) -> None:
        """defaultRequest <= default <= max per container; one container at its max must fit the quota."""
        q = {f: self._quantity(f, resource) for f in ("default_request", "default_limit", "max_per_container",
                                                       "quota_requests", "quota_limits")}
        for low, high in (("default_request", "default_limit"), ("default_limit", "max_per_container"),
                          ("max_per_container", "quota_requests"), ("quota_requests", "quota_limits")):
            if q[low] > q[high]:
                bad = high if high.startswith("quota") else low
                _fail(bad, f"{resource} {getattr(getattr(self, low), resource)} ({low}) exceeds "
                           f"{getattr(getattr(self, high), resource)} ({high}); need "
                           "default_request <= default_limit <= max_per_container <= quota_requests <= quota_limits")


@dataclass(frozen=True)
class AutoscaleArgs:
    deployment_name: str
    """Deployment (apps/v1) in the namespace to scale."""
    min_replicas: int = 1
    """Fewest replicas (HPA needs >= 1)."""
    max_replicas: int = 3
    """Most replicas; the default is the dev cap of the k8s-resource-limits guardrail."""
    cpu_target: int = 70
    """Average CPU utilization (% of requests) to hold."""
    memory_target: Optional[int] = None
    """Average memory utilization (% of requests) to hold; none by default."""
    scale_down_window_seconds: int = 300
    """How long load must stay low before replicas are removed (avoids flapping)."""

    def __post_init__(self) -> None:
        def fail(name: str, message: str) -> None:
            raise ValueError(f"AutoscaleArgs.{name}: {message}")
        if not DNS_LABEL.match(self.deployment_name):
            fail("deployment_name", f"{self.deployment_name!r} is not a DNS label")
        if self.max_replicas < 1:
            fail("max_replicas", f"{self.max_replicas} must be greater than 0")
        if not 1 <= self.min_replicas <= self.max_replicas:
            fail("min_replicas", f"{self.min_replicas} must be within 1..max_replicas ({self.max_replicas})")
        for name in ("cpu_target", "memory_target"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                fail(name, f"{getattr(self, name)} must be a utilization percentage of at least 1")
        if self.scale_down_window_seconds < 0:
            fail("scale_down_window_seconds", f"{self.scale_down_window_seconds} must be 0 or more")


class NamespaceGuardrails(pulumi.ComponentResource):
    """A namespace labelled for cost allocation, with a ResourceQuota and a LimitRange in it."""

    namespace: k8s.core.v1.Namespace
    quota: k8s.core.v1.ResourceQuota
    limit_range: k8s.core.v1.LimitRange
    namespace_name: pulumi.Output[str]
    autoscalers: dict[str, k8s.autoscaling.v2.HorizontalPodAutoscaler]

    def __init__(self, name: str, args: NamespaceGuardrailsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("tollgate:components:NamespaceGuardrails", name, None, opts)
        ns_name = args.name or name
        if not DNS_LABEL.match(ns_name):
            _fail("name", f"not set and the component name {name!r} is not a DNS label; set name")
        self._name = name
        self._labels = {**args.labels, "team": args.team, "cost-center": args.cost_center}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=ns_name, labels=self._labels),
            opts=pulumi.ResourceOptions(parent=self))
        # From the namespace's output, not the plain name: the engine then records the property
        # dependency that lets a stack rule (k8s-namespace-quota) tie quota and limit range to it.
        self.namespace_name = self.namespace.metadata.apply(lambda m: m.name)
        self.quota = self._quota(name, args)
        self.limit_range = self._limit_range(name, args)
        self.autoscalers = {}
        self.register_outputs({"namespace": self.namespace, "quota": self.quota, "limit_range": self.limit_range,
                               "namespace_name": self.namespace_name})

    def _metadata(self, object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=self.namespace_name, labels=self._labels)

    def _quota(self, name: str, args: NamespaceGuardrailsArgs) -> k8s.core.v1.ResourceQuota:
        hard = {"requests.cpu": args.quota_requests.cpu, "requests.memory": args.quota_requests.memory,
                "limits.cpu": args.quota_limits.cpu, "limits.memory": args.quota_limits.memory,
                "pods": str(args.max_pods), GPU: str(args.gpus)}
        return k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=self._metadata("compute-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=hard), opts=pulumi.ResourceOptions(parent=self))

    def _limit_range(self, name: str, args: NamespaceGuardrailsArgs) -> k8s.core.v1.LimitRange:
        # With a quota on requests/limits, a pod without them is rejected; the defaults let it in, sized small.
        item = k8s.core.v1.LimitRangeItemArgs(
            type="Container", default_request=args.default_request.spec(), default=args.default_limit.spec(),
            max=args.max_per_container.spec())
        return k8s.core.v1.LimitRange(
            f"{name}-limit-range", metadata=self._metadata("container-limits"),
            spec=k8s.core.v1.LimitRangeSpecArgs(limits=[item]), opts=pulumi.ResourceOptions(parent=self))

    def autoscale(self, deployment_name: str, min_replicas: int = 1, max_replicas: int = 3, cpu_target: int = 70,
                  memory_target: Optional[int] = None,
                  scale_down_window_seconds: int = 300) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
        """An autoscaling/v2 HPA for a Deployment in this namespace, named f"{name}-{deployment_name}-hpa"."""
        a = AutoscaleArgs(deployment_name, min_replicas, max_replicas, cpu_target, memory_target,
                          scale_down_window_seconds)
        metrics = [_utilization(resource, target) for resource, target in
                   (("cpu", a.cpu_target), ("memory", a.memory_target)) if target is not None]
        # Scale down slowly (at most half the replicas a minute, after a quiet window): flapping
        # costs more in restarts and cold caches than a few idle minutes.
        behavior = k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
            scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                stabilization_window_seconds=a.scale_down_window_seconds,
                policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=50, period_seconds=60)]))
        hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-{deployment_name}-hpa", metadata=self._metadata(deployment_name),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment_name),
                min_replicas=a.min_replicas, max_replicas=a.max_replicas, metrics=metrics, behavior=behavior),
            opts=pulumi.ResourceOptions(parent=self))
        self.autoscalers[deployment_name] = hpa
        return hpa


def _utilization(resource: str, target: int) -> k8s.autoscaling.v2.MetricSpecArgs:
    return k8s.autoscaling.v2.MetricSpecArgs(type="Resource", resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
        name=resource, target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=target)))
