package tollgate

import rego.v1

# The same places instance types live as for instance-size-cap: input_requested_types and
# instance_type_lists come from rego/instance_size_cap.rego (one package).

gpu_approval_config := data.config["gpu-approval"]

# Every known GPU type a resource asks for. A type the engine does not know is instance-size-cap's
# finding (it blocks the resource), so it is not reported twice here.
gpu_approval_gpu_types := {t |
	some t in input_requested_types
	is_string(t)
	not t in unknown_sentinels
	data.instance_types[t].gpus > 0
}

# "p3.8xlarge class or larger": enough GPUs or enough vCPUs, whichever comes first.
gpu_approval_large(spec) if spec.gpus >= gpu_approval_config.large_gpus

gpu_approval_large(spec) if spec.vcpu >= gpu_approval_config.large_vcpu

# Environments where small GPU types need no approval; anywhere else (dev, or an environment the
# config does not list) every GPU type is reported, the strictest reading.
gpu_approval_allowed if input_environment in gpu_approval_config.gpu_environments

# The usual resource, decided at once: its instance types read (so their list is known) and each a listed
# type without GPUs (so none unknown). The heads below look no further for it.
gpu_approval_ok if {
	every t in input_requested_types {
		data.instance_types[t].gpus == 0
	}
}

# METADATA
# title: GPU approval
# description: >-
#   No GPU instance type in dev; in other environments a GPU type of p3.8xlarge class or larger
#   (at least 4 GPUs or 32 vCPU) needs an approval (a waiver).
# custom:
#   id: TG003
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "aws:ec2/instance:Instance"
#     - "aws:ec2/launchTemplate:LaunchTemplate"
#     - "aws:eks/nodeGroup:NodeGroup"
#     - "aws:batch/computeEnvironment:ComputeEnvironment"
#     - "aws:autoscaling/group:Group"
deny_gpu_approval contains msg if {
	not gpu_approval_ok
	not gpu_approval_allowed
	some t in gpu_approval_gpu_types
	msg := sprintf("%s uses GPU type %s (%d GPU) in %s, where GPU types are not allowed; use a CPU instance type, or run GPU work in %s", [label(input), t, data.instance_types[t].gpus, input_environment, concat(" or ", gpu_approval_config.gpu_environments)])
}

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	gpu_approval_allowed
	some t in gpu_approval_gpu_types
	spec := data.instance_types[t]
	gpu_approval_large(spec)
	msg := sprintf("%s uses GPU type %s (%d GPU, %d vCPU) in %s, a large GPU type (%d+ GPUs or %d+ vCPU) that needs an approval: add a waiver, or pick a smaller GPU type (e.g. g5.xlarge)", [label(input), t, spec.gpus, spec.vcpu, input_environment, gpu_approval_config.large_gpus, gpu_approval_config.large_vcpu])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	some t in input_requested_types
	t in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, an instance type is unknown until apply", [label(input)])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	path := instance_type_lists[input.__type]
	some n in numbers.range(1, count(path))
	object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}
