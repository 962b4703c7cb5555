"""TaggedNodePool: an EKS managed node group that is cheap by default (spot, scale to zero, gp3, off-hours)."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from . import catalog
from .catalog import check_usage, usage_props

REQUIRED_TAGS = ("project", "environment", "team", "cost-center", "owner")
ENVIRONMENTS = ("dev", "staging", "prod")
# Kubernetes label values: tags team/cost-center become node labels, so they must be valid ones.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")


class CapacityType(str, Enum):
    SPOT = "SPOT"
    ON_DEMAND = "ON_DEMAND"


class TaintEffect(str, Enum):
    NO_SCHEDULE = "NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"


class AmiType(str, Enum):
    # Only x86_64: every instance type in Tollgate's price table is x86_64.
    AL2023_X86_64_STANDARD = "AL2023_x86_64_STANDARD"
    AL2023_X86_64_NVIDIA = "AL2023_x86_64_NVIDIA"


known_instance_types = catalog.instance_types


def _fail(field_name: str, message: str) -> None:
    raise ValueError(f"TaggedNodePoolArgs.{field_name}: {message}")


def _enum(field_name: str, cls: type[Enum], value):
    try:
        return cls(value)
    except ValueError:
        _fail(field_name, f"{value!r} is not one of {[c.value for c in cls]}")


@dataclass(frozen=True)
class Taint:
    key: str
    """Taint key, e.g. `nvidia.com/gpu`."""
    value: str = ""
    """Taint value (may be empty)."""
    effect: TaintEffect = TaintEffect.NO_SCHEDULE
    """What happens to pods that do not tolerate the taint."""


# Keeps ordinary pods off expensive GPU nodes; GPU pods tolerate it (the NVIDIA device plugin's convention).
GPU_TAINT = Taint("nvidia.com/gpu", "present", TaintEffect.NO_SCHEDULE)


@dataclass(frozen=True)
class OffHours:
    """Scale the pool to zero outside working hours. The defaults (down 20:00, up 07:00, weekdays) also
    keep it off all weekend: Friday's scale-down holds until Monday's scale-up."""

    time_zone: str = "UTC"
    """IANA time zone the cron expressions are read in, e.g. `Europe/Berlin`."""
    scale_down: str = "0 20 * * 1-5"
    """Cron (minute hour day month weekday) when min, max and desired go to 0."""
    scale_up: str = "0 7 * * 1-5"
    """Cron when the pool's own min, max and desired sizes are restored."""

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"OffHours.time_zone: {self.time_zone!r} is not an IANA time zone; "
                             "use e.g. 'UTC' or 'Europe/Berlin'") from None
        for name in ("scale_down", "scale_up"):
            fields = getattr(self, name).split()
            if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
                raise ValueError(f"OffHours.{name}: {getattr(self, name)!r} is not a 5-field cron expression "
                                 "(minute hour day month weekday), e.g. '0 20 * * 1-5'")


@dataclass
class TaggedNodePoolArgs:
    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    node_role_arn: pulumi.Input[str]
    """IAM role of the nodes."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets the nodes run in."""
    tags: Mapping[str, str]
    """Cost tags (project, environment, team, cost-center, owner, non-empty); plain values, they are checked."""
    instance_types: Sequence[str]
    """Interchangeable instance types (>= 2 for SPOT, so one spot pool running dry does not stop the pool)."""
    max_size: int
    """Most nodes the pool may grow to."""
    capacity_type: CapacityType = CapacityType.SPOT
    """SPOT by default; ON_DEMAND must be asked for."""
    min_size: Optional[int] = None
    """Fewest nodes; default 0 outside prod (scale to zero), 1 in prod."""
    desired_size: Optional[int] = None
    """Initial node count; default min_size (the cluster autoscaler owns it afterwards)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra Kubernetes node labels; team, cost-center and capacity-type are always set and win."""
    taints: Optional[Sequence[Taint]] = None
    """Node taints; default GPU_TAINT for a GPU pool, none otherwise. [] means none."""
    ami_type: Optional[AmiType] = None
    """AMI family; default AL2023 standard, or AL2023 NVIDIA for GPU instance types."""
    kubernetes_version: Optional[pulumi.Input[str]] = None
    """Kubernetes version of the nodes; default the cluster's."""
    max_unavailable_percentage: int = 33
    """Share of nodes replaced at once during a version or launch template update."""
    disk_size_gib: int = 20
    """Root volume size (gp3)."""
    off_hours: Optional[OffHours] = None
    """Night/weekend scale-to-zero schedules; none by default."""
    off_hours_in_prod: bool = False
    """Allow off_hours on a prod pool (refused otherwise: prod serves around the clock)."""
    expected_node_hours: Optional[float] = None
    """Node-hours the pool runs per month (e.g. a GPU pool that scales up for jobs); recorded (as the
    component's `usage`) for the cost estimate. Default: desired size over the hours its schedules leave on."""
    expected_peak_nodes: Optional[int] = None
    """Nodes busy at once at the workload's peak (e.g. 2 GPU nodes during working hours), recorded for the
    cost estimate: a pool that could not scale would keep that many on, which is what the naive twin pays.
    Default: the desired size. At most max_size."""

    def __post_init__(self) -> None:
        check_usage("TaggedNodePoolArgs", "expected_node_hours", self.expected_node_hours)
        check_usage("TaggedNodePoolArgs", "expected_peak_nodes", self.expected_peak_nodes)
        if self.expected_peak_nodes is not None and self.expected_peak_nodes > self.max_size:
            _fail("expected_peak_nodes", f"{self.expected_peak_nodes} is above max_size {self.max_size}: "
                                         "the pool could never run that many nodes")
        self._check_tags()
        self.capacity_type = _enum("capacity_type", CapacityType, self.capacity_type)
        self._check_instance_types()
        self._check_sizes()
        self._check_nodes()
        if self.off_hours is not None and self.environment == "prod" and not self.off_hours_in_prod:
            _fail("off_hours", "scale-down schedules on a prod pool need off_hours_in_prod=True")

    @property
    def environment(self) -> str:
        return self.tags["environment"]

    @property
    def gpu(self) -> bool:
        return known_instance_types()[self.instance_types[0]].get("gpus", 0) > 0

    def _check_tags(self) -> None:
        missing = [k for k in REQUIRED_TAGS if not str(self.tags.get(k) or "").strip()]
        if missing:
            _fail("tags", f"missing or empty required tag(s) {', '.join(missing)}; all of {', '.join(REQUIRED_TAGS)} "
                          "are needed for cost allocation")
        if self.environment not in ENVIRONMENTS:
            _fail("tags", f"environment {self.environment!r} is not one of {', '.join(ENVIRONMENTS)}")
        for key in ("team", "cost-center"):
            if len(self.tags[key]) > 63 or not LABEL_VALUE.match(self.tags[key]):
                _fail("tags", f"{key} {self.tags[key]!r} is not a valid Kubernetes label value (it labels the nodes)")

    def _check_instance_types(self) -> None:
        types = list(self.instance_types)
        unknown = [t for t in types if t not in known_instance_types()]
        if not types or unknown or len(set(types)) != len(types):
            _fail("instance_types", f"{types} must be distinct types from Tollgate's price table "
                                    f"(unknown: {unknown or 'none'}), e.g. ['m5.large', 'm6i.large']")
        if self.capacity_type is CapacityType.SPOT and len(types) < 2:
            _fail("instance_types", "a SPOT pool needs at least 2 interchangeable types to survive spot shortages")
        if len({known_instance_types()[t].get("gpus", 0) > 0 for t in types}) > 1:
            _fail("instance_types", f"{types} mixes GPU and non-GPU types; they are not interchangeable")

    def _check_sizes(self) -> None:
        if self.min_size is None:
            self.min_size = 1 if self.environment == "prod" else 0
        if self.desired_size is None:
            self.desired_size = self.min_size
        if self.max_size < 1:
            _fail("max_size", f"{self.max_size} must be at least 1")
        if not 0 <= self.min_size <= self.desired_size <= self.max_size:
            _fail("desired_size", f"need 0 <= min_size ({self.min_size}) <= desired_size ({self.desired_size}) "
                                  f"<= max_size ({self.max_size})")

    def _check_nodes(self) -> None:
        wanted = AmiType.AL2023_X86_64_NVIDIA if self.gpu else AmiType.AL2023_X86_64_STANDARD
        self.ami_type = wanted if self.ami_type is None else _enum("ami_type", AmiType, self.ami_type)
        if self.ami_type is not wanted:
            _fail("ami_type", f"{self.ami_type.value} does not fit these instance types; use {wanted.value}")
        if self.taints is None:
            self.taints = [GPU_TAINT] if self.gpu else []
        self.taints = [Taint(t.key, t.value, _enum("taints", TaintEffect, t.effect)) for t in self.taints]
        if not 1 <= self.max_unavailable_percentage <= 100:
            _fail("max_unavailable_percentage", f"{self.max_unavailable_percentage} must be within 1..100")
        if self.disk_size_gib < 1:
            _fail("disk_size_gib", f"{self.disk_size_gib} must be at least 1")
        bad = {k: v for k, v in self.labels.items() if len(v) > 63 or not LABEL_VALUE.match(v)}
        if bad:
            _fail("labels", f"{bad} are not valid Kubernetes label values")

    def node_labels(self) -> dict[str, str]:
        return {**self.labels, "team": self.tags["team"], "cost-center": self.tags["cost-center"],
                "capacity-type": self.capacity_type.value.lower()}


class TaggedNodePool(pulumi.ComponentResource):
    """An EKS managed node group whose nodes, volumes and node group carry the cost tags and labels."""

    launch_template: aws.ec2.LaunchTemplate
    node_group: aws.eks.NodeGroup
    schedules: list[aws.autoscaling.Schedule]

    def __init__(self, name: str, args: TaggedNodePoolArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("tollgate:components:TaggedNodePool", name,
                         usage_props(node_hours=args.expected_node_hours, peak_nodes=args.expected_peak_nodes), opts)
        self.launch_template = self._launch_template(name, args)
        self.node_group = self._node_group(name, args)
        self.schedules = self._off_hours(name, args) if args.off_hours else []
        self.register_outputs({"node_group": self.node_group, "launch_template": self.launch_template,
                               "schedules": self.schedules})

    def _launch_template(self, name: str, args: TaggedNodePoolArgs) -> aws.ec2.LaunchTemplate:
        # Node group tags stay on the node group: only tag specifications put them on instances and
        # volumes, where the bill is. The template also pins the root volume to gp3 and IMDSv2.
        ebs = aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
            volume_size=args.disk_size_gib, volume_type="gp3", encrypted="true", delete_on_termination="true")
        return aws.ec2.LaunchTemplate(
            f"{name}-launch-template",
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(device_name="/dev/xvda", ebs=ebs)],
            # Hop limit 2: pods behind the node's network namespace still reach IMDSv2.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=2),
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=dict(args.tags))
                                for kind in ("instance", "volume")],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self))

    def _node_group(self, name: str, args: TaggedNodePoolArgs) -> aws.eks.NodeGroup:
        return aws.eks.NodeGroup(
            f"{name}-node-group",
            cluster_name=args.cluster_name, node_role_arn=args.node_role_arn, subnet_ids=args.subnet_ids,
            capacity_type=args.capacity_type.value, instance_types=list(args.instance_types),
            ami_type=args.ami_type.value, version=args.kubernetes_version,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.min_size, desired_size=args.desired_size, max_size=args.max_size),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=args.max_unavailable_percentage),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)),
            labels=args.node_labels(),
            taints=[aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value or None, effect=t.effect.value)
                    for t in args.taints] or None,
            tags=dict(args.tags),
            # The cluster autoscaler and the off-hours schedules move the desired size; a later
            # `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]))

    def _off_hours(self, name: str, args: TaggedNodePoolArgs) -> list[aws.autoscaling.Schedule]:
        # EKS exposes the node group's Auto Scaling group only as an output; scheduled actions go on it.
        asg_name = self.node_group.resources.apply(lambda rs: rs[0].autoscaling_groups[0].name)
        hours = args.off_hours
        actions = [("scale-down", hours.scale_down, 0, 0, 0),
                   ("scale-up", hours.scale_up, args.min_size, args.max_size, args.desired_size)]
        return [aws.autoscaling.Schedule(
            f"{name}-{role}", autoscaling_group_name=asg_name, scheduled_action_name=f"{name}-{role}",
            recurrence=cron, time_zone=hours.time_zone, min_size=low, max_size=high, desired_capacity=desired,
            opts=pulumi.ResourceOptions(parent=self)) for role, cron, low, high, desired in actions]
