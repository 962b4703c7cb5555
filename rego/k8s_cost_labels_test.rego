# Tests for k8s-cost-labels (TG014).
#
# Naming convention (enforced by tests/test_rule_catalog.py): test_<rule file stem>_<kind>_<case>, kind
#   allow: asserts the rule denies nothing (and, where a warn could be expected, warns nothing);
#   deny:  asserts the exact set of deny messages;
#   warn:  asserts the exact set of warn messages and that nothing is denied.
# Helpers are prefixed tg014_: all rule and test files share package tollgate.
package tollgate

import rego.v1

tg014_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg014_dev := {"name": "dev"}

tg014_labels := {"team": "payments", "cost-center": "cc-42"}

tg014_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::shop::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg014_namespace(metadata) := tg014_resource("kubernetes:core/v1:Namespace", "shop", {"metadata": metadata})

# A Deployment whose pod template carries the cost labels, whatever its own metadata says.
tg014_deployment(metadata) := tg014_resource("kubernetes:apps/v1:Deployment", "api", {
	"metadata": metadata,
	"spec": {"template": {"metadata": {"labels": tg014_labels}, "spec": {"containers": [{"name": "app"}]}}},
})

tg014_namespace_lacks(labels) := sprintf("`shop` (kubernetes:core/v1:Namespace) lacks cost labels %s; use tollgate_components.NamespaceGuardrails or add them to metadata.labels", [labels])

tg014_workload_lacks(label, labels) := sprintf("%s lacks cost labels %s; add them to the workload's metadata.labels (pod template labels alone do not count)", [label, labels])

tg014_undecided(label, what) := sprintf("%s: cannot check cost labels at preview, %s is unknown until apply; build labels from known values", [label, what])

# --- allow ---

test_k8s_cost_labels_allow_labelled_namespace if {
	count(deny_k8s_cost_labels) == 0 with input as tg014_namespace({"name": "shop", "labels": tg014_labels}) with data.stack as tg014_dev
	count(warn_k8s_cost_labels) == 0 with input as tg014_namespace({"name": "shop", "labels": tg014_labels}) with data.stack as tg014_dev
}

test_k8s_cost_labels_allow_labelled_workloads_of_every_type if {
	every type in [
		"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet",
		"kubernetes:apps/v1:ReplicaSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob",
		"kubernetes:core/v1:Pod",
	] {
		w := tg014_resource(type, "w", {"metadata": {"labels": object.union(tg014_labels, {"app": "w"})}})
		count(deny_k8s_cost_labels) == 0 with input as w with data.stack as tg014_dev
		count(warn_k8s_cost_labels) == 0 with input as w with data.stack as tg014_dev
	}
}

# Both heads start from k8s_cost_labels_unset: empty for the labelled object, else the labels not set to a
# known, non-blank string, in the configured order (the heads then tell missing from unknown).
test_k8s_cost_labels_allow_unset_is_empty_only_for_the_labelled_object if {
	k8s_cost_labels_unset == [] with input as tg014_namespace({"name": "shop", "labels": tg014_labels})
	k8s_cost_labels_unset == ["team"] with input as tg014_namespace({"labels": {"team": " ", "cost-center": "cc-42"}})
	k8s_cost_labels_unset == ["team", "cost-center"] with input as tg014_namespace({"labels": {"team": tg014_unknown, "cost-center": 42}})
	k8s_cost_labels_unset == ["team", "cost-center"] with input as tg014_namespace(tg014_unknown)
	k8s_cost_labels_unset == ["team", "cost-center"] with input as tg014_namespace({"labels": ["team", "cost-center"]})
}

test_k8s_cost_labels_allow_other_kubernetes_types if {
	# Services, ConfigMaps, quotas and HPAs cost nothing of their own; patches change objects the stack does not own.
	every type in [
		"kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ResourceQuota",
		"kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:core/v1:NamespacePatch",
		"kubernetes:apps/v1:DeploymentPatch",
	] {
		count(deny_k8s_cost_labels) == 0 with input as tg014_resource(type, "x", {"metadata": {}}) with data.stack as tg014_dev
		count(warn_k8s_cost_labels) == 0 with input as tg014_resource(type, "x", {"metadata": tg014_unknown}) with data.stack as tg014_dev
	}
}

test_k8s_cost_labels_allow_tuned_labels if {
	ns := tg014_namespace({"labels": {"owner": "ana"}})
	count(deny_k8s_cost_labels) == 0 with input as ns with data.stack as tg014_dev with data.config["k8s-cost-labels"].labels as ["owner"]
}

# --- deny ---

test_k8s_cost_labels_deny_namespace_without_labels if {
	deny_k8s_cost_labels == {"`shop` (kubernetes:core/v1:Namespace) lacks cost labels team, cost-center; use tollgate_components.NamespaceGuardrails or add them to metadata.labels"} with input as tg014_namespace({"name": "shop"})
		with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_namespace_without_metadata if {
	# An auto-named namespace with no metadata at all is unlabelled, not "not applicable".
	ns := tg014_resource("kubernetes:core/v1:Namespace", "shop", {"kind": "Namespace", "apiVersion": "v1"})
	deny_k8s_cost_labels == {tg014_namespace_lacks("team, cost-center")} with input as ns with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_namespace_missing_cost_center if {
	deny_k8s_cost_labels == {tg014_namespace_lacks("cost-center")} with input as tg014_namespace({"labels": {"team": "payments"}})
		with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_blank_null_and_non_string_values if {
	deny_k8s_cost_labels == {tg014_namespace_lacks("team, cost-center")} with input as tg014_namespace({"labels": {"team": " ", "cost-center": null}})
		with data.stack as tg014_dev
	deny_k8s_cost_labels == {tg014_namespace_lacks("cost-center")} with input as tg014_namespace({"labels": {"team": "payments", "cost-center": 42}})
		with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_label_names_are_case_sensitive if {
	deny_k8s_cost_labels == {tg014_namespace_lacks("team")} with input as tg014_namespace({"labels": {"Team": "payments", "cost-center": "cc-42"}})
		with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_workload_labelled_only_on_pod_template if {
	deny_k8s_cost_labels == {tg014_workload_lacks("`api` (kubernetes:apps/v1:Deployment)", "team, cost-center")} with input as tg014_deployment({"labels": {"app": "api"}})
		with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_each_workload_type if {
	every type in [
		"kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet",
		"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:apps/v1beta1:Deployment",
	] {
		w := tg014_resource(type, "w", {"metadata": {"labels": {"team": "payments"}}})
		deny_k8s_cost_labels == {tg014_workload_lacks(sprintf("`w` (%s)", [type]), "cost-center")} with input as w with data.stack as tg014_dev
	}
}

test_k8s_cost_labels_deny_pod if {
	pod := tg014_resource("kubernetes:core/v1:Pod", "debug", {"metadata": {"labels": {"cost-center": "cc-42"}}, "spec": {}})
	deny_k8s_cost_labels == {"`debug` (kubernetes:core/v1:Pod) lacks cost labels team; add them to metadata.labels"} with input as pod with data.stack as tg014_dev
}

test_k8s_cost_labels_deny_tuned_labels if {
	deny_k8s_cost_labels == {tg014_namespace_lacks("owner")} with input as tg014_namespace({"labels": tg014_labels}) with data.stack as tg014_dev
		with data.config["k8s-cost-labels"].labels as ["team", "owner"]
}

# --- warn: cannot decide at preview ---

test_k8s_cost_labels_warn_metadata_unknown if {
	ns := tg014_namespace(tg014_unknown)
	warn_k8s_cost_labels == {tg014_undecided("`shop` (kubernetes:core/v1:Namespace)", "metadata")} with input as ns with data.stack as tg014_dev
	count(deny_k8s_cost_labels) == 0 with input as ns with data.stack as tg014_dev
}

test_k8s_cost_labels_warn_labels_unknown if {
	d := tg014_deployment({"name": "api", "labels": tg014_unknown})
	warn_k8s_cost_labels == {tg014_undecided("`api` (kubernetes:apps/v1:Deployment)", "metadata.labels")} with input as d with data.stack as tg014_dev
	count(deny_k8s_cost_labels) == 0 with input as d with data.stack as tg014_dev
}

test_k8s_cost_labels_warn_one_value_unknown_other_missing if {
	ns := tg014_namespace({"labels": {"team": tg014_unknown}})
	warn_k8s_cost_labels == {tg014_undecided("`shop` (kubernetes:core/v1:Namespace)", "metadata.labels.team")} with input as ns with data.stack as tg014_dev
	deny_k8s_cost_labels == {tg014_namespace_lacks("cost-center")} with input as ns with data.stack as tg014_dev
}

test_k8s_cost_labels_warn_both_values_unknown if {
	ns := tg014_namespace({"labels": {"team": tg014_unknown, "cost-center": tg014_unknown}})
	warn_k8s_cost_labels == {
		tg014_undecided("`shop` (kubernetes:core/v1:Namespace)", "metadata.labels.team"),
		tg014_undecided("`shop` (kubernetes:core/v1:Namespace)", "metadata.labels.cost-center"),
	} with input as ns with data.stack as tg014_dev
	count(deny_k8s_cost_labels) == 0 with input as ns with data.stack as tg014_dev
}

test_k8s_cost_labels_warn_one_value_unknown_other_set if {
	ns := tg014_namespace({"labels": {"team": tg014_unknown, "cost-center": "cc-42"}})
	warn_k8s_cost_labels == {tg014_undecided("`shop` (kubernetes:core/v1:Namespace)", "metadata.labels.team")} with input as ns with data.stack as tg014_dev
	count(deny_k8s_cost_labels) == 0 with input as ns with data.stack as tg014_dev
}
