# Helpers shared by the rules: unknown values, effective tags, environment, caps, the instance types a
# resource asks for, the stack's resources by type. Kubernetes helpers are in k8s_lib.rego.
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
	"[secret]", # a secret's value as every path hands it to the rules: unknown to them, so they cannot decide
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

# Types whose tags are a list of {key, value, propagateAtLaunch} blocks, and which the provider's default
# tags never reach (the AWS provider documents the Auto Scaling group as the one exception).
# (input_known_tags tests its one member inline, in the branch nearly every resource takes.)
list_tagged_types := {"aws:autoscaling/group:Group"}

# Such a list as a tag map: each known string key with the value of its last block.
tag_list_map(list) := {k: v |
	some k in {e.key | some e in list; is_object(e); is_string(e.key); not e.key in unknown_sentinels}
	values := [object.get(e, "value", null) | some e in list; is_object(e); e.key == k]
	v := values[count(values) - 1]
} if {
	is_array(list)
} else := {}

# Tags the provider adds to every resource (aws defaultTags), then the resource's own, which win; for a
# list-tagged type, its own list alone.
effective_tags(r) := tag_list_map(object.get(r, ["properties", "tags"], [])) if {
	r.__type in list_tagged_types
} else := object.union(tag_map(object.get(r, ["provider", "properties", "defaultTags", "tags"], {})), tag_map(object.get(r, ["properties", "tags"], {})))

# What the rules ask of the resource under evaluation, as complete rules: the engine evaluates them once
# per resource and every rule of that resource shares them. input_tags says what effective_tags says of
# `input` (lib_test.rego checks they agree), without its function calls: the embedded engine spends more
# on a call than on the work in it.
input_provider_tags := {} if {
	input.__type in list_tagged_types
} else := tags if {
	tags := input.provider.properties.defaultTags.tags
	is_object(tags)
} else := {}

input_own_tags := tag_list_map(input.properties.tags) if {
	input.__type in list_tagged_types
} else := tags if {
	tags := input.properties.tags
	is_object(tags)
} else := {}

# The usual resource's tags, without the general rules above: both sources objects, or only the
# provider's where the resource sets none on a taggable type (on another, required-tags' heads decide at
# once). A source that is an object is not unknown (a value in it may be); undefined for any other
# resource. input_tags, and required-tags' fast path, read it.
input_known_tags := object.union(provider, own) if {
	provider := input.provider.properties.defaultTags.tags
	own := input.properties.tags
	is_object(provider)
	is_object(own)
	input.__type != "aws:autoscaling/group:Group" # list_tagged_types' one member: a comparison, not a set lookup
} else := provider if {
	provider := input.provider.properties.defaultTags.tags
	is_object(provider)
	not input.properties.tags
	data.aws.taggable_types[input.__type]
	not input.__type in list_tagged_types
}

input_tags := tags if {
	tags := input_known_tags
} else := object.union(input_provider_tags, input_own_tags)

# The stack decides the environment, never a tag (a dev stack cannot buy prod sizes by tagging them prod).
input_environment := stack_environment

# True when some source of tags cannot be known at preview.
input_tags_unknown if input.properties.tags in unknown_sentinels

input_tags_unknown if {
	input.provider.properties.defaultTags in unknown_sentinels
	not input.__type in list_tagged_types
}

input_tags_unknown if {
	input.provider.properties.defaultTags.tags in unknown_sentinels
	not input.__type in list_tagged_types
}

# A list-tagged type: a block, or a block's key, unknown.
input_tags_unknown if {
	input.__type in list_tagged_types
	is_array(input.properties.tags)
	some e in input.properties.tags
	e in unknown_sentinels
}

input_tags_unknown if {
	input.__type in list_tagged_types
	is_array(input.properties.tags)
	some e in input.properties.tags
	e.key in unknown_sentinels
}

# Environment: the stack's configured environment, else the stack name; required-tags reports a resource
# whose environment tag disagrees.
stack_environment := data.stack.environment if {
	is_string(data.stack.environment)
	data.stack.environment != ""
} else := data.stack.name

environment(_) := stack_environment

# Whitespace and zero-width characters: a tag or label made only of them is blank.
blank_chars := " \t\n\r\u000b\u000c\u0085\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"

# The cap of an environment; an environment with no cap of its own gets the strictest one.
env_cap(caps, env) := cap if {
	cap := caps[env]
} else := min([v | some v in caps])

# For the stack rules: the positions of the stack's resources by type. One pass over input.resources
# serves every rule that looks for a few types, instead of a scan of the whole stack per rule.
stack_positions_by_type[t] contains i if {
	some i, r in input.resources
	t := r.__type
}

# Every instance type the resource under evaluation asks for, wherever its type keeps them (once per
# resource: one chain on the type, no function call), as names of data.instance_types: a SageMaker `ml.`
# type and an OpenSearch `.search` type are EC2 types under another name, a Redshift node type is keyed
# `redshift.<type>`. Read by instance-size-cap and gpu-approval.
input_requested_types := [input.properties.instanceType] if {
	input.__type in requested_single_types
	input.properties.instanceType
} else := input.properties.instanceTypes if {
	input.__type == "aws:eks/nodeGroup:NodeGroup"
	is_array(input.properties.instanceTypes)
} else := input.properties.computeResources.instanceTypes if {
	input.__type == "aws:batch/computeEnvironment:ComputeEnvironment"
	is_array(input.properties.computeResources.instanceTypes)
} else := [o.instanceType |
	some o in input.properties.mixedInstancesPolicy.launchTemplate.overrides
	o.instanceType
] if {
	input.__type == "aws:autoscaling/group:Group"
	is_array(input.properties.mixedInstancesPolicy.launchTemplate.overrides)
} else := array.concat(
	[s.instanceType | some s in requested_list(input.properties, "launchSpecifications"); s.instanceType],
	requested_overrides,
) if {
	input.__type == "aws:ec2/spotFleetRequest:SpotFleetRequest"
} else := requested_overrides if {
	input.__type == "aws:ec2/fleet:Fleet"
} else := [c.instanceType | some c in requested_list(input.properties, "instanceTypeConfigs"); c.instanceType] if {
	input.__type == "aws:emr/instanceFleet:InstanceFleet"
} else := array.concat(
	[g.instanceType | some k in ["masterInstanceGroup", "coreInstanceGroup"]; g := input.properties[k]; g.instanceType],
	[c.instanceType |
		some k in ["masterInstanceFleet", "coreInstanceFleet"]
		some c in requested_list(input.properties[k], "instanceTypeConfigs")
		c.instanceType
	],
) if {
	input.__type == "aws:emr/cluster:Cluster"
} else := [requested_sagemaker_type(input.properties.instanceType)] if {
	input.__type == "aws:sagemaker/notebookInstance:NotebookInstance"
	input.properties.instanceType
} else := [requested_sagemaker_type(v.instanceType) |
	some k in ["productionVariants", "shadowProductionVariants"]
	some v in requested_list(input.properties, k)
	v.instanceType # a serverless variant has none
] if {
	input.__type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
} else := [requested_search_type(t) |
	some k in ["instanceType", "dedicatedMasterType"]
	t := input.properties.clusterConfig[k]
] if {
	input.__type in {"aws:opensearch/domain:Domain", "aws:elasticsearch/domain:Domain"}
} else := [requested_redshift_type(input.properties.nodeType)] if {
	input.__type == "aws:redshift/cluster:Cluster"
	input.properties.nodeType
}

# Types that name one instance type in `instanceType`.
requested_single_types := {
	"aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate",
	"aws:ec2/launchConfiguration:LaunchConfiguration", "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
	"aws:emr/instanceGroup:InstanceGroup", "aws:ec2/capacityReservation:CapacityReservation",
}

requested_list(x, key) := l if {
	l := x[key]
	is_array(l)
} else := []

# A fleet's launch template overrides (SpotFleetRequest and Fleet: launchTemplateConfigs[].overrides[]).
requested_overrides := [o.instanceType |
	some c in requested_list(input.properties, "launchTemplateConfigs")
	some o in requested_list(c, "overrides")
	o.instanceType
]

requested_sagemaker_type(t) := trim_prefix(t, "ml.") if {
	is_string(t)
	startswith(t, "ml.")
} else := t

requested_search_type(t) := trim_suffix(trim_suffix(t, ".search"), ".elasticsearch") if {
	is_string(t)
	not t in unknown_sentinels
} else := t

requested_redshift_type(t) := concat("", ["redshift.", t]) if {
	is_string(t)
	not t in unknown_sentinels
} else := t

# Where each type keeps its lists of instance types; such a list, or an object on the way to it, may be unknown.
instance_type_lists := {
	"aws:eks/nodeGroup:NodeGroup": [["instanceTypes"]],
	"aws:batch/computeEnvironment:ComputeEnvironment": [["computeResources", "instanceTypes"]],
	"aws:autoscaling/group:Group": [["mixedInstancesPolicy", "launchTemplate", "overrides"]],
	"aws:ec2/spotFleetRequest:SpotFleetRequest": [["launchSpecifications"], ["launchTemplateConfigs"]],
	"aws:ec2/fleet:Fleet": [["launchTemplateConfigs"]],
	"aws:emr/instanceFleet:InstanceFleet": [["instanceTypeConfigs"]],
	"aws:emr/cluster:Cluster": [["masterInstanceGroup"], ["coreInstanceGroup"], ["masterInstanceFleet", "instanceTypeConfigs"], ["coreInstanceFleet", "instanceTypeConfigs"]],
	"aws:sagemaker/endpointConfiguration:EndpointConfiguration": [["productionVariants"], ["shadowProductionVariants"]],
	"aws:opensearch/domain:Domain": [["clusterConfig"]],
	"aws:elasticsearch/domain:Domain": [["clusterConfig"]],
}

# Attribute-based instance selection (instanceRequirements): each one the resource under evaluation sets.
input_instance_requirements := [input.properties.instanceRequirements] if {
	input.__type == "aws:ec2/launchTemplate:LaunchTemplate"
	input.properties.instanceRequirements != null
} else := [o.instanceRequirements |
	some o in requested_list(input.properties.mixedInstancesPolicy.launchTemplate, "overrides")
	o.instanceRequirements != null
] if {
	input.__type == "aws:autoscaling/group:Group"
} else := [o.instanceRequirements |
	some c in requested_list(input.properties, "launchTemplateConfigs")
	some o in requested_list(c, "overrides")
	o.instanceRequirements != null
] if {
	input.__type in {"aws:ec2/fleet:Fleet", "aws:ec2/spotFleetRequest:SpotFleetRequest"}
} else := []
