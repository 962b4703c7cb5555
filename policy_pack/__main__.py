"""Tollgate's CrossGuard pack: `pulumi preview --policy-pack policy_pack`.

Only builds the PolicyPack. The policies are the Rego rules named below (rego_policies.py turns each
into a policy and refuses to start when this list and rego/ disagree).
"""

from pulumi_policy import PolicyPack

import rego_policies

RULES = ["required-tags", "instance-size-cap"]

PolicyPack(name="tollgate", policies=rego_policies.policies(RULES))
