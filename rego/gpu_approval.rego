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

# The usual resource, decided at once: an AWS resource whose instance types are all known names of types
# without GPUs or accelerators (its lists known, no instanceRequirements), or a Kubernetes object that is
# no workload or whose containers request no GPU. The heads below look no further for it (they would find
# nothing; gpu_approval_test.rego and tests/test_rule_catalog.py check that they agree).
gpu_approval_ok if {
	not startswith(input.__type, "kubernetes:")
	every path in object.get(instance_type_lists, input.__type, []) { # a list, and the way to it, known
		every n in numbers.range(1, count(path)) {
			not object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
		}
	}
	count(input_instance_requirements) == 0
	every t in input_requested_types {
		is_string(t)
		not t in unknown_sentinels
		not data.instance_types[t].accelerated
	}
} else if {
	startswith(input.__type, "kubernetes:")
	not input_k8s_kind
} else if {
	# a workload none of whose containers asks for a GPU (a Kubernetes object names no instance type)
	startswith(input.__type, "kubernetes:")
	count(gpu_approval_k8s_requests) == 0
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
#   No GPU or accelerator (an instance type with GPUs, Inferentia, Trainium, FPGA...; instanceRequirements
#   asking for accelerators; a Kubernetes container requesting nvidia.com/gpu or another */gpu resource)
#   in dev; in other environments one of p3.8xlarge class or larger (at least 4 GPUs or accelerators, or
#   32 vCPU; for Kubernetes 4 GPUs in one pod) needs an approval (a waiver).
# custom:
#   id: TG003
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
#     - "kubernetes:*"
deny_gpu_approval contains msg if {
	not gpu_approval_ok
	some t in gpu_approval_gpu_types
	not gpu_approval_allowed
	spec := data.instance_types[t]
	msg := sprintf("%s uses %s type %s (%s) in %s, where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in %s", [label(input), spec.kind, t, spec.device, input_environment, concat(" or ", gpu_approval_config.gpu_environments)])
}

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	some t in gpu_approval_gpu_types
	gpu_approval_allowed
	spec := data.instance_types[t]
	gpu_approval_large(spec)
	msg := sprintf("%s uses %s type %s (%s, %d vCPU) in %s, a large GPU or accelerator type (%d+ GPUs or accelerators, or %d+ vCPU) that needs an approval: add a waiver, or pick a smaller type (e.g. g5.xlarge, inf2.xlarge)", [label(input), spec.kind, t, spec.device, spec.vcpu, input_environment, gpu_approval_config.large_gpus, gpu_approval_config.large_vcpu])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	some t in input_requested_types
	t in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, an instance type is unknown until apply", [label(input)])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	some path in instance_type_lists[input.__type]
	some n in numbers.range(1, count(path))
	object.get(input.properties, array.slice(path, 0, n), null) in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, %s is unknown until apply", [label(input), concat(".", array.slice(path, 0, n))])
}

# --- instanceRequirements: attribute-based selection that asks for accelerators ---

gpu_approval_requirements_accelerated(r) if object.get(r, ["acceleratorCount", "min"], 0) >= 1

gpu_approval_requirements_accelerated(r) if {
	object.get(r, ["acceleratorCount", "max"], null) != 0
	some k in ["acceleratorTypes", "acceleratorNames", "acceleratorManufacturers"]
	count(object.get(r, k, [])) > 0
}

# Large unless both the accelerator count and the vCPU count have a maximum under the thresholds.
gpu_approval_requirements_large(r) if not object.get(r, ["acceleratorCount", "max"], null) < gpu_approval_config.large_gpus

gpu_approval_requirements_large(r) if not object.get(r, ["vcpuCount", "max"], null) < gpu_approval_config.large_vcpu

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	some r in input_instance_requirements
	is_object(r)
	gpu_approval_requirements_accelerated(r)
	not gpu_approval_allowed
	msg := sprintf("%s selects accelerator instance types by instanceRequirements in %s, where GPU and accelerator types are not allowed; set acceleratorCount.max to 0, or run GPU and accelerator work in %s", [label(input), input_environment, concat(" or ", gpu_approval_config.gpu_environments)])
}

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	some r in input_instance_requirements
	is_object(r)
	gpu_approval_requirements_accelerated(r)
	gpu_approval_allowed
	gpu_approval_requirements_large(r)
	msg := sprintf("%s selects accelerator instance types by instanceRequirements in %s without keeping them under %d accelerators and %d vCPU (acceleratorCount.max, vcpuCount.max), a large GPU or accelerator type that needs an approval: add a waiver, or set both maximums", [label(input), input_environment, gpu_approval_config.large_gpus, gpu_approval_config.large_vcpu])
}

# --- Kubernetes: containers requesting GPUs (nvidia.com/gpu, amd.com/gpu, any */gpu extended resource) ---

# [container, resource name, value] for each GPU request or limit of a workload's containers (the type test
# first: the rule runs on every resource, most of them no Kubernetes object).
gpu_approval_k8s_requests := [[c, name, v] |
	startswith(input.__type, "kubernetes:")
	some [_, _, c] in input_k8s_containers
	is_object(c)
	some part in ["limits", "requests"]
	resources := object.get(c, ["resources", part], {})
	is_object(resources)
	some name, v in resources
	endswith(name, "/gpu")
]

# A container's GPUs: the larger of its GPU requests and limits, by resource (they must be equal anyway).
gpu_approval_k8s_count(v) := v if is_number(v) else := to_number(v) if {
	is_string(v)
	regex.match(`^[0-9]+$`, v)
}

gpu_approval_k8s_gpus := sum([n |
	some [_, _, c] in input_k8s_containers
	is_object(c)
	n := max({0} | {gpu_approval_k8s_count(v) |
		some part in ["limits", "requests"]
		resources := object.get(c, ["resources", part], {})
		is_object(resources)
		some name, v in resources
		endswith(name, "/gpu")
	})
])

gpu_approval_k8s_names := concat(", ", sort({name | some [_, name, v] in gpu_approval_k8s_requests; not v in unknown_sentinels}))

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	count(gpu_approval_k8s_requests) > 0
	not gpu_approval_allowed
	some [_, _, v] in gpu_approval_k8s_requests
	not v in unknown_sentinels
	msg := sprintf("%s requests GPUs (%s) in %s, where GPUs are not allowed; remove the GPU request, or run GPU work in %s", [label(input), gpu_approval_k8s_names, input_environment, concat(" or ", gpu_approval_config.gpu_environments)])
}

deny_gpu_approval contains msg if {
	not gpu_approval_ok
	count(gpu_approval_k8s_requests) > 0
	gpu_approval_allowed
	gpu_approval_k8s_gpus >= gpu_approval_config.large_gpus
	msg := sprintf("%s requests %v GPUs (%s) in one pod in %s, %d+ GPUs, which needs an approval: add a waiver, or request fewer", [label(input), gpu_approval_k8s_gpus, gpu_approval_k8s_names, input_environment, gpu_approval_config.large_gpus])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	some [_, name, v] in gpu_approval_k8s_requests
	v in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, a container's %s is unknown until apply", [label(input), name])
}

warn_gpu_approval contains msg if {
	not gpu_approval_ok
	some r in input_instance_requirements
	r in unknown_sentinels
	msg := sprintf("%s: cannot decide GPU approval at preview, instanceRequirements is unknown until apply", [label(input)])
}
