package tollgate

import rego.v1

taggable(r) if data.aws.taggable_types[r.__type]

taggable(r) if {
	startswith(r.__type, "aws:")
	"tags" in object.keys(object.get(r, "properties", {}))
}

# Set arithmetic rather than a lookup per required tag: this runs for every resource of the stack.
required_tags_missing(r) := {t | some t in data.config["required-tags"].tags} - {k |
	some k, v in effective_tags(r)
	is_string(v)
	trim_space(v) != ""
}

# METADATA
# title: Required tags
# description: >-
#   A taggable AWS resource must carry project, environment, team, cost-center and owner (provider
#   default tags count) with non-empty values, and environment must be dev, staging or prod.
# custom:
#   id: TG001
#   severity: high
#   enforcement: mandatory
deny_required_tags contains msg if {
	taggable(input)
	not tags_unknown(input)
	missing := required_tags_missing(input)
	count(missing) > 0
	msg := sprintf("%s lacks required tags %s; set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags", [label(input), concat(", ", sort(missing))])
}

deny_required_tags contains msg if {
	taggable(input)
	not tags_unknown(input)
	env := effective_tags(input).environment
	is_string(env)
	not is_unknown(env)
	trim_space(env) != ""
	not env in data.config["required-tags"].environments
	msg := sprintf("%s has environment tag %q; use one of %s", [label(input), env, concat(", ", data.config["required-tags"].environments)])
}

warn_required_tags contains msg if {
	taggable(input)
	tags_unknown(input)
	msg := sprintf("%s: cannot decide required tags at preview, its tags are unknown until apply; build tags from known values", [label(input)])
}

warn_required_tags contains msg if {
	taggable(input)
	not tags_unknown(input)
	some t in data.config["required-tags"].tags
	is_unknown(effective_tags(input)[t])
	msg := sprintf("%s: cannot decide required tag %s at preview, its value is unknown until apply; build tags from known values", [label(input), t])
}
