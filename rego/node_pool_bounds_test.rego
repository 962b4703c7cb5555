# Tests for node-pool-bounds (TG005). Naming and kinds as in instance_size_cap_test.rego.
# Helpers are prefixed tg005_: all rule and test files share package tollgate.
# Caps (rego/data.json): nodes dev 5 / staging 10 / prod 50, Batch vCPU dev 64 / staging 256 / prod
# 2048; any other environment gets the strictest (5 nodes, 64 vCPU).
package tollgate

import rego.v1

tg005_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg005_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg005_node_group(scaling) := tg005_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "main", "scalingConfig": scaling})

tg005_ng(min, desired, max) := tg005_node_group({"minSize": min, "desiredSize": desired, "maxSize": max})

tg005_asg(properties) := tg005_resource("aws:autoscaling/group:Group", "asg", object.union({"launchTemplate": {"id": "lt-1"}}, properties))

tg005_batch(resources) := tg005_resource(
	"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
	{"type": "MANAGED", "computeResources": object.union({"type": "SPOT", "instanceTypes": ["c5.large"]}, resources)},
)

tg005_ng_label := "`ng` (aws:eks/nodeGroup:NodeGroup)"

tg005_asg_label := "`asg` (aws:autoscaling/group:Group)"

tg005_jobs := "`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)"

tg005_ng_over(max, env, cap) := sprintf("`ng` (aws:eks/nodeGroup:NodeGroup) allows up to %d nodes (scalingConfig.maxSize), over the %s cap of %d nodes; lower maxSize to at most %d (tollgate_components.TaggedNodePool) or get a waiver", [max, env, cap, cap])

tg005_asg_over(max, env, cap) := sprintf("`asg` (aws:autoscaling/group:Group) allows up to %d nodes (maxSize), over the %s cap of %d nodes; lower maxSize to at most %d or get a waiver", [max, env, cap, cap])

tg005_batch_over(max, env, cap) := sprintf("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) allows up to %d vCPU (computeResources.maxVcpus), over the %s cap of %d vCPU; lower maxVcpus to at most %d (tollgate_components.SpotComputeEnvironment) or get a waiver", [max, env, cap, cap])

tg005_ng_desired(desired, min, max) := sprintf("`ng` (aws:eks/nodeGroup:NodeGroup) asks for %d nodes (scalingConfig.desiredSize), outside its bounds [%d, %d]; set desiredSize between minSize and maxSize", [desired, min, max])

tg005_cannot(label, path) := sprintf("%s: cannot decide node pool bounds at preview, %s is unknown until apply", [label, path])

# --- allow ---

test_node_pool_bounds_allow_node_group_at_each_cap if {
	count(deny_node_pool_bounds) == 0 with input as tg005_ng(0, 0, 5) with data.stack as {"name": "dev"}
	count(warn_node_pool_bounds) == 0 with input as tg005_ng(0, 0, 5) with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as tg005_ng(1, 10, 10) with data.stack as {"name": "staging"}
	count(deny_node_pool_bounds) == 0 with input as tg005_ng(3, 3, 50) with data.stack as {"name": "prod"}
}

test_node_pool_bounds_allow_asg_within_cap if {
	asg := tg005_asg({"minSize": 0, "maxSize": 5, "desiredCapacity": 2})
	count(deny_node_pool_bounds) == 0 with input as asg with data.stack as {"name": "dev"}
	count(warn_node_pool_bounds) == 0 with input as asg with data.stack as {"name": "dev"}
}

test_node_pool_bounds_allow_asg_without_desired_capacity if {
	count(deny_node_pool_bounds) == 0 with input as tg005_asg({"minSize": 1, "maxSize": 4}) with data.stack as {"name": "dev"}
}

test_node_pool_bounds_allow_batch_at_each_cap if {
	count(deny_node_pool_bounds) == 0 with input as tg005_batch({"maxVcpus": 64}) with data.stack as {"name": "dev"}
	count(warn_node_pool_bounds) == 0 with input as tg005_batch({"maxVcpus": 64}) with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as tg005_batch({"maxVcpus": 256, "minVcpus": 0, "desiredVcpus": 16}) with data.stack as {"name": "staging"}
	count(deny_node_pool_bounds) == 0 with input as tg005_batch({"maxVcpus": 2048}) with data.stack as {"name": "prod"}
}

test_node_pool_bounds_allow_unmanaged_batch if {
	ce := tg005_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "UNMANAGED"})
	count(deny_node_pool_bounds) == 0 with input as ce with data.stack as {"name": "dev"}
	count(warn_node_pool_bounds) == 0 with input as ce with data.stack as {"name": "dev"}
}

# The stack decides the environment: a prod tag buys no prod-sized pool in a dev stack.
test_node_pool_bounds_deny_prod_tag_in_dev_stack if {
	ng := tg005_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"scalingConfig": {"minSize": 1, "desiredSize": 1, "maxSize": 20}, "tags": {"environment": "prod"}})
	deny_node_pool_bounds == {tg005_ng_over(20, "dev", 5)} with input as ng with data.stack as {"name": "dev"}
}

test_node_pool_bounds_allow_other_types if {
	schedule := tg005_resource("aws:autoscaling/schedule:Schedule", "night", {"minSize": 0, "maxSize": 100, "desiredCapacity": 200})
	count(deny_node_pool_bounds) == 0 with input as schedule with data.stack as {"name": "dev"}
}

# --- deny ---

test_node_pool_bounds_deny_node_group_over_dev_cap if {
	deny_node_pool_bounds == {"`ng` (aws:eks/nodeGroup:NodeGroup) allows up to 8 nodes (scalingConfig.maxSize), over the dev cap of 5 nodes; lower maxSize to at most 5 (tollgate_components.TaggedNodePool) or get a waiver"} with input as tg005_ng(0, 1, 8)
		with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_node_group_over_staging_and_prod_caps if {
	deny_node_pool_bounds == {tg005_ng_over(11, "staging", 10)} with input as tg005_ng(0, 1, 11) with data.stack as {"name": "staging"}
	deny_node_pool_bounds == {tg005_ng_over(60, "prod", 50)} with input as tg005_ng(2, 2, 60) with data.stack as {"name": "prod"}
}

test_node_pool_bounds_deny_unlisted_environment_gets_strictest_cap if {
	deny_node_pool_bounds == {tg005_ng_over(6, "feature-x", 5)} with input as tg005_ng(0, 0, 6) with data.stack as {"name": "feature-x"}
}

test_node_pool_bounds_deny_node_group_desired_above_max if {
	deny_node_pool_bounds == {tg005_ng_desired(4, 0, 3)} with input as tg005_ng(0, 4, 3) with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_node_group_desired_below_min if {
	deny_node_pool_bounds == {tg005_ng_desired(1, 2, 4)} with input as tg005_ng(2, 1, 4) with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_over_cap_and_desired_outside if {
	deny_node_pool_bounds == {tg005_ng_over(9, "dev", 5), tg005_ng_desired(10, 1, 9)} with input as tg005_ng(1, 10, 9)
		with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_asg_over_cap if {
	deny_node_pool_bounds == {tg005_asg_over(12, "staging", 10)} with input as tg005_asg({"minSize": 0, "maxSize": 12})
		with data.stack as {"name": "staging"}
}

test_node_pool_bounds_deny_asg_desired_outside if {
	deny_node_pool_bounds == {"`asg` (aws:autoscaling/group:Group) asks for 0 nodes (desiredCapacity), outside its bounds [1, 3]; set desiredCapacity between minSize and maxSize"} with input as tg005_asg({"minSize": 1, "maxSize": 3, "desiredCapacity": 0})
		with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_batch_over_cap if {
	deny_node_pool_bounds == {tg005_batch_over(128, "dev", 64)} with input as tg005_batch({"maxVcpus": 128}) with data.stack as {"name": "dev"}
	deny_node_pool_bounds == {tg005_batch_over(4096, "prod", 2048)} with input as tg005_batch({"maxVcpus": 4096}) with data.stack as {"name": "prod"}
}

test_node_pool_bounds_deny_batch_desired_outside if {
	deny_node_pool_bounds == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) asks for 80 vCPU (computeResources.desiredVcpus), outside its bounds [0, 64]; set desiredVcpus between minVcpus and maxVcpus"} with input as tg005_batch({"maxVcpus": 64, "desiredVcpus": 80})
		with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_batch_desired_below_min if {
	deny_node_pool_bounds == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) asks for 2 vCPU (computeResources.desiredVcpus), outside its bounds [4, 64]; set desiredVcpus between minVcpus and maxVcpus"} with input as tg005_batch({"maxVcpus": 64, "minVcpus": 4, "desiredVcpus": 2})
		with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_configured_caps if {
	config := object.union(data.config, {"node-pool-bounds": {"max_nodes": {"dev": 2, "staging": 10, "prod": 50}, "max_vcpus": {"dev": 64, "staging": 256, "prod": 2048}}})
	deny_node_pool_bounds == {tg005_ng_over(3, "dev", 2)} with input as tg005_ng(0, 0, 3) with data.stack as {"name": "dev"} with data.config as config
}

# --- warn: cannot decide at preview ---

test_node_pool_bounds_warn_scaling_config_unknown if {
	ng := tg005_node_group(tg005_unknown)
	warn_node_pool_bounds == {tg005_cannot(tg005_ng_label, "scalingConfig")} with input as ng with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as ng with data.stack as {"name": "dev"}
}

test_node_pool_bounds_warn_max_size_unknown if {
	ng := tg005_ng(0, 0, tg005_unknown)
	warn_node_pool_bounds == {tg005_cannot(tg005_ng_label, "scalingConfig.maxSize")} with input as ng with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as ng with data.stack as {"name": "dev"}
}

test_node_pool_bounds_warn_asg_desired_and_min_unknown if {
	asg := tg005_asg({"minSize": tg005_unknown, "maxSize": 3, "desiredCapacity": tg005_unknown})
	warn_node_pool_bounds == {tg005_cannot(tg005_asg_label, "minSize"), tg005_cannot(tg005_asg_label, "desiredCapacity")} with input as asg
		with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as asg with data.stack as {"name": "dev"}
}

test_node_pool_bounds_warn_batch_compute_resources_unknown if {
	ce := tg005_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "MANAGED", "computeResources": tg005_unknown})
	warn_node_pool_bounds == {tg005_cannot(tg005_jobs, "computeResources")} with input as ce with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as ce with data.stack as {"name": "dev"}
}

test_node_pool_bounds_deny_and_warn_batch_max_over_cap_desired_unknown if {
	ce := tg005_batch({"maxVcpus": 100, "desiredVcpus": tg005_unknown})
	warn_node_pool_bounds == {tg005_cannot(tg005_jobs, "computeResources.desiredVcpus")} with input as ce with data.stack as {"name": "dev"}
	deny_node_pool_bounds == {tg005_batch_over(100, "dev", 64)} with input as ce with data.stack as {"name": "dev"}
}

# A secret bound is unknown to the rule: it cannot decide.
test_node_pool_bounds_warn_secret_max_size if {
	ng := tg005_ng(1, 1, "[secret]")
	warn_node_pool_bounds == {tg005_cannot(tg005_ng_label, "scalingConfig.maxSize")} with input as ng with data.stack as {"name": "dev"}
	count(deny_node_pool_bounds) == 0 with input as ng with data.stack as {"name": "dev"}
}
