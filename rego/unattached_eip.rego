package tollgate

import rego.v1

# Stack rule, advisory: an Elastic IP is billed by the hour whether or not it is in use. It is in use
# when it names its instance or network interface, or when another resource of the stack takes it:
# an EipAssociation, a NAT gateway, a network load balancer's subnet mapping, a Transfer server.
# Those reference the EIP's allocation id, an output unknown at preview, so they are related by
# propertyDependencies (the EIP's URN); an EipAssociation's literal publicIp also matches an EIP's
# literal `address` (BYOIP).

unattached_eip_type := "aws:ec2/eip:Eip"

# The resources that take an EIP and the properties through which they do.
unattached_eip_takers := {
	"aws:ec2/eipAssociation:EipAssociation": ["allocationId", "publicIp"],
	"aws:ec2/natGateway:NatGateway": ["allocationId", "secondaryAllocationIds", "availabilityZoneAddresses"],
	"aws:lb/loadBalancer:LoadBalancer": ["subnetMappings"],
	"aws:alb/loadBalancer:LoadBalancer": ["subnetMappings"],
	"aws:transfer/server:Server": ["endpointDetails"],
}

unattached_eip_eips := [input.resources[i] | some i in stack_positions_by_type[unattached_eip_type]]

unattached_eip_eip_urns := {e.__urn | some e in unattached_eip_eips}

unattached_eip_taken_urns := {u |
	some t, props in unattached_eip_takers
	some i in stack_positions_by_type[t]
	r := input.resources[i]
	some prop in props
	some u in object.get(r, ["propertyDependencies", prop], [])
}

unattached_eip_known(x) if {
	is_string(x)
	x != ""
	not is_unknown(x)
}

unattached_eip_taken_addresses := {ip |
	some i in stack_positions_by_type["aws:ec2/eipAssociation:EipAssociation"]
	ip := object.get(input.resources[i].properties, "publicIp", null)
	unattached_eip_known(ip)
}

# A taker whose reference is unknown and traces to no EIP of the stack may take any of them.
unattached_eip_orphans := sort([label(r) |
	some t, props in unattached_eip_takers
	some i in stack_positions_by_type[t]
	r := input.resources[i]
	some prop in ["allocationId", "publicIp"]
	prop in props
	is_unknown(object.get(r.properties, prop, null))
	count({u | some u in object.get(r, ["propertyDependencies", prop], [])} & unattached_eip_eip_urns) == 0
])

unattached_eip_attached(e) if {
	some prop in ["instance", "networkInterface"]
	v := object.get(e.properties, prop, null)
	not v in {null, ""}
}

unattached_eip_attached(e) if e.__urn in unattached_eip_taken_urns

unattached_eip_attached(e) if {
	unattached_eip_known(e.properties.address)
	e.properties.address in unattached_eip_taken_addresses
}

# METADATA
# title: Unattached Elastic IP
# description: >-
#   An Elastic IP with no instance or network interface, no EipAssociation and no NAT gateway (or
#   load balancer, or Transfer server) of the stack taking it is billed for nothing.
# custom:
#   id: TG016
#   severity: low
#   enforcement: advisory
stack_warn_unattached_eip contains finding if {
	some e in unattached_eip_eips
	not unattached_eip_attached(e)
	count(unattached_eip_orphans) == 0
	finding := {"urn": e.__urn, "msg": sprintf("%s is attached to no instance, network interface or NAT gateway and no EipAssociation of the stack takes it, yet it is billed by the hour; attach it (instance, networkInterface or an aws.ec2.EipAssociation) or delete it", [label(e)])}
}

stack_warn_unattached_eip contains finding if {
	some e in unattached_eip_eips
	not unattached_eip_attached(e)
	count(unattached_eip_orphans) > 0
	finding := {"urn": e.__urn, "msg": sprintf("%s: cannot decide whether it is attached at preview, %s takes an Elastic IP unknown until apply; pass the Eip resource's allocation_id to it", [label(e), concat(", ", unattached_eip_orphans)])}
}
