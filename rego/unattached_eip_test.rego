# Tests for unattached-eip (TG016), an advisory stack rule: input.resources is the whole stack and each
# finding is {"urn", "msg"}. Naming convention: see instance_size_cap_test.rego. Helpers: tg016_.
package tollgate

import rego.v1

tg016_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg016_urn(type, name) := sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name])

tg016_resource(type, name, properties, deps) := {
	"__type": type,
	"__name": name,
	"__urn": tg016_urn(type, name),
	"properties": properties,
	"options": {},
	"provider": {},
	"dependencies": [u | some _, us in deps; some u in us],
	"propertyDependencies": deps,
}

tg016_eip_type := "aws:ec2/eip:Eip"

tg016_eip_with(name, properties) := tg016_resource(tg016_eip_type, name, object.union({"domain": "vpc"}, properties), {})

tg016_eip(name) := tg016_eip_with(name, {})

tg016_eip_urn(name) := tg016_urn(tg016_eip_type, name)

tg016_assoc(name, deps) := tg016_resource("aws:ec2/eipAssociation:EipAssociation", name, {"allocationId": tg016_unknown, "instanceId": "i-123"}, deps)

tg016_nat(name, deps) := tg016_resource("aws:ec2/natGateway:NatGateway", name, {"allocationId": tg016_unknown, "subnetId": "subnet-1"}, deps)

tg016_idle(name) := {"urn": tg016_eip_urn(name), "msg": sprintf("`%s` (aws:ec2/eip:Eip) is attached to no instance, network interface or NAT gateway and no EipAssociation of the stack takes it, yet it is billed by the hour; attach it (instance, networkInterface or an aws.ec2.EipAssociation) or delete it", [name])}

# --- allow ---

test_unattached_eip_allow_instance if {
	s := {"resources": [tg016_eip_with("ip", {"instance": tg016_unknown})]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_network_interface if {
	s := {"resources": [tg016_eip_with("ip", {"networkInterface": "eni-123"})]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_association if {
	s := {"resources": [tg016_eip("ip"), tg016_assoc("ip-assoc", {"allocationId": [tg016_eip_urn("ip")]})]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_association_by_public_ip if {
	assoc := tg016_resource("aws:ec2/eipAssociation:EipAssociation", "assoc", {"publicIp": "203.0.113.7", "instanceId": "i-1"}, {})
	s := {"resources": [tg016_eip_with("ip", {"address": "203.0.113.7"}), assoc]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_nat_gateway if {
	s := {"resources": [tg016_eip("nat-ip"), tg016_nat("nat", {"allocationId": [tg016_eip_urn("nat-ip")], "subnetId": []})]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_nat_gateway_secondary_address if {
	s := {"resources": [
		tg016_eip("a"), tg016_eip("b"),
		tg016_nat("nat", {"allocationId": [tg016_eip_urn("a")], "secondaryAllocationIds": [tg016_eip_urn("b")]}),
	]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_network_load_balancer_subnet_mapping if {
	nlb := tg016_resource("aws:lb/loadBalancer:LoadBalancer", "nlb", {
		"loadBalancerType": "network",
		"subnetMappings": [{"subnetId": "subnet-1", "allocationId": tg016_unknown}],
	}, {"subnetMappings": [tg016_eip_urn("ip")]})
	s := {"resources": [tg016_eip("ip"), nlb]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

test_unattached_eip_allow_no_eips if {
	s := {"resources": [tg016_nat("nat", {})]}
	count(stack_warn_unattached_eip) == 0 with input as s
}

# --- warn (the rule is advisory: every finding is a warning) ---

test_unattached_eip_warn_idle_eip if {
	s := {"resources": [tg016_eip("ip")]}
	stack_warn_unattached_eip == {{"urn": tg016_eip_urn("ip"), "msg": "`ip` (aws:ec2/eip:Eip) is attached to no instance, network interface or NAT gateway and no EipAssociation of the stack takes it, yet it is billed by the hour; attach it (instance, networkInterface or an aws.ec2.EipAssociation) or delete it"}} with input as s
}

test_unattached_eip_warn_only_the_idle_one if {
	s := {"resources": [tg016_eip("used"), tg016_eip("spare"), tg016_assoc("assoc", {"allocationId": [tg016_eip_urn("used")]})]}
	stack_warn_unattached_eip == {tg016_idle("spare")} with input as s
}

test_unattached_eip_warn_empty_instance if {
	s := {"resources": [tg016_eip_with("ip", {"instance": ""})]}
	stack_warn_unattached_eip == {tg016_idle("ip")} with input as s
}

test_unattached_eip_warn_dependency_on_other_property_does_not_attach if {
	# An association that only depends on the EIP through its instanceId (odd, but no attachment).
	s := {"resources": [tg016_eip("ip"), tg016_resource("aws:ec2/eipAssociation:EipAssociation", "assoc", {"allocationId": "eipalloc-123", "instanceId": tg016_unknown}, {"instanceId": [tg016_eip_urn("ip")]})]}
	stack_warn_unattached_eip == {tg016_idle("ip")} with input as s
}

test_unattached_eip_warn_association_of_unknown_eip if {
	rnd := tg016_urn("aws:ssm/parameter:Parameter", "alloc")
	s := {"resources": [tg016_eip("ip"), tg016_eip("nat-ip"), tg016_nat("nat", {"allocationId": [tg016_eip_urn("nat-ip")]}), tg016_assoc("assoc", {"allocationId": [rnd]})]}
	stack_warn_unattached_eip == {{"urn": tg016_eip_urn("ip"), "msg": "`ip` (aws:ec2/eip:Eip): cannot decide whether it is attached at preview, `assoc` (aws:ec2/eipAssociation:EipAssociation) takes an Elastic IP unknown until apply; pass the Eip resource's allocation_id to it"}} with input as s
}
