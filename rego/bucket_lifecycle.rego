package tollgate

import rego.v1

# Stack rule: a bucket and its lifecycle are separate resources. A configuration names its bucket by
# `bucket`, which is unknown at preview when it comes from the bucket resource, so configurations are
# related to buckets by key: "name:<bucket name>" when the configuration's `bucket` is known, and the
# URN of the one resource it is computed from (propertyDependencies.bucket), the bucket whose id or name
# it is. Computed from several buckets, it may name any of them: their verdicts are undecided. Key sets
# keep the rule linear in the stack's size.

bucket_lifecycle_bucket_types := {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}

bucket_lifecycle_config_types := {
	"aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
}

bucket_lifecycle_tiering_type := "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration"

bucket_lifecycle_buckets := [input.resources[i] | some t in bucket_lifecycle_bucket_types; some i in stack_positions_by_type[t]]

bucket_lifecycle_configs := [input.resources[i] |
	some t in bucket_lifecycle_config_types | {bucket_lifecycle_tiering_type}
	some i in stack_positions_by_type[t]
]

bucket_lifecycle_known(x) if {
	is_string(x)
	x != ""
	not is_unknown(x)
}

bucket_lifecycle_bucket_keys(b) := {b.__urn} | {sprintf("name:%s", [n]) |
	n := object.get(b.properties, "bucket", null)
	bucket_lifecycle_known(n)
}

bucket_lifecycle_config_keys(c) := {sprintf("name:%s", [n]) |
	n := object.get(c.properties, "bucket", null)
	bucket_lifecycle_known(n)
} | {u |
	deps := bucket_lifecycle_config_deps(c)
	count(deps) == 1
	some u in deps
}

bucket_lifecycle_config_deps(c) := {u | some u in object.get(c, ["propertyDependencies", "bucket"], [])}

# The buckets a configuration computed from several resources may name (none when its bucket is known).
bucket_lifecycle_config_candidates(c) := deps & bucket_lifecycle_urns if {
	not bucket_lifecycle_known(object.get(c.properties, "bucket", null))
	deps := bucket_lifecycle_config_deps(c)
	count(deps) > 1
} else := set()

# --- what one lifecycle rule does (BucketLifecycleConfiguration rules[] and the legacy inline lifecycleRules[]) ---

bucket_lifecycle_list(rule, key) := l if {
	l := object.get(rule, key, [])
	is_array(l)
} else := []

bucket_lifecycle_enabled(rule) if rule.status == "Enabled"

bucket_lifecycle_enabled(rule) if rule.enabled == true

# Transitions or expires current objects (noncurrent-version actions alone leave every object in place).
bucket_lifecycle_tiers(rule) if count(bucket_lifecycle_list(rule, "transitions")) > 0

bucket_lifecycle_tiers(rule) if {
	is_object(rule.expiration)
	some when in ["days", "date"]
	object.get(rule.expiration, when, null) != null
}

bucket_lifecycle_aborts(rule) if {
	is_object(rule.abortIncompleteMultipartUpload)
	object.get(rule.abortIncompleteMultipartUpload, "daysAfterInitiation", null) != null
}

bucket_lifecycle_aborts(rule) if object.get(rule, "abortIncompleteMultipartUploadDays", null) != null

bucket_lifecycle_rule_unknown(rule) if {
	some key in ["status", "enabled", "transitions", "expiration", "abortIncompleteMultipartUpload"]
	object.get(rule, key, null) in unknown_sentinels # is_unknown without a call per key (the set holds strings only)
}

bucket_lifecycle_rules_key(r) := "rules" if {
	r.__type in bucket_lifecycle_config_types
} else := "lifecycleRules"

# A rule that is itself unknown is no object: bucket_lifecycle_unknown sees it, the checks skip it.
bucket_lifecycle_rules(r) := [rule |
	some rule in bucket_lifecycle_list(r.properties, bucket_lifecycle_rules_key(r))
	is_object(rule)
]

bucket_lifecycle_tiering(r) if {
	some rule in bucket_lifecycle_rules(r)
	bucket_lifecycle_enabled(rule)
	bucket_lifecycle_tiers(rule)
}

# Intelligent-Tiering is on unless its status says Disabled.
bucket_lifecycle_tiering(r) if {
	r.__type == bucket_lifecycle_tiering_type
	object.get(r.properties, "status", "Enabled") == "Enabled"
}

bucket_lifecycle_abort(r) if {
	some rule in bucket_lifecycle_rules(r)
	bucket_lifecycle_enabled(rule)
	bucket_lifecycle_aborts(rule)
}

bucket_lifecycle_unknown(r) if is_unknown(object.get(r.properties, bucket_lifecycle_rules_key(r), null))

bucket_lifecycle_unknown(r) if {
	some rule in bucket_lifecycle_list(r.properties, bucket_lifecycle_rules_key(r))
	is_unknown(rule)
}

bucket_lifecycle_unknown(r) if {
	r.__type == bucket_lifecycle_tiering_type
	is_unknown(object.get(r.properties, "status", null))
}

bucket_lifecycle_unknown(r) if {
	some rule in bucket_lifecycle_rules(r)
	bucket_lifecycle_rule_unknown(rule)
}

# --- what each bucket has: keys of buckets covered by some configuration ---

# Each configuration with its keys, worked out once for the key sets below and the orphans.
bucket_lifecycle_keyed_configs := [[c, bucket_lifecycle_config_keys(c)] | some c in bucket_lifecycle_configs]

bucket_lifecycle_any_keys := {k | some [_, keys] in bucket_lifecycle_keyed_configs; some k in keys}

bucket_lifecycle_tiering_keys := {k |
	some [c, keys] in bucket_lifecycle_keyed_configs
	bucket_lifecycle_tiering(c)
	some k in keys
}

bucket_lifecycle_abort_keys := {k |
	some [c, keys] in bucket_lifecycle_keyed_configs
	bucket_lifecycle_abort(c)
	some k in keys
}

bucket_lifecycle_unknown_keys := {k |
	some [c, keys] in bucket_lifecycle_keyed_configs
	bucket_lifecycle_unknown(c)
	some k in keys
}

bucket_lifecycle_urns := {b.__urn | some b in bucket_lifecycle_buckets}

# A configuration whose bucket is unknown and comes from no bucket of the stack may be any bucket's.
bucket_lifecycle_orphans := sort([label(c) |
	some [c, keys] in bucket_lifecycle_keyed_configs
	is_unknown(object.get(c.properties, "bucket", null))
	count((keys | bucket_lifecycle_config_candidates(c)) & bucket_lifecycle_urns) == 0
])

# Each bucket a configuration computed from several buckets may name, with that configuration's label.
bucket_lifecycle_ambiguous := {[u, label(c)] |
	some c in bucket_lifecycle_configs
	some u in bucket_lifecycle_config_candidates(c)
}

bucket_lifecycle_ambiguous_urns := {u | some [u, _] in bucket_lifecycle_ambiguous}

# --- the URNs of the buckets that have each thing: computed once, so each head is one pass ---

bucket_lifecycle_key_pairs := [[b.__urn, k] | some b in bucket_lifecycle_buckets; some k in bucket_lifecycle_bucket_keys(b)]

bucket_lifecycle_urns_with(keys) := {u | some [u, k] in bucket_lifecycle_key_pairs; keys[k]}

# Buckets with the legacy inline lifecycleRules (few, usually none: only they need the inline checks).
bucket_lifecycle_inline := [b | some b in bucket_lifecycle_buckets; b.properties.lifecycleRules != null]

bucket_lifecycle_inline_urns := {b.__urn | some b in bucket_lifecycle_inline; b.properties.lifecycleRules != []}

bucket_lifecycle_any_urns := bucket_lifecycle_urns_with(bucket_lifecycle_any_keys) | bucket_lifecycle_inline_urns

bucket_lifecycle_tiering_urns := bucket_lifecycle_urns_with(bucket_lifecycle_tiering_keys) | {b.__urn |
	some b in bucket_lifecycle_inline
	bucket_lifecycle_tiering(b)
}

bucket_lifecycle_abort_urns := bucket_lifecycle_urns_with(bucket_lifecycle_abort_keys) | {b.__urn |
	some b in bucket_lifecycle_inline
	bucket_lifecycle_abort(b)
}

bucket_lifecycle_complete_urns := bucket_lifecycle_tiering_urns & bucket_lifecycle_abort_urns

bucket_lifecycle_unknown_config_urns := bucket_lifecycle_urns_with(bucket_lifecycle_unknown_keys)

bucket_lifecycle_unknown_inline_urns := {b.__urn | some b in bucket_lifecycle_inline; bucket_lifecycle_unknown(b)}

# With an orphan configuration around, no bucket's verdict is certain.
bucket_lifecycle_undecided_urns := bucket_lifecycle_urns if {
	count(bucket_lifecycle_orphans) > 0
} else := (bucket_lifecycle_unknown_config_urns | bucket_lifecycle_unknown_inline_urns) | bucket_lifecycle_ambiguous_urns

bucket_lifecycle_finding(b, text) := {"urn": b.__urn, "msg": sprintf("%s %s", [label(b), text])}

bucket_lifecycle_undecided_finding(b, what) := {"urn": b.__urn, "msg": sprintf("%s: cannot decide the bucket lifecycle at preview, %s", [label(b), what])}

# METADATA
# title: Bucket lifecycle
# description: >-
#   An S3 bucket needs an enabled lifecycle rule that transitions or expires objects (or an
#   Intelligent-Tiering configuration), and an enabled rule that aborts incomplete multipart uploads.
#   A lifecycle configuration counts for the bucket its `bucket` names (a literal name, or the one
#   bucket's id or name it is computed from; computed from several, it cannot be decided at preview:
#   advisory); the legacy inline lifecycleRules count too.
# custom:
#   id: TG008
#   severity: medium
#   enforcement: mandatory
stack_deny_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	not bucket_lifecycle_any_urns[b.__urn]
	not bucket_lifecycle_undecided_urns[b.__urn]
	finding := bucket_lifecycle_finding(b, "has no lifecycle rule; use tollgate_components.TieredBucket or add a lifecycle configuration that transitions objects to STANDARD_IA (or expires them) and aborts incomplete multipart uploads")
}

stack_deny_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	bucket_lifecycle_any_urns[b.__urn]
	not bucket_lifecycle_tiering_urns[b.__urn]
	not bucket_lifecycle_undecided_urns[b.__urn]
	finding := bucket_lifecycle_finding(b, "has no enabled lifecycle rule that transitions or expires objects; use tollgate_components.TieredBucket or add a transition to STANDARD_IA (or an expiration)")
}

stack_deny_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	bucket_lifecycle_any_urns[b.__urn]
	not bucket_lifecycle_abort_urns[b.__urn]
	not bucket_lifecycle_undecided_urns[b.__urn]
	finding := bucket_lifecycle_finding(b, "has no enabled lifecycle rule that aborts incomplete multipart uploads, whose parts are billed until deleted; add abortIncompleteMultipartUpload (e.g. 7 days) or use tollgate_components.TieredBucket")
}

stack_warn_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	bucket_lifecycle_unknown_config_urns[b.__urn]
	not bucket_lifecycle_complete_urns[b.__urn]
	finding := bucket_lifecycle_undecided_finding(b, "a lifecycle configuration of it has rules (or a status) unknown until apply; build them from known values")
}

stack_warn_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	bucket_lifecycle_unknown_inline_urns[b.__urn]
	not bucket_lifecycle_complete_urns[b.__urn]
	finding := bucket_lifecycle_undecided_finding(b, "its lifecycleRules are unknown until apply; build them from known values")
}

stack_warn_bucket_lifecycle contains finding if {
	count(bucket_lifecycle_orphans) > 0
	some b in bucket_lifecycle_buckets
	not bucket_lifecycle_complete_urns[b.__urn]
	finding := bucket_lifecycle_undecided_finding(b, sprintf("the bucket of %s is unknown until apply and may be this one; pass the bucket resource's id (or a literal name) as its bucket", [concat(", ", bucket_lifecycle_orphans)]))
}

stack_warn_bucket_lifecycle contains finding if {
	some b in bucket_lifecycle_buckets
	bucket_lifecycle_ambiguous_urns[b.__urn]
	not bucket_lifecycle_complete_urns[b.__urn]
	configs := sort([c | some [u, c] in bucket_lifecycle_ambiguous; u == b.__urn])
	finding := bucket_lifecycle_undecided_finding(b, sprintf("the bucket of %s is computed from several buckets and may or may not be this one; pass one bucket's id (or a literal name) as its bucket", [concat(", ", configs)]))
}
