package tollgate

import rego.v1

# Where each pool type keeps its bounds, what they count, which cap applies and the component that
# builds a pool within bounds.
node_pool_bounds_kinds := {
	"aws:eks/nodeGroup:NodeGroup": {
		"base": ["scalingConfig"], "max": "maxSize", "min": "minSize", "desired": "desiredSize",
		"unit": "nodes", "cap": "max_nodes", "fix": " (tollgate_components.TaggedNodePool)",
	},
	"aws:autoscaling/group:Group": {
		"base": [], "max": "maxSize", "min": "minSize", "desired": "desiredCapacity",
		"unit": "nodes", "cap": "max_nodes", "fix": "",
	},
	"aws:batch/computeEnvironment:ComputeEnvironment": {
		"base": ["computeResources"], "max": "maxVcpus", "min": "minVcpus", "desired": "desiredVcpus",
		"unit": "vCPU", "cap": "max_vcpus", "fix": " (tollgate_components.SpotComputeEnvironment)",
	},
}

node_pool_bounds_path(kind, field) := array.concat(kind.base, [kind[field]])

node_pool_bounds_value(r, kind, field) := object.get(r.properties, node_pool_bounds_path(kind, field), null)

node_pool_bounds_name(kind, field) := concat(".", node_pool_bounds_path(kind, field))

node_pool_bounds_outside(desired, low, _) if desired < low

node_pool_bounds_outside(desired, _, high) if desired > high

# METADATA
# title: Node pool bounds
# description: >-
#   EKS node group scalingConfig.maxSize and ASG maxSize within the environment's node cap (dev 5,
#   staging 10, prod 50), Batch maxVcpus within its vCPU cap (dev 64, staging 256, prod 2048); the
#   desired size must lie within [min, max].
# custom:
#   id: TG005
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:autoscaling/group:Group"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
deny_node_pool_bounds contains msg if {
	kind := node_pool_bounds_kinds[input.__type]
	max := node_pool_bounds_value(input, kind, "max")
	is_number(max)
	env := input_environment
	cap := env_cap(data.config["node-pool-bounds"][kind.cap], env)
	max > cap
	msg := sprintf("%s allows up to %v %s (%s), over the %s cap of %v %s; lower %s to at most %v%s or get a waiver", [label(input), max, kind.unit, node_pool_bounds_name(kind, "max"), env, cap, kind.unit, kind.max, cap, kind.fix])
}

deny_node_pool_bounds contains msg if {
	kind := node_pool_bounds_kinds[input.__type]
	desired := node_pool_bounds_value(input, kind, "desired")
	is_number(desired)
	low := object.get(input.properties, node_pool_bounds_path(kind, "min"), 0) # Batch minVcpus defaults to 0
	high := node_pool_bounds_value(input, kind, "max")
	is_number(low)
	is_number(high)
	node_pool_bounds_outside(desired, low, high)
	msg := sprintf("%s asks for %v %s (%s), outside its bounds [%v, %v]; set %s between %s and %s", [label(input), desired, kind.unit, node_pool_bounds_name(kind, "desired"), low, high, kind.desired, kind.min, kind.max])
}

# A bound, or the object holding it, unknown at preview.
warn_node_pool_bounds contains msg if {
	kind := node_pool_bounds_kinds[input.__type]
	some field in ["max", "min", "desired"]
	path := node_pool_bounds_path(kind, field)
	some n in numbers.range(1, count(path))
	is_unknown(object.get(input.properties, array.slice(path, 0, n), null))
	msg := sprintf("%s: cannot decide node pool bounds at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}
