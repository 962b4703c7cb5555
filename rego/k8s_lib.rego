# Kubernetes helpers shared by the k8s rules (k8s-resource-limits, k8s-cost-labels, k8s-namespace-quota):
# an object's API group and kind, which objects are workloads and where they keep their pod spec, an
# object's environment, and which part of a path is unknown at preview. No rule heads here.
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
}

# "kubernetes:apps/v1:Deployment" -> ["apps", "Deployment"]
k8s_group_kind(r) := [split(parts[1], "/")[0], parts[2]] if {
	parts := split(r.__type, ":")
	count(parts) == 3
	parts[0] == "kubernetes"
}

# The group and kind, and the workload kind, of the resource under evaluation, once per resource.
input_k8s_group_kind := k8s_group_kind(input)

input_k8s_kind := kind if {
	[group, kind] := input_k8s_group_kind
	group in k8s_workload_groups[kind]
}

# Kubernetes objects carry no AWS tags: their `environment` label plays the tag's part, then the
# stack's environment as for every resource (lib.rego's input_environment). An unknown label falls back too.
input_k8s_environment := env if {
	env := input.properties.metadata.labels.environment
	is_string(env)
	env != ""
	not env in unknown_sentinels
} else := input_environment

# Where each kind keeps its pod spec.
k8s_pod_spec_path(kind) := ["spec"] if {
	kind == "Pod"
} else := ["spec", "jobTemplate", "spec", "template", "spec"] if {
	kind == "CronJob"
} else := ["spec", "template", "spec"]

input_k8s_pod_spec_path := k8s_pod_spec_path(input_k8s_kind)

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
