package tollgate

import rego.v1

# Environments that may run on-demand capacity; every other one (including one the config does not
# list) must run on spot.
spot_outside_prod_checked if not input_environment in data.config["spot-outside-prod"].on_demand_environments

# Batch capacity types that are spot; EC2 and FARGATE are on-demand.
spot_outside_prod_batch_spot := {"SPOT", "FARGATE_SPOT"}

# METADATA
# title: Spot outside prod
# description: >-
#   Outside prod, EKS node groups must use capacityType SPOT (an absent capacityType is ON_DEMAND,
#   the AWS default) and Batch compute environments SPOT or FARGATE_SPOT, not EC2 or FARGATE.
# custom:
#   id: TG006
#   severity: medium
#   enforcement: mandatory
#   resource_types:
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
deny_spot_outside_prod contains msg if {
	input.__type == "aws:eks/nodeGroup:NodeGroup"
	spot_outside_prod_checked
	not "capacityType" in object.keys(input.properties)
	msg := sprintf("%s runs ON_DEMAND capacity in %s (capacityType is unset, and ON_DEMAND is the AWS default); set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)", [label(input), input_environment])
}

deny_spot_outside_prod contains msg if {
	input.__type == "aws:eks/nodeGroup:NodeGroup"
	spot_outside_prod_checked
	capacity := input.properties.capacityType
	not is_unknown(capacity)
	capacity != "SPOT"
	msg := sprintf("%s runs %v capacity in %s; set capacityType SPOT outside prod (tollgate_components.TaggedNodePool does)", [label(input), capacity, input_environment])
}

deny_spot_outside_prod contains msg if {
	input.__type == "aws:batch/computeEnvironment:ComputeEnvironment"
	spot_outside_prod_checked
	capacity := input.properties.computeResources.type
	not is_unknown(capacity)
	not capacity in spot_outside_prod_batch_spot
	msg := sprintf("%s runs %v (on-demand) capacity in %s; set computeResources.type SPOT or FARGATE_SPOT outside prod (tollgate_components.SpotComputeEnvironment does)", [label(input), capacity, input_environment])
}

warn_spot_outside_prod contains msg if {
	input.__type == "aws:eks/nodeGroup:NodeGroup"
	spot_outside_prod_checked
	is_unknown(input.properties.capacityType)
	msg := sprintf("%s: cannot decide spot outside prod at preview, capacityType is unknown until apply", [label(input)])
}

warn_spot_outside_prod contains msg if {
	input.__type == "aws:batch/computeEnvironment:ComputeEnvironment"
	spot_outside_prod_checked
	some path in [["computeResources"], ["computeResources", "type"]]
	is_unknown(object.get(input.properties, path, null))
	msg := sprintf("%s: cannot decide spot outside prod at preview, %s is unknown until apply", [label(input), concat(".", path)])
}
