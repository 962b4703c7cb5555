package tollgate

import rego.v1

# An EBS volume created without `type` is gp2 (the CreateVolume and aws_ebs_volume default).
ebs_gp3_volume_default_type := "gp2"

ebs_gp3_volume := "aws:ebs/volume:Volume"

ebs_gp3_launch_template := "aws:ec2/launchTemplate:LaunchTemplate"

ebs_gp3_max_size := env_cap(data.config["ebs-gp3"].max_size_gib, input_environment)

# The launch template's EBS block devices, each with a name for messages (its device name, else its position):
# a complete rule, evaluated once per resource for the four heads that read it (a function is evaluated anew
# on every call).
input_ebs_gp3_devices := [[name, d.ebs] |
	some i, d in input.properties.blockDeviceMappings
	is_object(d.ebs)
	name := ebs_gp3_device_name(i, d)
] if {
	input.__type == ebs_gp3_launch_template
	is_array(input.properties.blockDeviceMappings)
} else := []

ebs_gp3_device_name(i, d) := d.deviceName if {
	is_string(d.deviceName)
	not d.deviceName in unknown_sentinels
} else := sprintf("blockDeviceMappings[%d]", [i])

ebs_gp3_disallowed(t) if {
	is_string(t)
	t in data.config["ebs-gp3"].disallowed_types
}

ebs_gp3_fix := "use gp3 (cheaper per GiB than gp2, 3,000 IOPS and 125 MiB/s baseline, up to 16,000 IOPS provisioned) or get a waiver"

# Each head has two bodies, one per type: a resource of another type costs one type check per head,
# not one per kind of finding (the rule runs on every resource of the stack).

# METADATA
# title: EBS gp3
# description: >-
#   EBS volumes and launch-template block devices must not use gp2, io1, io2 or standard (gp3 is
#   cheaper and provisions IOPS separately), and a volume must stay within the environment's size cap
#   (dev 200 GiB, staging 1 TiB, prod 16 TiB). A volume without `type` is gp2.
# custom:
#   id: TG009
#   severity: medium
#   enforcement: mandatory
#   resource_types:
#     - "aws:ebs/volume:Volume"
#     - "aws:ec2/launchTemplate:LaunchTemplate"
deny_ebs_gp3 contains msg if {
	input.__type == ebs_gp3_volume
	some msg in ebs_gp3_volume_denies
}

deny_ebs_gp3 contains msg if {
	input.__type == ebs_gp3_launch_template
	some msg in ebs_gp3_lt_denies
}

warn_ebs_gp3 contains msg if {
	input.__type == ebs_gp3_volume
	some msg in ebs_gp3_volume_warns
}

warn_ebs_gp3 contains msg if {
	input.__type == ebs_gp3_launch_template
	some msg in ebs_gp3_lt_warns
}

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

ebs_gp3_lt_denies contains msg if {
	some [device, ebs] in input_ebs_gp3_devices
	t := object.get(ebs, "volumeType", null)
	ebs_gp3_disallowed(t)
	msg := sprintf("%s block device %s uses volume type %s; set ebs.volumeType to gp3 (cheaper per GiB, 3,000 IOPS baseline) or get a waiver", [label(input), device, t])
}

ebs_gp3_volume_denies contains msg if {
	size := input.properties.size
	is_number(size)
	cap := ebs_gp3_max_size
	size > cap
	msg := sprintf("%s is %v GiB, over the %s cap of %v GiB; use a smaller volume (bulk data belongs in S3) or get a waiver", [label(input), size, input_environment, cap])
}

ebs_gp3_lt_denies contains msg if {
	some [device, ebs] in input_ebs_gp3_devices
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

ebs_gp3_lt_warns contains msg if {
	object.get(input.properties, "blockDeviceMappings", null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, blockDeviceMappings is unknown until apply", [label(input)])
}

ebs_gp3_lt_warns contains msg if {
	mappings := object.get(input.properties, "blockDeviceMappings", [])
	is_array(mappings)
	some i, d in mappings
	is_object(d)
	object.get(d, "ebs", null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, blockDeviceMappings[%d].ebs is unknown until apply", [label(input), i])
}

ebs_gp3_lt_warns contains msg if {
	some [device, ebs] in input_ebs_gp3_devices
	some prop in ["volumeType", "volumeSize"]
	object.get(ebs, prop, null) in unknown_sentinels
	msg := sprintf("%s: cannot decide the EBS volume rule at preview, block device %s ebs.%s is unknown until apply", [label(input), device, prop])
}

# Without volumeType the AMI's block device mapping decides (often gp2): not a known violation, but worth a word.
ebs_gp3_lt_warns contains msg if {
	some [device, ebs] in input_ebs_gp3_devices
	not "volumeType" in object.keys(ebs)
	msg := sprintf("%s block device %s has no ebs.volumeType, so the AMI's mapping decides (often gp2); set it to gp3", [label(input), device])
}
