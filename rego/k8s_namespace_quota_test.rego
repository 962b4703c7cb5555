# Tests for k8s-namespace-quota (TG013), a stack rule: input.resources is the whole stack.
#
# Naming convention (enforced by tests/test_rule_catalog.py): test_<rule file stem>_<kind>_<case>, kind
#   allow: asserts the rule denies nothing (and, where a warn could be expected, warns nothing);
#   deny:  asserts the exact set of deny findings ({urn, msg});
#   warn:  asserts the exact set of warn findings and that nothing is denied.
# Helpers are prefixed tg013_: all rule and test files share package tollgate.
package tollgate

import rego.v1

tg013_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg013_urn(type, name) := sprintf("urn:pulumi:dev::shop::%s::%s", [type, name])

tg013_resource(type, name, properties, deps) := {
	"__type": type,
	"__name": name,
	"__urn": tg013_urn(type, name),
	"properties": properties,
	"options": {},
	"provider": {},
	"dependencies": deps,
	"propertyDependencies": {k: deps | some k in object.keys(properties); k == "metadata"; count(deps) > 0},
}

tg013_ns_type := "kubernetes:core/v1:Namespace"

tg013_namespace(name, metadata) := tg013_resource(tg013_ns_type, name, {"metadata": metadata}, [])

tg013_ns_urn(name) := tg013_urn(tg013_ns_type, name)

# A ResourceQuota or LimitRange whose metadata depends on the resources `deps` (urns).
tg013_guard(kind, name, metadata, deps) := tg013_resource(sprintf("kubernetes:core/v1:%s", [kind]), name, {"metadata": metadata, "spec": {}}, deps)

tg013_quota(metadata, deps) := tg013_guard("ResourceQuota", "quota", metadata, deps)

tg013_no_guard(name) := {"urn": tg013_ns_urn(name), "msg": sprintf("`%s` (kubernetes:core/v1:Namespace) has no ResourceQuota or LimitRange in it; use tollgate_components.NamespaceGuardrails or create a ResourceQuota whose metadata.namespace is this namespace's metadata.name output", [name])}

tg013_undecided(ns, guard_label, guard_name) := {"urn": tg013_ns_urn(ns), "msg": sprintf("`%s` (kubernetes:core/v1:Namespace): cannot decide at preview whether %s is in it, a namespace name is unknown until apply; set metadata.namespace of `%s` from this namespace's metadata.name output", [ns, guard_label, guard_name])}

tg013_quota_label := "`quota` (kubernetes:core/v1:ResourceQuota)"

# --- allow ---

test_k8s_namespace_quota_allow_quota_by_literal_name if {
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_quota({"namespace": "web"}, [])]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_limit_range_by_dependency_and_name if {
	# namespace=ns.metadata.name: the value is known (the name is set) and the dependency recorded.
	lr := tg013_guard("LimitRange", "limits", {"namespace": "web"}, [tg013_ns_urn("shop")])
	resources := [tg013_namespace("shop", {"name": "web"}), lr]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_auto_named_namespace_by_dependency if {
	# The auto-generated name is unknown at preview: only the property dependency ties them.
	resources := [tg013_namespace("shop", {"labels": {"team": "a"}}), tg013_quota({"namespace": tg013_unknown}, [tg013_ns_urn("shop")])]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_dependency_with_null_namespace if {
	# Tollgate's capture resolves an output it cannot know to null.
	resources := [tg013_namespace("shop", {}), tg013_quota({"namespace": null}, [tg013_ns_urn("shop")])]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_namespace_of_the_provider if {
	quota := object.union(tg013_quota({"name": "q"}, []), {"provider": {
		"type": "pulumi:providers:kubernetes", "name": "web",
		"urn": "urn:pulumi:dev::shop::pulumi:providers:kubernetes::web", "properties": {"namespace": "web"},
	}})
	resources := [tg013_namespace("shop", {"name": "web"}), quota]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_provider_namespace_from_the_namespace_output if {
	provider_urn := "urn:pulumi:dev::shop::pulumi:providers:kubernetes::in-shop"
	provider := object.union(
		tg013_resource("pulumi:providers:kubernetes", "in-shop", {"namespace": tg013_unknown}, [tg013_ns_urn("shop")]),
		{"propertyDependencies": {"namespace": [tg013_ns_urn("shop")]}},
	)
	quota := object.union(tg013_quota({"name": "q"}, []), {"provider": {
		"type": "pulumi:providers:kubernetes", "name": "in-shop", "urn": provider_urn,
		"properties": {"namespace": tg013_unknown},
	}})
	resources := [tg013_namespace("shop", {}), provider, quota]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_every_namespace_guarded if {
	resources := [
		tg013_namespace("a", {"name": "a"}), tg013_namespace("b", {}),
		tg013_guard("ResourceQuota", "qa", {"namespace": "a"}, []),
		tg013_guard("LimitRange", "lb", {"namespace": tg013_unknown}, [tg013_ns_urn("b")]),
	]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_stack_without_namespaces if {
	resources := [tg013_quota({"namespace": tg013_unknown}, []), tg013_resource("kubernetes:core/v1:NamespacePatch", "kube-system", {"metadata": {"name": "kube-system"}}, [])]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_allow_tuned_kinds if {
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_quota({"namespace": "web"}, [])]
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
		with data.config["k8s-namespace-quota"].kinds as ["ResourceQuota"]
}

# --- deny ---

test_k8s_namespace_quota_deny_namespace_alone if {
	stack_deny_k8s_namespace_quota == {{"urn": "urn:pulumi:dev::shop::kubernetes:core/v1:Namespace::shop", "msg": "`shop` (kubernetes:core/v1:Namespace) has no ResourceQuota or LimitRange in it; use tollgate_components.NamespaceGuardrails or create a ResourceQuota whose metadata.namespace is this namespace's metadata.name output"}} with input.resources as [tg013_namespace("shop", {"name": "web"})]
}

test_k8s_namespace_quota_deny_quota_in_another_namespace if {
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_quota({"namespace": "batch"}, [])]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("shop")} with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_deny_dependency_but_other_literal_name if {
	# The quota copies the namespace's labels (hence the dependency) but lives in `batch`.
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_quota({"namespace": "batch"}, [tg013_ns_urn("shop")])]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("shop")} with input.resources as resources
}

test_k8s_namespace_quota_deny_auto_named_namespace_and_literal_quota if {
	# A generated name (shop-1a2b3c4) cannot be written down: a literal namespace is somewhere else.
	resources := [tg013_namespace("shop", {}), tg013_quota({"namespace": "shop"}, [])]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("shop")} with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_deny_only_the_unguarded_namespace if {
	resources := [
		tg013_namespace("a", {"name": "a"}), tg013_namespace("b", {"name": "b"}),
		tg013_guard("LimitRange", "la", {"namespace": tg013_unknown}, [tg013_ns_urn("a")]),
	]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("b")} with input.resources as resources
	count(stack_warn_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_deny_quota_without_namespace_goes_to_default if {
	resources := [tg013_namespace("shop", {}), tg013_quota({"namespace": null}, [])]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("shop")} with input.resources as resources
}

test_k8s_namespace_quota_deny_patches_and_other_kinds_do_not_count if {
	resources := [
		tg013_namespace("shop", {"name": "web"}),
		tg013_guard("ResourceQuotaPatch", "qp", {"namespace": "web"}, []),
		tg013_guard("ConfigMap", "cm", {"namespace": "web"}, []),
	]
	stack_deny_k8s_namespace_quota == {tg013_no_guard("shop")} with input.resources as resources
}

test_k8s_namespace_quota_deny_tuned_kinds if {
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_guard("LimitRange", "lr", {"namespace": "web"}, [])]
	stack_deny_k8s_namespace_quota == {{"urn": tg013_ns_urn("shop"), "msg": "`shop` (kubernetes:core/v1:Namespace) has no ResourceQuota in it; use tollgate_components.NamespaceGuardrails or create a ResourceQuota whose metadata.namespace is this namespace's metadata.name output"}} with input.resources as resources
		with data.config["k8s-namespace-quota"].kinds as ["ResourceQuota"]
}

# --- warn: cannot decide at preview ---

test_k8s_namespace_quota_warn_quota_namespace_unknown_without_dependency if {
	resources := [tg013_namespace("shop", {"name": "web"}), tg013_quota({"namespace": tg013_unknown}, [])]
	stack_warn_k8s_namespace_quota == {tg013_undecided("shop", tg013_quota_label, "quota")} with input.resources as resources
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_warn_quota_metadata_unknown if {
	resources := [tg013_namespace("a", {}), tg013_namespace("b", {"name": "b"}), tg013_guard("LimitRange", "lr", tg013_unknown, [])]
	stack_warn_k8s_namespace_quota == {
		tg013_undecided("a", "`lr` (kubernetes:core/v1:LimitRange)", "lr"),
		tg013_undecided("b", "`lr` (kubernetes:core/v1:LimitRange)", "lr"),
	} with input.resources as resources
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_warn_namespace_name_unknown if {
	resources := [tg013_namespace("shop", {"name": tg013_unknown}), tg013_quota({"namespace": "web"}, [])]
	stack_warn_k8s_namespace_quota == {tg013_undecided("shop", tg013_quota_label, "quota")} with input.resources as resources
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_warn_provider_namespace_unknown if {
	quota := object.union(tg013_quota({"name": "q"}, []), {"provider": {
		"type": "pulumi:providers:kubernetes", "name": "p", "urn": "urn:pulumi:dev::shop::pulumi:providers:kubernetes::p",
		"properties": {"namespace": tg013_unknown},
	}})
	resources := [tg013_namespace("shop", {"name": "web"}), quota]
	stack_warn_k8s_namespace_quota == {tg013_undecided("shop", tg013_quota_label, "quota")} with input.resources as resources
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}

test_k8s_namespace_quota_warn_only_where_undecided if {
	# `qa` is placed in `a` by its dependency; `lx` could be anywhere, so `b` and `c` are undecided.
	resources := [
		tg013_namespace("a", {"name": "a"}), tg013_namespace("b", {"name": "b"}), tg013_namespace("c", {"name": "c"}),
		tg013_guard("ResourceQuota", "qa", {"namespace": tg013_unknown}, [tg013_ns_urn("a")]),
		tg013_guard("LimitRange", "lx", {"namespace": tg013_unknown}, []),
	]
	stack_warn_k8s_namespace_quota == {
		tg013_undecided("b", "`lx` (kubernetes:core/v1:LimitRange)", "lx"),
		tg013_undecided("c", "`lx` (kubernetes:core/v1:LimitRange)", "lx"),
	} with input.resources as resources
	count(stack_deny_k8s_namespace_quota) == 0 with input.resources as resources
}
