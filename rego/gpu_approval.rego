package tollgate

import rego.v1

# The instance types a resource asks for (input_requested_types, instance_type_lists) are in lib.rego,
# shared with instance-size-cap.

gpu_approval_config := data.config["gpu-approval"]

# Every known type with GPUs or other accelerators (Inferentia, Trainium, FPGAs...) a resource asks for.
# A type missing from the table is instance-size-cap's finding (it blocks the resource), so it is not
# reported twice here. The deny heads start from it: the usual resource, with none, needs no environment.
gpu_approval_gpu_types := {t |
	some t in input_requested_types
	is_string(t)
	not t in unknown_sentinels
	data.instance_types[t].accelerated
}

# "p3.8xlarge class or larger": enough GPUs or accelerators, or enough vCPUs, whichever comes first.
gpu_approval_large(spec) if spec.devices >= gpu_approval_config.large_gpus

gpu_approval_large(spec) if spec.vcpu >= gpu_approval_config.large_vcpu

# Environments where small GPU and accelerator types need no approval; anywhere else (dev, or an
# environment the config does not list) every such type is reported, the strictest reading.
gpu_approval_allowed if input_environment in gpu_approval_config.gpu_environments

# METADATA
# title: GPU approval
# description: >-
#   No GPU or accelerator instance type (Inferentia, Trainium, FPGA...) in dev; in other
#   environments one of p3.8xlarge class or larger (at least 4 GPUs or accelerators, or 32 vCPU)
#   needs an approval (a waiver).
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
	some t in gpu_approval_gpu_types
	not gpu_approval_allowed
	spec := data.instance_types[t]
	msg := sprintf("%s uses %s type %s (%s) in %s, where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in %s", [label(input), spec.kind, t, spec.device, input_environment, concat(" or ", gpu_approval_config.gpu_environments)])
}

deny_gpu_approval contains msg if {
	some t in gpu_approval_gpu_types
	gpu_approval_allowed
	spec := data.instance_types[t]
	gpu_approval_large(spec)
	msg := sprintf("%s uses %s type %s (%s, %d vCPU) in %s, a large GPU or accelerator type (%d+ GPUs or accelerators, or %d+ vCPU) that needs an approval: add a waiver, or pick a smaller type (e.g. g5.xlarge, inf2.xlarge)", [label(input), spec.kind, t, spec.device, spec.vcpu, input_environment, gpu_approval_config.large_gpus, gpu_approval_config.large_vcpu])
}

warn_gpu_approval contains msg if {
	some t in input_requested_types
	t in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, an instance type is unknown until apply", [label(input)])
}

warn_gpu_approval contains msg if {
	path := instance_type_lists[input.__type]
	some n in numbers.range(1, count(path))
	object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}
