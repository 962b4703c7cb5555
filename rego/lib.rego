# Helpers shared by every rule: unknown values, effective tags, environment, instance specs.
# Inputs follow pulumi-policy-opa: __type, __name, __urn, properties, options, provider.
package tollgate

import rego.v1

# Pulumi's sentinels for values that are unknown during preview (one per type).
unknown_sentinels := {
	"04da6b54-80e4-46f7-96ec-b56ff0331ba9",
	"1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
	"3eeb2bf0-c639-47a8-9e75-3b44932eb421",
	"6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
	"dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
	"030794c1-ac77-496b-92df-f27374a8bd58",
	"e48ece36-62e2-4504-bad9-02848725956a",
}

is_unknown(x) if {
	is_string(x)
	x in unknown_sentinels
}

# "`raw` (aws:s3/bucket:Bucket)": how every message names its resource.
label(r) := sprintf("`%s` (%s)", [r.__name, r.__type])

tag_map(x) := x if {
	is_object(x)
} else := {}

# Tags the provider adds to every resource (aws defaultTags), then the resource's own, which win.
effective_tags(r) := object.union(tag_map(object.get(r, ["provider", "properties", "defaultTags", "tags"], {})), tag_map(object.get(r, ["properties", "tags"], {})))

# What the rules ask of the resource under evaluation, as complete rules: the engine evaluates them once
# per resource and every rule of that resource shares them. input_tags says what effective_tags says of
# `input` (lib_test.rego checks they agree), without its function calls: the embedded engine spends more
# on a call than on the work in it.
input_provider_tags := tags if {
	tags := input.provider.properties.defaultTags.tags
	is_object(tags)
} else := {}

input_own_tags := tags if {
	tags := input.properties.tags
	is_object(tags)
} else := {}

# Both kinds of tags objects (the usual resource): one rule; else the two rules above.
input_tags := object.union(provider, own) if {
	provider := input.provider.properties.defaultTags.tags
	own := input.properties.tags
	is_object(provider)
	is_object(own)
} else := object.union(input_provider_tags, input_own_tags)

input_environment := tagged_environment(input_tags)

# True when some source of tags cannot be known at preview.
input_tags_unknown if input.properties.tags in unknown_sentinels

input_tags_unknown if input.provider.properties.defaultTags in unknown_sentinels

input_tags_unknown if input.provider.properties.defaultTags.tags in unknown_sentinels

# Environment: the resource's environment tag, else the stack's configured environment, else the stack name.
environment(r) := tagged_environment(effective_tags(r))

tagged_environment(tags) := env if {
	env := tags.environment
	is_string(env)
	env != ""
	not env in unknown_sentinels
} else := data.stack.environment if {
	is_string(data.stack.environment)
	data.stack.environment != ""
} else := data.stack.name

# The cap of an environment; an environment with no cap of its own gets the strictest one.
env_cap(caps, env) := cap if {
	cap := caps[env]
} else := min([v | some v in caps])

# For the stack rules: the positions of the stack's resources by type. One pass over input.resources
# serves every rule that looks for a few types (each such scan of 10,000 resources costs about 20 ms).
stack_positions_by_type[t] contains i if {
	some i, r in input.resources
	t := r.__type
}
