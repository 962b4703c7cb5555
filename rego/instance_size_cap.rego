package tollgate

import rego.v1

# The instance types a resource asks for (input_requested_types, instance_type_lists): lib.rego.

instance_size_cap_vcpu := env_cap(data.config["instance-size-cap"].max_vcpu, input_environment)

# The usual resource, decided at once: its instance types read (so their list is known) and each a listed
# type within the cap (so none unknown, unlisted or not a name). The heads below look no further for it
# (they would find nothing; instance_size_cap_test.rego and tests/test_rule_catalog.py check that they agree).
# Types within every environment's cap are within this one's, whichever it is (which takes the most work
# of the fast path to learn: its tags, the stack's); else the environment's cap decides.
instance_size_cap_ok if {
	count(input_instance_requirements) == 0
	every t in input_requested_types {
		vcpu := data.instance_types[t].vcpu
		every cap in data.config["instance-size-cap"].max_vcpu {
			vcpu <= cap
		}
	}
} else if {
	count(input_instance_requirements) == 0
	cap := instance_size_cap_vcpu
	every t in input_requested_types {
		data.instance_types[t].vcpu <= cap
	}
}

# instanceRequirements' vcpuCount.max: absent, it is unbounded.
instance_size_cap_requirements_max(r) := object.get(r, ["vcpuCount", "max"], null)

# (Stored event logs carry the description below before each message, so its wording stays; the types
# judged are every way of buying EC2 capacity: resource_types below, lib.rego's input_requested_types.)
# METADATA
# title: Instance size cap
# description: >-
#   EC2 instances, launch templates, EKS node groups, Batch compute environments and ASG overrides
#   must use instance types within the environment's vCPU cap (dev 4, staging 8, prod 32). An
#   instance type the engine does not know is reported, never passed.
# custom:
#   id: TG002
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "aws:ec2/instance:Instance"
#     - "aws:ec2/launchTemplate:LaunchTemplate"
#     - "aws:ec2/launchConfiguration:LaunchConfiguration"
#     - "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
#     - "aws:ec2/capacityReservation:CapacityReservation"
#     - "aws:ec2/spotFleetRequest:SpotFleetRequest"
#     - "aws:ec2/fleet:Fleet"
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
#     - "aws:autoscaling/group:Group"
#     - "aws:emr/instanceGroup:InstanceGroup"
#     - "aws:emr/instanceFleet:InstanceFleet"
#     - "aws:emr/cluster:Cluster"
#     - "aws:sagemaker/notebookInstance:NotebookInstance"
#     - "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
#     - "aws:redshift/cluster:Cluster"
#     - "aws:opensearch/domain:Domain"
#     - "aws:elasticsearch/domain:Domain"
deny_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some t in input_requested_types
	is_string(t)
	not t in unknown_sentinels
	spec := data.instance_types[t]
	cap := instance_size_cap_vcpu
	spec.vcpu > cap
	msg := sprintf("%s uses %s (%d vCPU), over the %s cap of %d vCPU; pick a type with at most %d vCPU or get a waiver", [label(input), t, spec.vcpu, input_environment, cap, cap])
}

deny_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some t in input_requested_types
	is_string(t)
	not t in unknown_sentinels
	not data.instance_types[t]
	table := data.aws.tables.instance_types
	msg := sprintf("%s uses instance type %q, which is not in Tollgate's table of current %s (sources as of %s): a malformed or retired name, so its size cannot be checked; use a current type (e.g. m7i.large)", [label(input), t, table.name, table.as_of])
}

# An instance type that is not a string at all (a number, a list, null): reported, never passed.
deny_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some t in input_requested_types
	not is_string(t)
	msg := sprintf("%s uses instance type %v, which is not a type name, so its size cannot be checked; use a current type (e.g. m7i.large)", [label(input), t])
}

warn_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some t in input_requested_types
	t in unknown_sentinels
	msg := sprintf("%s: cannot decide the instance size cap at preview, an instance type is unknown until apply", [label(input)])
}

warn_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some path in instance_type_lists[input.__type]
	some n in numbers.range(1, count(path))
	object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the instance size cap at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}

deny_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some r in input_instance_requirements
	is_object(r)
	max := instance_size_cap_requirements_max(r)
	not max in unknown_sentinels
	not object.get(r, "vcpuCount", null) in unknown_sentinels
	cap := instance_size_cap_vcpu
	not instance_size_cap_within(max, cap)
	msg := sprintf("%s selects instance types by instanceRequirements with vcpuCount.max %v, over the %s cap of %d vCPU; set vcpuCount.max to at most %d or get a waiver", [label(input), instance_size_cap_shown(max), input_environment, cap, cap])
}

instance_size_cap_within(max, cap) if {
	is_number(max)
	max <= cap
}

instance_size_cap_shown(max) := "unset (no maximum)" if max == null else := max

warn_instance_size_cap contains msg if {
	not instance_size_cap_ok
	some r in input_instance_requirements
	some v in [r, object.get(r, "vcpuCount", null), object.get(r, ["vcpuCount", "max"], null)]
	v in unknown_sentinels
	msg := sprintf("%s: cannot decide the instance size cap at preview, instanceRequirements.vcpuCount is unknown until apply", [label(input)])
}
