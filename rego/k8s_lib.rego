# Kubernetes helpers shared by the k8s rules (k8s-resource-limits, k8s-cost-labels, k8s-namespace-quota):
# an object's API group and kind, which objects are workloads (by kind or by shape) and where they keep
# their pod spec, an object's environment, and which part of a path is unknown at preview. No rule heads here.
package tollgate

import rego.v1

# Workload kinds and the API groups that serve them; every API version of a group counts alike
# (apps/v1beta2 and extensions/v1beta1 Deployments are still Deployments). *Patch types are left out:
# they change part of an object the stack does not own.
k8s_workload_groups := {
	"Deployment": {"apps", "extensions"},
	"StatefulSet": {"apps"},
	"DaemonSet": {"apps", "extensions"},
	"ReplicaSet": {"apps", "extensions"},
	"Job": {"batch"},
	"CronJob": {"batch"},
	"Pod": {"core"},
	"ReplicationController": {"core"},
}

# "kubernetes:apps/v1:Deployment" -> ["apps", "Deployment"]
k8s_group_kind(r) := [split(parts[1], "/")[0], parts[2]] if {
	parts := split(r.__type, ":")
	count(parts) == 3
	parts[0] == "kubernetes"
}

# The group and kind, and the workload kind, of the resource under evaluation, once per resource.
input_k8s_group_kind := k8s_group_kind(input)

# A workload by kind (the built-in ones, whatever their spec), or by shape: any other object (a
# ReplicationController, a custom resource such as an Argo Rollout) whose spec holds a pod template,
# a job template or replicas. Patches (*Patch) and lists (*List) are not objects the stack owns.
input_k8s_kind := kind if {
	[group, kind] := input_k8s_group_kind
	group in k8s_workload_groups[kind]
} else := kind if {
	[_, kind] := input_k8s_group_kind
	not endswith(kind, "Patch")
	not endswith(kind, "List")
	spec := input.properties.spec
	is_object(spec)
	some key in k8s_workload_spec_keys
	spec[key] != null
}

k8s_workload_spec_keys := ["template", "jobTemplate", "replicas"]

# Kinds whose spec.replicas defaults to one replica when absent; any other workload is replicated when it
# sets spec.replicas.
k8s_replicated_kinds := {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

input_k8s_replicated if input_k8s_kind in k8s_replicated_kinds

input_k8s_replicated if {
	kind := input_k8s_kind
	not kind in {"DaemonSet", "Job", "CronJob", "Pod"} # one pod per node, parallelism, one pod: no replicas
	input.properties.spec.replicas != null
}

# The stack decides a Kubernetes object's environment as any resource's (lib.rego): an `environment`
# label changes nothing.
input_k8s_environment := input_environment

# Where the workload keeps its pod spec: a Pod in its spec, a job template's under it, else the pod template's.
input_k8s_pod_spec_path := ["spec"] if {
	input_k8s_group_kind == ["core", "Pod"]
} else := ["spec", "jobTemplate", "spec", "template", "spec"] if {
	input_k8s_kind == "CronJob"
} else := ["spec", "jobTemplate", "spec", "template", "spec"] if {
	input_k8s_kind
	input.properties.spec.jobTemplate != null
} else := ["spec", "template", "spec"] if {
	input_k8s_kind
}

k8s_container_lists := {"containers": "container", "initContainers": "init container"}

# Where the pod spec's container lists are: {"containers": [...path], "initContainers": [...path]}.
input_k8s_list_paths := {field: array.concat(input_k8s_pod_spec_path, [field]) | some field, _ in k8s_container_lists}

# Every container of a workload: [list field, index, container]; lists that are not arrays have none.
input_k8s_containers := [[field, i, c] |
	some field, path in input_k8s_list_paths
	list := object.get(input.properties, path, [])
	is_array(list)
	some i, c in list
]

k8s_known_value(v) if {
	v != null
	not v in unknown_sentinels
}

# What k8s_known_value is not, as a set to test membership in without a call: null and the sentinels.
k8s_absent_or_unknown := unknown_sentinels | {null}

# The shallowest unknown value on a path below `x`, as a dotted path (undefined when none is unknown).
k8s_unknown_prefix(x, path) := concat(".", array.slice(path, 0, shallowest)) if {
	v := object.get(x, path, null)
	not k8s_known_value(v) # a known value there: nothing on the way is unknown
	not k8s_absent_from_known(v, x, path) # nor when it is absent from a known object
	shallowest := min({n |
		some n in numbers.range(1, count(path))
		object.get(x, array.slice(path, 0, n), null) in unknown_sentinels
	})
}

k8s_absent_from_known(null, x, path) if is_object(object.get(x, array.slice(path, 0, count(path) - 1), null))
