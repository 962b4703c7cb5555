# Tests for lib.rego: the per-resource facts the rules share (input_tags, input_tags_unknown,
# input_environment) say of the resource under evaluation what the functions say of any resource.
# Helpers are prefixed lib_: all rule and test files share package tollgate.
package tollgate

import rego.v1

lib_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

lib_resource(tags, provider_default_tags) := {
	"__type": "aws:s3/bucket:Bucket",
	"__name": "raw",
	"__urn": "urn:pulumi:dev::atlas::aws:s3/bucket:Bucket::raw",
	"properties": {"bucket": "raw", "tags": tags},
	"options": {},
	"provider": {
		"type": "pulumi:providers:aws",
		"name": "default",
		"urn": "urn:pulumi:dev::atlas::pulumi:providers:aws::default",
		"properties": {"region": "us-east-1", "defaultTags": provider_default_tags},
	},
}

lib_no_provider(tags) := object.union(lib_resource(tags, {}), {"provider": {}})

# Resources whose tags come every way: own and provider tags, either absent, not an object, unknown.
lib_cases := [
	lib_resource({"team": "data", "environment": "prod"}, {"tags": {"team": "ops", "owner": "ana"}}),
	lib_resource({"team": "data"}, {"tags": {"environment": "staging"}}),
	lib_resource(lib_unknown, {"tags": {"environment": "dev"}}),
	lib_resource({"environment": lib_unknown}, {"tags": {"owner": "ana"}}),
	lib_resource({"environment": ""}, {"tags": lib_unknown}),
	lib_resource(["not", "an", "object"], lib_unknown),
	lib_resource({"environment": 7}, {"tags": null}),
	lib_no_provider({"environment": "prod"}),
	lib_no_provider(null),
	lib_asg([{"key": "environment", "value": "prod"}, {"key": "team", "value": "x"}, {"key": "team", "value": "data"}]),
	lib_asg({"environment": "prod"}), # a map where the group takes a list: no tags
	lib_asg([{"key": "team", "value": "data"}, lib_unknown]),
	lib_asg([{"key": lib_unknown, "value": "prod"}]),
	lib_asg(true), # neither a list nor a map: no tags, and no engine error
	lib_asg(["not a block", 7, {"key": 7, "value": "x"}]),
	lib_untagged("aws:s3/bucket:Bucket", {"environment": "dev", "owner": "ana"}), # own tags absent
	lib_untagged("aws:s3/bucketPolicy:BucketPolicy", {"environment": "dev"}), # a type tags do not reach
	lib_resource(false, {"tags": {"environment": "dev"}}),
]

# A resource of this type that sets no tags of its own, with these provider default tags.
lib_untagged(type, provider_tags) := object.union(object.remove(lib_resource({}, {"tags": provider_tags}), ["properties"]), {
	"__type": type,
	"properties": {"bucket": "raw"},
})

# An Auto Scaling group with these tags and complete provider default tags, which never reach it.
lib_asg(tags) := object.union(lib_resource(tags, {"tags": {"environment": "staging", "owner": "ana"}}), {
	"__type": "aws:autoscaling/group:Group",
	"__name": "workers",
	"__urn": "urn:pulumi:dev::atlas::aws:autoscaling/group:Group::workers",
})

lib_stacks := [{"name": "dev-stack", "environment": "dev"}, {"name": "only-name"}, {"name": "blank", "environment": ""}]

test_lib_input_tags_agree_with_effective_tags if {
	every r in lib_cases {
		input_tags == effective_tags(r) with input as r
	}
}

test_lib_input_environment_agrees_with_environment if {
	every r in lib_cases {
		every s in lib_stacks {
			input_environment == environment(r) with input as r with data.stack as s
		}
	}
}

# input_known_tags, where defined (the usual resource), is input_tags, and no source of tags is unknown.
test_lib_input_known_tags_are_input_tags_with_every_source_known if {
	every r in lib_cases {
		not lib_known_tags_disagree with input as r
	}
	known := [i | some i, r in lib_cases; input_known_tags with input as r]
	known == [0, 1, 3, 15, 17] # 3: sources known, a value unknown
}

lib_known_tags_disagree if input_known_tags != input_tags

lib_known_tags_disagree if {
	input_known_tags
	input_tags_unknown
}

test_lib_input_tags_own_tags_win if {
	input_tags == {"team": "data", "environment": "prod", "owner": "ana"} with input as lib_cases[0]
}

# The stack's configured environment, else its name; never a tag.
test_lib_input_environment_is_the_stacks if {
	input_environment == "dev" with input as lib_cases[0] with data.stack as lib_stacks[0]
	input_environment == "dev" with input as lib_cases[1] with data.stack as lib_stacks[0]
	input_environment == "dev" with input as lib_cases[3] with data.stack as lib_stacks[0] # unknown tag
	input_environment == "only-name" with input as lib_cases[3] with data.stack as lib_stacks[1]
	input_environment == "blank" with input as lib_cases[4] with data.stack as lib_stacks[2]
}

test_lib_input_tags_unknown_when_any_source_is if {
	unknown := [i | some i, r in lib_cases; input_tags_unknown with input as r]
	unknown == [2, 4, 5, 11, 12]
}

test_lib_input_tags_of_a_list_tagged_type_are_its_list_alone if {
	input_tags == {"environment": "prod", "team": "data"} with input as lib_cases[9] # the last block of a key wins
	input_tags == {} with input as lib_cases[10]
	input_environment == "dev" with input as lib_cases[10] with data.stack as lib_stacks[0]
}

# stack_positions_by_type: every resource's position under its type, each position once.
test_stack_positions_by_type_holds_every_position_under_its_type if {
	resources := [
		{"__type": "aws:s3/bucket:Bucket", "__urn": "a"},
		{"__type": "kubernetes:core/v1:Namespace", "__urn": "b"},
		{"__type": "aws:s3/bucket:Bucket", "__urn": "c"},
	]
	positions := stack_positions_by_type with input as {"resources": resources}
	positions == {"aws:s3/bucket:Bucket": {0, 2}, "kubernetes:core/v1:Namespace": {1}}
}

test_stack_positions_by_type_of_an_empty_stack_has_no_type if {
	types := {t | some t, _ in stack_positions_by_type} with input as {"resources": []}
	count(types) == 0
}
