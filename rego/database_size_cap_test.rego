# Tests for database-size-cap (TG004). Naming and kinds as in instance_size_cap_test.rego.
# Helpers are prefixed tg004_: all rule and test files share package tollgate.
# Caps (rego/data.json): dev medium, staging xlarge, prod 4xlarge; any other environment gets the
# smallest (medium).
package tollgate

import rego.v1

tg004_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg004_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg004_rds(class) := tg004_resource("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": class})

tg004_aurora(class) := tg004_resource("aws:rds/clusterInstance:ClusterInstance", "aurora-1", {"clusterIdentifier": "aurora", "instanceClass": class})

tg004_multi_az(class) := tg004_resource("aws:rds/cluster:Cluster", "mycluster", {"engine": "postgres", "dbClusterInstanceClass": class})

tg004_cache(class) := tg004_resource("aws:elasticache/cluster:Cluster", "cache", {"engine": "redis", "nodeType": class})

tg004_group(class) := tg004_resource("aws:elasticache/replicationGroup:ReplicationGroup", "sessions", {"description": "x", "nodeType": class})

tg004_db := "`db` (aws:rds/instance:Instance)"

tg004_over(label, property, class, env, cap) := sprintf("%s uses %s %s, over the %s cap of *.%s; pick a class of size %s or smaller or get a waiver", [label, property, class, env, cap, cap])

tg004_unreadable(label, property, class, prefix) := sprintf("%s uses %s %v, whose size Tollgate cannot read, so it cannot be checked; use a class named %s.<family>.<size> (e.g. %s.t4g.medium)", [label, property, class, prefix, prefix])

# The table's date comes from tollgate/data/aws-instance-types.json (its as_of), as the rule reads it.
tg004_not_listed(label, property, class, prefix) := sprintf("%s uses %s %s, which is not in Tollgate's table of current %s (sources as of %s): a malformed or retired name, so its size cannot be checked; use a current class (e.g. %s.t4g.medium)", [label, property, class, data.aws.tables[prefix].name, data.aws.tables[prefix].as_of, prefix])

# --- allow ---

test_database_size_cap_allow_current_classes_within_cap if {
	# db.x2m.xlarge: listed, though no source gives its specs (the table's entry is empty).
	every class in ["db.r8g.large", "db.m8g.xlarge", "db.r7i.xlarge", "db.t4g.micro", "db.x2m.xlarge"] {
		count(deny_database_size_cap) == 0 with input as tg004_rds(class) with data.stack as {"name": "staging"}
	}
	every class in ["cache.r7g.large", "cache.m7g.xlarge", "cache.t4g.small"] {
		count(deny_database_size_cap) == 0 with input as tg004_group(class) with data.stack as {"name": "staging"}
	}
}

test_database_size_cap_allow_at_each_cap if {
	count(deny_database_size_cap) == 0 with input as tg004_rds("db.t4g.medium") with data.stack as {"name": "dev"}
	count(warn_database_size_cap) == 0 with input as tg004_rds("db.t4g.medium") with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_rds("db.r6g.xlarge") with data.stack as {"name": "staging"}
	count(deny_database_size_cap) == 0 with input as tg004_rds("db.r6g.4xlarge") with data.stack as {"name": "prod"}
}

test_database_size_cap_allow_smaller_sizes if {
	every class in ["db.t3.micro", "db.t4g.small", "db.t3.medium"] {
		count(deny_database_size_cap) == 0 with input as tg004_rds(class) with data.stack as {"name": "dev"}
	}
	every class in ["db.m5.large", "db.r5.2xlarge"] {
		count(deny_database_size_cap) == 0 with input as tg004_rds(class) with data.stack as {"name": "prod"}
	}
}

test_database_size_cap_allow_elasticache_within_cap if {
	count(deny_database_size_cap) == 0 with input as tg004_cache("cache.t4g.micro") with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_group("cache.r6g.xlarge") with data.stack as {"name": "staging"}
}

test_database_size_cap_allow_aurora_and_multi_az_within_cap if {
	count(deny_database_size_cap) == 0 with input as tg004_aurora("db.r6g.large") with data.stack as {"name": "staging"}
	count(deny_database_size_cap) == 0 with input as tg004_multi_az("db.m5d.4xlarge") with data.stack as {"name": "prod"}
}

test_database_size_cap_allow_optimized_class_variant if {
	# RDS for Oracle optimized classes carry a suffix after the size.
	count(deny_database_size_cap) == 0 with input as tg004_rds("db.r5.4xlarge.tpc2.mem2x") with data.stack as {"name": "prod"}
}

test_database_size_cap_allow_cache_cluster_in_a_replication_group if {
	# No nodeType: it comes from the replication group, which is checked itself.
	member := tg004_resource("aws:elasticache/cluster:Cluster", "member", {"replicationGroupId": "sessions"})
	count(deny_database_size_cap) == 0 with input as member with data.stack as {"name": "dev"}
	count(warn_database_size_cap) == 0 with input as member with data.stack as {"name": "dev"}
}

test_database_size_cap_allow_aurora_cluster_without_class if {
	cluster := tg004_resource("aws:rds/cluster:Cluster", "aurora", {"engine": "aurora-postgresql"})
	count(deny_database_size_cap) == 0 with input as cluster with data.stack as {"name": "dev"}
	count(warn_database_size_cap) == 0 with input as cluster with data.stack as {"name": "dev"}
}

# The stack decides the environment: a prod tag buys no prod class in a dev stack.
test_database_size_cap_deny_prod_tag_in_dev_stack if {
	db := tg004_resource("aws:rds/instance:Instance", "db", {"instanceClass": "db.r6g.2xlarge", "tags": {"environment": "prod"}})
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "db.r6g.2xlarge", "dev", "medium")} with input as db with data.stack as {"name": "dev"}
}

test_database_size_cap_allow_other_types if {
	ec2 := tg004_resource("aws:ec2/instance:Instance", "web", {"instanceType": "m5.24xlarge", "instanceClass": "db.r5.24xlarge"})
	count(deny_database_size_cap) == 0 with input as ec2 with data.stack as {"name": "dev"}
}

# --- deny ---

test_database_size_cap_deny_dev_over_cap if {
	deny_database_size_cap == {"`db` (aws:rds/instance:Instance) uses instanceClass db.m5.large, over the dev cap of *.medium; pick a class of size medium or smaller or get a waiver"} with input as tg004_rds("db.m5.large")
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_staging_over_cap if {
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "db.r6g.2xlarge", "staging", "xlarge")} with input as tg004_rds("db.r6g.2xlarge")
		with data.stack as {"name": "staging"}
}

test_database_size_cap_deny_prod_over_cap_by_numeric_order if {
	# 8xlarge, 12xlarge and 24xlarge are all over 4xlarge (not a string comparison).
	every class in ["db.r5.8xlarge", "db.r5.12xlarge", "db.r5.24xlarge"] {
		deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", class, "prod", "4xlarge")} with input as tg004_rds(class)
			with data.stack as {"name": "prod"}
	}
}

test_database_size_cap_deny_unlisted_environment_gets_smallest_cap if {
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "db.t3.large", "feature-x", "medium")} with input as tg004_rds("db.t3.large")
		with data.stack as {"name": "feature-x"}
}

test_database_size_cap_deny_aurora_cluster_instance if {
	deny_database_size_cap == {tg004_over("`aurora-1` (aws:rds/clusterInstance:ClusterInstance)", "instanceClass", "db.r6g.2xlarge", "staging", "xlarge")} with input as tg004_aurora("db.r6g.2xlarge")
		with data.stack as {"name": "staging"}
}

test_database_size_cap_deny_multi_az_cluster if {
	deny_database_size_cap == {tg004_over("`mycluster` (aws:rds/cluster:Cluster)", "dbClusterInstanceClass", "db.m5d.large", "dev", "medium")} with input as tg004_multi_az("db.m5d.large")
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_elasticache_cluster if {
	deny_database_size_cap == {tg004_over("`cache` (aws:elasticache/cluster:Cluster)", "nodeType", "cache.m5.large", "dev", "medium")} with input as tg004_cache("cache.m5.large")
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_replication_group if {
	deny_database_size_cap == {tg004_over("`sessions` (aws:elasticache/replicationGroup:ReplicationGroup)", "nodeType", "cache.r6g.2xlarge", "staging", "xlarge")} with input as tg004_group("cache.r6g.2xlarge")
		with data.stack as {"name": "staging"}
}

test_database_size_cap_deny_optimized_class_over_cap if {
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "db.r5.8xlarge.tpc2.mem3x", "prod", "4xlarge")} with input as tg004_rds("db.r5.8xlarge.tpc2.mem3x")
		with data.stack as {"name": "prod"}
}

test_database_size_cap_deny_unreadable_classes if {
	every class in ["db.r5", "r5.large", "db.x2iedn.metal", "db.r5.huge", "cache.t3.micro", "db..large", "db.r5.0xlarge"] {
		deny_database_size_cap == {tg004_unreadable(tg004_db, "instanceClass", class, "db")} with input as tg004_rds(class)
			with data.stack as {"name": "prod"}
	}
}

test_database_size_cap_deny_cache_node_type_with_db_prefix if {
	deny_database_size_cap == {"`cache` (aws:elasticache/cluster:Cluster) uses nodeType db.t3.micro, whose size Tollgate cannot read, so it cannot be checked; use a class named cache.<family>.<size> (e.g. cache.t4g.medium)"} with input as tg004_cache("db.t3.micro")
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_class_not_in_table if {
	# Each reads as <prefix>.<family>.<size>, but no source lists it: malformed or retired.
	every class in ["db.foo.large", "db.r9q.xlarge", "db.r5.large.tpc9.mem9x"] {
		deny_database_size_cap == {tg004_not_listed(tg004_db, "instanceClass", class, "db")} with input as tg004_rds(class)
			with data.stack as {"name": "prod"}
	}
	deny_database_size_cap == {tg004_not_listed("`cache` (aws:elasticache/cluster:Cluster)", "nodeType", "cache.m9z.large", "cache")} with input as tg004_cache("cache.m9z.large")
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_class_not_in_table_message if {
	deny_database_size_cap == {"`sessions` (aws:elasticache/replicationGroup:ReplicationGroup) uses nodeType cache.m9z.8xlarge, which is not in Tollgate's table of current ElastiCache node types (sources as of 2026-08-11): a malformed or retired name, so its size cannot be checked; use a current class (e.g. cache.t4g.medium)"} with input as tg004_group("cache.m9z.8xlarge")
		with data.stack as {"name": "dev"} with data.aws.tables.cache as {"name": "ElastiCache node types", "as_of": "2026-08-11"}
}

test_database_size_cap_deny_class_not_a_string if {
	deny_database_size_cap == {tg004_unreadable(tg004_db, "instanceClass", 42, "db")} with input as tg004_rds(42)
		with data.stack as {"name": "dev"}
}

test_database_size_cap_deny_configured_cap_not_a_size_fails_closed if {
	config := object.union(data.config, {"database-size-cap": {"max_size": {"dev": "tiny", "staging": "xlarge", "prod": "4xlarge"}}})
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "db.t3.micro", "dev", "tiny")} with input as tg004_rds("db.t3.micro")
		with data.stack as {"name": "dev"} with data.config as config
}

test_database_size_cap_deny_upper_case_class_read_case_insensitively if {
	deny_database_size_cap == {tg004_over(tg004_db, "instanceClass", "DB.R5.LARGE", "dev", "medium")} with input as tg004_rds("DB.R5.LARGE")
		with data.stack as {"name": "dev"}
}

# --- warn: cannot decide ---

test_database_size_cap_warn_class_unknown if {
	warn_database_size_cap == {"`db` (aws:rds/instance:Instance): cannot decide the database size cap at preview, instanceClass is unknown until apply"} with input as tg004_rds(tg004_unknown)
		with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_rds(tg004_unknown) with data.stack as {"name": "dev"}
}

test_database_size_cap_warn_node_type_unknown if {
	warn_database_size_cap == {"`sessions` (aws:elasticache/replicationGroup:ReplicationGroup): cannot decide the database size cap at preview, nodeType is unknown until apply"} with input as tg004_group(tg004_unknown)
		with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_group(tg004_unknown) with data.stack as {"name": "dev"}
}

test_database_size_cap_warn_aurora_serverless if {
	warn_database_size_cap == {"`aurora-1` (aws:rds/clusterInstance:ClusterInstance): cannot decide the database size cap, instanceClass db.serverless is sized in ACUs, not by class; cap serverlessv2ScalingConfiguration.maxCapacity on the cluster"} with input as tg004_aurora("db.serverless")
		with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_aurora("db.serverless") with data.stack as {"name": "dev"}
}

# DocumentDB, Neptune and MemoryDB classes are sized by name (issue 22).
test_database_size_cap_deny_docdb_neptune_memorydb if {
	every c in [
		["aws:docdb/clusterInstance:ClusterInstance", "instanceClass"],
		["aws:neptune/clusterInstance:ClusterInstance", "instanceClass"],
		["aws:memorydb/cluster:Cluster", "nodeType"],
	] {
		[type, property] := c
		r := tg004_resource(type, "x", {property: "db.r6g.16xlarge"})
		deny_database_size_cap == {tg004_over(sprintf("`x` (%s)", [type]), property, "db.r6g.16xlarge", "dev", "medium")} with input as r with data.stack as {"name": "dev"}
	}
}

test_database_size_cap_allow_docdb_small_class if {
	r := tg004_resource("aws:docdb/clusterInstance:ClusterInstance", "x", {"instanceClass": "db.t4g.medium"})
	count(deny_database_size_cap) == 0 with input as r with data.stack as {"name": "dev"}
	m := tg004_resource("aws:memorydb/cluster:Cluster", "m", {"nodeType": "db.t4g.small"})
	count(deny_database_size_cap) == 0 with input as m with data.stack as {"name": "dev"}
}

test_database_size_cap_warn_secret_class if {
	warn_database_size_cap == {"`db` (aws:rds/instance:Instance): cannot decide the database size cap at preview, instanceClass is unknown until apply"} with input as tg004_rds("[secret]") with data.stack as {"name": "dev"}
	count(deny_database_size_cap) == 0 with input as tg004_rds("[secret]") with data.stack as {"name": "dev"}
}
