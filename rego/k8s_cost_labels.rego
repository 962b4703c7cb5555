package tollgate

import rego.v1

# Namespaces and workloads (k8s_lib.rego's input_k8s_kind).
k8s_cost_labelled if input.__type == "kubernetes:core/v1:Namespace"

k8s_cost_labelled if input_k8s_kind

k8s_cost_labels_required := data.config["k8s-cost-labels"].labels

# The required labels that are set: a known, non-blank string in the object's own metadata.labels.
k8s_cost_labels_set := {l |
	labels := input.properties.metadata.labels
	is_object(labels)
	some l in k8s_cost_labels_required
	v := labels[l]
	is_string(v)
	trim_space(v) != ""
	not v in unknown_sentinels
}

# The others, in the configured order: absent, blank, not text, or unknown. Both heads start from it, so the
# labelled object (none unset) costs them one test each; an object of another kind, the kind test only.
k8s_cost_labels_unset := [l | some l in k8s_cost_labels_required; not l in k8s_cost_labels_set]

k8s_cost_labels_fix := "use tollgate_components.NamespaceGuardrails or add them to metadata.labels" if {
	input.__type == "kubernetes:core/v1:Namespace"
} else := "add them to metadata.labels" if {
	input_k8s_kind == "Pod"
} else := "add them to the workload's metadata.labels (pod template labels alone do not count)"

# METADATA
# title: Kubernetes cost labels
# description: >-
#   A Namespace or workload (found by shape: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
#   CronJob, Pod, ReplicationController, or any object with a pod template or replicas) must
#   carry the `team` and `cost-center` labels, non-empty, in its own metadata.labels so its cost can be
#   allocated per team. Labels on a workload's pod template do not stand in for the workload's own.
# custom:
#   id: TG014
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "kubernetes:*"
deny_k8s_cost_labels contains msg if {
	k8s_cost_labelled
	count(k8s_cost_labels_unset) > 0
	# Absent, blank or not text; an unknown value is the warn head's.
	missing := [l | some l in k8s_cost_labels_unset; not object.get(input.properties, ["metadata", "labels", l], null) in unknown_sentinels]
	count(missing) > 0
	not k8s_unknown_prefix(input.properties, ["metadata", "labels"]) # after the cheaper tests: one call less
	msg := sprintf("%s lacks cost labels %s; %s", [label(input), concat(", ", missing), k8s_cost_labels_fix])
}

# metadata or metadata.labels unknown, or a required label's value unknown.
warn_k8s_cost_labels contains msg if {
	k8s_cost_labelled
	count(k8s_cost_labels_unset) > 0
	some path in array.concat([["metadata", "labels"]], [["metadata", "labels", l] | some l in k8s_cost_labels_unset])
	object.get(input.properties, path, null) in k8s_absent_or_unknown # else known: no call
	what := k8s_unknown_prefix(input.properties, path)
	msg := sprintf("%s: cannot check cost labels at preview, %s is unknown until apply; build labels from known values", [label(input), what])
}
