"""Tollgate's CrossGuard pack: `pulumi preview --policy-pack policy_pack`.

Only builds the PolicyPack. The policies are the Rego rules named below (rego_policies.py turns each
into a policy and refuses to start when this list and rego/ disagree).
"""

from pulumi_policy import PolicyPack

import rego_policies

RULES = [
    "required-tags",                # TG001
    "instance-size-cap",            # TG002
    "gpu-approval",                 # TG003
    "database-size-cap",            # TG004
    "node-pool-bounds",             # TG005
    "spot-outside-prod",            # TG006
    "scale-to-zero-outside-prod",   # TG007
    "bucket-lifecycle",             # TG008
    "ebs-gp3",                      # TG009
    "budget-required",              # TG010
    "k8s-resource-limits",          # TG012
    "k8s-namespace-quota",          # TG013
    "k8s-cost-labels",              # TG014
    "nat-gateway-sprawl",           # TG015
    "unattached-eip",               # TG016
]

PolicyPack(name="tollgate", policies=rego_policies.policies(RULES))
