# Tests for instance-size-cap (TG002).
#
# Naming convention (enforced by tests/test_rule_catalog.py): test_<rule file stem>_<kind>_<case>, kind
#   allow: asserts the rule denies nothing (and, where a warn could be expected, warns nothing);
#   deny:  asserts the exact set of deny messages;
#   warn:  asserts the exact set of warn messages and that nothing is denied.
# Every rule file needs at least one allow case and one deny case (warn for an advisory-only rule).
# Helpers are prefixed tg002_: all rule and test files share package tollgate.
# Caps (rego/data.json): dev 4, staging 8, prod 32 vCPU; any other environment gets the strictest (4).
package tollgate

import rego.v1

tg002_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg002_dev := {"name": "dev"}

tg002_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg002_instance(type) := tg002_resource("aws:ec2/instance:Instance", "web", {"ami": "ami-123", "instanceType": type})

tg002_instance_in(type, env) := tg002_resource(
	"aws:ec2/instance:Instance", "web",
	{"ami": "ami-123", "instanceType": type, "tags": {"environment": env}},
)

tg002_launch_template(properties) := tg002_resource("aws:ec2/launchTemplate:LaunchTemplate", "workers", properties)

tg002_node_group(types) := tg002_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "main", "instanceTypes": types})

tg002_batch(types) := tg002_resource(
	"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
	{"type": "MANAGED", "computeResources": {"type": "SPOT", "maxVcpus": 16, "instanceTypes": types}},
)

tg002_asg(overrides) := tg002_resource(
	"aws:autoscaling/group:Group", "asg",
	{"maxSize": 3, "minSize": 0, "mixedInstancesPolicy": {"launchTemplate": {
		"launchTemplateSpecification": {"launchTemplateId": "lt-123"},
		"overrides": overrides,
	}}},
)

tg002_over(label, type, vcpu, env, cap) := sprintf("%s uses %s (%d vCPU), over the %s cap of %d vCPU; pick a type with at most %d vCPU or get a waiver", [label, type, vcpu, env, cap, cap])

tg002_web := "`web` (aws:ec2/instance:Instance)"

# The table's date comes from tollgate/data/aws-instance-types.json (its as_of), as the rule reads it.
tg002_not_known(label, type) := sprintf("%s uses instance type %q, which is not in Tollgate's table of current EC2 instance types (sources as of %s): a malformed or retired name, so its size cannot be checked; use a current type (e.g. m7i.large)", [label, type, data.aws.tables.instance_types.as_of])

# --- allow ---

test_instance_size_cap_allow_dev_at_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance("t3.xlarge") with data.stack as tg002_dev
	count(warn_instance_size_cap) == 0 with input as tg002_instance("t3.xlarge") with data.stack as tg002_dev
}

# The fast path (instance_size_cap_ok) decides a listed type within the cap at once; anything else reaches
# the heads (the deny and warn cases below, which it must not vouch for).
test_instance_size_cap_allow_fast_path_decides_listed_type_within_cap if {
	instance_size_cap_ok with input as tg002_instance("t3.xlarge") with data.stack as tg002_dev
	instance_size_cap_ok with input as tg002_node_group(["m5.large", "t3.large"]) with data.stack as tg002_dev
	not instance_size_cap_ok with input as tg002_instance("m5.2xlarge") with data.stack as tg002_dev
	not instance_size_cap_ok with input as tg002_node_group(["m5.large", tg002_unknown]) with data.stack as tg002_dev
}

# Within every environment's cap is decided without the environment; above the least cap, the
# environment's own cap decides (at that cap: taken; over it: the heads, which deny).
test_instance_size_cap_allow_fast_path_by_least_cap_then_environment if {
	instance_size_cap_ok with input as tg002_instance("t3.xlarge") with data.stack as {"name": "prod"}
	instance_size_cap_ok with input as tg002_instance("m5.2xlarge") with data.stack as {"name": "staging"}
	not instance_size_cap_ok with input as tg002_instance_in("m5.8xlarge", "prod") with data.stack as tg002_dev
	not instance_size_cap_ok with input as tg002_instance("m5.4xlarge") with data.stack as {"name": "staging"}
	# No caps at all: no environment's cap is exceeded, and the heads report nothing either.
	instance_size_cap_ok with input as tg002_instance("m5.8xlarge") with data.stack as tg002_dev
		with data.config["instance-size-cap"].max_vcpu as {}
	count(deny_instance_size_cap) == 0 with input as tg002_instance("m5.8xlarge") with data.stack as tg002_dev
		with data.config["instance-size-cap"].max_vcpu as {} with data.tollgate.instance_size_cap_ok as false
	# (and with the fast path set aside, a cap is still enforced)
	count(deny_instance_size_cap) == 1 with input as tg002_instance("m5.8xlarge") with data.stack as tg002_dev
		with data.tollgate.instance_size_cap_ok as false
}

# Every current type is known, not only the priced ones: older, newer, Graviton, GPU and accelerator types.
test_instance_size_cap_allow_current_types_within_dev_cap if {
	every t in ["t2.micro", "t2.medium", "t4g.nano", "t4g.small", "m7i.large", "g5.xlarge", "inf2.xlarge", "c8g.xlarge"] {
		count(deny_instance_size_cap) == 0 with input as tg002_instance(t) with data.stack as tg002_dev
		count(warn_instance_size_cap) == 0 with input as tg002_instance(t) with data.stack as tg002_dev
		instance_size_cap_ok with input as tg002_instance(t) with data.stack as tg002_dev
	}
}

test_instance_size_cap_allow_staging_at_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance("m5.2xlarge") with data.stack as {"name": "staging"}
}

test_instance_size_cap_allow_prod_at_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance("m5.8xlarge") with data.stack as {"name": "prod"}
}

test_instance_size_cap_allow_dev_tag_in_prod_stack if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance_in("m5.2xlarge", "dev")
		with data.stack as {"name": "prod", "environment": "prod"}
}

test_instance_size_cap_allow_stack_environment_beats_stack_name if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance("m5.8xlarge") with data.stack as {"name": "dev", "environment": "prod"}
}

test_instance_size_cap_allow_unknown_environment_tag_falls_back_to_stack if {
	count(deny_instance_size_cap) == 0 with input as tg002_instance_in("m5.8xlarge", tg002_unknown) with data.stack as {"name": "prod"}
}

test_instance_size_cap_allow_launch_template_within_cap if {
	lt := tg002_launch_template({"imageId": "ami-123", "instanceType": "m5.xlarge"})
	count(deny_instance_size_cap) == 0 with input as lt with data.stack as tg002_dev
}

test_instance_size_cap_allow_launch_template_without_instance_type if {
	lt := tg002_launch_template({"imageId": "ami-123"})
	count(deny_instance_size_cap) == 0 with input as lt with data.stack as tg002_dev
	count(warn_instance_size_cap) == 0 with input as lt with data.stack as tg002_dev
}

test_instance_size_cap_allow_node_group_within_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_node_group(["t3.large", "m5.xlarge"]) with data.stack as tg002_dev
}

test_instance_size_cap_allow_node_group_default_instance_types if {
	# No instanceTypes: EKS uses t3.medium.
	ng := tg002_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "main"})
	count(deny_instance_size_cap) == 0 with input as ng with data.stack as tg002_dev
	count(warn_instance_size_cap) == 0 with input as ng with data.stack as tg002_dev
}

test_instance_size_cap_allow_batch_within_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_batch(["c5.large", "c5.xlarge"]) with data.stack as tg002_dev
}

test_instance_size_cap_allow_fargate_batch_without_instance_types if {
	ce := tg002_resource(
		"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
		{"type": "MANAGED", "computeResources": {"type": "FARGATE_SPOT", "maxVcpus": 16}},
	)
	count(deny_instance_size_cap) == 0 with input as ce with data.stack as tg002_dev
}

test_instance_size_cap_allow_asg_overrides_within_cap if {
	asg := tg002_asg([{"instanceType": "t3.large"}, {"instanceType": "m5.xlarge"}])
	count(deny_instance_size_cap) == 0 with input as asg with data.stack as tg002_dev
}

test_instance_size_cap_allow_asg_override_without_instance_type if {
	asg := tg002_asg([{"launchTemplateSpecification": {"launchTemplateId": "lt-456"}}])
	count(deny_instance_size_cap) == 0 with input as asg with data.stack as tg002_dev
}

test_instance_size_cap_allow_asg_without_mixed_instances_policy if {
	asg := tg002_resource("aws:autoscaling/group:Group", "asg", {"maxSize": 3, "launchTemplate": {"id": "lt-123"}})
	count(deny_instance_size_cap) == 0 with input as asg with data.stack as tg002_dev
}

test_instance_size_cap_allow_other_type_ignored if {
	db := tg002_resource("aws:rds/instance:Instance", "db", {"instanceClass": "db.r5.24xlarge"})
	count(deny_instance_size_cap) == 0 with input as db with data.stack as tg002_dev
}

# --- deny ---

test_instance_size_cap_deny_dev_over_cap if {
	deny_instance_size_cap == {"`web` (aws:ec2/instance:Instance) uses m5.2xlarge (8 vCPU), over the dev cap of 4 vCPU; pick a type with at most 4 vCPU or get a waiver"} with input as tg002_instance("m5.2xlarge")
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_staging_over_cap if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.4xlarge", 16, "staging", 8)} with input as tg002_instance("m5.4xlarge")
		with data.stack as {"name": "staging"}
}

test_instance_size_cap_deny_prod_over_cap if {
	deny_instance_size_cap == {tg002_over(tg002_web, "c5.9xlarge", 36, "prod", 32)} with input as tg002_instance("c5.9xlarge")
		with data.stack as {"name": "prod"}
}

# The stack decides the environment: a prod-tagged instance in a dev stack gets the dev cap.
test_instance_size_cap_deny_prod_tag_in_dev_stack if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.8xlarge", 32, "dev", 4)} with input as tg002_instance_in("m5.8xlarge", "prod")
		with data.stack as tg002_dev
}

test_instance_size_cap_allow_provider_default_tags_change_no_environment if {
	instance := object.union(tg002_instance("m5.2xlarge"), {"provider": {
		"type": "pulumi:providers:aws", "name": "default", "urn": "u",
		"properties": {"defaultTags": {"tags": {"environment": "dev"}}},
	}})
	count(deny_instance_size_cap) == 0 with input as instance with data.stack as {"name": "prod"}
}

test_instance_size_cap_deny_stack_environment_beats_stack_name if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.4xlarge", 16, "staging", 8)} with input as tg002_instance("m5.4xlarge")
		with data.stack as {"name": "feature-x", "environment": "staging"}
}

test_instance_size_cap_deny_stack_name_fallback if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.4xlarge", 16, "staging", 8)} with input as tg002_instance("m5.4xlarge")
		with data.stack as {"name": "staging"}
}

test_instance_size_cap_deny_unlisted_environment_gets_strictest_cap if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.2xlarge", 8, "feature-123", 4)} with input as tg002_instance("m5.2xlarge")
		with data.stack as {"name": "feature-123"}
}

test_instance_size_cap_deny_launch_template_over_cap if {
	lt := tg002_launch_template({"imageId": "ami-123", "instanceType": "r5.2xlarge"})
	deny_instance_size_cap == {tg002_over("`workers` (aws:ec2/launchTemplate:LaunchTemplate)", "r5.2xlarge", 8, "dev", 4)} with input as lt
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_node_group_one_oversized if {
	deny_instance_size_cap == {tg002_over("`ng` (aws:eks/nodeGroup:NodeGroup)", "m5.4xlarge", 16, "dev", 4)} with input as tg002_node_group(["t3.large", "m5.4xlarge"])
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_node_group_each_oversized_type if {
	deny_instance_size_cap == {
		tg002_over("`ng` (aws:eks/nodeGroup:NodeGroup)", "m5.4xlarge", 16, "staging", 8),
		tg002_over("`ng` (aws:eks/nodeGroup:NodeGroup)", "c5.4xlarge", 16, "staging", 8),
	} with input as tg002_node_group(["m5.2xlarge", "m5.4xlarge", "c5.4xlarge"])
		with data.stack as {"name": "staging"}
}

test_instance_size_cap_deny_batch_over_cap if {
	deny_instance_size_cap == {tg002_over("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)", "c5.9xlarge", 36, "prod", 32)} with input as tg002_batch(["c5.4xlarge", "c5.9xlarge"])
		with data.stack as {"name": "prod"}
}

test_instance_size_cap_deny_batch_optimal_is_unknown_type if {
	deny_instance_size_cap == {tg002_not_known("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)", "optimal")} with input as tg002_batch(["optimal"])
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_asg_override_over_cap if {
	asg := tg002_asg([{"instanceType": "t3.large"}, {"instanceType": "m5.2xlarge"}])
	deny_instance_size_cap == {tg002_over("`asg` (aws:autoscaling/group:Group)", "m5.2xlarge", 8, "dev", 4)} with input as asg
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_unknown_instance_type if {
	deny_instance_size_cap == {tg002_not_known(tg002_web, "z9.huge")} with input as tg002_instance("z9.huge")
		with data.stack as {"name": "prod"}
	# A well-formed name no source lists (no t9x family) is malformed or retired all the same.
	deny_instance_size_cap == {tg002_not_known(tg002_web, "t9x.large")} with input as tg002_instance("t9x.large")
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_unknown_instance_type_message if {
	deny_instance_size_cap == {"`web` (aws:ec2/instance:Instance) uses instance type \"t9x.large\", which is not in Tollgate's table of current EC2 instance types (sources as of 2026-08-02): a malformed or retired name, so its size cannot be checked; use a current type (e.g. m7i.large)"} with input as tg002_instance("t9x.large")
		with data.stack as tg002_dev with data.aws.tables.instance_types as {"name": "EC2 instance types", "as_of": "2026-08-02"}
}

test_instance_size_cap_deny_type_that_is_not_a_name if {
	deny_instance_size_cap == {"`web` (aws:ec2/instance:Instance) uses instance type 42, which is not a type name, so its size cannot be checked; use a current type (e.g. m7i.large)"} with input as tg002_instance(42)
		with data.stack as tg002_dev
}

test_instance_size_cap_deny_current_types_over_cap if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m7i.4xlarge", 16, "dev", 4)} with input as tg002_instance("m7i.4xlarge")
		with data.stack as tg002_dev
	deny_instance_size_cap == {tg002_over(tg002_web, "p5.48xlarge", 192, "prod", 32)} with input as tg002_instance("p5.48xlarge")
		with data.stack as {"name": "prod"}
	deny_instance_size_cap == {tg002_over(tg002_web, "trn1.32xlarge", 128, "staging", 8)} with input as tg002_instance("trn1.32xlarge")
		with data.stack as {"name": "staging"}
}

test_instance_size_cap_deny_unknown_and_oversized_in_one_node_group if {
	deny_instance_size_cap == {
		tg002_not_known("`ng` (aws:eks/nodeGroup:NodeGroup)", "x99.large"),
		tg002_over("`ng` (aws:eks/nodeGroup:NodeGroup)", "m5.2xlarge", 8, "dev", 4),
	} with input as tg002_node_group(["x99.large", "m5.2xlarge", "t3.large"])
		with data.stack as tg002_dev
}

# --- warn: cannot decide at preview ---

test_instance_size_cap_warn_instance_type_unknown if {
	warn_instance_size_cap == {"`web` (aws:ec2/instance:Instance): cannot decide the instance size cap at preview, an instance type is unknown until apply"} with input as tg002_instance(tg002_unknown)
		with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as tg002_instance(tg002_unknown) with data.stack as tg002_dev
}

test_instance_size_cap_warn_launch_template_type_unknown if {
	lt := tg002_launch_template({"imageId": "ami-123", "instanceType": tg002_unknown})
	warn_instance_size_cap == {"`workers` (aws:ec2/launchTemplate:LaunchTemplate): cannot decide the instance size cap at preview, an instance type is unknown until apply"} with input as lt
		with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as lt with data.stack as tg002_dev
}

test_instance_size_cap_warn_node_group_instance_types_unknown if {
	warn_instance_size_cap == {"`ng` (aws:eks/nodeGroup:NodeGroup): cannot decide the instance size cap at preview, instanceTypes is unknown until apply"} with input as tg002_node_group(tg002_unknown)
		with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as tg002_node_group(tg002_unknown) with data.stack as tg002_dev
}

test_instance_size_cap_warn_node_group_one_type_unknown if {
	ng := tg002_node_group(["t3.large", tg002_unknown])
	warn_instance_size_cap == {"`ng` (aws:eks/nodeGroup:NodeGroup): cannot decide the instance size cap at preview, an instance type is unknown until apply"} with input as ng
		with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as ng with data.stack as tg002_dev
}

test_instance_size_cap_warn_asg_override_type_unknown if {
	asg := tg002_asg([{"instanceType": tg002_unknown}])
	warn_instance_size_cap == {"`asg` (aws:autoscaling/group:Group): cannot decide the instance size cap at preview, an instance type is unknown until apply"} with input as asg
		with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as asg with data.stack as tg002_dev
}

test_instance_size_cap_deny_and_warn_in_one_node_group if {
	ng := tg002_node_group([tg002_unknown, "m5.2xlarge"])
	warn_instance_size_cap == {"`ng` (aws:eks/nodeGroup:NodeGroup): cannot decide the instance size cap at preview, an instance type is unknown until apply"} with input as ng
		with data.stack as tg002_dev
	deny_instance_size_cap == {tg002_over("`ng` (aws:eks/nodeGroup:NodeGroup)", "m5.2xlarge", 8, "dev", 4)} with input as ng
		with data.stack as tg002_dev
}

test_instance_size_cap_warn_batch_compute_resources_unknown if {
	ce := tg002_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "MANAGED", "computeResources": tg002_unknown})
	warn_instance_size_cap == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment): cannot decide the instance size cap at preview, computeResources is unknown until apply"} with input as ce with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as ce with data.stack as tg002_dev
}

test_instance_size_cap_warn_batch_instance_types_unknown if {
	warn_instance_size_cap == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment): cannot decide the instance size cap at preview, computeResources.instanceTypes is unknown until apply"} with input as tg002_batch(tg002_unknown) with data.stack as tg002_dev
}

test_instance_size_cap_warn_asg_overrides_unknown if {
	warn_instance_size_cap == {"`asg` (aws:autoscaling/group:Group): cannot decide the instance size cap at preview, mixedInstancesPolicy.launchTemplate.overrides is unknown until apply"} with input as tg002_asg(tg002_unknown) with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as tg002_asg(tg002_unknown) with data.stack as tg002_dev
}

test_instance_size_cap_allow_other_types_with_unknown_instance_types if {
	fleet := tg002_resource("aws:ec2/fleet:Fleet", "fleet", {"instanceTypes": tg002_unknown})
	count(warn_instance_size_cap) == 0 with input as fleet with data.stack as tg002_dev
}

test_instance_size_cap_deny_empty_stack_environment_falls_back_to_stack_name if {
	deny_instance_size_cap == {tg002_over(tg002_web, "m5.2xlarge", 8, "dev", 4)} with input as tg002_instance("m5.2xlarge") with data.stack as {"name": "dev", "environment": ""}
}

# --- every way of buying EC2 capacity (issue 22) ---

tg002_label(type, name) := sprintf("`%s` (%s)", [name, type])

test_instance_size_cap_deny_other_ways_of_buying_capacity if {
	cases := [
		["aws:ec2/launchConfiguration:LaunchConfiguration", {"instanceType": "p4d.24xlarge"}, "p4d.24xlarge", 96],
		["aws:ec2/spotInstanceRequest:SpotInstanceRequest", {"instanceType": "m5.8xlarge"}, "m5.8xlarge", 32],
		["aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchSpecifications": [{"instanceType": "m5.8xlarge"}]}, "m5.8xlarge", 32],
		["aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchTemplateConfigs": [{"overrides": [{"instanceType": "c5.4xlarge"}]}]}, "c5.4xlarge", 16],
		["aws:ec2/fleet:Fleet", {"launchTemplateConfigs": [{"overrides": [{"instanceType": "m5.8xlarge"}]}]}, "m5.8xlarge", 32],
		["aws:emr/instanceGroup:InstanceGroup", {"instanceType": "r5.4xlarge"}, "r5.4xlarge", 16],
		["aws:emr/instanceFleet:InstanceFleet", {"instanceTypeConfigs": [{"instanceType": "r5.4xlarge"}]}, "r5.4xlarge", 16],
		["aws:emr/cluster:Cluster", {"coreInstanceGroup": {"instanceType": "r5.4xlarge"}}, "r5.4xlarge", 16],
		["aws:emr/cluster:Cluster", {"masterInstanceFleet": {"instanceTypeConfigs": [{"instanceType": "r5.4xlarge"}]}}, "r5.4xlarge", 16],
		["aws:sagemaker/notebookInstance:NotebookInstance", {"instanceType": "ml.m5.4xlarge"}, "m5.4xlarge", 16],
		["aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"productionVariants": [{"instanceType": "ml.c5.4xlarge"}, {"serverlessConfig": {"maxConcurrency": 1}}]}, "c5.4xlarge", 16],
		["aws:redshift/cluster:Cluster", {"nodeType": "ra3.4xlarge"}, "redshift.ra3.4xlarge", 12],
		["aws:opensearch/domain:Domain", {"clusterConfig": {"instanceType": "r6g.4xlarge.search"}}, "r6g.4xlarge", 16],
		["aws:opensearch/domain:Domain", {"clusterConfig": {"instanceType": "or1.4xlarge.search"}}, "or1.4xlarge", 16],
	]
	every c in cases {
		[type, properties, shown, vcpu] := c
		deny_instance_size_cap == {tg002_over(tg002_label(type, "x"), shown, vcpu, "dev", 4)} with input as tg002_resource(type, "x", properties) with data.stack as tg002_dev
	}
}

test_instance_size_cap_allow_other_ways_within_the_cap if {
	cases := [
		["aws:ec2/launchConfiguration:LaunchConfiguration", {"instanceType": "t3.medium"}],
		["aws:sagemaker/notebookInstance:NotebookInstance", {"instanceType": "ml.t3.medium"}],
		["aws:redshift/cluster:Cluster", {"nodeType": "ra3.xlplus"}],
		["aws:opensearch/domain:Domain", {"clusterConfig": {"instanceType": "t3.small.search", "dedicatedMasterType": "m6g.large.search"}}],
		["aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"productionVariants": [{"serverlessConfig": {"maxConcurrency": 1}}]}],
	]
	every c in cases {
		[type, properties] := c
		count(deny_instance_size_cap) == 0 with input as tg002_resource(type, "x", properties) with data.stack as tg002_dev
		count(warn_instance_size_cap) == 0 with input as tg002_resource(type, "x", properties) with data.stack as tg002_dev
	}
}

tg002_requirements(r) := tg002_asg([{"instanceRequirements": r}])

tg002_asg_label := "`asg` (aws:autoscaling/group:Group)"

test_instance_size_cap_deny_instance_requirements_by_maximum_vcpu if {
	deny_instance_size_cap == {sprintf("%s selects instance types by instanceRequirements with vcpuCount.max 96, over the dev cap of 4 vCPU; set vcpuCount.max to at most 4 or get a waiver", [tg002_asg_label])}
		with input as tg002_requirements({"vcpuCount": {"min": 2, "max": 96}, "memoryMib": {"min": 1024}}) with data.stack as tg002_dev
	deny_instance_size_cap == {sprintf("%s selects instance types by instanceRequirements with vcpuCount.max unset (no maximum), over the dev cap of 4 vCPU; set vcpuCount.max to at most 4 or get a waiver", [tg002_asg_label])}
		with input as tg002_requirements({"vcpuCount": {"min": 2}, "memoryMib": {"min": 1024}}) with data.stack as tg002_dev
}

test_instance_size_cap_allow_instance_requirements_within_the_cap if {
	count(deny_instance_size_cap) == 0 with input as tg002_requirements({"vcpuCount": {"min": 2, "max": 4}, "memoryMib": {"min": 1024}}) with data.stack as tg002_dev
	lt := tg002_launch_template({"instanceRequirements": {"vcpuCount": {"min": 2, "max": 8}}})
	count(deny_instance_size_cap) == 0 with input as lt with data.stack as {"name": "staging"}
}

test_instance_size_cap_warn_instance_requirements_unknown if {
	warn_instance_size_cap == {sprintf("%s: cannot decide the instance size cap at preview, instanceRequirements.vcpuCount is unknown until apply", [tg002_asg_label])}
		with input as tg002_requirements({"vcpuCount": {"min": 2, "max": "[secret]"}}) with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as tg002_requirements({"vcpuCount": {"min": 2, "max": "[secret]"}}) with data.stack as tg002_dev
}

# A secret instance type is unknown to the rule: it cannot decide, never judges "[secret]" as a name.
test_instance_size_cap_warn_secret_instance_type if {
	warn_instance_size_cap == {sprintf("%s: cannot decide the instance size cap at preview, an instance type is unknown until apply", [tg002_web])} with input as tg002_instance("[secret]") with data.stack as tg002_dev
	count(deny_instance_size_cap) == 0 with input as tg002_instance("[secret]") with data.stack as tg002_dev
}
