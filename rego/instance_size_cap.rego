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
	every t in input_requested_types {
		vcpu := data.instance_types[t].vcpu
		every cap in data.config["instance-size-cap"].max_vcpu {
			vcpu <= cap
		}
	}
} else if {
	cap := instance_size_cap_vcpu
	every t in input_requested_types {
		data.instance_types[t].vcpu <= cap
	}
}

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
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
#     - "aws:autoscaling/group:Group"
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
	path := instance_type_lists[input.__type]
	some n in numbers.range(1, count(path))
	object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the instance size cap at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}
