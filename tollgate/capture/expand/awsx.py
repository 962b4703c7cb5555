"""pulumi-awsx components as the resources their plugin registers, from their inputs and documented defaults.

Facts from pulumi/pulumi-awsx e60adf3c (v3.8.0+16; the SDK installed here is 3.11.0), awsx/ec2/vpc.ts,
awsx/ec2/subnetNaming.ts, awsx/ecs/{fargate,ec2}Service.ts and awsx/lb/applicationLoadBalancer.ts; the
mapping, and what it leaves out, is docs/remote-components.md.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ..computed import get_availability_zones, region
from ..wire import UNKNOWN, is_secret
from . import Child, Component, NotExpanded, expander, spread_tags

DEFAULT_AZS = 3  # Vpc.getDefaultAzs
DEFAULT_CIDR = "10.0.0.0/16"  # Vpc.decideCidrBlockVpcInput
DEFAULT_SUBNETS = ({"type": "Private"}, {"type": "Public"})  # generateDefaultSubnets: one of each per AZ
SUBNET_ORDER = {"public": 0, "private": 1, "isolated": 2}  # compareSubnetSpecs: public subnets host the NATs
AZ_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-")  # subnetNaming.ts azSuffix: us-east-1a -> 1a
NAT_STRATEGIES = {"none", "single", "oneperaz"}
# Component inputs the AWS resource does not have (the plugin consumes them itself).
VPC_ONLY = {"availabilityZoneCidrMask", "availabilityZoneNames", "natGateways", "numberOfAvailabilityZones",
            "subnetNameTagStrategy", "subnetSpecs", "subnetStrategy", "vpcEndpointSpecs", "vpcEndpointStrategy"}
SERVICE_ONLY = {"assignPublicIp", "continueBeforeSteadyState", "taskDefinitionArgs",
                "useClusterDefaultCapacityProviderStrategy"}
TASK_ONLY = {"container", "containers", "logGroup", "taskRole", "executionRole"}
ALB_ONLY = {"subnetIds", "subnets", "defaultTargetGroup", "defaultTargetGroupPort", "defaultSecurityGroup",
            "listener", "listeners"}


def _plain(c: Component, key: str, default: Any) -> Any:
    """An input the plugin needs at construction (a count, a strategy): unknown, it cannot be expanded."""
    value = c.inputs.get(key)
    if value == UNKNOWN or is_secret(value):
        raise NotExpanded(f"its {key} is unknown until apply")
    return default if value is None else value


def _zones(c: Component) -> list[Any]:
    """The AZs the subnets go to: availabilityZoneNames, else the region's first N (sourced table)."""
    names = _plain(c, "availabilityZoneNames", None)
    if names is not None:
        return list(names)
    count = _plain(c, "numberOfAvailabilityZones", DEFAULT_AZS)
    where = _plain(c, "region", None) or region(c.provider_config.get("aws", {}))
    table = get_availability_zones({}, {"region": where})
    if table is None:
        return [UNKNOWN] * count  # a region the table does not hold: the count is still known
    if len(table["names"]) < count:
        raise NotExpanded(f"{where} has {len(table['names'])} availability zones, fewer than the {count} asked for")
    return table["names"][:count]


def _nat_strategy(c: Component) -> tuple[str, list[Any]]:
    nat = _plain(c, "natGateways", {})
    strategy = (nat.get("strategy") if isinstance(nat, dict) else None) or "OnePerAz"
    if strategy == UNKNOWN or str(strategy).lower() not in NAT_STRATEGIES:
        raise NotExpanded(f"its natGateways.strategy {strategy!r} is not one the plugin knows")
    return strategy.lower(), list(nat.get("elasticIpAllocationIds") or [])


def _wants_nat(strategy: str, made: int, az: int) -> bool:
    """shouldCreateNatGateway: one in the first public subnet of each AZ, or of the first AZ only."""
    return strategy == "oneperaz" and made < az + 1 or strategy == "single" and made < 1


def _subnet_name(vpc: str, spec: dict[str, Any], az_num: int, az: Any, by_zone: bool) -> str:
    """subnetNaming.ts: `<vpc>-<spec name or type>-<AZ number>`; the Name tag may use the AZ's suffix."""
    suffix = AZ_REGION.sub("", az) if by_zone and isinstance(az, str) and az != UNKNOWN else str(az_num)
    return f"{vpc}-{spec.get('name') or spec['type'].lower()}-{suffix}"


@expander("awsx:ec2:Vpc")
def vpc(c: Component) -> list[Child]:
    i, name = c.inputs, c.name
    zones, (strategy, allocation_ids) = _zones(c), _nat_strategy(c)
    specs = [s for s in _plain(c, "subnetSpecs", DEFAULT_SUBNETS) if str(s.get("type")).lower() != "unused"]
    if any(not isinstance(s.get("type"), str) or s["type"] == UNKNOWN for s in specs):
        raise NotExpanded("the type of one of its subnetSpecs is unknown until apply")
    specs.sort(key=lambda s: SUBNET_ORDER.get(str(s.get("type")).lower(), 3))
    by_zone = _plain(c, "subnetNameTagStrategy", "Legacy") == "AvailabilityZone"
    shared = spread_tags({"Name": name}, i.get("tags"))
    cidr = i.get("cidrBlock") or (None if i.get("ipv4IpamPoolId") else DEFAULT_CIDR)
    vpc_inputs = {k: v for k, v in i.items() if k not in VPC_ONLY}
    the_vpc = Child("aws:ec2/vpc:Vpc", name, {**vpc_inputs, **({"cidrBlock": cidr} if cidr else {}), "tags": shared})
    children = [the_vpc]
    where = {"region": i["region"]} if i.get("region") is not None else {}  # each child in the VPC's region
    nats = 0
    for az_index, az in enumerate(zones):
        for spec in specs:
            kind, subnet = spec["type"], _subnet_name(name, spec, az_index + 1, az, False)
            name_tag = {"Name": _subnet_name(name, spec, az_index + 1, az, by_zone), "SubnetType": kind}
            the_subnet = Child("aws:ec2/subnet:Subnet", subnet, {
                **where, "vpcId": UNKNOWN, "availabilityZone": az, "mapPublicIpOnLaunch": kind.lower() == "public",
                "tags": spread_tags(shared, spec.get("tags"), name_tag)}, parent=the_vpc,
                property_dependencies={"vpcId": [the_vpc]})
            children.append(the_subnet)
            if kind.lower() == "public" and _wants_nat(strategy, nats, az_index):
                children += _nat_gateway(c, az_index, the_subnet, allocation_ids, where)
                nats += 1
            children.append(Child("aws:ec2/routeTable:RouteTable", subnet, {
                **where, "vpcId": UNKNOWN, "tags": spread_tags(shared, name_tag)}, parent=the_subnet,
                property_dependencies={"vpcId": [the_vpc]}))
    children.append(Child("aws:ec2/internetGateway:InternetGateway", name,
                          {**where, "vpcId": UNKNOWN, "tags": shared}, parent=the_vpc,
                          property_dependencies={"vpcId": [the_vpc]}))
    return children


def _nat_gateway(c: Component, az_index: int, subnet: Child, allocation_ids: list[Any],
                 where: dict[str, Any]) -> list[Child]:
    """A NAT gateway `<vpc>-<n>` in the subnet, on an Elastic IP of the same name unless allocation ids are given.
    Its allocationId is the EIP's, unknown at preview."""
    name = f"{c.name}-{az_index + 1}"
    tags = spread_tags(c.inputs.get("tags"), {"Name": name})
    eips = [] if allocation_ids else [Child("aws:ec2/eip:Eip", name, {**where, "tags": tags}, parent=subnet)]
    allocation = allocation_ids[az_index] if allocation_ids and az_index < len(allocation_ids) else UNKNOWN
    return eips + [Child("aws:ec2/natGateway:NatGateway", name, {
        **where, "subnetId": UNKNOWN, "allocationId": allocation, "tags": tags}, parent=subnet,
        property_dependencies={"subnetId": [subnet], **({"allocationId": eips} if eips else {})})]


def _service(c: Component, launch_type: str, task_type: str, task_inputs: dict[str, Any],
             defaults: dict[str, Any]) -> list[Child]:
    """An ECS service `<name>`, after the task definition `<name>` its taskDefinitionArgs make (in a task
    definition component of the same name)."""
    i = c.inputs
    children: list[Child] = []
    task = i.get("taskDefinitionArgs")
    if isinstance(task, dict) and not is_secret(task):
        own = {k: v for k, v in task.items() if k not in TASK_ONLY}
        holder = Child(task_type, c.name, {}, custom=False)
        children += [holder, Child("aws:ecs/taskDefinition:TaskDefinition", c.name, {
            "networkMode": "awsvpc", **own, **task_inputs,
            "family": own.get("family") or UNKNOWN, "containerDefinitions": UNKNOWN}, parent=holder)]
    elif task is not None:
        raise NotExpanded("its taskDefinitionArgs are unknown until apply")
    service = {**defaults, **{k: v for k, v in i.items() if k not in SERVICE_ONLY}}
    if launch_type == "FARGATE" and i.get("networkConfiguration") is None:  # in the default VPC, on its own group
        children.append(Child("aws:ec2/securityGroup:SecurityGroup", f"{c.name}-sg", {"vpcId": UNKNOWN}))
        service["networkConfiguration"] = {"subnets": UNKNOWN, "securityGroups": [UNKNOWN],
                                           "assignPublicIp": i.get("assignPublicIp") or False}
    steady = i.get("continueBeforeSteadyState")
    service["waitForSteadyState"] = not steady if isinstance(steady, bool) or steady is None else UNKNOWN
    service["taskDefinition"] = i.get("taskDefinition") or UNKNOWN  # else the new definition's arn
    # ECS takes the cluster's default capacity provider strategy only when no launch type is given.
    by_cluster = i.get("useClusterDefaultCapacityProviderStrategy")
    if by_cluster == UNKNOWN:
        service["launchType"] = UNKNOWN
    elif i.get("capacityProviderStrategies") is None and not by_cluster:
        service["launchType"] = launch_type
    return children + [Child("aws:ecs/service:Service", c.name, service)]


@expander("awsx:ecs:FargateService")
def fargate_service(c: Component) -> list[Child]:
    fargate = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc"}
    return _service(c, "FARGATE", "awsx:ecs:FargateTaskDefinition", fargate, {"desiredCount": 1})


@expander("awsx:ecs:EC2Service")
def ec2_service(c: Component) -> list[Child]:
    return _service(c, "EC2", "awsx:ecs:EC2TaskDefinition", {"requiresCompatibilities": ["EC2"]}, {})


def _listener_protocol(listener: Optional[dict[str, Any]], default_port: Any = None) -> dict[str, Any]:
    """getListenerProtocol: port and protocol, each from the other (443 <-> HTTPS), else 80/HTTP."""
    port, protocol = (listener or {}).get("port"), (listener or {}).get("protocol")
    if port is None and protocol is None:
        return {"port": 80 if default_port is None else default_port, "protocol": "HTTP"}
    if protocol is None:
        protocol = UNKNOWN if port == UNKNOWN else "HTTPS" if port == 443 else "HTTP"
    if port is None:
        port = UNKNOWN if protocol == UNKNOWN else 443 if protocol == "HTTPS" else 80
    return {"port": port, "protocol": protocol}


def _listeners(i: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """getDefaultProtocol (for the target group) and the listeners' inputs, each `<alb>-<n>`."""
    listener, listeners, port = i.get("listener"), i.get("listeners"), i.get("defaultTargetGroupPort")
    if listeners is not None and len(listeners) == 1:
        default: dict[str, Any] = {}
    else:
        default = _listener_protocol(listeners[0] if listeners else listener, port)
    if listener is not None:
        return default, [{**default, **listener}]
    if listeners is not None:
        return default, [{**_listener_protocol(one), **one} for one in listeners]
    return default, [default]


@expander("awsx:lb:ApplicationLoadBalancer")
def application_load_balancer(c: Component) -> list[Child]:
    i, name = c.inputs, c.name
    balancer = {k: v for k, v in i.items() if k not in ALB_ONLY}
    balancer["loadBalancerType"] = "application"
    if i.get("subnetIds") is not None:
        balancer["subnets"] = i["subnetIds"]
    elif i.get("subnetMappings") is None:
        balancer["subnets"] = UNKNOWN  # the given subnets' ids, else the default VPC's public subnets
    children = []
    group_options = i.get("defaultSecurityGroup") or {}
    if i.get("securityGroups") is None and not group_options.get("skip"):
        if group_options.get("securityGroupId") is not None:
            balancer["securityGroups"] = [group_options["securityGroupId"]]
        else:  # the plugin's own group, open to the world unless its args say otherwise
            children.append(Child("aws:ec2/securityGroup:SecurityGroup", name,
                                  group_options.get("args") or {"vpcId": UNKNOWN}))
            balancer["securityGroups"] = [UNKNOWN]
    default, listeners = _listeners(i)
    children += [Child("aws:lb/loadBalancer:LoadBalancer", name, balancer),
                 Child("aws:lb/targetGroup:TargetGroup", name, {
                     "vpcId": UNKNOWN, "targetType": "ip", **default, **(i.get("defaultTargetGroup") or {})})]
    forward = [{"type": "forward", "targetGroupArn": UNKNOWN}]
    children += [Child("aws:lb/listener:Listener", f"{name}-{n}", {
        "defaultActions": forward, **listener, "loadBalancerArn": UNKNOWN}) for n, listener in enumerate(listeners)]
    return children
