# Tests for required-tags (TG001).
#
# Naming convention (enforced by tests/test_rule_catalog.py): test_<rule file stem>_<kind>_<case>, kind
#   allow: asserts the rule denies nothing (and, where a warn could be expected, warns nothing);
#   deny:  asserts the exact set of deny messages;
#   warn:  asserts the exact set of warn messages and that nothing is denied.
# Every rule file needs at least one allow case and one deny case (warn for an advisory-only rule).
# Helpers are prefixed tg001_: all rule and test files share package tollgate.
package tollgate

import rego.v1

tg001_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg001_stack := {"name": "dev"}

tg001_tags := {
	"project": "atlas",
	"environment": "dev",
	"team": "data",
	"cost-center": "cc-42",
	"owner": "ana@example.com",
}

tg001_resource(type, name, properties, provider) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": provider,
}

# The aws provider with defaultTags, as Tollgate hands it to Rego (already decoded from JSON).
tg001_provider(default_tags) := {
	"type": "pulumi:providers:aws",
	"name": "default",
	"urn": "urn:pulumi:dev::atlas::pulumi:providers:aws::default",
	"properties": {"region": "us-east-1", "defaultTags": {"tags": default_tags}},
}

tg001_bucket(tags) := tg001_resource("aws:s3/bucket:Bucket", "raw", {"bucket": "raw", "tags": tags}, {})

tg001_bucket_with_defaults(tags, default_tags) := tg001_resource(
	"aws:s3/bucket:Bucket", "raw", {"bucket": "raw", "tags": tags},
	tg001_provider(default_tags),
)

# A bucket that sets no `tags` property at all, only its provider's default tags.
tg001_bucket_untagged(default_tags) := tg001_resource("aws:s3/bucket:Bucket", "raw", {"bucket": "raw"}, tg001_provider(default_tags))

tg001_lacks(tags) := sprintf("`raw` (aws:s3/bucket:Bucket) lacks required tags %s; set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags", [tags])

tg001_bad_env(env) := sprintf("`raw` (aws:s3/bucket:Bucket) has environment tag %q; use one of dev, staging, prod", [env])

tg001_cannot_decide := "`raw` (aws:s3/bucket:Bucket): cannot decide required tags at preview, its tags are unknown until apply; build tags from known values"

# --- allow ---

test_required_tags_allow_all_tags_present if {
	count(deny_required_tags) == 0 with input as tg001_bucket(tg001_tags) with data.stack as tg001_stack
	count(warn_required_tags) == 0 with input as tg001_bucket(tg001_tags) with data.stack as tg001_stack
}

test_required_tags_allow_extra_tags if {
	tags := object.union(tg001_tags, {"Name": "raw", "data-class": "internal"})
	count(deny_required_tags) == 0 with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_allow_every_environment if {
	every env in ["dev", "staging", "prod"] {
		tags := object.union(tg001_tags, {"environment": env})
		count(deny_required_tags) == 0 with input as tg001_bucket(tags) with data.stack as {"name": env}
	}
}

# The stack decides the environment: a tag naming another one is reported, by configured environment or stack name.
test_required_tags_deny_environment_tag_other_than_the_stacks if {
	tags := object.union(tg001_tags, {"environment": "prod"})
	deny_required_tags == {tg001_other_env("prod", "dev")} with input as tg001_bucket(tags) with data.stack as tg001_stack
	deny_required_tags == {tg001_other_env("prod", "staging")} with input as tg001_bucket(tags)
		with data.stack as {"name": "ci", "environment": "staging"}
	not required_tags_ok with input as tg001_bucket(tags) with data.stack as tg001_stack
}

tg001_other_env(env, stack_env) := sprintf("`raw` (aws:s3/bucket:Bucket) has environment tag %q, but its stack's environment is %q, which decides the rules' caps; set the tag to %q (deploy %s resources from a %s stack)", [env, stack_env, stack_env, env, env])

test_required_tags_allow_tags_only_from_provider_default_tags if {
	count(deny_required_tags) == 0 with input as tg001_bucket_untagged(tg001_tags) with data.stack as tg001_stack
	count(warn_required_tags) == 0 with input as tg001_bucket_untagged(tg001_tags) with data.stack as tg001_stack
}

test_required_tags_allow_tags_split_between_provider_and_resource if {
	defaults := object.filter(tg001_tags, ["project", "environment", "cost-center"])
	own := object.filter(tg001_tags, ["team", "owner"])
	count(deny_required_tags) == 0 with input as tg001_bucket_with_defaults(own, defaults) with data.stack as tg001_stack
}

test_required_tags_allow_resource_tag_fills_empty_default if {
	defaults := object.union(tg001_tags, {"owner": ""})
	count(deny_required_tags) == 0 with input as tg001_bucket_with_defaults({"owner": "ana@example.com"}, defaults) with data.stack as tg001_stack
}

test_required_tags_allow_bucket_policy_not_taggable if {
	policy := tg001_resource("aws:s3/bucketPolicy:BucketPolicy", "raw-policy", {"bucket": "raw", "policy": "{}"}, {})
	count(deny_required_tags) == 0 with input as policy with data.stack as tg001_stack
	count(warn_required_tags) == 0 with input as policy with data.stack as tg001_stack
}

test_required_tags_allow_provider_resource_not_taggable if {
	provider := tg001_resource("pulumi:providers:aws", "default", {"region": "us-east-1"}, {})
	count(deny_required_tags) == 0 with input as provider with data.stack as tg001_stack
}

test_required_tags_allow_non_aws_type_with_tags_property if {
	other := tg001_resource("azure-native:resources:ResourceGroup", "rg", {"tags": {}}, {})
	count(deny_required_tags) == 0 with input as other with data.stack as tg001_stack
}

# --- deny ---

test_required_tags_deny_missing_owner if {
	deny_required_tags == {"`raw` (aws:s3/bucket:Bucket) lacks required tags owner; set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags"} with input as tg001_bucket(object.remove(tg001_tags, ["owner"]))
		with data.stack as tg001_stack
}

test_required_tags_deny_missing_tags_listed_sorted if {
	tags := object.remove(tg001_tags, ["team", "project", "cost-center"])
	deny_required_tags == {tg001_lacks("cost-center, project, team")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_empty_tags if {
	deny_required_tags == {tg001_lacks("cost-center, environment, owner, project, team")} with input as tg001_bucket({}) with data.stack as tg001_stack
}

test_required_tags_deny_empty_value if {
	tags := object.union(tg001_tags, {"owner": ""})
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_whitespace_value if {
	tags := object.union(tg001_tags, {"owner": " \t ", "team": " "})
	deny_required_tags == {tg001_lacks("owner, team")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_non_string_value if {
	tags := object.union(tg001_tags, {"cost-center": 42})
	deny_required_tags == {tg001_lacks("cost-center")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_tag_names_are_case_sensitive if {
	tags := object.union(object.remove(tg001_tags, ["owner"]), {"Owner": "ana@example.com"})
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_empty_environment_is_missing_not_invalid if {
	tags := object.union(tg001_tags, {"environment": "  "})
	deny_required_tags == {tg001_lacks("environment")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_default_tags_incomplete if {
	defaults := object.remove(tg001_tags, ["owner"])
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket_untagged(defaults) with data.stack as tg001_stack
}

test_required_tags_deny_resource_empty_value_overrides_default if {
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket_with_defaults({"owner": ""}, tg001_tags)
		with data.stack as tg001_stack
}

test_required_tags_deny_resource_environment_overrides_default if {
	deny_required_tags == {tg001_bad_env("qa")} with input as tg001_bucket_with_defaults({"environment": "qa"}, tg001_tags)
		with data.stack as tg001_stack
}

test_required_tags_deny_environment_outside_allowed if {
	tags := object.union(tg001_tags, {"environment": "qa"})
	deny_required_tags == {"`raw` (aws:s3/bucket:Bucket) has environment tag \"qa\"; use one of dev, staging, prod"} with input as tg001_bucket(tags)
		with data.stack as tg001_stack
}

test_required_tags_deny_environment_wrong_case if {
	tags := object.union(tg001_tags, {"environment": "Prod"})
	deny_required_tags == {tg001_bad_env("Prod")} with input as tg001_bucket(tags) with data.stack as {"name": "prod"}
}

test_required_tags_deny_environment_not_matched_by_stack if {
	# The stack's environment does not excuse a bad tag: the tag is what cost reports group by.
	tags := object.union(tg001_tags, {"environment": "production"})
	deny_required_tags == {tg001_bad_env("production")} with input as tg001_bucket(tags)
		with data.stack as {"name": "prod", "environment": "prod"}
}

test_required_tags_deny_missing_and_bad_environment if {
	tags := object.union(object.remove(tg001_tags, ["owner"]), {"environment": "sandbox"})
	deny_required_tags == {tg001_lacks("owner"), tg001_bad_env("sandbox")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_deny_taggable_type_without_tags_property if {
	instance := tg001_resource("aws:ec2/instance:Instance", "web", {"instanceType": "t3.micro"}, {})
	deny_required_tags == {"`web` (aws:ec2/instance:Instance) lacks required tags cost-center, environment, owner, project, team; set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags"} with input as instance
		with data.stack as tg001_stack
}

test_required_tags_deny_unlisted_aws_type_with_tags_property if {
	# A type newer than the taggable list still counts as taggable when it has a tags property.
	thing := tg001_resource("aws:newservice/widget:Widget", "w", {"tags": {"project": "atlas"}}, {})
	deny_required_tags == {"`w` (aws:newservice/widget:Widget) lacks required tags cost-center, environment, owner, team; set them in the stack's tollgate:tags (applied as provider default tags) or in the resource's tags"} with input as thing
		with data.stack as tg001_stack
}

# The fast path (required_tags_ok: both tag sources objects, or only the provider's) decides the usual
# resource at once; each flaw below must still reach the heads, in both shapes.
test_required_tags_allow_fast_path_decides_usual_resource if {
	own := object.filter(tg001_tags, ["team", "owner"])
	required_tags_ok with input as tg001_bucket_with_defaults(own, tg001_tags) with data.stack as tg001_stack
	required_tags_ok with input as tg001_bucket_untagged(tg001_tags) with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_bucket_untagged(tg001_tags) with data.stack as tg001_stack
	count(warn_required_tags) == 0 with input as tg001_bucket_with_defaults(own, tg001_tags) with data.stack as tg001_stack
}

test_required_tags_deny_fast_path_declines_each_flaw if {
	every flaw, msg in {
		"": tg001_lacks("owner"),
		" \t": tg001_lacks("owner"),
		"qa-owner": null,
	} {
		expected := {m | m := msg; m != null}
		deny_required_tags == expected with input as tg001_bucket_with_defaults({"owner": flaw}, tg001_tags) with data.stack as tg001_stack
		deny_required_tags == expected with input as tg001_bucket_untagged(object.union(tg001_tags, {"owner": flaw})) with data.stack as tg001_stack
	}
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket_with_defaults({"owner": 42}, tg001_tags) with data.stack as tg001_stack
	deny_required_tags == {tg001_bad_env("qa")} with input as tg001_bucket_untagged(object.union(tg001_tags, {"environment": "qa"}))
		with data.stack as tg001_stack
	deny_required_tags == {tg001_lacks("owner")} with input as tg001_bucket_with_defaults({}, object.remove(tg001_tags, ["owner"]))
		with data.stack as tg001_stack
}

# --- warn: cannot decide at preview ---

test_required_tags_warn_tags_unknown if {
	warn_required_tags == {tg001_cannot_decide} with input as tg001_bucket(tg001_unknown) with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_bucket(tg001_unknown) with data.stack as tg001_stack
}

test_required_tags_warn_default_tags_unknown if {
	bucket := tg001_resource(
		"aws:s3/bucket:Bucket", "raw", {"bucket": "raw"},
		{"type": "pulumi:providers:aws", "name": "default", "urn": "u", "properties": {"defaultTags": tg001_unknown}},
	)
	warn_required_tags == {tg001_cannot_decide} with input as bucket with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as bucket with data.stack as tg001_stack
}

test_required_tags_warn_default_tags_tags_unknown if {
	bucket := tg001_bucket_untagged(tg001_unknown)
	warn_required_tags == {tg001_cannot_decide} with input as bucket with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as bucket with data.stack as tg001_stack
}

test_required_tags_warn_unknown_tags_even_when_resource_tags_incomplete if {
	# Default tags unknown: they may still supply the missing owner, so warn rather than deny.
	bucket := tg001_bucket_with_defaults(object.remove(tg001_tags, ["owner"]), tg001_unknown)
	warn_required_tags == {tg001_cannot_decide} with input as bucket with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as bucket with data.stack as tg001_stack
}

test_required_tags_warn_single_tag_value_unknown if {
	tags := object.union(tg001_tags, {"owner": tg001_unknown})
	warn_required_tags == {"`raw` (aws:s3/bucket:Bucket): cannot decide required tag owner at preview, its value is unknown until apply; build tags from known values"} with input as tg001_bucket(tags) with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_bucket(tags) with data.stack as tg001_stack
}

test_required_tags_warn_own_tags_unknown_with_complete_default_tags if {
	# The provider's tags alone would pass; the resource's own, unknown until apply, may override them.
	bucket := tg001_bucket_with_defaults(tg001_unknown, tg001_tags)
	warn_required_tags == {tg001_cannot_decide} with input as bucket with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as bucket with data.stack as tg001_stack
}

test_required_tags_warn_fast_path_declines_unknown_value if {
	unknown_owner := object.union(tg001_tags, {"owner": tg001_unknown})
	msg := "`raw` (aws:s3/bucket:Bucket): cannot decide required tag owner at preview, its value is unknown until apply; build tags from known values"
	warn_required_tags == {msg} with input as tg001_bucket_untagged(unknown_owner) with data.stack as tg001_stack
	warn_required_tags == {msg} with input as tg001_bucket_with_defaults({"owner": tg001_unknown}, tg001_tags) with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_bucket_untagged(unknown_owner) with data.stack as tg001_stack
}

# --- Auto Scaling groups: tags as a list of blocks, which the provider's default tags never reach ---

tg001_asg(tags, default_tags) := tg001_resource(
	"aws:autoscaling/group:Group", "workers", {"maxSize": 3, "minSize": 0, "tags": tags},
	tg001_provider(default_tags),
)

tg001_asg_untagged(default_tags) := tg001_resource(
	"aws:autoscaling/group:Group", "workers", {"maxSize": 3, "minSize": 0},
	tg001_provider(default_tags),
)

tg001_blocks(tags) := [{"key": k, "value": v, "propagateAtLaunch": true} | some k, v in tags]

tg001_asg_lacks(tags) := sprintf("`workers` (aws:autoscaling/group:Group) lacks required tags %s; the provider's default tags do not reach an Auto Scaling group: list them in its tags as {key, value, propagateAtLaunch: true} (tollgate_components.Tagging's transform does)", [tags])

test_required_tags_allow_asg_with_every_tag_block if {
	count(deny_required_tags) == 0 with input as tg001_asg(tg001_blocks(tg001_tags), {}) with data.stack as tg001_stack
	count(warn_required_tags) == 0 with input as tg001_asg(tg001_blocks(tg001_tags), tg001_unknown) with data.stack as tg001_stack
}

test_required_tags_deny_asg_with_only_provider_default_tags if {
	every_tag := "cost-center, environment, owner, project, team"
	deny_required_tags == {tg001_asg_lacks(every_tag)} with input as tg001_asg_untagged(tg001_tags) with data.stack as tg001_stack
	deny_required_tags == {tg001_asg_lacks(every_tag)} with input as tg001_asg([], tg001_tags) with data.stack as tg001_stack
	deny_required_tags == {tg001_asg_lacks(every_tag)} with input as tg001_asg({"owner": "ana"}, tg001_tags) with data.stack as tg001_stack
	not required_tags_ok with input as tg001_asg_untagged(tg001_tags) with data.stack as tg001_stack
}

test_required_tags_deny_asg_block_missing_despite_default_tags if {
	blocks := tg001_blocks(object.remove(tg001_tags, ["owner"]))
	deny_required_tags == {tg001_asg_lacks("owner")} with input as tg001_asg(blocks, tg001_tags) with data.stack as tg001_stack
	blank := array.concat(blocks, [{"key": "owner", "value": " "}])
	deny_required_tags == {tg001_asg_lacks("owner")} with input as tg001_asg(blank, tg001_tags) with data.stack as tg001_stack
}

test_required_tags_warn_asg_tag_block_unknown if {
	blocks := array.concat(tg001_blocks(object.remove(tg001_tags, ["owner"])), [tg001_unknown])
	warn_required_tags == {"`workers` (aws:autoscaling/group:Group): cannot decide required tags at preview, its tags are unknown until apply; build tags from known values"} with input as tg001_asg(blocks, {})
		with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_asg(blocks, {}) with data.stack as tg001_stack
}

test_required_tags_warn_asg_tag_value_unknown if {
	blocks := tg001_blocks(object.union(tg001_tags, {"owner": tg001_unknown}))
	warn_required_tags == {"`workers` (aws:autoscaling/group:Group): cannot decide required tag owner at preview, its value is unknown until apply; build tags from known values"} with input as tg001_asg(blocks, {})
		with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_asg(blocks, {}) with data.stack as tg001_stack
}

# Zero-width characters (U+200B and friends) count as blank, alone or with whitespace.
test_required_tags_deny_zero_width_value if {
	tags := object.union(tg001_tags, {"owner": "\u200b", "team": " \u200d\ufeff "})
	deny_required_tags == {tg001_lacks("owner, team")} with input as tg001_bucket(tags) with data.stack as tg001_stack
}

# A secret tag value is unknown to the rule: it cannot decide, even a secret("") or a secret("   ").
test_required_tags_warn_secret_tag_value if {
	tags := object.union(tg001_tags, {"owner": "[secret]"})
	warn_required_tags == {"`raw` (aws:s3/bucket:Bucket): cannot decide required tag owner at preview, its value is unknown until apply; build tags from known values"} with input as tg001_bucket(tags) with data.stack as tg001_stack
	count(deny_required_tags) == 0 with input as tg001_bucket(tags) with data.stack as tg001_stack
	warn_required_tags == {tg001_cannot_decide} with input as tg001_bucket("[secret]") with data.stack as tg001_stack
}
