# Tests for nat-gateway-sprawl (TG015), an advisory stack rule: input.resources is the whole stack and
# each finding is {"urn", "msg"}. Naming convention: see instance_size_cap_test.rego. Helpers: tg015_.
package tollgate

import rego.v1

tg015_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg015_type := "aws:ec2/natGateway:NatGateway"

tg015_urn(name) := sprintf("urn:pulumi:dev::atlas::%s::%s", [tg015_type, name])

tg015_nat_tagged(name, tags) := {
	"__type": tg015_type,
	"__name": name,
	"__urn": tg015_urn(name),
	"properties": object.union({"subnetId": sprintf("subnet-%s", [name]), "allocationId": tg015_unknown}, tags),
	"options": {},
	"provider": {},
	"dependencies": [],
	"propertyDependencies": {},
}

tg015_nat(name) := tg015_nat_tagged(name, {})

tg015_nat_in(name, env) := tg015_nat_tagged(name, {"tags": {"environment": env}})

tg015_extra(name, i, n, env) := {"urn": tg015_urn(name), "msg": sprintf("`%s` (aws:ec2/natGateway:NatGateway) is NAT gateway %d of %d in %s, over the 1 allowed per environment outside prod; route the private subnets of every AZ through one NAT gateway (and use VPC endpoints for S3 and DynamoDB) or get a waiver", [name, i, n, env])}

# --- allow ---

test_nat_gateway_sprawl_allow_one_in_dev if {
	s := {"resources": [tg015_nat("nat-a")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "dev"}
}

test_nat_gateway_sprawl_allow_one_per_az_in_prod if {
	s := {"resources": [tg015_nat("nat-a"), tg015_nat("nat-b"), tg015_nat("nat-c")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "prod"}
}

test_nat_gateway_sprawl_allow_stack_environment_prod if {
	s := {"resources": [tg015_nat("nat-a"), tg015_nat("nat-b")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "eu-main", "environment": "prod"}
}

# The stack decides the environment: prod tags make no exempt gateways in a dev stack.
test_nat_gateway_sprawl_warn_prod_tagged_gateways_in_dev_stack if {
	s := {"resources": [tg015_nat_in("nat-a", "prod"), tg015_nat_in("nat-b", "prod"), tg015_nat("nat-dev")]}
	stack_warn_nat_gateway_sprawl == {tg015_extra("nat-b", 2, 3, "dev"), tg015_extra("nat-dev", 3, 3, "dev")} with input as s with data.stack as {"name": "dev"}
}

test_nat_gateway_sprawl_allow_one_gateway_in_dev if {
	s := {"resources": [tg015_nat_in("nat-dev", "dev")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "dev"}
}

test_nat_gateway_sprawl_allow_tuned_max if {
	s := {"resources": [tg015_nat("nat-a"), tg015_nat("nat-b")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "staging"}
		with data.config["nat-gateway-sprawl"].max_gateways as 2
}

test_nat_gateway_sprawl_allow_no_gateways if {
	s := {"resources": [{"__type": "aws:ec2/vpc:Vpc", "__name": "main", "__urn": "u", "properties": {}, "options": {}, "provider": {}}]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "dev"}
}

# --- warn (the rule is advisory: every finding is a warning) ---

test_nat_gateway_sprawl_warn_second_gateway_in_dev if {
	s := {"resources": [tg015_nat("nat-a"), tg015_nat("nat-b")]}
	stack_warn_nat_gateway_sprawl == {{"urn": tg015_urn("nat-b"), "msg": "`nat-b` (aws:ec2/natGateway:NatGateway) is NAT gateway 2 of 2 in dev, over the 1 allowed per environment outside prod; route the private subnets of every AZ through one NAT gateway (and use VPC endpoints for S3 and DynamoDB) or get a waiver"}} with input as s
		with data.stack as {"name": "dev"}
}

test_nat_gateway_sprawl_warn_every_extra_gateway_in_declaration_order if {
	s := {"resources": [tg015_nat("nat-c"), tg015_nat("nat-a"), tg015_nat("nat-b")]}
	stack_warn_nat_gateway_sprawl == {tg015_extra("nat-a", 2, 3, "staging"), tg015_extra("nat-b", 3, 3, "staging")} with input as s
		with data.stack as {"name": "staging"}
}

test_nat_gateway_sprawl_warn_unlisted_environment if {
	s := {"resources": [tg015_nat("nat-a"), tg015_nat("nat-b")]}
	stack_warn_nat_gateway_sprawl == {tg015_extra("nat-b", 2, 2, "feature-7")} with input as s with data.stack as {"name": "feature-7"}
}

test_nat_gateway_sprawl_allow_dev_tagged_in_prod_stack if {
	s := {"resources": [tg015_nat_in("nat-a", "dev"), tg015_nat_in("nat-b", "dev"), tg015_nat("nat-prod")]}
	count(stack_warn_nat_gateway_sprawl) == 0 with input as s with data.stack as {"name": "prod"}
}

test_nat_gateway_sprawl_warn_unknown_tag_falls_back_to_stack if {
	s := {"resources": [tg015_nat_in("nat-a", tg015_unknown), tg015_nat("nat-b")]}
	stack_warn_nat_gateway_sprawl == {tg015_extra("nat-b", 2, 2, "dev")} with input as s with data.stack as {"name": "dev"}
}
