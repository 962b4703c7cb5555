package tollgate

import rego.v1

# Where each type keeps the capacity it holds while idle, what that counts and the component whose
# default is zero.
scale_to_zero_minimums := {
	"aws:eks/nodeGroup:NodeGroup": {"path": ["scalingConfig", "minSize"], "unit": "nodes", "fix": "tollgate_components.TaggedNodePool"},
	"aws:batch/computeEnvironment:ComputeEnvironment": {"path": ["computeResources", "minVcpus"], "unit": "vCPU", "fix": "tollgate_components.SpotComputeEnvironment"},
}

# Environments that may keep capacity while idle; every other one (including one the config does not
# list) should scale to zero.
scale_to_zero_checked if not input_environment in data.config["scale-to-zero-outside-prod"].always_on_environments

# METADATA
# title: Scale to zero outside prod
# description: >-
#   Outside prod, EKS node groups should have scalingConfig.minSize 0 and Batch compute environments
#   computeResources.minVcpus 0, so idle pools cost nothing.
# custom:
#   id: TG007
#   severity: low
#   enforcement: advisory
#   resource_types:
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
warn_scale_to_zero_outside_prod contains msg if {
	m := scale_to_zero_minimums[input.__type]
	scale_to_zero_checked
	low := object.get(input.properties, m.path, 0)
	is_number(low)
	low > 0
	field := concat(".", m.path)
	msg := sprintf("%s keeps %v %s running while idle in %s (%s %v); set %s to 0 so it scales to zero (%s does)", [label(input), low, m.unit, input_environment, field, low, m.path[1], m.fix])
}

warn_scale_to_zero_outside_prod contains msg if {
	m := scale_to_zero_minimums[input.__type]
	scale_to_zero_checked
	some n in numbers.range(1, count(m.path))
	is_unknown(object.get(input.properties, array.slice(m.path, 0, n), null))
	msg := sprintf("%s: cannot decide scale to zero at preview, %s is unknown until apply", [label(input), concat(".", array.slice(m.path, 0, n))])
}
