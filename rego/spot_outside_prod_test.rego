# Tests for spot-outside-prod (TG006). Naming and kinds as in instance_size_cap_test.rego.
# Helpers are prefixed tg006_: all rule and test files share package tollgate.
# Default (rego/data.json): on-demand capacity only in prod; any other environment must use spot.
package tollgate

import rego.v1

tg006_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg006_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg006_ng_props := {"clusterName": "main", "scalingConfig": {"minSize": 0, "desiredSize": 0, "maxSize": 3}}

tg006_node_group(capacity) := tg006_resource("aws:eks/nodeGroup:NodeGroup", "ng", object.union(tg006_ng_props, {"capacityType": capacity}))

# AWS's default when capacityType is not set is ON_DEMAND.
tg006_node_group_default := tg006_resource("aws:eks/nodeGroup:NodeGroup", "ng", tg006_ng_props)

tg006_batch(type) := tg006_resource(
	"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
	{"type": "MANAGED", "computeResources": {"type": type, "maxVcpus": 16}},
)

tg006_ng_on(capacity, env) := sprintf("`ng` (aws:eks/nodeGroup:NodeGroup) runs %s capacity in %s; set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)", [capacity, env])

tg006_batch_on(type, env) := sprintf("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) runs %s (on-demand) capacity in %s; set computeResources.type SPOT or FARGATE_SPOT outside prod (tollgate_components.SpotComputeEnvironment does)", [type, env])

# --- allow ---

test_spot_outside_prod_allow_spot_node_group_in_dev if {
	count(deny_spot_outside_prod) == 0 with input as tg006_node_group("SPOT") with data.stack as {"name": "dev"}
	count(warn_spot_outside_prod) == 0 with input as tg006_node_group("SPOT") with data.stack as {"name": "dev"}
}

test_spot_outside_prod_allow_on_demand_in_prod if {
	count(deny_spot_outside_prod) == 0 with input as tg006_node_group("ON_DEMAND") with data.stack as {"name": "prod"}
	count(deny_spot_outside_prod) == 0 with input as tg006_node_group_default with data.stack as {"name": "prod"}
	count(deny_spot_outside_prod) == 0 with input as tg006_batch("EC2") with data.stack as {"name": "prod"}
	count(deny_spot_outside_prod) == 0 with input as tg006_batch("FARGATE") with data.stack as {"name": "prod"}
}

test_spot_outside_prod_allow_unknown_capacity_in_prod if {
	count(warn_spot_outside_prod) == 0 with input as tg006_node_group(tg006_unknown) with data.stack as {"name": "prod"}
}

test_spot_outside_prod_allow_spot_batch_outside_prod if {
	every type in ["SPOT", "FARGATE_SPOT"] {
		count(deny_spot_outside_prod) == 0 with input as tg006_batch(type) with data.stack as {"name": "staging"}
		count(warn_spot_outside_prod) == 0 with input as tg006_batch(type) with data.stack as {"name": "staging"}
	}
}

test_spot_outside_prod_allow_unmanaged_batch if {
	ce := tg006_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "UNMANAGED"})
	count(deny_spot_outside_prod) == 0 with input as ce with data.stack as {"name": "dev"}
	count(warn_spot_outside_prod) == 0 with input as ce with data.stack as {"name": "dev"}
}

# The stack decides the environment: a prod tag buys no on-demand pool in a dev stack.
test_spot_outside_prod_deny_prod_tag_in_dev_stack if {
	ng := tg006_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"capacityType": "ON_DEMAND", "tags": {"environment": "prod"}})
	deny_spot_outside_prod == {tg006_ng_on("ON_DEMAND", "dev")} with input as ng with data.stack as {"name": "dev"}
}

test_spot_outside_prod_allow_other_types if {
	instance := tg006_resource("aws:ec2/instance:Instance", "web", {"instanceType": "t3.micro", "capacityType": "ON_DEMAND"})
	count(deny_spot_outside_prod) == 0 with input as instance with data.stack as {"name": "dev"}
}

# --- deny ---

test_spot_outside_prod_deny_on_demand_node_group_in_dev if {
	deny_spot_outside_prod == {"`ng` (aws:eks/nodeGroup:NodeGroup) runs ON_DEMAND capacity in dev; set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)"} with input as tg006_node_group("ON_DEMAND")
		with data.stack as {"name": "dev"}
}

test_spot_outside_prod_deny_node_group_without_capacity_type if {
	deny_spot_outside_prod == {"`ng` (aws:eks/nodeGroup:NodeGroup) runs ON_DEMAND capacity in staging (capacityType is unset, and ON_DEMAND is the AWS default); set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)"} with input as tg006_node_group_default
		with data.stack as {"name": "staging"}
}

test_spot_outside_prod_deny_capacity_block_outside_prod if {
	deny_spot_outside_prod == {tg006_ng_on("CAPACITY_BLOCK", "staging")} with input as tg006_node_group("CAPACITY_BLOCK") with data.stack as {"name": "staging"}
}

test_spot_outside_prod_deny_unlisted_environment if {
	deny_spot_outside_prod == {tg006_ng_on("ON_DEMAND", "feature-x")} with input as tg006_node_group("ON_DEMAND") with data.stack as {"name": "feature-x"}
}

test_spot_outside_prod_allow_dev_tag_in_prod_stack if {
	ng := tg006_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"capacityType": "ON_DEMAND", "tags": {"environment": "dev"}})
	count(deny_spot_outside_prod) == 0 with input as ng with data.stack as {"name": "prod"}
}

test_spot_outside_prod_deny_batch_ec2_and_fargate if {
	deny_spot_outside_prod == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) runs EC2 (on-demand) capacity in dev; set computeResources.type SPOT or FARGATE_SPOT outside prod (tollgate_components.SpotComputeEnvironment does)"} with input as tg006_batch("EC2")
		with data.stack as {"name": "dev"}
	deny_spot_outside_prod == {tg006_batch_on("FARGATE", "staging")} with input as tg006_batch("FARGATE") with data.stack as {"name": "staging"}
}

test_spot_outside_prod_deny_configured_environments if {
	config := object.union(data.config, {"spot-outside-prod": {"on_demand_environments": ["prod", "staging"]}})
	count(deny_spot_outside_prod) == 0 with input as tg006_batch("EC2") with data.stack as {"name": "staging"} with data.config as config
	deny_spot_outside_prod == {tg006_batch_on("EC2", "dev")} with input as tg006_batch("EC2") with data.stack as {"name": "dev"} with data.config as config
}

# --- warn: cannot decide at preview ---

test_spot_outside_prod_warn_capacity_type_unknown if {
	warn_spot_outside_prod == {"`ng` (aws:eks/nodeGroup:NodeGroup): cannot decide spot outside prod at preview, capacityType is unknown until apply"} with input as tg006_node_group(tg006_unknown)
		with data.stack as {"name": "dev"}
	count(deny_spot_outside_prod) == 0 with input as tg006_node_group(tg006_unknown) with data.stack as {"name": "dev"}
}

test_spot_outside_prod_warn_batch_type_unknown if {
	warn_spot_outside_prod == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment): cannot decide spot outside prod at preview, computeResources.type is unknown until apply"} with input as tg006_batch(tg006_unknown)
		with data.stack as {"name": "dev"}
	count(deny_spot_outside_prod) == 0 with input as tg006_batch(tg006_unknown) with data.stack as {"name": "dev"}
}

test_spot_outside_prod_warn_batch_compute_resources_unknown if {
	ce := tg006_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "MANAGED", "computeResources": tg006_unknown})
	warn_spot_outside_prod == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment): cannot decide spot outside prod at preview, computeResources is unknown until apply"} with input as ce
		with data.stack as {"name": "dev"}
	count(deny_spot_outside_prod) == 0 with input as ce with data.stack as {"name": "dev"}
}
