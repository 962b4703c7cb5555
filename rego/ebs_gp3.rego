package tollgate

import rego.v1

# An EBS volume created without `type` is gp2 (the CreateVolume and aws_ebs_volume default).
ebs_gp3_volume_default_type := "gp2"

ebs_gp3_volume := "aws:ebs/volume:Volume"

ebs_gp3_launch_template := "aws:ec2/launchTemplate:LaunchTemplate"

ebs_gp3_max_size := env_cap(data.config["ebs-gp3"].max_size_gib, input_environment)

# Types whose block devices are judged: where each keeps them, [path of a list or an object, the field a
# message names, the device's key for its settings (null: the element itself)].
ebs_gp3_device_sources := {
	ebs_gp3_launch_template: [["blockDeviceMappings", "ebs"]],
	"aws:ec2/instance:Instance": ebs_gp3_instance_sources,
	"aws:ec2/spotInstanceRequest:SpotInstanceRequest": ebs_gp3_instance_sources,
	"aws:ec2/launchConfiguration:LaunchConfiguration": ebs_gp3_instance_sources,
}

ebs_gp3_instance_sources := [["rootBlockDevice", null], ["ebsBlockDevices", null]]

# The resource's block devices, each [name for messages (its device name, else where it is), its settings,
# the prefix of a setting's name in messages]: a complete rule, evaluated once per resource for the heads
# that read it (a function is evaluated anew on every call).
input_ebs_gp3_devices := [[name, d.ebs, "ebs."] |
	some i, d in input.properties.blockDeviceMappings
	is_object(d.ebs)
	name := ebs_gp3_device_name("blockDeviceMappings", i, d)
] if {
	input.__type == ebs_gp3_launch_template
	is_array(input.properties.blockDeviceMappings)
} else := array.concat(
	[["rootBlockDevice", d, ""] | d := input.properties.rootBlockDevice; is_object(d)],
	[[name, d, ""] |
		some i, d in ebs_gp3_list(input.properties, "ebsBlockDevices")
		is_object(d)
		name := ebs_gp3_device_name("ebsBlockDevices", i, d)
	],
) if {
	input.__type in ebs_gp3_instance_types
} else := []

ebs_gp3_instance_types := {
	"aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
	"aws:ec2/launchConfiguration:LaunchConfiguration",
}

ebs_gp3_list(x, field) := l if {
	l := x[field]
	is_array(l)
} else := []

ebs_gp3_device_name(field, i, d) := d.deviceName if {
	is_string(d.deviceName)
	not d.deviceName in unknown_sentinels
} else := sprintf("%s[%d]", [field, i])

ebs_gp3_disallowed(t) if {
	is_string(t)
	t in data.config["ebs-gp3"].disallowed_types
}

# The usual resource, decided at once: an instance whose root device is a known allowed type within every
# environment's size cap and which has no other EBS devices, a launch template whose EBS devices all are, a
# volume of a known allowed type within every cap, an RDS storage type not disallowed. The heads below look
# no further for it (they would find nothing; ebs_gp3_test.rego and tests/test_rule_catalog.py check that
# they agree).
ebs_gp3_ok if {
	input.__type in ebs_gp3_instance_types
	root := input.properties.rootBlockDevice
	t := root.volumeType
	is_string(t)
	not t in data.config["ebs-gp3"].disallowed_types
	not t in unknown_sentinels
	size := object.get(root, "volumeSize", 0)
	is_number(size)
	every cap in data.config["ebs-gp3"].max_size_gib {
		size <= cap
	}
	object.get(input.properties, "ebsBlockDevices", null) in {null, []}
} else if {
	# a launch template whose every block device is an EBS device of a known allowed type within every cap
	input.__type == ebs_gp3_launch_template
	mappings := object.get(input.properties, "blockDeviceMappings", [])
	is_array(mappings)
	every d in mappings {
		ebs := d.ebs
		is_object(ebs)
		t := ebs.volumeType
		is_string(t)
		not t in data.config["ebs-gp3"].disallowed_types
		not t in unknown_sentinels
		size := object.get(ebs, "volumeSize", 0)
		is_number(size)
		every cap in data.config["ebs-gp3"].max_size_gib {
			size <= cap
		}
	}
} else if {
	input.__type == ebs_gp3_volume
	t := input.properties.type
	is_string(t)
	not t in data.config["ebs-gp3"].disallowed_types
	not t in unknown_sentinels
	size := object.get(input.properties, "size", 0)
	is_number(size)
	every cap in data.config["ebs-gp3"].max_size_gib {
		size <= cap
	}
} else if {
	input.__type in ebs_gp3_rds_types
	not input.properties.storageType in data.config["ebs-gp3"].disallowed_types
	not input.properties.storageType in unknown_sentinels
}

ebs_gp3_fix := "use gp3 (cheaper per GiB than gp2, 3,000 IOPS and 125 MiB/s baseline, up to 16,000 IOPS provisioned) or get a waiver"

# Each head has a body per kind: a resource of another type costs one type check per head, not one per
# kind of finding (the rule runs on every resource of the stack).

# METADATA
# title: EBS gp3
# description: >-
#   Block storage must not use gp2, io1, io2 or standard (gp3 is cheaper and provisions IOPS
#   separately): EBS volumes, instance root and EBS block devices (instances, spot instance requests,
#   launch configurations), launch-template block devices, RDS storageType; a volume or block device must
#   stay within the environment's size cap (dev 200 GiB, staging 1 TiB, prod 16 TiB). A volume without
#   `type` is gp2.
# custom:
#   id: TG009
#   severity: medium
#   enforcement: mandatory
#   resource_types:
#     - "aws:ebs/volume:Volume"
#     - "aws:ec2/launchTemplate:LaunchTemplate"
#     - "aws:ec2/instance:Instance"
#     - "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
#     - "aws:ec2/launchConfiguration:LaunchConfiguration"
#     - "aws:rds/instance:Instance"
#     - "aws:rds/cluster:Cluster"
deny_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	input.__type == ebs_gp3_volume
	some msg in ebs_gp3_volume_denies
}

deny_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	ebs_gp3_device_sources[input.__type]
	some msg in ebs_gp3_device_denies
}

deny_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	input.__type in ebs_gp3_rds_types
	t := input.properties.storageType
	ebs_gp3_disallowed(t)
	msg := sprintf("%s uses storageType %s; set storageType to gp3 (cheaper per GiB than gp2, 3,000 IOPS baseline, IOPS provisioned apart from size) or get a waiver", [label(input), t])
}

warn_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	input.__type == ebs_gp3_volume
	some msg in ebs_gp3_volume_warns
}

warn_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	ebs_gp3_device_sources[input.__type]
	some msg in ebs_gp3_device_warns
}

warn_ebs_gp3 contains msg if {
	not ebs_gp3_ok
	input.__type in ebs_gp3_rds_types
	object.get(input.properties, "storageType", null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, storageType is unknown until apply", [label(input)])
}

# RDS storage set by type (an instance, a Multi-AZ DB cluster); without storageType the engine and API
# version decide, so only a type the program sets is judged.
ebs_gp3_rds_types := {"aws:rds/instance:Instance", "aws:rds/cluster:Cluster"}

ebs_gp3_volume_denies contains msg if {
	t := input.properties.type
	ebs_gp3_disallowed(t)
	msg := sprintf("%s uses volume type %s; %s", [label(input), t, ebs_gp3_fix])
}

ebs_gp3_volume_denies contains msg if {
	not "type" in object.keys(input.properties)
	ebs_gp3_disallowed(ebs_gp3_volume_default_type)
	msg := sprintf("%s has no type, so it gets %s; set type to gp3 (cheaper per GiB, 3,000 IOPS baseline)", [label(input), ebs_gp3_volume_default_type])
}

ebs_gp3_device_denies contains msg if {
	some [device, ebs, prefix] in input_ebs_gp3_devices
	t := object.get(ebs, "volumeType", null)
	ebs_gp3_disallowed(t)
	msg := sprintf("%s block device %s uses volume type %s; set %svolumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver", [label(input), device, t, prefix])
}

ebs_gp3_volume_denies contains msg if {
	size := input.properties.size
	is_number(size)
	cap := ebs_gp3_max_size
	size > cap
	msg := sprintf("%s is %v GiB, over the %s cap of %v GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [label(input), size, input_environment, cap])
}

ebs_gp3_device_denies contains msg if {
	some [device, ebs, _] in input_ebs_gp3_devices
	size := object.get(ebs, "volumeSize", null)
	is_number(size)
	cap := ebs_gp3_max_size
	size > cap
	msg := sprintf("%s block device %s is %v GiB, over the %s cap of %v GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [label(input), device, size, input_environment, cap])
}

ebs_gp3_volume_warns contains msg if {
	some prop in ["type", "size"]
	object.get(input.properties, prop, null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, %s is unknown until apply", [label(input), prop])
}

ebs_gp3_cannot(what) := sprintf("%s: cannot decide the EBS volume rule at preview, %s is unknown until apply", [label(input), what])

# Where the devices are kept (blockDeviceMappings, rootBlockDevice, ebsBlockDevices) unknown.
ebs_gp3_device_warns contains ebs_gp3_cannot(field) if {
	some [field, _] in ebs_gp3_device_sources[input.__type]
	object.get(input.properties, field, null) in unknown_sentinels
}

# An element of such a list, or its settings object, unknown.
ebs_gp3_device_warns contains ebs_gp3_cannot(what) if {
	some [field, key] in ebs_gp3_device_sources[input.__type]
	some i, d in ebs_gp3_list(input.properties, field)
	v := ebs_gp3_element(d, key)
	v in unknown_sentinels
	what := ebs_gp3_element_name(field, i, key)
}

ebs_gp3_element_name(field, i, null) := sprintf("%s[%d]", [field, i])

ebs_gp3_element_name(field, i, key) := sprintf("%s[%d].%s", [field, i, key]) if key != null

ebs_gp3_element(d, null) := d

ebs_gp3_element(d, key) := object.get(d, key, null) if {
	key != null
	is_object(d)
}

ebs_gp3_device_warns contains msg if {
	some [device, ebs, prefix] in input_ebs_gp3_devices
	some prop in ["volumeType", "volumeSize"]
	object.get(ebs, prop, null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, block device %s %s%s is unknown until apply", [label(input), device, prefix, prop])
}

# Without volumeType the AMI's block device mapping decides (often gp2): not a known violation, but worth a word.
ebs_gp3_device_warns contains msg if {
	some [device, ebs, prefix] in input_ebs_gp3_devices
	not "volumeType" in object.keys(ebs)
	msg := sprintf("%s block device %s has no %svolumeType, so the AMI's mapping decides (often gp2); set it to gp3", [label(input), device, prefix])
}

# An instance without rootBlockDevice: its root volume's type is the AMI's (often gp2).
ebs_gp3_device_warns contains msg if {
	input.__type != ebs_gp3_launch_template
	object.get(input.properties, "rootBlockDevice", null) == null
	object.get(input.properties, "launchTemplate", null) == null # else the template's devices, judged on it
	msg := sprintf("%s sets no rootBlockDevice, so the AMI's mapping decides its root volume's type (often gp2); set rootBlockDevice.volumeType to gp3", [label(input)])
}
