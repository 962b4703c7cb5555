# Tests for bucket-lifecycle (TG008), a stack rule: input.resources is the whole stack and each
# finding is {"urn", "msg"}. Naming convention: see instance_size_cap_test.rego. Helpers are prefixed tg008_.
package tollgate

import rego.v1

tg008_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg008_urn(type, name) := sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name])

tg008_resource(type, name, properties, deps) := {
	"__type": type,
	"__name": name,
	"__urn": tg008_urn(type, name),
	"properties": properties,
	"options": {},
	"provider": {},
	"dependencies": [u | some _, us in deps; some u in us],
	"propertyDependencies": deps,
}

tg008_bucket_type := "aws:s3/bucket:Bucket"

tg008_lc_type := "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"

tg008_it_type := "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration"

tg008_bucket(name) := tg008_resource(tg008_bucket_type, name, {}, {})

tg008_named_bucket(name, bucket) := tg008_resource(tg008_bucket_type, name, {"bucket": bucket}, {})

tg008_raw_urn := tg008_urn(tg008_bucket_type, "raw")

# A lifecycle configuration of bucket `raw`, as a program passing raw.id writes it.
tg008_lc(rules) := tg008_lc_of("raw-lifecycle", tg008_raw_urn, rules)

tg008_lc_of(name, bucket_urn, rules) := tg008_resource(tg008_lc_type, name, {"bucket": tg008_unknown, "rules": rules}, {"bucket": [bucket_urn]})

tg008_transition := {"days": 30, "storageClass": "STANDARD_IA"}

tg008_abort := {"daysAfterInitiation": 7}

tg008_good_rule := {"id": "tier", "status": "Enabled", "transitions": [tg008_transition], "abortIncompleteMultipartUpload": tg008_abort}

tg008_tiering_of(bucket_urn, properties) := tg008_resource(tg008_it_type, "raw-tiering", object.union({"bucket": tg008_unknown, "tierings": [{"accessTier": "ARCHIVE_ACCESS", "days": 90}]}, properties), {"bucket": [bucket_urn]})

tg008_stack(resources) := {"resources": resources}

tg008_raw := "`raw` (aws:s3/bucket:Bucket)"

tg008_no_lifecycle(label) := sprintf("%s has no lifecycle rule; use tollgate_components.TieredBucket or add a lifecycle configuration that transitions objects to STANDARD_IA (or expires them) and aborts incomplete multipart uploads", [label])

tg008_no_tiering(label) := sprintf("%s has no enabled lifecycle rule that transitions or expires objects; use tollgate_components.TieredBucket or add a transition to STANDARD_IA (or an expiration)", [label])

tg008_no_abort(label) := sprintf("%s has no enabled lifecycle rule that aborts incomplete multipart uploads, whose parts are billed until deleted; add abortIncompleteMultipartUpload (e.g. 7 days) or use tollgate_components.TieredBucket", [label])

tg008_cannot(label, what) := sprintf("%s: cannot decide the bucket lifecycle at preview, %s", [label, what])

tg008_rules_unknown := "a lifecycle configuration of it has rules (or a status) unknown until apply; build them from known values"

tg008_at(urn, msg) := {"urn": urn, "msg": msg}

# --- allow ---

test_bucket_lifecycle_allow_transition_and_abort_in_one_rule if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([tg008_good_rule])])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_expiration_and_abort_in_separate_rules if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([
		{"id": "expire", "status": "Enabled", "expiration": {"days": 90}},
		{"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort},
	])])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_expiration_by_date if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([{"id": "x", "status": "Enabled", "expiration": {"date": "2030-01-01"}, "abortIncompleteMultipartUpload": tg008_abort}])])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_intelligent_tiering_plus_abort if {
	s := tg008_stack([
		tg008_bucket("raw"),
		tg008_tiering_of(tg008_raw_urn, {}),
		tg008_lc([{"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort}]),
	])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_intelligent_tiering_explicitly_enabled if {
	s := tg008_stack([
		tg008_bucket("raw"),
		tg008_tiering_of(tg008_raw_urn, {"status": "Enabled"}),
		tg008_lc([{"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort}]),
	])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_v2_configuration_and_bucket if {
	b := tg008_resource("aws:s3/bucketV2:BucketV2", "logs", {}, {})
	lc := tg008_resource(
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "logs-lc",
		{"bucket": tg008_unknown, "rules": [tg008_good_rule]}, {"bucket": [b.__urn]},
	)
	s := tg008_stack([b, lc])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_related_by_literal_bucket_name if {
	lc := tg008_resource(tg008_lc_type, "raw-lc", {"bucket": "acme-raw", "rules": [tg008_good_rule]}, {})
	s := tg008_stack([tg008_named_bucket("raw", "acme-raw"), lc])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_legacy_inline_rules if {
	b := tg008_resource(tg008_bucket_type, "raw", {"lifecycleRules": [{
		"enabled": true,
		"transitions": [tg008_transition],
		"abortIncompleteMultipartUploadDays": 7,
	}]}, {})
	count(stack_deny_bucket_lifecycle) == 0 with input as tg008_stack([b])
	count(stack_warn_bucket_lifecycle) == 0 with input as tg008_stack([b])
}

test_bucket_lifecycle_allow_no_buckets if {
	s := tg008_stack([tg008_resource("aws:ec2/instance:Instance", "web", {"instanceType": "t3.micro"}, {})])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_allow_unknown_rules_on_complete_bucket if {
	# Another configuration already gives the bucket everything: an unknown one changes nothing.
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([tg008_good_rule]), tg008_lc_of("extra", tg008_raw_urn, tg008_unknown)])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

# --- deny ---

test_bucket_lifecycle_deny_bucket_without_lifecycle if {
	s := tg008_stack([tg008_bucket("raw")])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, "`raw` (aws:s3/bucket:Bucket) has no lifecycle rule; use tollgate_components.TieredBucket or add a lifecycle configuration that transitions objects to STANDARD_IA (or expires them) and aborts incomplete multipart uploads")} with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_deny_v2_bucket_without_lifecycle if {
	b := tg008_resource("aws:s3/bucketV2:BucketV2", "logs", {}, {})
	stack_deny_bucket_lifecycle == {tg008_at(b.__urn, tg008_no_lifecycle("`logs` (aws:s3/bucketV2:BucketV2)"))} with input as tg008_stack([b])
}

test_bucket_lifecycle_deny_only_the_bucket_without_configuration if {
	other := tg008_bucket("logs")
	s := tg008_stack([tg008_bucket("raw"), other, tg008_lc([tg008_good_rule])])
	stack_deny_bucket_lifecycle == {tg008_at(other.__urn, tg008_no_lifecycle("`logs` (aws:s3/bucket:Bucket)"))} with input as s
}

test_bucket_lifecycle_deny_no_abort_rule if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([{"id": "t", "status": "Enabled", "transitions": [tg008_transition]}])])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_abort(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_abort_only if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([{"id": "a", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort}])])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_disabled_rule_counts_for_nothing if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([object.union(tg008_good_rule, {"status": "Disabled"})])])
	stack_deny_bucket_lifecycle == {
		tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw)),
		tg008_at(tg008_raw_urn, tg008_no_abort(tg008_raw)),
	} with input as s
}

test_bucket_lifecycle_deny_noncurrent_versions_only_and_delete_markers if {
	# Noncurrent-version actions and delete-marker cleanup leave every current object where it is.
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([{
		"id": "old", "status": "Enabled",
		"noncurrentVersionTransitions": [{"noncurrentDays": 30, "storageClass": "GLACIER"}],
		"noncurrentVersionExpiration": {"noncurrentDays": 90},
		"expiration": {"expiredObjectDeleteMarker": true},
		"abortIncompleteMultipartUpload": tg008_abort,
	}])])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_intelligent_tiering_without_abort if {
	s := tg008_stack([tg008_bucket("raw"), tg008_tiering_of(tg008_raw_urn, {})])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_abort(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_disabled_intelligent_tiering if {
	s := tg008_stack([
		tg008_bucket("raw"),
		tg008_tiering_of(tg008_raw_urn, {"status": "Disabled"}),
		tg008_lc([{"id": "a", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort}]),
	])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_literal_name_of_another_bucket if {
	lc := tg008_resource(tg008_lc_type, "lc", {"bucket": "acme-logs", "rules": [tg008_good_rule]}, {})
	s := tg008_stack([tg008_named_bucket("raw", "acme-raw"), lc])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_lifecycle(tg008_raw))} with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_deny_legacy_inline_rule_disabled if {
	b := tg008_resource(tg008_bucket_type, "raw", {"lifecycleRules": [{
		"enabled": false,
		"transitions": [tg008_transition],
		"abortIncompleteMultipartUploadDays": 7,
	}]}, {})
	stack_deny_bucket_lifecycle == {
		tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw)),
		tg008_at(tg008_raw_urn, tg008_no_abort(tg008_raw)),
	} with input as tg008_stack([b])
}

test_bucket_lifecycle_deny_legacy_inline_rule_without_abort if {
	b := tg008_resource(tg008_bucket_type, "raw", {"lifecycleRules": [{"enabled": true, "expiration": {"days": 30}}]}, {})
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_abort(tg008_raw))} with input as tg008_stack([b])
}

test_bucket_lifecycle_deny_empty_transitions_list if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([{"id": "t", "status": "Enabled", "transitions": [], "abortIncompleteMultipartUpload": tg008_abort}])])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_tiering(tg008_raw))} with input as s
}

test_bucket_lifecycle_deny_configuration_of_external_bucket_is_no_orphan if {
	# A literal name of a bucket outside the stack: known, so no reason to doubt.
	lc := tg008_resource(tg008_lc_type, "lc", {"bucket": "someone-elses", "rules": [tg008_good_rule]}, {})
	s := tg008_stack([tg008_bucket("raw"), lc])
	stack_deny_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_no_lifecycle(tg008_raw))} with input as s
	count(stack_warn_bucket_lifecycle) == 0 with input as s
}

# --- warn: cannot decide at preview ---

test_bucket_lifecycle_warn_rules_unknown if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc(tg008_unknown)])
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, tg008_rules_unknown))} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_one_rule_unknown if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([tg008_unknown])])
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, tg008_rules_unknown))} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_rule_status_unknown if {
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([object.union(tg008_good_rule, {"status": tg008_unknown})])])
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, tg008_rules_unknown))} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_transitions_unknown if {
	rule := {"id": "t", "status": "Enabled", "transitions": tg008_unknown, "abortIncompleteMultipartUpload": tg008_abort}
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([rule])])
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, tg008_rules_unknown))} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_intelligent_tiering_status_unknown if {
	s := tg008_stack([
		tg008_bucket("raw"),
		tg008_tiering_of(tg008_raw_urn, {"status": tg008_unknown}),
		tg008_lc([{"id": "a", "status": "Enabled", "abortIncompleteMultipartUpload": tg008_abort}]),
	])
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, tg008_rules_unknown))} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_inline_rules_unknown if {
	b := tg008_resource(tg008_bucket_type, "raw", {"lifecycleRules": tg008_unknown}, {})
	stack_warn_bucket_lifecycle == {tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, "its lifecycleRules are unknown until apply; build them from known values"))} with input as tg008_stack([b])
	count(stack_deny_bucket_lifecycle) == 0 with input as tg008_stack([b])
}

test_bucket_lifecycle_warn_configuration_of_unknown_bucket if {
	# The configuration's bucket comes from something that is no bucket of the stack (e.g. a random name).
	rnd := tg008_urn("random:index/randomId:RandomId", "suffix")
	lc := tg008_resource(tg008_lc_type, "mystery-lc", {"bucket": tg008_unknown, "rules": [tg008_good_rule]}, {"bucket": [rnd]})
	s := tg008_stack([tg008_bucket("raw"), tg008_bucket("logs"), lc])
	why := "the bucket of `mystery-lc` (aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration) is unknown until apply and may be this one; pass the bucket resource's id (or a literal name) as its bucket"
	stack_warn_bucket_lifecycle == {
		tg008_at(tg008_raw_urn, tg008_cannot(tg008_raw, why)),
		tg008_at(tg008_urn(tg008_bucket_type, "logs"), tg008_cannot("`logs` (aws:s3/bucket:Bucket)", why)),
	} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

test_bucket_lifecycle_warn_orphan_does_not_hide_complete_buckets if {
	lc := tg008_resource(tg008_lc_type, "mystery-lc", {"bucket": tg008_unknown, "rules": [tg008_good_rule]}, {})
	s := tg008_stack([tg008_bucket("raw"), tg008_lc([tg008_good_rule]), tg008_bucket("logs"), lc])
	stack_warn_bucket_lifecycle == {tg008_at(
		tg008_urn(tg008_bucket_type, "logs"),
		tg008_cannot("`logs` (aws:s3/bucket:Bucket)", "the bucket of `mystery-lc` (aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration) is unknown until apply and may be this one; pass the bucket resource's id (or a literal name) as its bucket"),
	)} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

# A configuration whose bucket is computed from two buckets (Output.all(good.id, bad.id).apply(...)) may
# name either: neither is covered for sure, and neither is denied (issue 22).
test_bucket_lifecycle_warn_bucket_computed_from_several_buckets if {
	good_urn := tg008_urn(tg008_bucket_type, "good")
	bad_urn := tg008_urn(tg008_bucket_type, "bad")
	lc := tg008_resource(tg008_lc_type, "lc", {"bucket": tg008_unknown, "rules": [tg008_good_rule]}, {"bucket": [good_urn, bad_urn]})
	s := tg008_stack([tg008_bucket("good"), tg008_bucket("bad"), lc])
	what := "the bucket of `lc` (aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration) is computed from several buckets and may or may not be this one; pass one bucket's id (or a literal name) as its bucket"
	stack_warn_bucket_lifecycle == {
		{"urn": good_urn, "msg": tg008_cannot("`good` (aws:s3/bucket:Bucket)", what)},
		{"urn": bad_urn, "msg": tg008_cannot("`bad` (aws:s3/bucket:Bucket)", what)},
	} with input as s
	count(stack_deny_bucket_lifecycle) == 0 with input as s
}

# Computed from one bucket and another resource: its one bucket dependency is not its identity for sure,
# but a dependency on a single resource is (the bucket's own id or name output).
test_bucket_lifecycle_warn_dependency_on_no_bucket if {
	other := tg008_urn("random:index/randomId:RandomId", "suffix")
	lc := tg008_resource(tg008_lc_type, "lc", {"bucket": tg008_unknown, "rules": [tg008_good_rule]}, {"bucket": [other]})
	s := tg008_stack([tg008_bucket("raw"), lc])
	count(stack_deny_bucket_lifecycle) == 0 with input as s
	count(stack_warn_bucket_lifecycle) == 1 with input as s # an orphan: it may be any bucket's
	covered := tg008_stack([tg008_bucket("raw"), tg008_lc([tg008_good_rule])])
	count(stack_deny_bucket_lifecycle) == 0 with input as covered
	count(stack_warn_bucket_lifecycle) == 0 with input as covered
}
