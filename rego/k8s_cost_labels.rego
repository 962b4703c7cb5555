package tollgate

import rego.v1

# Namespaces and the workloads of k8s-resource-limits (input_k8s_kind lives in k8s_resource_limits.rego).
k8s_cost_labelled if input.__type == "kubernetes:core/v1:Namespace"

k8s_cost_labelled if input_k8s_kind

k8s_cost_labels_required := data.config["k8s-cost-labels"].labels

# Required labels that are absent, not strings or blank; unknown ones are left to the warn heads.
k8s_cost_labels_missing(r) := [l |
	some l in k8s_cost_labels_required
	v := object.get(r.properties, ["metadata", "labels", l], null)
	not v in unknown_sentinels
	not k8s_label_value(v)
]

k8s_label_value(v) if {
	is_string(v)
	trim_space(v) != ""
}

# The usual object, decided at once: known labels with every required one a known, non-blank string. The
# heads below look no further for it (they would find nothing).
k8s_cost_labels_ok if {
	labels := input.properties.metadata.labels
	is_object(labels)
	every l in k8s_cost_labels_required {
		v := labels[l]
		is_string(v)
		trim_space(v) != ""
		not v in unknown_sentinels
	}
}

k8s_cost_labels_fix := "use tollgate_components.NamespaceGuardrails or add them to metadata.labels" if {
	input.__type == "kubernetes:core/v1:Namespace"
} else := "add them to metadata.labels" if {
	input_k8s_kind == "Pod"
} else := "add them to the workload's metadata.labels (pod template labels alone do not count)"

# METADATA
# title: Kubernetes cost labels
# description: >-
#   A Namespace or workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) must
#   carry the `team` and `cost-center` labels, non-empty, in its own metadata.labels so its cost can be
#   allocated per team. Labels on a workload's pod template do not stand in for the workload's own.
# custom:
#   id: TG014
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "kubernetes:core/v1:Namespace"
#     - "kubernetes:apps/*:Deployment"
#     - "kubernetes:extensions/*:Deployment"
#     - "kubernetes:apps/*:StatefulSet"
#     - "kubernetes:apps/*:DaemonSet"
#     - "kubernetes:extensions/*:DaemonSet"
#     - "kubernetes:apps/*:ReplicaSet"
#     - "kubernetes:extensions/*:ReplicaSet"
#     - "kubernetes:batch/*:Job"
#     - "kubernetes:batch/*:CronJob"
#     - "kubernetes:core/*:Pod"
deny_k8s_cost_labels contains msg if {
	not k8s_cost_labels_ok
	k8s_cost_labelled
	missing := k8s_cost_labels_missing(input)
	count(missing) > 0
	not k8s_unknown_prefix(input.properties, ["metadata", "labels"]) # after the cheaper tests: one call less
	msg := sprintf("%s lacks cost labels %s; %s", [label(input), concat(", ", missing), k8s_cost_labels_fix])
}

# metadata or metadata.labels unknown, or a required label's value unknown.
warn_k8s_cost_labels contains msg if {
	not k8s_cost_labels_ok
	k8s_cost_labelled
	some path in array.concat([["metadata", "labels"]], [["metadata", "labels", l] | some l in k8s_cost_labels_required])
	object.get(input.properties, path, null) in k8s_absent_or_unknown # else known: no call
	what := k8s_unknown_prefix(input.properties, path)
	msg := sprintf("%s: cannot check cost labels at preview, %s is unknown until apply; build labels from known values", [label(input), what])
}
