"""The checkov bridge (`tollgate preview --checkov`): the snapshot's AWS resources as a Terraform plan JSON
(plan.py), its Kubernetes resources as manifests (manifests.py), checkov run in its own virtualenv and its
failed checks mapped back to the Pulumi urns as findings with `source: checkov` (run.py)."""

from .manifests import build_manifests
from .plan import build_plan
from .run import locate_checkov, map_results, run_checkov

__all__ = ["build_manifests", "build_plan", "locate_checkov", "map_results", "run_checkov"]
