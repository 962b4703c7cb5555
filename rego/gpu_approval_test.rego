# Tests for gpu-approval (TG003). Naming and kinds as in instance_size_cap_test.rego.
# Helpers are prefixed tg003_: all rule and test files share package tollgate.
# Defaults (rego/data.json): GPU and accelerator types allowed without approval in staging and prod
# only; "large" = 4+ GPUs or accelerators, or 32+ vCPU. Specs from tollgate/data/aws-instance-types.json:
# g4dn.xlarge 1 T4/4 vCPU, g4dn.8xlarge 1 T4/32 vCPU, g4dn.4xlarge 1 T4/16 vCPU, g5.xlarge 1 A10G/4 vCPU,
# g5.12xlarge 4 A10G/48 vCPU, p3.8xlarge 4 V100/32 vCPU, p5.48xlarge 8 H100/192 vCPU, inf1.6xlarge
# 4 Inferentia/24 vCPU, inf2.xlarge 1 Inferentia2/4 vCPU, trn1.32xlarge 16 Trainium/128 vCPU,
# g6f.large 1/8 of an L4/2 vCPU.
package tollgate

import rego.v1

tg003_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg003_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg003_instance(type) := tg003_resource("aws:ec2/instance:Instance", "train", {"ami": "ami-123", "instanceType": type})

tg003_node_group(types) := tg003_resource("aws:eks/nodeGroup:NodeGroup", "gpu", {"clusterName": "ml", "instanceTypes": types})

tg003_batch(types) := tg003_resource(
	"aws:batch/computeEnvironment:ComputeEnvironment", "jobs",
	{"type": "MANAGED", "computeResources": {"type": "SPOT", "maxVcpus": 64, "instanceTypes": types}},
)

tg003_asg(overrides) := tg003_resource(
	"aws:autoscaling/group:Group", "asg",
	{"maxSize": 3, "minSize": 0, "mixedInstancesPolicy": {"launchTemplate": {
		"launchTemplateSpecification": {"launchTemplateId": "lt-123"},
		"overrides": overrides,
	}}},
)

tg003_train := "`train` (aws:ec2/instance:Instance)"

tg003_gpu := "`gpu` (aws:eks/nodeGroup:NodeGroup)"

tg003_in_dev(label, kind, type, device, env) := sprintf("%s uses %s type %s (%s) in %s, where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in staging or prod", [label, kind, type, device, env])

tg003_large(label, kind, type, device, vcpu, env) := sprintf("%s uses %s type %s (%s, %d vCPU) in %s, a large GPU or accelerator type (4+ GPUs or accelerators, or 32+ vCPU) that needs an approval: add a waiver, or pick a smaller type (e.g. g5.xlarge, inf2.xlarge)", [label, kind, type, device, vcpu, env])

# A made-up type's spec as the rules read it (tollgate/rego.py _rule_spec).
tg003_spec(vcpu, gpus, accelerators) := {
	"vcpu": vcpu, "memory_gib": 64, "gpus": gpus, "accelerators": accelerators, "devices": gpus + accelerators,
	"accelerated": gpus + accelerators > 0, "kind": "GPU", "device": sprintf("%d test GPUs", [gpus + accelerators]),
}

# --- allow ---

test_gpu_approval_allow_cpu_type_in_dev if {
	count(deny_gpu_approval) == 0 with input as tg003_instance("m5.xlarge") with data.stack as {"name": "dev"}
	count(warn_gpu_approval) == 0 with input as tg003_instance("m5.xlarge") with data.stack as {"name": "dev"}
}

# The deny heads start from gpu_approval_gpu_types: the listed GPU and accelerator types, not CPU, unknown or
# unlisted ones (the warn heads and instance-size-cap report those).
test_gpu_approval_allow_gpu_types_are_the_listed_accelerated_ones if {
	count(gpu_approval_gpu_types) == 0 with input as tg003_instance("m5.xlarge")
	count(gpu_approval_gpu_types) == 0 with input as tg003_node_group(["t2.micro", "t4g.small", "m7i.large"])
	gpu_approval_gpu_types == {"g5.xlarge"} with input as tg003_instance("g5.xlarge")
	types := ["inf2.xlarge", "m5.large", "g6f.large", tg003_unknown, "x9.unlisted"]
	gpu_approval_gpu_types == {"inf2.xlarge", "g6f.large"} with input as tg003_node_group(types)
}

test_gpu_approval_allow_cpu_types_of_every_generation_in_dev if {
	every t in ["t2.micro", "t4g.small", "m7i.large", "c8g.large", "m7i.4xlarge"] {
		count(deny_gpu_approval) == 0 with input as tg003_instance(t) with data.stack as {"name": "dev"}
	}
}

test_gpu_approval_allow_small_accelerator_in_staging if {
	# 1 Inferentia2 and 4 vCPU: below both thresholds.
	count(deny_gpu_approval) == 0 with input as tg003_instance("inf2.xlarge") with data.stack as {"name": "staging"}
}

test_gpu_approval_allow_small_gpu_in_staging if {
	count(deny_gpu_approval) == 0 with input as tg003_node_group(["g4dn.xlarge", "g5.xlarge"]) with data.stack as {"name": "staging"}
}

test_gpu_approval_allow_small_gpu_in_prod if {
	# 1 GPU and 16 vCPU: below both thresholds.
	count(deny_gpu_approval) == 0 with input as tg003_instance("g4dn.4xlarge") with data.stack as {"name": "prod"}
}

test_gpu_approval_allow_large_cpu_type_in_prod if {
	# Large, but no GPU: instance-size-cap's business, not this rule's.
	count(deny_gpu_approval) == 0 with input as tg003_instance("m5.24xlarge") with data.stack as {"name": "prod"}
}

test_gpu_approval_allow_unlisted_type_left_to_instance_size_cap if {
	count(deny_gpu_approval) == 0 with input as tg003_instance("z9.huge") with data.stack as {"name": "dev"}
}

test_gpu_approval_allow_node_group_default_instance_types if {
	ng := tg003_resource("aws:eks/nodeGroup:NodeGroup", "gpu", {"clusterName": "ml"})
	count(deny_gpu_approval) == 0 with input as ng with data.stack as {"name": "dev"}
	count(warn_gpu_approval) == 0 with input as ng with data.stack as {"name": "dev"}
}

# The stack decides the environment: a staging tag allows no GPU in a dev stack.
test_gpu_approval_deny_staging_tag_in_dev_stack if {
	instance := tg003_resource("aws:ec2/instance:Instance", "train", {"instanceType": "g5.xlarge", "tags": {"environment": "staging"}})
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "g5.xlarge", "1 nvidia a10g GPU", "dev")} with input as instance with data.stack as {"name": "dev"}
}

test_gpu_approval_allow_other_resource_types if {
	db := tg003_resource("aws:rds/instance:Instance", "db", {"instanceClass": "db.p3.8xlarge", "instanceType": "p3.8xlarge"})
	count(deny_gpu_approval) == 0 with input as db with data.stack as {"name": "dev"}
}

test_gpu_approval_allow_configured_dev_gpus if {
	config := object.union(data.config, {"gpu-approval": {"gpu_environments": ["dev", "staging", "prod"], "large_gpus": 4, "large_vcpu": 32}})
	count(deny_gpu_approval) == 0 with input as tg003_instance("g5.xlarge") with data.stack as {"name": "dev"} with data.config as config
}

# Made-up specs to test each threshold on its own (no listed GPU type has 4 GPUs under 32 vCPU).
tg003_types := object.union(data.instance_types, {
	"gx.just-under": tg003_spec(31, 3, 0),
	"gx.four-gpus": tg003_spec(16, 4, 0),
})

test_gpu_approval_allow_just_under_both_thresholds if {
	count(deny_gpu_approval) == 0 with input as tg003_instance("gx.just-under") with data.stack as {"name": "prod"}
		with data.instance_types as tg003_types
}

# --- deny ---

test_gpu_approval_deny_large_by_gpus_alone if {
	deny_gpu_approval == {tg003_large(tg003_train, "GPU", "gx.four-gpus", "4 test GPUs", 16, "staging")} with input as tg003_instance("gx.four-gpus")
		with data.stack as {"name": "staging"} with data.instance_types as tg003_types
}

test_gpu_approval_deny_large_by_accelerators_alone if {
	# inf1.6xlarge: 4 Inferentia chips, 24 vCPU.
	deny_gpu_approval == {tg003_large(tg003_train, "accelerator", "inf1.6xlarge", "4 aws inferentia accelerators", 24, "prod")} with input as tg003_instance("inf1.6xlarge")
		with data.stack as {"name": "prod"}
}

test_gpu_approval_deny_any_gpu_in_dev if {
	deny_gpu_approval == {"`train` (aws:ec2/instance:Instance) uses GPU type g4dn.xlarge (1 nvidia t4 GPU) in dev, where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in staging or prod"} with input as tg003_instance("g4dn.xlarge")
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_current_gpu_types_in_dev if {
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "g5.xlarge", "1 nvidia a10g GPU", "dev")} with input as tg003_instance("g5.xlarge")
		with data.stack as {"name": "dev"}
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "p5.48xlarge", "8 nvidia h100 GPUs", "dev")} with input as tg003_instance("p5.48xlarge")
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_gpu_share_in_dev if {
	# g6f.large has an eighth of an L4: no whole GPU, still a GPU type.
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "g6f.large", "0.125 of one nvidia l4 GPU", "dev")} with input as tg003_instance("g6f.large")
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_accelerator_in_dev if {
	deny_gpu_approval == {"`train` (aws:ec2/instance:Instance) uses accelerator type inf2.xlarge (1 aws inferentia2 accelerator) in dev, where GPU and accelerator types are not allowed; use a CPU instance type, or run GPU and accelerator work in staging or prod"} with input as tg003_instance("inf2.xlarge")
		with data.stack as {"name": "dev"}
	deny_gpu_approval == {tg003_in_dev(tg003_train, "accelerator", "trn1.32xlarge", "16 aws trainium accelerators", "dev")} with input as tg003_instance("trn1.32xlarge")
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_large_accelerator_in_staging if {
	deny_gpu_approval == {tg003_large(tg003_gpu, "accelerator", "trn1.32xlarge", "16 aws trainium accelerators", 128, "staging")} with input as tg003_node_group(["inf2.xlarge", "trn1.32xlarge"])
		with data.stack as {"name": "staging"}
}

test_gpu_approval_deny_large_gpu_in_dev_once if {
	# Dev forbids every GPU type: one finding, not a second "needs an approval" one.
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "p3.8xlarge", "4 nvidia v100 GPUs", "dev")} with input as tg003_instance("p3.8xlarge")
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_unlisted_environment_treated_like_dev if {
	deny_gpu_approval == {tg003_in_dev(tg003_train, "GPU", "g5.xlarge", "1 nvidia a10g GPU", "feature-x")} with input as tg003_instance("g5.xlarge")
		with data.stack as {"name": "feature-x"}
}

test_gpu_approval_deny_p3_8xlarge_in_staging if {
	deny_gpu_approval == {"`train` (aws:ec2/instance:Instance) uses GPU type p3.8xlarge (4 nvidia v100 GPUs, 32 vCPU) in staging, a large GPU or accelerator type (4+ GPUs or accelerators, or 32+ vCPU) that needs an approval: add a waiver, or pick a smaller type (e.g. g5.xlarge, inf2.xlarge)"} with input as tg003_instance("p3.8xlarge")
		with data.stack as {"name": "staging"}
}

test_gpu_approval_deny_large_by_vcpu_alone if {
	# g4dn.8xlarge has 1 GPU but 32 vCPU.
	deny_gpu_approval == {tg003_large(tg003_train, "GPU", "g4dn.8xlarge", "1 nvidia t4 GPU", 32, "prod")} with input as tg003_instance("g4dn.8xlarge")
		with data.stack as {"name": "prod"}
}

test_gpu_approval_deny_large_by_gpus if {
	deny_gpu_approval == {tg003_large(tg003_gpu, "GPU", "g5.12xlarge", "4 nvidia a10g GPUs", 48, "prod")} with input as tg003_node_group(["g5.xlarge", "g5.12xlarge"])
		with data.stack as {"name": "prod"}
}

test_gpu_approval_deny_each_gpu_type_of_a_node_group_in_dev if {
	deny_gpu_approval == {
		tg003_in_dev(tg003_gpu, "GPU", "g4dn.xlarge", "1 nvidia t4 GPU", "dev"),
		tg003_in_dev(tg003_gpu, "GPU", "g5.xlarge", "1 nvidia a10g GPU", "dev"),
	} with input as tg003_node_group(["m5.large", "g4dn.xlarge", "g5.xlarge"])
		with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_batch_large_gpu if {
	deny_gpu_approval == {tg003_large("`jobs` (aws:batch/computeEnvironment:ComputeEnvironment)", "GPU", "p4d.24xlarge", "8 nvidia a100 GPUs", 96, "staging")} with input as tg003_batch(["p4d.24xlarge"])
		with data.stack as {"name": "staging"}
}

test_gpu_approval_deny_asg_override_gpu_in_dev if {
	asg := tg003_asg([{"instanceType": "m5.large"}, {"instanceType": "g5.2xlarge"}])
	deny_gpu_approval == {tg003_in_dev("`asg` (aws:autoscaling/group:Group)", "GPU", "g5.2xlarge", "1 nvidia a10g GPU", "dev")} with input as asg
		with data.stack as {"name": "dev"}
}

test_gpu_approval_allow_dev_tag_in_prod_stack if {
	instance := tg003_resource("aws:ec2/instance:Instance", "train", {"instanceType": "g5.xlarge", "tags": {"environment": "dev"}})
	count(deny_gpu_approval) == 0 with input as instance with data.stack as {"name": "prod"}
}

test_gpu_approval_deny_launch_template_gpu_in_dev if {
	lt := tg003_resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"instanceType": "p3.2xlarge"})
	deny_gpu_approval == {tg003_in_dev("`lt` (aws:ec2/launchTemplate:LaunchTemplate)", "GPU", "p3.2xlarge", "1 nvidia v100 GPU", "dev")} with input as lt
		with data.stack as {"name": "dev"}
}

# --- warn: cannot decide at preview ---

test_gpu_approval_warn_instance_type_unknown if {
	warn_gpu_approval == {"`train` (aws:ec2/instance:Instance): cannot decide GPU approval at preview, an instance type is unknown until apply"} with input as tg003_instance(tg003_unknown)
		with data.stack as {"name": "dev"}
	count(deny_gpu_approval) == 0 with input as tg003_instance(tg003_unknown) with data.stack as {"name": "dev"}
}

test_gpu_approval_warn_node_group_instance_types_unknown if {
	warn_gpu_approval == {"`gpu` (aws:eks/nodeGroup:NodeGroup): cannot decide GPU approval at preview, instanceTypes is unknown until apply"} with input as tg003_node_group(tg003_unknown)
		with data.stack as {"name": "staging"}
	count(deny_gpu_approval) == 0 with input as tg003_node_group(tg003_unknown) with data.stack as {"name": "staging"}
}

test_gpu_approval_warn_batch_compute_resources_unknown if {
	ce := tg003_resource("aws:batch/computeEnvironment:ComputeEnvironment", "jobs", {"type": "MANAGED", "computeResources": tg003_unknown})
	warn_gpu_approval == {"`jobs` (aws:batch/computeEnvironment:ComputeEnvironment): cannot decide GPU approval at preview, computeResources is unknown until apply"} with input as ce
		with data.stack as {"name": "dev"}
	count(deny_gpu_approval) == 0 with input as ce with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_and_warn_asg_overrides_gpu_and_unknown if {
	asg := tg003_asg([{"instanceType": tg003_unknown}, {"instanceType": "g5.xlarge"}])
	warn_gpu_approval == {"`asg` (aws:autoscaling/group:Group): cannot decide GPU approval at preview, an instance type is unknown until apply"} with input as asg
		with data.stack as {"name": "dev"}
	deny_gpu_approval == {tg003_in_dev("`asg` (aws:autoscaling/group:Group)", "GPU", "g5.xlarge", "1 nvidia a10g GPU", "dev")} with input as asg
		with data.stack as {"name": "dev"}
}

# --- Kubernetes GPU requests and instanceRequirements (issue 22) ---

tg003_k8s(resources, replicas) := tg003_resource("kubernetes:apps/v1:Deployment", "infer", {"spec": {"replicas": replicas, "template": {"spec": {"containers": [
	{"name": "app", "image": "x", "resources": resources},
]}}}})

tg003_infer := "`infer` (kubernetes:apps/v1:Deployment)"

test_gpu_approval_deny_k8s_gpu_in_dev if {
	d := tg003_k8s({"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": 1}}, 1)
	deny_gpu_approval == {sprintf("%s requests GPUs (nvidia.com/gpu) in dev, where GPUs are not allowed; remove the GPU request, or run GPU work in staging or prod", [tg003_infer])} with input as d with data.stack as {"name": "dev"}
	# any */gpu extended resource, as a request only, in a custom resource found by shape
	rollout := tg003_resource("kubernetes:argoproj.io/v1alpha1:Rollout", "r", {"spec": {"template": {"spec": {"containers": [{"name": "a", "resources": {"requests": {"amd.com/gpu": "2"}}}]}}}})
	deny_gpu_approval == {"`r` (kubernetes:argoproj.io/v1alpha1:Rollout) requests GPUs (amd.com/gpu) in dev, where GPUs are not allowed; remove the GPU request, or run GPU work in staging or prod"} with input as rollout with data.stack as {"name": "dev"}
}

test_gpu_approval_deny_k8s_four_gpus_in_staging if {
	d := tg003_k8s({"limits": {"nvidia.com/gpu": "4"}}, 1)
	deny_gpu_approval == {sprintf("%s requests 4 GPUs (nvidia.com/gpu) in one pod in staging, 4+ GPUs, which needs an approval: add a waiver, or request fewer", [tg003_infer])} with input as d with data.stack as {"name": "staging"}
}

test_gpu_approval_allow_k8s_small_gpu_in_staging if {
	d := tg003_k8s({"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 1}}, 2)
	count(deny_gpu_approval) == 0 with input as d with data.stack as {"name": "staging"}
	count(deny_gpu_approval) == 0 with input as tg003_k8s({"limits": {"cpu": "1"}}, 1) with data.stack as {"name": "dev"}
}

test_gpu_approval_warn_k8s_gpu_secret if {
	d := tg003_k8s({"limits": {"nvidia.com/gpu": "[secret]"}}, 1)
	warn_gpu_approval == {sprintf("%s: cannot decide GPU approval at preview, a container's nvidia.com/gpu is unknown until apply", [tg003_infer])} with input as d with data.stack as {"name": "dev"}
	count(deny_gpu_approval) == 0 with input as d with data.stack as {"name": "dev"}
}

tg003_requirements(r) := tg003_asg([{"instanceRequirements": r}])

test_gpu_approval_deny_instance_requirements_with_accelerators if {
	asg := tg003_requirements({"vcpuCount": {"min": 4, "max": 96}, "acceleratorCount": {"min": 8}})
	deny_gpu_approval == {"`asg` (aws:autoscaling/group:Group) selects accelerator instance types by instanceRequirements in dev, where GPU and accelerator types are not allowed; set acceleratorCount.max to 0, or run GPU and accelerator work in staging or prod"} with input as asg with data.stack as {"name": "dev"}
	deny_gpu_approval == {"`asg` (aws:autoscaling/group:Group) selects accelerator instance types by instanceRequirements in prod without keeping them under 4 accelerators and 32 vCPU (acceleratorCount.max, vcpuCount.max), a large GPU or accelerator type that needs an approval: add a waiver, or set both maximums"} with input as asg with data.stack as {"name": "prod"}
}

test_gpu_approval_allow_instance_requirements_without_accelerators if {
	count(deny_gpu_approval) == 0 with input as tg003_requirements({"vcpuCount": {"min": 2, "max": 4}}) with data.stack as {"name": "dev"}
	small := tg003_requirements({"vcpuCount": {"min": 2, "max": 8}, "acceleratorCount": {"min": 1, "max": 1}})
	count(deny_gpu_approval) == 0 with input as small with data.stack as {"name": "prod"}
}

test_gpu_approval_deny_sagemaker_and_launch_configuration_gpu_types if {
	nb := tg003_resource("aws:sagemaker/notebookInstance:NotebookInstance", "nb", {"instanceType": "ml.p3.2xlarge"})
	deny_gpu_approval == {tg003_in_dev("`nb` (aws:sagemaker/notebookInstance:NotebookInstance)", "GPU", "p3.2xlarge", "1 nvidia v100 GPU", "dev")} with input as nb with data.stack as {"name": "dev"}
}

# The fast path holds for a CPU instance or node group, a Kubernetes object that is no workload and a workload
# requesting no GPU; not for a GPU type, an unknown type or list, or a workload requesting GPUs.
test_gpu_approval_allow_fast_path_taken_for_the_usual_resource if {
	gpu_approval_ok with input as tg003_instance("m5.large") with data.stack as {"name": "dev"}
	gpu_approval_ok with input as tg003_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": ["m5.large"]}) with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": tg003_unknown}) with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_resource("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": ["g5.xlarge"]}) with data.stack as {"name": "dev"}
	gpu_approval_ok with input as tg003_resource("kubernetes:core/v1:Service", "svc", {"spec": {"ports": []}}) with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_instance("g5.xlarge") with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_instance(tg003_unknown) with data.stack as {"name": "dev"}
	gpu_approval_ok with input as tg003_k8s({"limits": {"cpu": "1"}}, 1) with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_k8s({"limits": {"nvidia.com/gpu": 1}}, 1) with data.stack as {"name": "dev"}
	not gpu_approval_ok with input as tg003_k8s({"limits": {"nvidia.com/gpu": tg003_unknown}}, 1) with data.stack as {"name": "dev"}
}
