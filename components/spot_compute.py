"""SpotComputeEnvironment: AWS Batch on diversified spot capacity that scales to zero, with an opt-in
on-demand fallback, a spot-first job queue and a job definition that retries spot reclaims only.

    batch = SpotComputeEnvironment("etl", SpotComputeEnvironmentArgs(
        subnet_ids=vpc.private_subnet_ids, security_group_ids=[sg.id], max_vcpus=64,
        on_demand_fallback=env == "prod"))  # TG006 blocks on-demand Batch outside prod
    pulumi.export("queue", batch.job_queue.arn)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from . import catalog
from .catalog import check_usage, usage_props

# Interchangeable 4 vCPU / 16 GiB types: three spot pools, all within dev's TG002 cap of 4 vCPU.
DEFAULT_INSTANCE_TYPES = ("m6i.xlarge", "m5.xlarge", "m7i.xlarge")
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


class SpotAllocationStrategy(str, Enum):
    SPOT_PRICE_CAPACITY_OPTIMIZED = "SPOT_PRICE_CAPACITY_OPTIMIZED"  # cheapest of the least-reclaimed pools
    SPOT_CAPACITY_OPTIMIZED = "SPOT_CAPACITY_OPTIMIZED"  # fewest reclaims, whatever the price


@cache
def known_instance_vcpus() -> dict[str, int]:
    """vCPUs per instance type, from the same price table TG002 checks against (unknown types fail there)."""
    return {name: int(spec["vcpu"]) for name, spec in catalog.instance_types().items()}


def _check_positive_int(field_name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"SpotComputeEnvironmentArgs.{field_name}: must be an integer >= {minimum}, got {value!r}")


@dataclass
class SpotComputeEnvironmentArgs:
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets the instances launch in (private subnets; several AZs widen the spot pools)."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Security groups of the instances."""
    max_vcpus: int = 16
    """Upper bound of the environment in vCPUs. TG005 caps it at 64 (dev), 256 (staging), 2048 (prod)."""
    instance_types: Sequence[str] = DEFAULT_INSTANCE_TYPES
    """Explicit instance sizes (not families, not "optimal": TG002 must know each one); at least two,
    so Batch can fall back between spot pools. Plain strings so the size cap is checked here."""
    max_instance_vcpus: int = 4
    """vCPU cap every instance type must be within; TG002's caps are 4 (dev), 8 (staging), 32 (prod)."""
    allocation_strategy: SpotAllocationStrategy = SpotAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
    """How Batch picks spot pools."""
    min_vcpus: int = 0
    """vCPUs kept running when the queue is empty; anything but 0 pays for idle instances (TG007)."""
    on_demand_fallback: bool = False
    """Add an on-demand (EC2) environment behind spot in the queue. TG006 blocks on-demand Batch outside
    prod, so it is off by default; the reference platform turns it on in prod only."""
    fallback_max_vcpus: Optional[int] = None
    """Upper bound of the on-demand fallback (defaults to max_vcpus); a smaller one caps the expensive path."""
    instance_profile_arn: Optional[pulumi.Input[str]] = None
    """Instance profile for the ECS agent; by default one is created with AmazonEC2ContainerServiceforEC2Role."""
    service_role_arn: Optional[pulumi.Input[str]] = None
    """Batch service role; by default none, so Batch uses its service-linked role (AWS's recommendation)."""
    job_image: pulumi.Input[str] = "public.ecr.aws/amazonlinux/amazonlinux:2023"
    """Container image of the job definition template."""
    job_command: Sequence[str] = ("echo", "hello")
    """Command of the job definition template (overridden per job at submit time)."""
    job_vcpus: int = 1
    """vCPUs per job; must fit on one instance (max_instance_vcpus)."""
    job_memory_mib: int = 2048
    """Memory per job in MiB."""
    job_role_arn: Optional[pulumi.Input[str]] = None
    """IAM role the job's containers assume (none by default: least privilege)."""
    retry_attempts: int = 3
    """Attempts per job (1-10); only spot reclaims are retried, application errors exit at once."""
    job_timeout_seconds: int = 3600
    """Kill an attempt after this long, so a hung job does not keep paid instances up (>= 60)."""
    instance_tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Tags for the instances Batch launches: provider default tags do not reach them, so pass the
    stack's cost tags here to see the instances in cost allocation reports."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags on every taggable child, on top of the stack's tag set."""
    expected_vcpu_hours: Optional[float] = None
    """vCPU-hours the spot environment runs per month; recorded (as the component's `usage`) for the cost estimate."""

    def __post_init__(self) -> None:
        check_usage("SpotComputeEnvironmentArgs", "expected_vcpu_hours", self.expected_vcpu_hours)
        _check_positive_int("max_vcpus", self.max_vcpus)
        _check_positive_int("min_vcpus", self.min_vcpus, minimum=0)
        if self.min_vcpus > self.max_vcpus:
            raise ValueError(f"SpotComputeEnvironmentArgs.min_vcpus: must be <= max_vcpus ({self.max_vcpus}), "
                             f"got {self.min_vcpus}")
        if self.fallback_max_vcpus is not None:
            _check_positive_int("fallback_max_vcpus", self.fallback_max_vcpus)
        _check_positive_int("max_instance_vcpus", self.max_instance_vcpus)
        self.allocation_strategy = self._strategy(self.allocation_strategy)
        self._check_instance_types()
        _check_positive_int("job_vcpus", self.job_vcpus)
        if self.job_vcpus > self.max_instance_vcpus:
            raise ValueError(f"SpotComputeEnvironmentArgs.job_vcpus: {self.job_vcpus} does not fit on an instance "
                             f"of at most {self.max_instance_vcpus} vCPU; lower it or raise max_instance_vcpus")
        _check_positive_int("job_memory_mib", self.job_memory_mib)
        _check_positive_int("retry_attempts", self.retry_attempts)
        if self.retry_attempts > 10:
            raise ValueError(f"SpotComputeEnvironmentArgs.retry_attempts: Batch allows 1-10, got {self.retry_attempts}")
        _check_positive_int("job_timeout_seconds", self.job_timeout_seconds, minimum=60)

    @staticmethod
    def _strategy(value: object) -> SpotAllocationStrategy:
        try:
            return SpotAllocationStrategy(value)
        except ValueError:
            allowed = ", ".join(s.value for s in SpotAllocationStrategy)
            raise ValueError(f"SpotComputeEnvironmentArgs.allocation_strategy: {value!r} is not one of {allowed}") from None

    def _check_instance_types(self) -> None:
        types, known = list(self.instance_types), known_instance_vcpus()
        if isinstance(self.instance_types, str) or len(types) < 2 or len(set(types)) != len(types):
            raise ValueError("SpotComputeEnvironmentArgs.instance_types: give at least two distinct instance "
                             f"types (spot diversification), got {self.instance_types!r}")
        for t in types:
            if t not in known:
                raise ValueError(f"SpotComputeEnvironmentArgs.instance_types: {t!r} is not a known instance size "
                                 "(families and 'optimal' cannot be size-checked); use e.g. m6i.xlarge")
            if known[t] > self.max_instance_vcpus:
                raise ValueError(f"SpotComputeEnvironmentArgs.instance_types: {t} has {known[t]} vCPU, over "
                                 f"max_instance_vcpus={self.max_instance_vcpus}")


def spot_retry_strategy(attempts: int) -> aws.batch.JobDefinitionRetryStrategyArgs:
    """Retry when EC2 took the host away (spot reclaim: status reason "Host EC2 (instance i-...) terminated"),
    exit on anything else: retrying an application error only bills the same failure again."""
    return aws.batch.JobDefinitionRetryStrategyArgs(attempts=attempts, evaluate_on_exits=[
        aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_status_reason="Host EC2*", action="RETRY"),
        aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_reason="*", action="EXIT"),
    ])


def queue_orders(environment_arns: Sequence[pulumi.Input[str]]) -> list[aws.batch.JobQueueComputeEnvironmentOrderArgs]:
    """Batch tries environments in ascending order: the list's order (spot first) becomes 1, 2, ..."""
    return [aws.batch.JobQueueComputeEnvironmentOrderArgs(compute_environment=arn, order=i)
            for i, arn in enumerate(environment_arns, start=1)]


class SpotComputeEnvironment(pulumi.ComponentResource):
    compute_environment: aws.batch.ComputeEnvironment
    fallback: Optional[aws.batch.ComputeEnvironment]
    job_queue: aws.batch.JobQueue
    job_definition: aws.batch.JobDefinition

    def __init__(self, name: str, args: SpotComputeEnvironmentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("tollgate:components:SpotComputeEnvironment", name,
                         usage_props(vcpu_hours=args.expected_vcpu_hours), opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = dict(args.tags) or None  # absent rather than empty: the stack's tags come from the provider
        profile = args.instance_profile_arn if args.instance_profile_arn is not None else self._instance_profile()
        self.compute_environment = self._environment("spot", "SPOT", args.allocation_strategy.value,
                                                     args.min_vcpus, args.max_vcpus, profile)
        self.fallback = None
        if args.on_demand_fallback:  # expensive path: explicit opt-in, scales to zero, never a warm pool
            self.fallback = self._environment("on-demand", "EC2", "BEST_FIT_PROGRESSIVE", 0,
                                              args.fallback_max_vcpus or args.max_vcpus, profile)
        environments = [self.compute_environment] + ([self.fallback] if self.fallback else [])
        self.job_queue = aws.batch.JobQueue(
            f"{name}-queue", state="ENABLED", priority=1, tags=self._tags, opts=self._child,
            compute_environment_orders=queue_orders([e.arn for e in environments]))
        self.job_definition = self._job_definition()
        self.register_outputs({"compute_environment": self.compute_environment, "fallback": self.fallback,
                               "job_queue": self.job_queue, "job_definition": self.job_definition})

    def _instance_profile(self) -> pulumi.Output[str]:
        """The ECS agent's role, with only the managed policy Batch documents for container instances."""
        name, tags = self._name, self._tags
        role = aws.iam.Role(f"{name}-instance-role", tags=tags, opts=self._child, assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))
        policy = aws.iam.RolePolicyAttachment(f"{name}-instance-policy", role=role.name,
                                              policy_arn=ECS_INSTANCE_POLICY, opts=self._child)
        # The profile waits for the policy, so no instance ever boots with an agent that cannot register.
        return aws.iam.InstanceProfile(f"{name}-instance-profile", role=role.name, tags=tags,
                                       opts=pulumi.ResourceOptions(parent=self, depends_on=[policy])).arn

    def _environment(self, role: str, kind: str, strategy: str, min_vcpus: int, max_vcpus: int,
                     profile: pulumi.Input[str]) -> aws.batch.ComputeEnvironment:
        args = self._args
        return aws.batch.ComputeEnvironment(
            f"{self._name}-{role}", type="MANAGED", service_role=args.service_role_arn, tags=self._tags,
            compute_resources=aws.batch.ComputeEnvironmentComputeResourcesArgs(
                type=kind, allocation_strategy=strategy, instance_types=list(args.instance_types),
                min_vcpus=min_vcpus, max_vcpus=max_vcpus, subnets=args.subnet_ids,
                security_group_ids=args.security_group_ids, instance_role=profile,
                # AL2023: the ECS_AL2 default image is on its way out; no spot fleet role is needed
                # with the SPOT_* strategies (only BEST_FIT on spot uses one).
                ec2_configurations=[aws.batch.ComputeEnvironmentComputeResourcesEc2ConfigurationArgs(
                    image_type="ECS_AL2023")],
                tags=dict(args.instance_tags) or None),
            opts=self._child)

    def _job_definition(self) -> aws.batch.JobDefinition:
        args = self._args
        container = {
            "image": args.job_image, "command": list(args.job_command),
            "resourceRequirements": [{"type": "VCPU", "value": str(args.job_vcpus)},
                                     {"type": "MEMORY", "value": str(args.job_memory_mib)}],
        }
        if args.job_role_arn is not None:
            container["jobRoleArn"] = args.job_role_arn
        return aws.batch.JobDefinition(
            f"{self._name}-job", type="container", platform_capabilities=["EC2"],
            container_properties=pulumi.Output.json_dumps(container),
            retry_strategy=spot_retry_strategy(args.retry_attempts),
            timeout=aws.batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=args.job_timeout_seconds),
            propagate_tags=True,  # job tags reach the ECS tasks, so cost allocation sees them
            tags=self._tags, opts=self._child)
