"""Cost at preview time: each resource's monthly cost from the sourced price table, and its naive twin.

    from tollgate.cost import estimate, load_usage, usage_path
    est = estimate(snapshot, load_usage(usage_path(project.stack_config_dir, "prod")))
    est.monthly_usd, est.baseline_monthly_usd, est.not_priced

Rendering: tollgate.report.cost_table (render_table, render_json). Usage keys: docs/usage.md.
"""

from .estimate import Estimate, LineItem, estimate
from .usage import Usage, load_usage, stack_usage, usage_path

__all__ = ["Estimate", "LineItem", "Usage", "estimate", "load_usage", "stack_usage", "usage_path"]
