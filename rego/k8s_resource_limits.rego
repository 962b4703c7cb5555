package tollgate

import rego.v1

# The Kubernetes helpers it shares with k8s-cost-labels, k8s-namespace-quota and gpu-approval (the
# containers of a workload) are in k8s_lib.rego.

input_k8s_is_hpa if input_k8s_group_kind == ["autoscaling", "HorizontalPodAutoscaler"]

# The replica cap of the resource under evaluation.
input_k8s_replica_cap := env_cap(data.config["k8s-resource-limits"].max_replicas, input_k8s_environment)

# "container `app`", or "init container #2" when the name is not known.
k8s_container_label(field, i, c) := sprintf("%s `%s`", [k8s_container_lists[field], c.name]) if {
	is_string(c.name)
	not c.name in unknown_sentinels
} else := sprintf("%s #%d", [k8s_container_lists[field], i + 1])

# Each resource key's path in a container: "requests.cpu" -> ["resources", "requests", "cpu"].
k8s_resource_paths := {key: array.concat(["resources"], split(key, ".")) | some key in data.config["k8s-resource-limits"].resources}

# Each container (an object) of the resource under evaluation with its settings of the data.config
# resource keys (null when unset), read once.
input_k8s_container_settings := [[field, i, c, settings] |
	some [field, i, c] in input_k8s_containers
	is_object(c)
	settings := {key: object.get(c, path, null) | some key, path in k8s_resource_paths}
]

# Absent, null or blank (Pulumi drops null inputs, and the API server rejects an empty quantity),
# and not merely unknown at preview.
k8s_resource_missing(c, key, v) if {
	v == null
	not k8s_unknown_prefix(c, k8s_resource_paths[key])
}

k8s_resource_missing(_, _, v) if {
	is_string(v)
	trim_space(v) == ""
}

# The usual workload, decided at once: a known pod spec whose container lists are arrays (or absent), every
# container an object with every configured resource key set (known, not blank), and, for a replicated kind,
# known replicas within the cap. The heads below look no further for it (they would find nothing;
# k8s_resource_limits_test.rego and tests/test_rule_catalog.py check that they agree).
k8s_resource_limits_ok if {
	spec := object.get(input.properties, input_k8s_pod_spec_path, null)
	is_object(spec)
	every field, _ in k8s_container_lists {
		list := object.get(spec, field, [])
		is_array(list)
		every c in list {
			is_object(c)
			every _, path in k8s_resource_paths {
				v := object.get(c, path, null)
				not v in k8s_absent_or_unknown
				trim_space(sprintf("%v", [v])) != "" # not blank; a builtin, cheaper than a function
			}
		}
	}
	k8s_replicas_ok
} else if {
	not input_k8s_kind # neither a workload nor an HPA (a Service, a ConfigMap...): nothing to judge
	not input_k8s_is_hpa
}

# Replicas within every environment's cap are within this one's, whichever it is (which takes the most work
# of the fast path to learn: its tags, the stack's); else the kind and the environment's cap decide.
k8s_replicas_ok := true if {
	replicas := input.properties.spec.replicas
	is_number(replicas)
	every cap in data.config["k8s-resource-limits"].max_replicas {
		replicas <= cap
	}
} else := true if {
	not input_k8s_replicated
} else := true if {
	replicas := input.properties.spec.replicas
	is_number(replicas)
	replicas <= input_k8s_replica_cap
} else := true if {
	object.get(input.properties.spec, "replicas", null) == null # none (or null) in a known spec: one replica
	1 <= input_k8s_replica_cap
}

# METADATA
# title: Kubernetes resource limits
# description: >-
#   Every container (init containers too) of a workload, found by shape (a Deployment, StatefulSet,
#   DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod, or any object with a pod template,
#   a job template or replicas, custom resources included) must set cpu and memory requests and limits;
#   a LimitRange's defaults do not count. Replicas (absent = 1 for the built-in replicated kinds) and
#   HPA maxReplicas must be within the stack's environment's cap (dev 3, staging 10, prod 50).
# custom:
#   id: TG012
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "kubernetes:*"
deny_k8s_resource_limits contains msg if {
	not k8s_resource_limits_ok
	some [field, i, c, settings] in input_k8s_container_settings
	suspects := {key | some key, v in settings; v == null} | {key | some key, v in settings; is_string(v); trim_space(v) == ""}
	count(suspects) > 0 # the usual container, every setting given: no call below
	missing := [key | some key in data.config["k8s-resource-limits"].resources; key in suspects; k8s_resource_missing(c, key, settings[key])]
	count(missing) > 0
	msg := sprintf("%s %s lacks %s; set cpu and memory requests and limits on every container", [label(input), k8s_container_label(field, i, c), concat(", ", missing)])
}

deny_k8s_resource_limits contains msg if {
	not k8s_resource_limits_ok
	input_k8s_replicated
	replicas := object.get(input.properties, ["spec", "replicas"], 1)
	is_number(replicas)
	cap := input_k8s_replica_cap
	replicas > cap
	not k8s_unknown_prefix(input.properties, ["spec", "replicas"])
	msg := sprintf("%s runs %v replicas, over the %s cap of %v; set spec.replicas to at most %v (or scale with an HPA within the cap) or get a waiver", [label(input), replicas, input_k8s_environment, cap, cap])
}

deny_k8s_resource_limits contains msg if {
	not k8s_resource_limits_ok
	input_k8s_is_hpa
	max_replicas := object.get(input.properties, ["spec", "maxReplicas"], null)
	is_number(max_replicas)
	cap := input_k8s_replica_cap
	max_replicas > cap
	msg := sprintf("%s scales to %v replicas, over the %s cap of %v; set spec.maxReplicas to at most %v (tollgate_components.NamespaceGuardrails.autoscale defaults to the dev cap) or get a waiver", [label(input), max_replicas, input_k8s_environment, cap, cap])
}

k8s_resource_limits_undecided(what) := sprintf("%s: cannot check %s at preview, it is unknown until apply; build it from known values", [label(input), what])

# The pod spec or a container list is unknown: "spec.template", "spec.template.spec.containers".
warn_k8s_resource_limits contains k8s_resource_limits_undecided(what) if {
	not k8s_resource_limits_ok
	some path in input_k8s_list_paths
	object.get(input.properties, path, null) in k8s_absent_or_unknown # else known: no call
	what := k8s_unknown_prefix(input.properties, path)
}

# A container is unknown: "spec.template.spec.containers[1]".
warn_k8s_resource_limits contains k8s_resource_limits_undecided(what) if {
	not k8s_resource_limits_ok
	some entry in input_k8s_containers
	[field, i, c] := entry
	c in unknown_sentinels
	what := sprintf("%s[%d]", [concat(".", input_k8s_list_paths[field]), i])
}

# A container's resources (or part of them) are unknown: "container `app` resources.requests".
warn_k8s_resource_limits contains k8s_resource_limits_undecided(what) if {
	not k8s_resource_limits_ok
	some [field, i, c, settings] in input_k8s_container_settings
	some key, v in settings
	v in k8s_absent_or_unknown
	what := sprintf("%s %s", [k8s_container_label(field, i, c), k8s_unknown_prefix(c, k8s_resource_paths[key])])
}

warn_k8s_resource_limits contains k8s_resource_limits_undecided(what) if {
	not k8s_resource_limits_ok
	input_k8s_replicated
	object.get(input.properties, ["spec", "replicas"], null) in k8s_absent_or_unknown
	what := k8s_unknown_prefix(input.properties, ["spec", "replicas"])
}

warn_k8s_resource_limits contains k8s_resource_limits_undecided(what) if {
	not k8s_resource_limits_ok
	input_k8s_is_hpa
	object.get(input.properties, ["spec", "maxReplicas"], null) in k8s_absent_or_unknown
	what := k8s_unknown_prefix(input.properties, ["spec", "maxReplicas"])
}
