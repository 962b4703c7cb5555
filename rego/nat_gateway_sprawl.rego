package tollgate

import rego.v1

# Stack rule, advisory: outside prod one NAT gateway is enough (AZ-redundant egress is a prod need), and
# each one is billed by the hour plus per GB processed. Gateways are counted per environment (the stack's:
# lib.rego's environment, which no tag changes); in an environment outside the exempt ones, the first
# `max_gateways` in declaration order are fine and each later one gets a finding of its own, so a
# waiver can name the one gateway it allows.

nat_gateway_sprawl_type := "aws:ec2/natGateway:NatGateway"

nat_gateway_sprawl_config := data.config["nat-gateway-sprawl"]

nat_gateway_sprawl_gateways := [input.resources[i] | some i in stack_positions_by_type[nat_gateway_sprawl_type]]

nat_gateway_sprawl_environments := {environment(g) | some g in nat_gateway_sprawl_gateways} - {e | some e in nat_gateway_sprawl_config.exempt_environments}

# METADATA
# title: NAT gateway sprawl
# description: >-
#   Outside prod a stack should need at most one NAT gateway per environment; each extra gateway
#   (in declaration order) is reported.
# custom:
#   id: TG015
#   severity: low
#   enforcement: advisory
stack_warn_nat_gateway_sprawl contains finding if {
	some env in nat_gateway_sprawl_environments
	gateways := [g | some g in nat_gateway_sprawl_gateways; environment(g) == env]
	allowed := nat_gateway_sprawl_config.max_gateways
	count(gateways) > allowed
	some i, g in gateways
	i >= allowed
	finding := {"urn": g.__urn, "msg": sprintf("%s is NAT gateway %d of %d in %s, over the %d allowed per environment outside %s; route the private subnets of every AZ through one NAT gateway (and use VPC endpoints for S3 and DynamoDB) or get a waiver", [label(g), i + 1, count(gateways), env, allowed, concat(", ", nat_gateway_sprawl_config.exempt_environments)])}
}
