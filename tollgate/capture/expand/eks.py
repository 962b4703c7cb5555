"""pulumi-eks components as the resources their plugin registers, from their inputs and documented defaults.

Facts from pulumi/pulumi-eks 7bf0c1b1 (v4.3.0+9; the SDK installed here is 4.4.0), nodejs/eks/cluster/cluster.ts
and nodejs/eks/nodes/{nodegroup,instances,ami}.ts; the mapping, and what it leaves out, is
docs/remote-components.md. Only the children the rules read are made: the EKS control plane and the
node groups (launch template, Auto Scaling group, managed node group), not the IAM roles, security groups,
OIDC provider, add-ons or the Kubernetes objects the plugin also creates.
"""

from __future__ import annotations

from typing import Any, Optional

from ..wire import UNKNOWN, is_secret
from . import Child, Component, NotExpanded, expander, spread_tags

DEFAULT_INSTANCE_TYPE = "t3.medium"  # nodes/instances.ts DEFAULT_INSTANCE_TYPE
SELF_MANAGED_SIZES = {"minSize": 1, "maxSize": 2, "desiredCapacity": 2}  # createNodeGroupV2's Auto Scaling group
MANAGED_SIZES = {"minSize": 1, "maxSize": 2, "desiredSize": 2}  # createManagedNodeGroup's scalingConfig
# The cluster's singular node group inputs, and the ClusterNodeGroupOptions key each one fills (cluster.ts).
SINGULAR_OPTIONS = {
    "nodeSubnetIds": "nodeSubnetIds", "nodeAssociatePublicIpAddress": "nodeAssociatePublicIpAddress",
    "instanceType": "instanceType", "nodePublicKey": "nodePublicKey", "nodeRootVolumeEncrypted":
    "nodeRootVolumeEncrypted", "nodeRootVolumeSize": "nodeRootVolumeSize", "nodeUserData": "nodeUserData",
    "minSize": "minSize", "maxSize": "maxSize", "desiredCapacity": "desiredCapacity", "nodeAmiId": "amiId",
    "gpu": "gpu",
}
# What the managed node group passes on to aws.eks.NodeGroup: the inputs that resource has.
NODE_GROUP_INPUTS = (
    "amiType", "capacityType", "clusterName", "diskSize", "forceUpdateVersion", "instanceTypes", "labels",
    "launchTemplate", "nodeGroupName", "nodeGroupNamePrefix", "nodeRepairConfig", "nodeRoleArn", "region",
    "releaseVersion", "remoteAccess", "subnetIds", "tags", "taints", "updateConfig", "version",
)
# Inputs that make the managed node group build its own launch template (customLaunchTemplateArgs).
CUSTOM_TEMPLATE_INPUTS = ("kubeletExtraArgs", "bootstrapExtraArgs", "bottlerocketSettings", "nodeadmExtraOptions",
                          "enableIMDSv2", "userData", "amiId", "enableEfaSupport")


def _or(value: Any, default: Any) -> Any:
    """JavaScript's `value ?? default`."""
    return default if value is None else value


def _given(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if v is not None}


def _cluster_name(value: Any) -> Optional[str]:
    """The EKS name of the cluster a node group names (its URN): the plugin's autoname prefix."""
    if isinstance(value, str) and value.startswith("urn:pulumi:") and "eks:index:Cluster" in value:
        return value.rsplit("::", 1)[-1] + "-eksCluster"
    return None


def _operating_system(o: dict[str, Any]) -> Any:
    """ami.ts getOperatingSystem: the AMI type's family, else operatingSystem, else AL2023."""
    ami_type, os_ = o.get("amiType"), o.get("operatingSystem")
    if UNKNOWN in (ami_type, os_):
        return UNKNOWN
    if isinstance(ami_type, str):
        return "AL2" if ami_type.startswith("AL2_") else "Bottlerocket" if ami_type.startswith("BOTTLEROCKET") \
            else "AL2023"
    return os_ or "AL2023"


def _root_volume(o: dict[str, Any]) -> Any:
    """The launch template's block devices: AL2 always gets a 20 GiB gp2 root volume; other systems keep the
    AMI's unless a nodeRootVolume* input is set."""
    ebs = _given({"volumeSize": o.get("nodeRootVolumeSize"), "volumeType": o.get("nodeRootVolumeType"),
                  "iops": o.get("nodeRootVolumeIops"), "throughput": o.get("nodeRootVolumeThroughput")})
    os_ = _operating_system(o)
    if os_ == UNKNOWN:
        return UNKNOWN
    if os_ == "AL2":
        ebs = {"volumeSize": 20, "volumeType": "gp2", **ebs}
    return [{"deviceName": UNKNOWN, "ebs": ebs}] if ebs else []


def _asg_tags(tags: Any, cluster: Optional[str]) -> Any:
    """The group's tags: autoScalingGroupTags, then the two the plugin adds from the cluster's name."""
    own = spread_tags(tags)
    if cluster == UNKNOWN:
        return UNKNOWN
    if not isinstance(own, dict) or is_secret(own):
        return own
    blocks = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in own.items()]
    if cluster:
        blocks += [{"key": f"kubernetes.io/cluster/{cluster}", "value": "owned", "propagateAtLaunch": True},
                   {"key": "Name", "value": f"{cluster}-worker", "propagateAtLaunch": True}]
    return blocks


def _self_managed_group(name: str, o: dict[str, Any], cluster: Optional[str]) -> list[Child]:
    """createNodeGroupV2: a launch template `<name>-launchTemplate` and the Auto Scaling group `<name>`."""
    spot = o.get("spotPrice")
    template = _given({
        "instanceType": o.get("instanceType") or DEFAULT_INSTANCE_TYPE,
        "instanceMarketOptions": {"marketType": "spot", "spotOptions": {"maxPrice": spot}} if spot else None,
        "blockDeviceMappings": _root_volume(o),
        "tagSpecifications": o.get("launchTemplateTagSpecifications"),
        "metadataOptions": o.get("metadataOptions"),
    })
    group = {
        **{k: _or(o.get(k), v) for k, v in SELF_MANAGED_SIZES.items()},
        "launchTemplate": {"name": UNKNOWN, "version": UNKNOWN},  # the template's autoname and latest version
        "vpcZoneIdentifiers": _or(o.get("nodeSubnetIds"), UNKNOWN),
        "tags": _asg_tags(o.get("autoScalingGroupTags"), cluster),
    }
    launch_template = Child("aws:ec2/launchTemplate:LaunchTemplate", f"{name}-launchTemplate", template)
    return [launch_template, Child("aws:autoscaling/group:Group", name, group,
                                   property_dependencies={"launchTemplate": [launch_template]})]


def _node_group_options(inputs: dict[str, Any]) -> dict[str, Any]:
    options = inputs.get("nodeGroupOptions")
    singular = {key: inputs[k] for k, key in SINGULAR_OPTIONS.items() if inputs.get(k) is not None}
    if options is None:
        return singular
    if not isinstance(options, dict) or is_secret(options):
        raise NotExpanded("its nodeGroupOptions are unknown until apply")
    if singular:
        raise NotExpanded(f"nodeGroupOptions and {', '.join(sorted(singular))} are both set, which the plugin "
                          "rejects")
    return options


@expander("eks:index:Cluster")
def cluster(c: Component) -> list[Child]:
    i = c.inputs
    control_plane = _given({"name": i.get("name"), "version": i.get("version"),
                            "tags": spread_tags({"Name": f"{c.name}-eksCluster"}, i.get("clusterTags"), i.get("tags"))})
    children = [Child("aws:eks/cluster:Cluster", f"{c.name}-eksCluster", control_plane)]
    if i.get("fargate") == UNKNOWN:
        raise NotExpanded("whether it runs on Fargate (which skips the default node group) is unknown until apply")
    auto_mode = i.get("autoMode")
    if i.get("skipDefaultNodeGroup") or i.get("fargate") or (isinstance(auto_mode, dict) and auto_mode.get("enabled")):
        return children
    name = i["name"] if isinstance(i.get("name"), str) else f"{c.name}-eksCluster"  # else its autoname's prefix
    return children + _self_managed_group(c.name, _node_group_options(i), name)


@expander("eks:index:NodeGroupV2")
def node_group_v2(c: Component) -> list[Child]:
    return _self_managed_group(c.name, c.inputs, _cluster_name(c.inputs.get("cluster")))


@expander("eks:index:ManagedNodeGroup")
def managed_node_group(c: Component) -> list[Child]:
    i = c.inputs
    scaling = i.get("scalingConfig")
    if scaling is None or isinstance(scaling, dict) and not is_secret(scaling):
        scaling = {k: _or((scaling or {}).get(k), v) for k, v in MANAGED_SIZES.items()}
    custom_template = any(i.get(k) is not None for k in CUSTOM_TEMPLATE_INPUTS)
    group = {k: i[k] for k in NODE_GROUP_INPUTS if i.get(k) is not None}
    group.update(
        clusterName=_or(i.get("clusterName"), UNKNOWN),
        nodeRoleArn=_or(i.get("nodeRoleArn"), UNKNOWN),  # else the nodeRole's arn
        scalingConfig=scaling,
        subnetIds=_or(i.get("subnetIds"), UNKNOWN),  # else the cluster's subnets
    )
    if custom_template:  # its own `<name>-launchTemplate` (not made here) carries the disk instead
        group.pop("diskSize", None)
        group["launchTemplate"] = {"id": UNKNOWN, "version": UNKNOWN}
    return [Child("aws:eks/nodeGroup:NodeGroup", c.name, group)]
