package tollgate

import rego.v1

# Namespaces the stack creates (a NamespacePatch changes one it does not own).
k8s_quota_namespaces := [input.resources[i] | some i in stack_positions_by_type["kubernetes:core/v1:Namespace"]]

# ResourceQuotas and LimitRanges (the kinds in data.config), of any core API version, not patches.
k8s_quota_guards := [input.resources[i] |
	some t, positions in stack_positions_by_type
	startswith(t, "kubernetes:core/") # cheap test first
	[group, kind] := k8s_group_kind({"__type": t})
	group == "core"
	kind in data.config["k8s-namespace-quota"].kinds
	some i in positions
]

# A name that is a known, non-empty string (undefined otherwise).
k8s_known_name(v) := v if {
	is_string(v)
	v != ""
	not is_unknown(v)
}

k8s_namespace_name(ns) := k8s_known_name(object.get(ns.properties, ["metadata", "name"], null))

k8s_guard_own_namespace(g) := object.get(g.properties, ["metadata", "namespace"], null)

# No namespace of its own (metadata known, namespace unset): it goes to its provider's namespace.
k8s_guard_uses_provider_namespace(g) if {
	k8s_guard_own_namespace(g) == null
	not is_unknown(object.get(g.properties, "metadata", null))
}

# The namespace a guard names by value, when known.
k8s_guard_namespace_value(g) := k8s_known_name(k8s_guard_own_namespace(g))

k8s_guard_namespace_value(g) := k8s_known_name(object.get(g, ["provider", "properties", "namespace"], null)) if {
	k8s_guard_uses_provider_namespace(g)
}

# The namespace inputs' dependencies of the stack's providers, as [provider urn, dependency] pairs.
k8s_quota_provider_deps := {[p.__urn, u] |
	some t, positions in stack_positions_by_type
	startswith(t, "pulumi:providers:")
	some i in positions
	p := input.resources[i]
	some u in object.get(p, ["propertyDependencies", "namespace"], [])
}

# The resources a guard's namespace may be computed from: its metadata's property dependencies
# (Tollgate's capture resolves an output it cannot know to null, so null with a dependency counts),
# and, with no namespace of its own, those of its provider's `namespace` input
# (a Provider(namespace=ns.metadata.name) serving the guard).
k8s_guard_namespace_sources(g) := object.get(g, ["propertyDependencies", "metadata"], []) if {
	not k8s_guard_uses_provider_namespace(g)
} else := array.concat(object.get(g, ["propertyDependencies", "metadata"], []), [u |
	some [provider, u] in k8s_quota_provider_deps
	provider == object.get(g, ["provider", "urn"], "")
])

# Indexes built once per stack, so relating guards to namespaces is linear in their number rather than
# guards × namespaces (a URN names one resource of a stack).
k8s_quota_namespace_urns := {ns.__urn | some ns in k8s_quota_namespaces}

k8s_quota_named := [[name, ns.__urn] | some ns in k8s_quota_namespaces; name := k8s_namespace_name(ns)]

k8s_quota_name_by_urn := {u: name | some [name, u] in k8s_quota_named}

k8s_quota_urns_by_name := {name: {u | some [other, u] in k8s_quota_named; other == name} | some [name, _] in k8s_quota_named}

# The namespaces of the stack a guard is in:
# - related by the namespace's output (the only link at preview for an auto-named namespace), unless
#   both names are known and differ (a guard elsewhere that merely copies the namespace's labels);
# - related by a literal name.
k8s_guard_namespaces(g) := {u |
	some u in k8s_guard_namespace_sources(g)
	u in k8s_quota_namespace_urns
	not k8s_guard_names_other(g, u)
} | {u |
	some u in object.get(k8s_quota_urns_by_name, k8s_guard_namespace_value(g), set())
}

k8s_guard_names_other(g, urn) if k8s_guard_namespace_value(g) != k8s_quota_name_by_urn[urn]

k8s_quota_placements := [[g, k8s_guard_namespaces(g)] | some g in k8s_quota_guards]

k8s_quota_guarded := {u | some [_, namespaces] in k8s_quota_placements; some u in namespaces}

# Guards in no namespace of the stack for sure: one whose namespace is unknown may be in any; one
# naming a namespace literally may be in a namespace whose name is unknown.
k8s_quota_unplaced := [g | some [g, namespaces] in k8s_quota_placements; count(namespaces) == 0]

k8s_quota_unplaced_undecided := [g | some g in k8s_quota_unplaced; k8s_guard_namespace_undecided(g)]

k8s_quota_unplaced_named := [g | some g in k8s_quota_unplaced; k8s_guard_namespace_value(g)]

k8s_guard_namespace_undecided(g) if k8s_unknown_prefix(g.properties, ["metadata", "namespace"])

k8s_guard_namespace_undecided(g) if {
	k8s_guard_uses_provider_namespace(g)
	is_unknown(object.get(g, ["provider", "properties", "namespace"], null))
}

# The guards that might be in a namespace the stack does not know to be guarded.
k8s_quota_maybe_in(ns) := array.concat(k8s_quota_unplaced_undecided, k8s_quota_unplaced_named) if {
	k8s_unknown_prefix(ns.properties, ["metadata", "name"])
} else := k8s_quota_unplaced_undecided

# METADATA
# title: Kubernetes namespace quota
# description: >-
#   A Namespace the stack creates must hold a ResourceQuota or a LimitRange (data.config kinds), so
#   what runs in it is bounded. A quota or limit range is in a namespace when its metadata.namespace
#   (or, unset, its provider's namespace) names it, or is computed from the namespace's outputs
#   (property dependencies): the only link at preview for an auto-named namespace.
# custom:
#   id: TG013
#   severity: high
#   enforcement: mandatory
stack_deny_k8s_namespace_quota contains {"urn": ns.__urn, "msg": msg} if {
	some ns in k8s_quota_namespaces
	not ns.__urn in k8s_quota_guarded
	count(k8s_quota_maybe_in(ns)) == 0
	kinds := data.config["k8s-namespace-quota"].kinds
	msg := sprintf("%s has no %s in it; use tollgate_components.NamespaceGuardrails or create a %s whose metadata.namespace is this namespace's metadata.name output", [label(ns), concat(" or ", kinds), kinds[0]])
}

stack_warn_k8s_namespace_quota contains {"urn": ns.__urn, "msg": msg} if {
	some ns in k8s_quota_namespaces
	not ns.__urn in k8s_quota_guarded
	some g in k8s_quota_maybe_in(ns)
	msg := sprintf("%s: cannot decide at preview whether %s is in it, a namespace name is unknown until apply; set metadata.namespace of `%s` from this namespace's metadata.name output", [label(ns), label(g), g.__name])
}
