# Tests for k8s_lib.rego: the Kubernetes helpers k8s-resource-limits, k8s-cost-labels and
# k8s-namespace-quota share. Helpers are prefixed k8s_lib_: all rule and test files share package tollgate.
package tollgate

import rego.v1

k8s_lib_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

k8s_lib_object(type, properties) := {
	"__type": type,
	"__name": "x",
	"__urn": sprintf("urn:pulumi:dev::shop::%s::x", [type]),
	"properties": properties,
	"options": {},
	"provider": {},
}

test_k8s_lib_group_kind_of_kubernetes_types_only if {
	k8s_group_kind({"__type": "kubernetes:apps/v1:Deployment"}) == ["apps", "Deployment"]
	k8s_group_kind({"__type": "kubernetes:core/v1:Namespace"}) == ["core", "Namespace"]
	k8s_group_kind({"__type": "kubernetes:networking.k8s.io/v1:Ingress"}) == ["networking.k8s.io", "Ingress"]
	not k8s_group_kind({"__type": "aws:ec2/instance:Instance"})
	not k8s_group_kind({"__type": "kubernetes:yaml:ConfigFile:extra"})
}

# Every API version of a workload's group counts; patches and other groups' kinds of the same name do not.
test_k8s_lib_input_kind_by_group_and_kind if {
	every type, kind in {
		"kubernetes:apps/v1:Deployment": "Deployment",
		"kubernetes:apps/v1beta2:Deployment": "Deployment",
		"kubernetes:extensions/v1beta1:Deployment": "Deployment",
		"kubernetes:apps/v1:StatefulSet": "StatefulSet",
		"kubernetes:batch/v1:CronJob": "CronJob",
		"kubernetes:core/v1:Pod": "Pod",
	} {
		input_k8s_kind == kind with input as k8s_lib_object(type, {})
	}
	every type in [
		"kubernetes:apps/v1:DeploymentPatch", "kubernetes:extensions/v1beta1:StatefulSet",
		"kubernetes:core/v1:Namespace", "kubernetes:example.com/v1:Deployment", "aws:ec2/instance:Instance",
	] {
		not input_k8s_kind with input as k8s_lib_object(type, {})
	}
}

test_k8s_lib_input_pod_spec_path_by_kind if {
	input_k8s_pod_spec_path == ["spec"] with input as k8s_lib_object("kubernetes:core/v1:Pod", {})
	input_k8s_pod_spec_path == ["spec", "jobTemplate", "spec", "template", "spec"] with input as k8s_lib_object("kubernetes:batch/v1:CronJob", {})
	input_k8s_pod_spec_path == ["spec", "template", "spec"] with input as k8s_lib_object("kubernetes:batch/v1:Job", {})
}

k8s_lib_labelled(env) := k8s_lib_object("kubernetes:core/v1:Namespace", {"metadata": {"labels": {"environment": env}}})

# The stack's environment; an environment label changes nothing.
test_k8s_lib_input_environment_is_the_stacks if {
	input_k8s_environment == "dev" with input as k8s_lib_labelled("prod") with data.stack as {"name": "dev"}
	input_k8s_environment == "dev" with input as k8s_lib_labelled("") with data.stack as {"name": "dev"}
	input_k8s_environment == "dev" with input as k8s_lib_labelled(k8s_lib_unknown) with data.stack as {"name": "dev"}
	input_k8s_environment == "staging" with input as k8s_lib_object("kubernetes:core/v1:Namespace", {}) with data.stack as {"name": "dev", "environment": "staging"}
}

# The shallowest unknown value on the way, as a dotted path; nothing when the value is known, or absent
# from a known object.
test_k8s_lib_unknown_prefix_names_the_shallowest_unknown if {
	k8s_unknown_prefix({"spec": k8s_lib_unknown}, ["spec", "replicas"]) == "spec"
	k8s_unknown_prefix({"spec": {"template": k8s_lib_unknown}}, ["spec", "template", "spec"]) == "spec.template"
	k8s_unknown_prefix({"spec": {"replicas": k8s_lib_unknown}}, ["spec", "replicas"]) == "spec.replicas"
	not k8s_unknown_prefix({"spec": {"replicas": 3}}, ["spec", "replicas"])
	not k8s_unknown_prefix({"spec": {}}, ["spec", "replicas"])
	not k8s_unknown_prefix({}, ["spec", "replicas"])
}

# Workloads by shape: a ReplicationController, a custom resource with a pod template or replicas; not a
# Service, a ConfigMap, an HPA, a patch or a custom resource without such a spec.
test_k8s_lib_workloads_by_shape if {
	template := {"spec": {"template": {"spec": {"containers": []}}}}
	input_k8s_kind == "ReplicationController" with input as k8s_lib_object("kubernetes:core/v1:ReplicationController", {})
	input_k8s_kind == "Rollout" with input as k8s_lib_object("kubernetes:argoproj.io/v1alpha1:Rollout", template)
	input_k8s_kind == "Scaled" with input as k8s_lib_object("kubernetes:example.com/v1:Scaled", {"spec": {"replicas": 2}})
	input_k8s_kind == "Nightly" with input as k8s_lib_object("kubernetes:example.com/v1:Nightly", {"spec": {"jobTemplate": {}}})
	input_k8s_pod_spec_path == ["spec", "jobTemplate", "spec", "template", "spec"] with input as k8s_lib_object("kubernetes:example.com/v1:Nightly", {"spec": {"jobTemplate": {}}})
	input_k8s_pod_spec_path == ["spec", "template", "spec"] with input as k8s_lib_object("kubernetes:argoproj.io/v1alpha1:Rollout", template)
	input_k8s_replicated with input as k8s_lib_object("kubernetes:example.com/v1:Scaled", {"spec": {"replicas": 2}})
	not input_k8s_replicated with input as k8s_lib_object("kubernetes:argoproj.io/v1alpha1:Rollout", template)
	every type in ["kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap", "kubernetes:example.com/v1:Widget", "kubernetes:apps/v1:DeploymentPatch"] {
		not input_k8s_kind with input as k8s_lib_object(type, {"spec": {"ports": [], "replicas": null}})
	}
	not input_k8s_kind with input as k8s_lib_object("kubernetes:apps/v1:DeploymentPatch", template)
}
