"""Resources that cost nothing by themselves, each with the reason (a $0 line says why it is $0).

Anything neither here nor in the pricers is "not in the price table": unknown is never free.
"""

from __future__ import annotations

from typing import Optional

from ..model import Resource

S3_CONFIG = "bucket configuration: no charge (the data is priced on its bucket)"
PLUMBING = "VPC plumbing: no charge"
NO_CLOUD = "no cloud resource"

BY_PREFIX = (
    ("pulumi:providers:", "a provider: configuration, not a cloud resource"),
    ("aws:iam/", "IAM: no charge"),
    ("kubernetes:", "a Kubernetes object: runs on priced nodes"),
    ("random:", NO_CLOUD), ("tls:", NO_CLOUD), ("time:", NO_CLOUD), ("command:", NO_CLOUD),
)

BY_TYPE = {
    "pulumi:pulumi:Stack": "the stack itself",
    "aws:ec2/launchTemplate:LaunchTemplate": "a template: its instances are priced where they run",
    "aws:ec2/launchConfiguration:LaunchConfiguration": "a template: its instances are priced where they run",
    "aws:autoscaling/schedule:Schedule": "a scheduled action: its hours are priced on the group it scales",
    "aws:autoscaling/policy:Policy": "a scaling policy: its effect is priced on the group",
    "aws:autoscaling/lifecycleHook:LifecycleHook": "no charge",
    "aws:batch/jobQueue:JobQueue": "no charge: compute is priced on the compute environments",
    "aws:batch/jobDefinition:JobDefinition": "no charge: compute is priced on the compute environments",
    "aws:batch/schedulingPolicy:SchedulingPolicy": "no charge: compute is priced on the compute environments",
    "aws:sns/topicPolicy:TopicPolicy": "a policy: no charge",
    "aws:sns/topic:Topic": "no charge for the topic; deliveries are billed per request (not estimated)",
    "aws:sns/topicSubscription:TopicSubscription": "no charge for the subscription; deliveries are billed per request "
                                                   "(not estimated)",
    "aws:budgets/budget:Budget": "a budget without actions: no charge",
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": "Cost Anomaly Detection: no charge",
    "aws:costexplorer/anomalySubscription:AnomalySubscription": "Cost Anomaly Detection: no charge",
    "aws:eks/addon:Addon": "no charge: add-on pods run on priced nodes",
    "aws:eks/accessEntry:AccessEntry": "no charge", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "no charge",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "no charge",
    **{f"aws:s3/{t}": S3_CONFIG for t in (
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
        "bucketVersioning:BucketVersioning", "bucketVersioningV2:BucketVersioningV2",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketOwnershipControls:BucketOwnershipControls",
        "bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration",
        "bucketPolicy:BucketPolicy", "bucketAclV2:BucketAclV2", "bucketCorsConfigurationV2:BucketCorsConfigurationV2",
        "bucketNotification:BucketNotification")},
    **{f"aws:ec2/{t}": PLUMBING for t in (
        "vpc:Vpc", "subnet:Subnet", "routeTable:RouteTable", "routeTableAssociation:RouteTableAssociation",
        "route:Route", "internetGateway:InternetGateway", "egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "securityGroup:SecurityGroup", "securityGroupRule:SecurityGroupRule", "networkAcl:NetworkAcl",
        "networkAclRule:NetworkAclRule", "defaultVpc:DefaultVpc", "defaultSubnet:DefaultSubnet",
        "defaultRouteTable:DefaultRouteTable", "defaultSecurityGroup:DefaultSecurityGroup",
        "defaultNetworkAcl:DefaultNetworkAcl", "mainRouteTableAssociation:MainRouteTableAssociation",
        "vpcDhcpOptions:VpcDhcpOptions", "vpcDhcpOptionsAssociation:VpcDhcpOptionsAssociation",
        "keyPair:KeyPair", "placementGroup:PlacementGroup")},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": PLUMBING,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": PLUMBING,
}

# Kubernetes objects that make the cloud provision something billed outside the nodes.
K8S_BILLED = {
    "kubernetes:core/v1:PersistentVolumeClaim": "a claim provisions a volume (e.g. EBS) that is not estimated",
    "kubernetes:core/v1:PersistentVolume": "a volume (e.g. EBS) that is not estimated",
}


def reason(r: Resource) -> Optional[str]:
    """Why r costs nothing by itself, or None when it may cost something."""
    if not r.custom and r.type != "pulumi:pulumi:Stack":
        return "a component: its children are priced"
    if r.type in BY_TYPE:
        return BY_TYPE[r.type]
    if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
        return PLUMBING + " (gateway endpoint)" if r.inputs.get("vpcEndpointType", "Gateway") == "Gateway" else None
    if r.type in K8S_BILLED or _load_balancer_service(r):
        return None
    return next((why for prefix, why in BY_PREFIX if r.type.startswith(prefix)), None)


def billed_kubernetes(r: Resource) -> Optional[str]:
    """The not-priced basis of a Kubernetes object that provisions billed cloud resources."""
    if _load_balancer_service(r):
        return "a LoadBalancer Service provisions a cloud load balancer that is not estimated"
    return K8S_BILLED.get(r.type)


def _load_balancer_service(r: Resource) -> bool:
    spec = r.inputs.get("spec")
    return r.type == "kubernetes:core/v1:Service" and isinstance(spec, dict) and spec.get("type") == "LoadBalancer"
