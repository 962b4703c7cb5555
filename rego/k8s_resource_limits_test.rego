# Tests for k8s-resource-limits (TG012).
#
# Naming convention (enforced by tests/test_rule_catalog.py): test_<rule file stem>_<kind>_<case>, kind
#   allow: asserts the rule denies nothing (and, where a warn could be expected, warns nothing);
#   deny:  asserts the exact set of deny messages;
#   warn:  asserts the exact set of warn messages and that nothing is denied.
# Helpers are prefixed tg012_: all rule and test files share package tollgate.
# Replica caps (rego/data.json): dev 3, staging 10, prod 50; any other environment gets the strictest (3).
package tollgate

import rego.v1

tg012_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg012_dev := {"name": "dev"}

tg012_sized := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}

tg012_container(name, resources) := {"name": name, "image": "nginx", "resources": resources}

tg012_app := tg012_container("app", tg012_sized)

tg012_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::shop::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg012_pod_spec(containers) := {"containers": containers}

# A workload of a type that keeps its pod template at spec.template, with extra spec fields.
tg012_templated(type, pod_spec, spec) := tg012_resource(type, "api", {
	"metadata": {"labels": {"app": "api"}},
	"spec": object.union(spec, {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}}),
})

tg012_deployment(pod_spec, spec) := tg012_templated("kubernetes:apps/v1:Deployment", pod_spec, spec)

tg012_replicas(n) := tg012_deployment(tg012_pod_spec([tg012_app]), {"replicas": n})

tg012_labelled_replicas(n, env) := object.union(tg012_replicas(n), {"properties": {"metadata": {"labels": {"environment": env}}}})

tg012_cron_job(pod_spec) := tg012_resource("kubernetes:batch/v1:CronJob", "nightly", {"spec": {
	"schedule": "0 3 * * *",
	"jobTemplate": {"spec": {"template": {"spec": pod_spec}}},
}})

tg012_pod(pod_spec) := tg012_resource("kubernetes:core/v1:Pod", "debug", {"spec": pod_spec})

tg012_hpa(version, max) := tg012_resource(sprintf("kubernetes:autoscaling/%s:HorizontalPodAutoscaler", [version]), "api-hpa", {
	"metadata": {"name": "api"},
	"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}, "maxReplicas": max},
})

tg012_deployment_label := "`api` (kubernetes:apps/v1:Deployment)"

tg012_lacks(label, container, missing) := sprintf("%s %s lacks %s; set cpu and memory requests and limits on every container", [label, container, missing])

tg012_over(label, replicas, env, cap) := sprintf("%s runs %d replicas, over the %s cap of %d; set spec.replicas to at most %d (or scale with an HPA within the cap) or get a waiver", [label, replicas, env, cap, cap])

tg012_hpa_over(version, max, env, cap) := sprintf("`api-hpa` (kubernetes:autoscaling/%s:HorizontalPodAutoscaler) scales to %d replicas, over the %s cap of %d; set spec.maxReplicas to at most %d (tollgate_components.NamespaceGuardrails.autoscale defaults to the dev cap) or get a waiver", [version, max, env, cap, cap])

tg012_undecided(label, what) := sprintf("%s: cannot check %s at preview, it is unknown until apply; build it from known values", [label, what])

# --- allow ---

test_k8s_resource_limits_allow_sized_deployment_at_dev_cap if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(3) with data.stack as tg012_dev
	count(warn_k8s_resource_limits) == 0 with input as tg012_replicas(3) with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_absent_replicas_is_one if {
	d := tg012_deployment(tg012_pod_spec([tg012_app]), {})
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
	count(warn_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_staging_and_prod_at_cap if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(10) with data.stack as {"name": "staging"}
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(50) with data.stack as {"name": "prod"}
}

# The stack decides the environment: a prod label buys no prod replicas in a dev stack.
test_k8s_resource_limits_deny_prod_label_in_dev_stack if {
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 40, "dev", 3)} with input as tg012_labelled_replicas(40, "prod") with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_stack_environment_beats_stack_name if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(10) with data.stack as {"name": "dev", "environment": "staging"}
}

test_k8s_resource_limits_allow_unknown_environment_label_falls_back_to_stack if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_labelled_replicas(40, tg012_unknown) with data.stack as {"name": "prod"}
}

test_k8s_resource_limits_allow_every_workload_type_sized if {
	pod_spec := {"containers": [tg012_app], "initContainers": [tg012_container("migrate", tg012_sized)]}
	every type in [
		"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet",
		"kubernetes:apps/v1:ReplicaSet", "kubernetes:batch/v1:Job", "kubernetes:apps/v1beta2:Deployment",
		"kubernetes:extensions/v1beta1:DaemonSet",
	] {
		count(deny_k8s_resource_limits) == 0 with input as tg012_templated(type, pod_spec, {}) with data.stack as tg012_dev
		count(warn_k8s_resource_limits) == 0 with input as tg012_templated(type, pod_spec, {}) with data.stack as tg012_dev
	}
	count(deny_k8s_resource_limits) == 0 with input as tg012_cron_job(pod_spec) with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as tg012_pod(pod_spec) with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_daemon_set_has_no_replica_cap if {
	# A DaemonSet runs a pod per node; TG005 caps the nodes.
	ds := tg012_templated("kubernetes:apps/v1:DaemonSet", tg012_pod_spec([tg012_app]), {"replicas": 99})
	count(deny_k8s_resource_limits) == 0 with input as ds with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_numeric_quantities_and_extra_resources if {
	resources := {
		"requests": {"cpu": 1, "memory": "1Gi", "ephemeral-storage": "1Gi"},
		"limits": {"cpu": 2, "memory": "1Gi", "nvidia.com/gpu": "1"},
	}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {})
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

# The fast path (k8s_resource_limits_ok) decides the usual workload at once, numeric quantities and
# init containers too; anything it does not vouch for goes to the heads (every deny and warn case here).
test_k8s_resource_limits_allow_fast_path_decides_usual_workload if {
	k8s_resource_limits_ok with input as tg012_replicas(3) with data.stack as tg012_dev
	k8s_resource_limits_ok with input as tg012_deployment(tg012_pod_spec([tg012_app]), {}) with data.stack as tg012_dev
	numeric := tg012_container("init", {"requests": {"cpu": 1, "memory": 2}, "limits": {"cpu": 1, "memory": 2}})
	d := tg012_deployment({"containers": [tg012_app], "initContainers": [numeric]}, {"replicas": 1})
	k8s_resource_limits_ok with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
	not k8s_resource_limits_ok with input as tg012_replicas(4) with data.stack as tg012_dev
}

# Replicas: within every environment's cap is decided without the environment; above the least cap, the
# kind and the environment's own cap decide (at that cap: taken; over it: the heads, which deny).
test_k8s_resource_limits_allow_fast_path_replicas_by_least_cap_then_environment if {
	k8s_replicas_ok with input as tg012_replicas(3) with data.stack as {"name": "prod"}
	k8s_resource_limits_ok with input as tg012_replicas(10) with data.stack as {"name": "staging"}
	not k8s_resource_limits_ok with input as tg012_labelled_replicas(50, "prod") with data.stack as tg012_dev
	not k8s_resource_limits_ok with input as tg012_replicas(11) with data.stack as {"name": "staging"}
	ds := tg012_templated("kubernetes:apps/v1:DaemonSet", tg012_pod_spec([tg012_app]), {"replicas": 99})
	k8s_resource_limits_ok with input as ds with data.stack as tg012_dev
	# No caps at all: no environment's cap is exceeded, and the heads report nothing either.
	k8s_resource_limits_ok with input as tg012_replicas(99) with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].max_replicas as {}
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(99) with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].max_replicas as {} with data.tollgate.k8s_resource_limits_ok as false
	# (and with the fast path set aside, a cap is still enforced)
	count(deny_k8s_resource_limits) == 1 with input as tg012_replicas(99) with data.stack as tg012_dev
		with data.tollgate.k8s_resource_limits_ok as false
}

test_k8s_resource_limits_allow_hpa_at_cap if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_hpa("v2", 3) with data.stack as tg012_dev
	count(warn_k8s_resource_limits) == 0 with input as tg012_hpa("v2", 3) with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as tg012_hpa("v1", 50) with data.stack as {"name": "prod"}
}

test_k8s_resource_limits_allow_other_types_ignored if {
	service := tg012_resource("kubernetes:core/v1:Service", "api", {"spec": {"ports": [{"port": 80}]}})
	count(deny_k8s_resource_limits) == 0 with input as service with data.stack as tg012_dev
	# A patch changes part of an object the stack does not own.
	patch := tg012_deployment(tg012_pod_spec([{"name": "app"}]), {"replicas": 9})
	count(deny_k8s_resource_limits) == 0 with input as object.union(patch, {"__type": "kubernetes:apps/v1:DeploymentPatch"}) with data.stack as tg012_dev
	bucket := tg012_resource("aws:s3/bucket:Bucket", "raw", {"spec": tg012_unknown})
	count(warn_k8s_resource_limits) == 0 with input as bucket with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_tuned_to_requests_only if {
	requests_only := tg012_container("app", {"requests": {"cpu": "100m", "memory": "128Mi"}})
	d := tg012_deployment(tg012_pod_spec([requests_only]), {})
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].resources as ["requests.cpu", "requests.memory"]
}

# --- deny: containers ---

test_k8s_resource_limits_deny_container_without_resources if {
	d := tg012_deployment(tg012_pod_spec([tg012_app, {"name": "sidecar", "image": "envoy"}]), {})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `sidecar`", "requests.cpu, requests.memory, limits.cpu, limits.memory")} with input as d
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_container_lacking_memory_limit if {
	resources := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m"}}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "limits.memory")} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_only_a_blank_value if {
	# Every other key set: only the blank test can keep the fast path from vouching for it.
	resources := {"requests": {"cpu": 1, "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": " \t"}}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {"replicas": 2})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "limits.memory")} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_requests_only if {
	resources := {"requests": {"cpu": "100m", "memory": "128Mi"}}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "limits.cpu, limits.memory")} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_empty_null_and_blank_values if {
	resources := {"requests": {"cpu": "", "memory": null}, "limits": {"cpu": " ", "memory": "256Mi"}}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "requests.cpu, requests.memory, limits.cpu")} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_one_message_per_container if {
	d := tg012_deployment(tg012_pod_spec([{"name": "a"}, tg012_app, {"image": "busybox", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]), {})
	deny_k8s_resource_limits == {
		tg012_lacks(tg012_deployment_label, "container `a`", "requests.cpu, requests.memory, limits.cpu, limits.memory"),
		tg012_lacks(tg012_deployment_label, "container #3", "requests.cpu, requests.memory"),
	} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_init_container if {
	pod_spec := {"containers": [tg012_app], "initContainers": [{"name": "migrate", "image": "flyway", "resources": {"requests": {"cpu": "1"}}}]}
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "init container `migrate`", "requests.memory, limits.cpu, limits.memory")} with input as tg012_deployment(pod_spec, {})
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_each_workload_type if {
	pod_spec := tg012_pod_spec([{"name": "app", "image": "nginx"}])
	every type in [
		"kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet",
		"kubernetes:batch/v1:Job", "kubernetes:extensions/v1beta1:Deployment",
	] {
		deny_k8s_resource_limits == {tg012_lacks(sprintf("`api` (%s)", [type]), "container `app`", "requests.cpu, requests.memory, limits.cpu, limits.memory")} with input as tg012_templated(type, pod_spec, {})
			with data.stack as tg012_dev
	}
}

test_k8s_resource_limits_deny_cron_job_pod_template if {
	deny_k8s_resource_limits == {tg012_lacks("`nightly` (kubernetes:batch/v1:CronJob)", "container `report`", "limits.cpu, limits.memory")} with input as tg012_cron_job(tg012_pod_spec([tg012_container("report", {"requests": {"cpu": "1", "memory": "1Gi"}})]))
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_pod if {
	deny_k8s_resource_limits == {tg012_lacks("`debug` (kubernetes:core/v1:Pod)", "container `shell`", "requests.cpu, requests.memory, limits.cpu, limits.memory")} with input as tg012_pod(tg012_pod_spec([{"name": "shell", "image": "busybox", "resources": {}}]))
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_tuned_resource_list if {
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", {"limits": {"cpu": "1"}})]), {})
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "requests.memory")} with input as d with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].resources as ["requests.memory"]
}

# --- deny: replicas ---

test_k8s_resource_limits_deny_dev_replicas_over_cap if {
	deny_k8s_resource_limits == {"`api` (kubernetes:apps/v1:Deployment) runs 4 replicas, over the dev cap of 3; set spec.replicas to at most 3 (or scale with an HPA within the cap) or get a waiver"} with input as tg012_replicas(4)
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_staging_and_prod_over_cap if {
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 11, "staging", 10)} with input as tg012_replicas(11) with data.stack as {"name": "staging"}
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 51, "prod", 50)} with input as tg012_replicas(51) with data.stack as {"name": "prod"}
}

test_k8s_resource_limits_deny_unlisted_environment_gets_strictest_cap if {
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 4, "feature-x", 3)} with input as tg012_replicas(4) with data.stack as {"name": "feature-x"}
}

test_k8s_resource_limits_allow_dev_label_in_prod_stack if {
	count(deny_k8s_resource_limits) == 0 with input as tg012_labelled_replicas(5, "dev")
		with data.stack as {"name": "prod", "environment": "prod"}
}

test_k8s_resource_limits_deny_stateful_set_and_replica_set_replicas if {
	every type in ["kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:ReplicaSet"] {
		deny_k8s_resource_limits == {tg012_over(sprintf("`api` (%s)", [type]), 6, "dev", 3)} with input as tg012_templated(type, tg012_pod_spec([tg012_app]), {"replicas": 6})
			with data.stack as tg012_dev
	}
}

test_k8s_resource_limits_deny_replicas_and_container_together if {
	d := tg012_deployment(tg012_pod_spec([{"name": "app"}]), {"replicas": 8})
	deny_k8s_resource_limits == {
		tg012_over(tg012_deployment_label, 8, "dev", 3),
		tg012_lacks(tg012_deployment_label, "container `app`", "requests.cpu, requests.memory, limits.cpu, limits.memory"),
	} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_hpa_over_cap if {
	deny_k8s_resource_limits == {"`api-hpa` (kubernetes:autoscaling/v2:HorizontalPodAutoscaler) scales to 20 replicas, over the dev cap of 3; set spec.maxReplicas to at most 3 (tollgate_components.NamespaceGuardrails.autoscale defaults to the dev cap) or get a waiver"} with input as tg012_hpa("v2", 20)
		with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_hpa_every_version if {
	every version in ["v1", "v2", "v2beta1", "v2beta2"] {
		deny_k8s_resource_limits == {tg012_hpa_over(version, 11, "staging", 10)} with input as tg012_hpa(version, 11) with data.stack as {"name": "staging"}
	}
}

test_k8s_resource_limits_deny_hpa_environment_label_changes_nothing if {
	hpa := object.union(tg012_hpa("v2", 51), {"properties": {"metadata": {"labels": {"environment": "prod"}}}})
	deny_k8s_resource_limits == {tg012_hpa_over("v2", 51, "dev", 3)} with input as hpa with data.stack as tg012_dev
}

test_k8s_resource_limits_deny_tuned_cap if {
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 3, "dev", 2)} with input as tg012_replicas(3) with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].max_replicas as {"dev": 2, "staging": 10, "prod": 50}
}

test_k8s_resource_limits_deny_absent_replicas_over_a_zero_cap if {
	# Absent replicas are one: a cap of 0 (no pods in dev) denies it; the fast path must not vouch for it.
	d := tg012_deployment(tg012_pod_spec([tg012_app]), {})
	deny_k8s_resource_limits == {tg012_over(tg012_deployment_label, 1, "dev", 0)} with input as d with data.stack as tg012_dev
		with data.config["k8s-resource-limits"].max_replicas as {"dev": 0, "staging": 10, "prod": 50}
}

# --- warn: cannot decide at preview ---

test_k8s_resource_limits_warn_spec_unknown if {
	# One message for the containers, the init containers and the replicas alike.
	d := tg012_resource("kubernetes:apps/v1:Deployment", "api", {"spec": tg012_unknown})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_template_unknown if {
	d := tg012_resource("kubernetes:apps/v1:Deployment", "api", {"spec": {"replicas": 2, "template": tg012_unknown}})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec.template")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_containers_unknown if {
	d := tg012_deployment({"containers": tg012_unknown}, {})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec.template.spec.containers")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_one_container_unknown if {
	d := tg012_deployment({"containers": [tg012_app], "initContainers": [tg012_unknown]}, {})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec.template.spec.initContainers[0]")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_container_resources_unknown if {
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", tg012_unknown)]), {})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "container `app` resources")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_requests_unknown_and_limits_missing if {
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", {"requests": tg012_unknown})]), {})
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "container `app` resources.requests")} with input as d with data.stack as tg012_dev
	deny_k8s_resource_limits == {tg012_lacks(tg012_deployment_label, "container `app`", "limits.cpu, limits.memory")} with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_one_value_unknown if {
	resources := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": tg012_unknown, "memory": tg012_unknown}}
	d := tg012_deployment(tg012_pod_spec([tg012_container("app", resources)]), {})
	warn_k8s_resource_limits == {
		tg012_undecided(tg012_deployment_label, "container `app` resources.limits.cpu"),
		tg012_undecided(tg012_deployment_label, "container `app` resources.limits.memory"),
	} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_replicas_unknown if {
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec.replicas")} with input as tg012_replicas(tg012_unknown) with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as tg012_replicas(tg012_unknown) with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_hpa_max_replicas_unknown if {
	warn_k8s_resource_limits == {tg012_undecided("`api-hpa` (kubernetes:autoscaling/v2:HorizontalPodAutoscaler)", "spec.maxReplicas")} with input as tg012_hpa("v2", tg012_unknown)
		with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as tg012_hpa("v2", tg012_unknown) with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_cron_job_template_unknown if {
	cj := tg012_resource("kubernetes:batch/v1:CronJob", "nightly", {"spec": {"schedule": "0 3 * * *", "jobTemplate": tg012_unknown}})
	warn_k8s_resource_limits == {tg012_undecided("`nightly` (kubernetes:batch/v1:CronJob)", "spec.jobTemplate")} with input as cj with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as cj with data.stack as tg012_dev
}

test_k8s_resource_limits_warn_pod_spec_unknown if {
	pod := tg012_resource("kubernetes:core/v1:Pod", "debug", {"spec": tg012_unknown})
	warn_k8s_resource_limits == {tg012_undecided("`debug` (kubernetes:core/v1:Pod)", "spec")} with input as pod with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as pod with data.stack as tg012_dev
}

# A custom resource with a pod template (an Argo Rollout), found by shape, is judged as a Deployment (issue 22).
test_k8s_resource_limits_deny_rollout_by_shape if {
	rollout := tg012_templated("kubernetes:argoproj.io/v1alpha1:Rollout", tg012_pod_spec([tg012_container("app", {})]), {"replicas": 500})
	label := "`api` (kubernetes:argoproj.io/v1alpha1:Rollout)"
	deny_k8s_resource_limits == {
		tg012_lacks(label, "container `app`", "requests.cpu, requests.memory, limits.cpu, limits.memory"),
		tg012_over(label, 500, "dev", 3),
	} with input as rollout with data.stack as tg012_dev
	rc := tg012_templated("kubernetes:core/v1:ReplicationController", tg012_pod_spec([tg012_app]), {"replicas": 50})
	deny_k8s_resource_limits == {tg012_over("`api` (kubernetes:core/v1:ReplicationController)", 50, "dev", 3)} with input as rc with data.stack as tg012_dev
}

test_k8s_resource_limits_allow_non_workload_objects if {
	svc := tg012_resource("kubernetes:core/v1:Service", "svc", {"spec": {"ports": [{"port": 80}]}})
	k8s_resource_limits_ok with input as svc with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as svc with data.stack as tg012_dev with data.tollgate.k8s_resource_limits_ok as false
}

# A secret replica count is unknown to the rule: it cannot decide.
test_k8s_resource_limits_warn_secret_replicas if {
	d := tg012_replicas("[secret]")
	warn_k8s_resource_limits == {tg012_undecided(tg012_deployment_label, "spec.replicas")} with input as d with data.stack as tg012_dev
	count(deny_k8s_resource_limits) == 0 with input as d with data.stack as tg012_dev
	hpa := tg012_hpa("v2", "[secret]")
	warn_k8s_resource_limits == {tg012_undecided("`api-hpa` (kubernetes:autoscaling/v2:HorizontalPodAutoscaler)", "spec.maxReplicas")} with input as hpa with data.stack as tg012_dev
}
