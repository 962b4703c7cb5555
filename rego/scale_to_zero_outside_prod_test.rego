# Tests for scale-to-zero-outside-prod (TG007, advisory: warn_ heads only, so its findings and its
# cannot-decide messages are both warn cases). Naming and kinds as in instance_size_cap_test.rego.
# Helpers are prefixed tg007_: all rule and test files share package tollgate.
# Default (rego/data.json): only prod may keep capacity while idle.
package tollgate

import rego.v1

tg007_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg007_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg007_node_group(scaling) := tg007_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "main", "capacityType": "SPOT", "scalingConfig": scaling})

tg007_ng(min) := tg007_node_group({"minSize": min, "desiredSize": min, "maxSize": 5})

tg007_batch(resources) := tg007_resource(
	"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
	{"type": "MANAGED", "computeResources": object.union({"type": "SPOT", "maxVcpus": 64}, resources)},
)

tg007_ng_keeps(min, env) := sprintf("`ng` (aws:eks/nodeGroup:NodeGroup) keeps %d nodes running while idle in %s (scalingConfig.minSize %d); set minSize to 0 so it scales to zero (tollgate_components.TaggedNodePool does)", [min, env, min])

tg007_cannot(label, path) := sprintf("%s: cannot decide scale to zero at preview, %s is unknown until apply", [label, path])

# --- allow ---

test_scale_to_zero_outside_prod_allow_zero_minimums_in_dev if {
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_ng(0) with data.stack as {"name": "dev"}
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_batch({"minVcpus": 0}) with data.stack as {"name": "dev"}
}

test_scale_to_zero_outside_prod_allow_batch_without_min_vcpus if {
	# minVcpus defaults to 0.
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_batch({}) with data.stack as {"name": "staging"}
}

test_scale_to_zero_outside_prod_allow_always_on_in_prod if {
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_ng(2) with data.stack as {"name": "prod"}
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_batch({"minVcpus": 8}) with data.stack as {"name": "prod"}
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_ng(tg007_unknown) with data.stack as {"name": "prod"}
}

test_scale_to_zero_outside_prod_allow_unmanaged_batch if {
	ce := tg007_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "UNMANAGED"})
	count(warn_scale_to_zero_outside_prod) == 0 with input as ce with data.stack as {"name": "dev"}
}

test_scale_to_zero_outside_prod_allow_other_types if {
	asg := tg007_resource("aws:autoscaling/group:Group", "asg", {"minSize": 2, "maxSize": 3})
	count(warn_scale_to_zero_outside_prod) == 0 with input as asg with data.stack as {"name": "dev"}
}

# --- warn: the advisory finding ---

test_scale_to_zero_outside_prod_warn_node_group_min_size_in_dev if {
	warn_scale_to_zero_outside_prod == {"`ng` (aws:eks/nodeGroup:NodeGroup) keeps 1 nodes running while idle in dev (scalingConfig.minSize 1); set minSize to 0 so it scales to zero (tollgate_components.TaggedNodePool does)"} with input as tg007_ng(1)
		with data.stack as {"name": "dev"}
}

test_scale_to_zero_outside_prod_warn_unlisted_environment if {
	warn_scale_to_zero_outside_prod == {tg007_ng_keeps(2, "feature-x")} with input as tg007_ng(2) with data.stack as {"name": "feature-x"}
}

test_scale_to_zero_outside_prod_allow_staging_tag_in_prod_stack if {
	ng := tg007_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"scalingConfig": {"minSize": 3, "desiredSize": 3, "maxSize": 5}, "tags": {"environment": "staging"}})
	count(warn_scale_to_zero_outside_prod) == 0 with input as ng with data.stack as {"name": "prod"}
}

test_scale_to_zero_outside_prod_warn_batch_min_vcpus if {
	warn_scale_to_zero_outside_prod == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment) keeps 4 vCPU running while idle in staging (computeResources.minVcpus 4); set minVcpus to 0 so it scales to zero (tollgate_components.SpotComputeEnvironment does)"} with input as tg007_batch({"minVcpus": 4})
		with data.stack as {"name": "staging"}
}

test_scale_to_zero_outside_prod_warn_configured_environments if {
	config := object.union(data.config, {"scale-to-zero-outside-prod": {"always_on_environments": ["prod", "staging"]}})
	count(warn_scale_to_zero_outside_prod) == 0 with input as tg007_ng(2) with data.stack as {"name": "staging"} with data.config as config
	warn_scale_to_zero_outside_prod == {tg007_ng_keeps(2, "dev")} with input as tg007_ng(2) with data.stack as {"name": "dev"} with data.config as config
}

# --- warn: cannot decide at preview ---

test_scale_to_zero_outside_prod_warn_min_size_unknown if {
	warn_scale_to_zero_outside_prod == {tg007_cannot("`ng` (aws:eks/nodeGroup:NodeGroup)", "scalingConfig.minSize")} with input as tg007_ng(tg007_unknown)
		with data.stack as {"name": "dev"}
}

test_scale_to_zero_outside_prod_warn_scaling_config_unknown if {
	warn_scale_to_zero_outside_prod == {tg007_cannot("`ng` (aws:eks/nodeGroup:NodeGroup)", "scalingConfig")} with input as tg007_node_group(tg007_unknown)
		with data.stack as {"name": "dev"}
}

test_scale_to_zero_outside_prod_warn_batch_min_vcpus_unknown if {
	warn_scale_to_zero_outside_prod == {tg007_cannot("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)", "computeResources.minVcpus")} with input as tg007_batch({"minVcpus": tg007_unknown})
		with data.stack as {"name": "staging"}
}

test_scale_to_zero_outside_prod_warn_batch_compute_resources_unknown if {
	ce := tg007_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "MANAGED", "computeResources": tg007_unknown})
	warn_scale_to_zero_outside_prod == {tg007_cannot("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)", "computeResources")} with input as ce
		with data.stack as {"name": "dev"}
}
