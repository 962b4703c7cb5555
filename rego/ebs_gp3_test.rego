# Tests for ebs-gp3 (TG009). Naming convention: see instance_size_cap_test.rego.
# Helpers are prefixed tg009_. Size caps (rego/data.json): dev 200, staging 1024, prod 16384 GiB;
# any other environment gets the strictest (200).
package tollgate

import rego.v1

tg009_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg009_dev := {"name": "dev"}

tg009_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
}

tg009_volume(properties) := tg009_resource("aws:ebs/volume:Volume", "data", object.union({"availabilityZone": "us-east-1a"}, properties))

tg009_lt(mappings) := tg009_resource("aws:ec2/launchTemplate:LaunchTemplate", "workers", {"imageId": "ami-123", "blockDeviceMappings": mappings})

tg009_root(ebs) := {"deviceName": "/dev/xvda", "ebs": ebs}

tg009_data := "`data` (aws:ebs/volume:Volume)"

tg009_workers := "`workers` (aws:ec2/launchTemplate:LaunchTemplate)"

tg009_bad_type(label, type) := sprintf("%s uses volume type %s; use gp3 (cheaper per GiB than gp2, 3,000 IOPS and 125 MiB/s baseline, up to 16,000 IOPS provisioned) or get a waiver", [label, type])

tg009_bad_device_type(device, type) := sprintf("%s block device %s uses volume type %s; set ebs.volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver", [tg009_workers, device, type])

tg009_too_big(size, env, cap) := sprintf("%s is %v GiB, over the %s cap of %v GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [tg009_data, size, env, cap])

tg009_device_too_big(device, size, env, cap) := sprintf("%s block device %s is %v GiB, over the %s cap of %v GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [tg009_workers, device, size, env, cap])

tg009_cannot(label, what) := sprintf("%s: cannot decide the EBS volume rule at preview, %s is unknown until apply", [label, what])

# --- allow ---

test_ebs_gp3_allow_gp3_volume_at_cap if {
	v := tg009_volume({"type": "gp3", "size": 200})
	count(deny_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
}

test_ebs_gp3_allow_cold_and_throughput_types if {
	every t in ["gp3", "sc1", "st1"] {
		count(deny_ebs_gp3) == 0 with input as tg009_volume({"type": t, "size": 100}) with data.stack as tg009_dev
	}
}

test_ebs_gp3_allow_volume_from_snapshot_without_size if {
	v := tg009_volume({"type": "gp3", "snapshotId": "snap-123"})
	count(deny_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
}

test_ebs_gp3_allow_staging_at_cap if {
	count(deny_ebs_gp3) == 0 with input as tg009_volume({"type": "gp3", "size": 1024}) with data.stack as {"name": "staging"}
}

# The stack decides the environment: a prod tag buys no prod-sized volume in a dev stack.
test_ebs_gp3_deny_prod_tag_in_dev_stack if {
	v := tg009_volume({"type": "gp3", "size": 4096, "tags": {"environment": "prod"}})
	deny_ebs_gp3 == {tg009_too_big(4096, "dev", 200)} with input as v with data.stack as tg009_dev
}

test_ebs_gp3_allow_launch_template_gp3 if {
	lt := tg009_lt([tg009_root({"volumeType": "gp3", "volumeSize": 50})])
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_allow_launch_template_without_block_devices if {
	lt := tg009_resource("aws:ec2/launchTemplate:LaunchTemplate", "workers", {"imageId": "ami-123", "instanceType": "t3.large"})
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_allow_instance_store_mapping if {
	lt := tg009_lt([{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}])
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_allow_other_types_ignored if {
	i := tg009_resource("aws:ec2/eip:Eip", "ip", {"domain": "vpc", "type": "gp2"})
	count(deny_ebs_gp3) == 0 with input as i with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as i with data.stack as tg009_dev
}

tg009_web := "`web` (aws:ec2/instance:Instance)"

# An instance's root and EBS block devices, a launch configuration's and a spot request's alike.
test_ebs_gp3_deny_instance_root_and_ebs_devices if {
	i := tg009_resource("aws:ec2/instance:Instance", "web", {
		"rootBlockDevice": {"volumeType": "gp2", "volumeSize": 500},
		"ebsBlockDevices": [{"deviceName": "/dev/sdf", "volumeType": "io1", "volumeSize": 50}],
	})
	deny_ebs_gp3 == {
		sprintf("%s block device rootBlockDevice uses volume type gp2; set volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver", [tg009_web]),
		sprintf("%s block device rootBlockDevice is 500 GiB, over the dev cap of 200 GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [tg009_web]),
		sprintf("%s block device /dev/sdf uses volume type io1; set volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver", [tg009_web]),
	} with input as i with data.stack as tg009_dev
	lc := tg009_resource("aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {"rootBlockDevice": {"volumeType": "standard"}})
	deny_ebs_gp3 == {"`lc` (aws:ec2/launchConfiguration:LaunchConfiguration) block device rootBlockDevice uses volume type standard; set volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver"} with input as lc with data.stack as tg009_dev
}

test_ebs_gp3_allow_instance_gp3_root if {
	i := tg009_resource("aws:ec2/instance:Instance", "web", {"rootBlockDevice": {"volumeType": "gp3", "volumeSize": 30}})
	count(deny_ebs_gp3) == 0 with input as i with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as i with data.stack as tg009_dev
	# a launch template's instance: the template's devices are judged on the template
	lt := tg009_resource("aws:ec2/instance:Instance", "web", {"launchTemplate": {"id": "lt-1"}})
	count(warn_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_warn_instance_root_from_the_ami if {
	i := tg009_resource("aws:ec2/instance:Instance", "web", {"ami": "ami-1"})
	warn_ebs_gp3 == {sprintf("%s sets no rootBlockDevice, so the AMI's mapping decides its root volume's type (often gp2); set rootBlockDevice.volumeType to gp3", [tg009_web])} with input as i with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as i with data.stack as tg009_dev
	u := tg009_resource("aws:ec2/instance:Instance", "web", {"rootBlockDevice": {"volumeType": tg009_unknown}, "ebsBlockDevices": [tg009_unknown]})
	warn_ebs_gp3 == {
		tg009_cannot(tg009_web, "block device rootBlockDevice volumeType"),
		tg009_cannot(tg009_web, "ebsBlockDevices[0]"),
	} with input as u with data.stack as tg009_dev
}

test_ebs_gp3_deny_rds_storage_type if {
	db := tg009_resource("aws:rds/instance:Instance", "db", {"storageType": "gp2", "allocatedStorage": 20})
	deny_ebs_gp3 == {"`db` (aws:rds/instance:Instance) uses storageType gp2; set storageType to gp3 (cheaper per GiB than gp2, 3,000 IOPS baseline, IOPS provisioned apart from size) or get a waiver"} with input as db with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as tg009_resource("aws:rds/instance:Instance", "db", {"storageType": "gp3"}) with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as tg009_resource("aws:rds/instance:Instance", "db", {}) with data.stack as tg009_dev
}

test_ebs_gp3_warn_rds_storage_type_secret if {
	db := tg009_resource("aws:rds/instance:Instance", "db", {"storageType": "[secret]"})
	warn_ebs_gp3 == {"`db` (aws:rds/instance:Instance): cannot decide the EBS volume rule at preview, storageType is unknown until apply"} with input as db with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as db with data.stack as tg009_dev
}

test_ebs_gp3_allow_tuned_disallowed_types if {
	# A policy config may allow io2 (e.g. for databases) by narrowing the list.
	v := tg009_volume({"type": "io2", "size": 100})
	count(deny_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
		with data.config["ebs-gp3"].disallowed_types as ["gp2", "standard"]
}

# --- deny ---

test_ebs_gp3_deny_gp2_volume if {
	deny_ebs_gp3 == {tg009_bad_type(tg009_data, "gp2")} with input as tg009_volume({"type": "gp2", "size": 100})
		with data.stack as tg009_dev
}

test_ebs_gp3_deny_each_legacy_type if {
	every t in ["gp2", "io1", "io2", "standard"] {
		deny_ebs_gp3 == {tg009_bad_type(tg009_data, t)} with input as tg009_volume({"type": t, "size": 100})
			with data.stack as tg009_dev
	}
}

test_ebs_gp3_deny_volume_without_type_is_gp2 if {
	deny_ebs_gp3 == {"`data` (aws:ebs/volume:Volume) has no type, so it gets gp2; set type to gp3 (cheaper per GiB, 3,000 IOPS baseline)"} with input as tg009_volume({"size": 100})
		with data.stack as tg009_dev
}

test_ebs_gp3_deny_dev_volume_over_cap if {
	deny_ebs_gp3 == {tg009_too_big(500, "dev", 200)} with input as tg009_volume({"type": "gp3", "size": 500})
		with data.stack as tg009_dev
}

test_ebs_gp3_deny_staging_volume_over_cap if {
	deny_ebs_gp3 == {tg009_too_big(2000, "staging", 1024)} with input as tg009_volume({"type": "gp3", "size": 2000})
		with data.stack as {"name": "staging"}
}

test_ebs_gp3_deny_prod_volume_over_cap if {
	deny_ebs_gp3 == {tg009_too_big(20000, "prod", 16384)} with input as tg009_volume({"type": "gp3", "size": 20000})
		with data.stack as {"name": "prod"}
}

test_ebs_gp3_deny_unlisted_environment_gets_strictest_cap if {
	deny_ebs_gp3 == {tg009_too_big(300, "feature-9", 200)} with input as tg009_volume({"type": "gp3", "size": 300})
		with data.stack as {"name": "feature-9"}
}

test_ebs_gp3_deny_gp2_and_over_cap if {
	deny_ebs_gp3 == {tg009_bad_type(tg009_data, "io1"), tg009_too_big(400, "dev", 200)} with input as tg009_volume({"type": "io1", "size": 400})
		with data.stack as tg009_dev
}

test_ebs_gp3_deny_launch_template_gp2 if {
	lt := tg009_lt([tg009_root({"volumeType": "gp2", "volumeSize": 50})])
	deny_ebs_gp3 == {tg009_bad_device_type("/dev/xvda", "gp2")} with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_deny_launch_template_each_bad_device if {
	lt := tg009_lt([
		tg009_root({"volumeType": "gp3", "volumeSize": 50}),
		{"deviceName": "/dev/sdf", "ebs": {"volumeType": "io1", "volumeSize": 100, "iops": 3000}},
		{"ebs": {"volumeType": "standard", "volumeSize": 300}},
	])
	deny_ebs_gp3 == {
		tg009_bad_device_type("/dev/sdf", "io1"),
		tg009_bad_device_type("blockDeviceMappings[2]", "standard"),
		tg009_device_too_big("blockDeviceMappings[2]", 300, "dev", 200),
	} with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_deny_launch_template_over_cap if {
	lt := tg009_lt([tg009_root({"volumeType": "gp3", "volumeSize": 2048})])
	deny_ebs_gp3 == {tg009_device_too_big("/dev/xvda", 2048, "staging", 1024)} with input as lt
		with data.stack as {"name": "dev", "environment": "staging"}
}

# --- warn: cannot decide at preview, or the AMI decides ---

test_ebs_gp3_warn_volume_type_unknown if {
	v := tg009_volume({"type": tg009_unknown, "size": 100})
	warn_ebs_gp3 == {tg009_cannot(tg009_data, "type")} with input as v with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
}

test_ebs_gp3_warn_volume_size_unknown if {
	v := tg009_volume({"type": "gp3", "size": tg009_unknown})
	warn_ebs_gp3 == {tg009_cannot(tg009_data, "size")} with input as v with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as v with data.stack as tg009_dev
}

test_ebs_gp3_warn_launch_template_mappings_unknown if {
	lt := tg009_lt(tg009_unknown)
	warn_ebs_gp3 == {tg009_cannot(tg009_workers, "blockDeviceMappings")} with input as lt with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_warn_launch_template_ebs_unknown if {
	lt := tg009_lt([{"deviceName": "/dev/xvda", "ebs": tg009_unknown}])
	warn_ebs_gp3 == {tg009_cannot(tg009_workers, "blockDeviceMappings[0].ebs")} with input as lt with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_warn_launch_template_volume_type_and_size_unknown if {
	lt := tg009_lt([tg009_root({"volumeType": tg009_unknown, "volumeSize": tg009_unknown})])
	warn_ebs_gp3 == {
		tg009_cannot(tg009_workers, "block device /dev/xvda ebs.volumeType"),
		tg009_cannot(tg009_workers, "block device /dev/xvda ebs.volumeSize"),
	} with input as lt with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_warn_launch_template_without_volume_type if {
	lt := tg009_lt([tg009_root({"volumeSize": 50})])
	warn_ebs_gp3 == {"`workers` (aws:ec2/launchTemplate:LaunchTemplate) block device /dev/xvda has no ebs.volumeType, so the AMI's mapping decides (often gp2); set it to gp3"} with input as lt
		with data.stack as tg009_dev
	count(deny_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

test_ebs_gp3_deny_unknown_device_name_uses_position if {
	lt := tg009_lt([{"deviceName": tg009_unknown, "ebs": {"volumeType": "gp2"}}])
	deny_ebs_gp3 == {tg009_bad_device_type("blockDeviceMappings[0]", "gp2")} with input as lt with data.stack as tg009_dev
	count(warn_ebs_gp3) == 0 with input as lt with data.stack as tg009_dev
}

# The fast path holds for the usual instance, launch template, volume and RDS instance, and not where a head reports.
test_ebs_gp3_allow_fast_path_taken_for_the_usual_resource if {
	ebs_gp3_ok with input as tg009_resource("aws:ec2/instance:Instance", "web", {"rootBlockDevice": {"volumeType": "gp3", "volumeSize": 30}}) with data.stack as tg009_dev
	ebs_gp3_ok with input as tg009_volume({"type": "gp3", "size": 100}) with data.stack as tg009_dev
	ebs_gp3_ok with input as tg009_resource("aws:rds/instance:Instance", "db", {"storageType": "gp3"}) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_resource("aws:ec2/instance:Instance", "web", {"rootBlockDevice": {"volumeType": "gp2"}}) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_resource("aws:ec2/instance:Instance", "web", {"ami": "ami-1"}) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_volume({"type": "gp3", "size": 20000}) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_resource("aws:rds/instance:Instance", "db", {"storageType": "io1"}) with data.stack as tg009_dev
	ebs_gp3_ok with input as tg009_lt([tg009_root({"volumeType": "gp3", "volumeSize": 30})]) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_lt([tg009_root({"volumeType": "gp2"})]) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_lt([tg009_root({"volumeSize": 30})]) with data.stack as tg009_dev
	not ebs_gp3_ok with input as tg009_lt([tg009_root({"volumeType": "gp3", "volumeSize": 20000})]) with data.stack as tg009_dev
}
