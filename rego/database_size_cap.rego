package tollgate

import rego.v1

# Where each database type keeps its class, and the prefix a class of that service starts with (also
# the key of its table in data.database_classes and data.aws.tables).
database_size_cap_fields := {
	"aws:rds/instance:Instance": {"property": "instanceClass", "prefix": "db"},
	"aws:rds/clusterInstance:ClusterInstance": {"property": "instanceClass", "prefix": "db"},
	"aws:rds/cluster:Cluster": {"property": "dbClusterInstanceClass", "prefix": "db"}, # Multi-AZ DB clusters
	"aws:elasticache/cluster:Cluster": {"property": "nodeType", "prefix": "cache"},
	"aws:elasticache/replicationGroup:ReplicationGroup": {"property": "nodeType", "prefix": "cache"},
	# Classes of other services, named as RDS classes but sold from their own lists: sized by name only.
	"aws:docdb/clusterInstance:ClusterInstance": {"property": "instanceClass", "prefix": "db", "unlisted": true},
	"aws:neptune/clusterInstance:ClusterInstance": {"property": "instanceClass", "prefix": "db", "unlisted": true},
	"aws:memorydb/cluster:Cluster": {"property": "nodeType", "prefix": "db", "unlisted": true},
}

# A class the sourced table lists, or one of a service the table does not cover (its size name decides).
database_size_cap_known(f, class) if data.database_classes[f.prefix][lower(class)]

database_size_cap_known(f, _) if f.unlisted

# A size name as a number that orders sizes: AWS's normalization factors times 4 (nano 1, micro 2,
# small 4, medium 8, large 16, xlarge 32, Nxlarge 32*N), so 2xlarge < 4xlarge < 12xlarge < 24xlarge
# whatever N appears. Undefined for anything else (metal, a typo): such a class is reported.
database_size_units(size) := {"nano": 1, "micro": 2, "small": 4, "medium": 8, "large": 16, "xlarge": 32}[size]

database_size_units(size) := 32 * to_number(trim_suffix(size, "xlarge")) if {
	is_string(size)
	endswith(size, "xlarge") # cheap test first: the regex runs only for Nxlarge candidates
	size != "xlarge"
	regex.match(`^[1-9][0-9]*xlarge$`, size)
}

# The size of a class named <prefix>.<family>.<size>[.<variant>] (db.r5.2xlarge, cache.t4g.micro,
# db.r5.4xlarge.tpc2.mem2x); undefined when the class does not read that way.
database_size_cap_size(class, prefix) := size if {
	is_string(class)
	parts := split(lower(class), ".")
	count(parts) >= 3
	parts[0] == prefix
	parts[1] != ""
	size := parts[2]
	database_size_units(size)
}

# The cap of an environment; one the config does not list gets the smallest cap.
database_size_cap_limit(env) := data.config["database-size-cap"].max_size[env]

database_size_cap_limit(env) := sort([[database_size_units(c), c] |
	some c in data.config["database-size-cap"].max_size
	database_size_units(c)
])[0][1] if not data.config["database-size-cap"].max_size[env]

# Checked as "not within" so a cap that is not a size name fails closed (reports) rather than passing.
database_size_cap_within(size, cap) if database_size_units(size) <= database_size_units(cap)

# The resource's class, when it sets one: an ElastiCache cluster in a replication group inherits it.
database_size_cap_class(r) := [f.property, class] if {
	f := database_size_cap_fields[r.__type]
	class := r.properties[f.property]
}

# Aurora Serverless v2: sized in ACUs by the cluster's serverlessv2ScalingConfiguration, not by class.
database_size_cap_serverless(class) if {
	is_string(class)
	lower(class) == "db.serverless"
}

# METADATA
# title: Database size cap
# description: >-
#   RDS instance classes (instances, Aurora cluster instances, Multi-AZ DB clusters), DocumentDB and
#   Neptune instance classes, ElastiCache and MemoryDB node types must be within the environment's size cap (dev *.medium, staging *.xlarge,
#   prod *.4xlarge). A class whose size cannot be read, or that is missing from the sourced table
#   of current classes (malformed or retired), is reported, never passed.
# custom:
#   id: TG004
#   severity: high
#   enforcement: mandatory
#   resource_types:
#     - "aws:rds/instance:Instance"
#     - "aws:rds/clusterInstance:ClusterInstance"
#     - "aws:rds/cluster:Cluster"
#     - "aws:elasticache/cluster:Cluster"
#     - "aws:elasticache/replicationGroup:ReplicationGroup"
#     - "aws:docdb/clusterInstance:ClusterInstance"
#     - "aws:neptune/clusterInstance:ClusterInstance"
#     - "aws:memorydb/cluster:Cluster"
deny_database_size_cap contains msg if {
	[property, class] := database_size_cap_class(input)
	is_string(class)
	prefix := database_size_cap_fields[input.__type].prefix
	size := database_size_cap_size(class, prefix)
	database_size_cap_known(database_size_cap_fields[input.__type], class)
	env := input_environment
	cap := database_size_cap_limit(env)
	not database_size_cap_within(size, cap)
	msg := sprintf("%s uses %s %s, over the %s cap of *.%s; pick a class of size %s or smaller or get a waiver", [label(input), property, class, env, cap, cap])
}

# A class that reads as <prefix>.<family>.<size> but is not sold (db.r5.huge is unreadable, db.foo.large
# not listed): a malformed or retired name, whose size says nothing.
deny_database_size_cap contains msg if {
	[property, class] := database_size_cap_class(input)
	prefix := database_size_cap_fields[input.__type].prefix
	database_size_cap_size(class, prefix)
	not database_size_cap_known(database_size_cap_fields[input.__type], class)
	table := data.aws.tables[prefix]
	msg := sprintf("%s uses %s %s, which is not in Tollgate's table of current %s (sources as of %s): a malformed or retired name, so its size cannot be checked; use a current class (e.g. %s.t4g.medium)", [label(input), property, class, table.name, table.as_of, prefix])
}

deny_database_size_cap contains msg if {
	[property, class] := database_size_cap_class(input)
	not class in unknown_sentinels
	not database_size_cap_serverless(class)
	prefix := database_size_cap_fields[input.__type].prefix
	not database_size_cap_size(class, prefix)
	msg := sprintf("%s uses %s %v, whose size Tollgate cannot read, so it cannot be checked; use a class named %s.<family>.<size> (e.g. %s.t4g.medium)", [label(input), property, class, prefix, prefix])
}

warn_database_size_cap contains msg if {
	[property, class] := database_size_cap_class(input)
	class in unknown_sentinels
	msg := sprintf("%s: cannot decide the database size cap at preview, %s is unknown until apply", [label(input), property])
}

warn_database_size_cap contains msg if {
	[property, class] := database_size_cap_class(input)
	database_size_cap_serverless(class)
	msg := sprintf("%s: cannot decide the database size cap, %s %s is sized in ACUs, not by class; cap serverlessv2ScalingConfiguration.maxCapacity on the cluster", [label(input), property, class])
}
