package tollgate

import rego.v1

# Everything below runs for every AWS resource of the stack, so the work is done once per resource
# in complete rules (evaluated once per input) that the four heads share.

# Taggable: a type pulumi-aws gives `tags`, or any AWS resource that has a `tags` property.
required_tags_taggable := true if {
	data.aws.taggable_types[input.__type]
} else := true if {
	startswith(input.__type, "aws:")
	"tags" in object.keys(object.get(input, "properties", {}))
}

# The resource's effective tags when it is taggable and all of them are known at preview.

required_tags_known := input_tags if {
	required_tags_taggable
	not input_tags_unknown
}

required_tags_undecidable if {
	required_tags_taggable
	input_tags_unknown
}

# Set arithmetic rather than a lookup per required tag.
required_tags_missing := {t | some t in data.config["required-tags"].tags} - {k |
	some k, v in tags
	is_string(v)
	trim(v, blank_chars) != ""
} if {
	tags := required_tags_known
}

# The usual resource, decided at once: its tag sources known objects (lib.rego's input_known_tags), every
# required tag a known, non-blank string and a listed environment. The heads below look no further for it
# (they would find nothing); required_tags_test.rego and tests/test_rule_catalog.py check that they agree.
required_tags_ok if {
	tags := input_known_tags
	every t in data.config["required-tags"].tags {
		v := tags[t]
		is_string(v)
		trim(v, blank_chars) != ""
		not v in unknown_sentinels
	}
	tags.environment in data.config["required-tags"].environments
	tags.environment == stack_environment
} else if {
	not required_tags_taggable # it takes no tags (a lifecycle configuration, a policy attachment)
}

# (Stored event logs carry the description below before each message, so its wording stays: provider
# default tags count except on an Auto Scaling group, which they never reach; see lib.rego.)
# METADATA
# title: Required tags
# description: >-
#   A taggable AWS resource must carry project, environment, team, cost-center and owner (provider
#   default tags count) with non-empty values, and environment must be dev, staging or prod.
# custom:
#   id: TG001
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "aws:*"
deny_required_tags contains msg if {
	not required_tags_ok
	missing := required_tags_missing
	count(missing) > 0
	msg := sprintf("%s lacks required tags %s; %s", [label(input), concat(", ", sort(missing)), required_tags_fix])
}

required_tags_fix := "the provider's default tags do not reach an Auto Scaling group: list them in its tags as {key, value, propagateAtLaunch: true} (tollgate_components.Tagging's transform does)" if {
	input.__type in list_tagged_types
} else := "set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags"

deny_required_tags contains msg if {
	not required_tags_ok
	env := required_tags_known.environment
	is_string(env)
	not env in unknown_sentinels
	trim(env, blank_chars) != ""
	not env in data.config["required-tags"].environments
	msg := sprintf("%s has environment tag %q; use one of %s", [label(input), env, concat(", ", data.config["required-tags"].environments)])
}

# The stack decides the environment (lib.rego): a tag that names another one misleads every reader of it.
deny_required_tags contains msg if {
	not required_tags_ok
	env := required_tags_known.environment
	env in data.config["required-tags"].environments
	env != stack_environment
	msg := sprintf("%s has environment tag %q, but its stack's environment is %q, which decides the rules' caps; set the tag to %q (deploy %s resources from a %s stack)", [label(input), env, stack_environment, stack_environment, env, env])
}

warn_required_tags contains msg if {
	not required_tags_ok
	required_tags_undecidable
	msg := sprintf("%s: cannot decide required tags at preview, its tags are unknown until apply; build tags from known values", [label(input)])
}

warn_required_tags contains msg if {
	not required_tags_ok
	tags := required_tags_known
	some t in data.config["required-tags"].tags
	tags[t] in unknown_sentinels
	msg := sprintf("%s: cannot decide required tag %s at preview, its value is unknown until apply; build tags from known values", [label(input), t])
}
