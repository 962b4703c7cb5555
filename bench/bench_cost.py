"""The reference platform's monthly estimate against its naive twin (every cost lever off), per stack.

Issue 5's target: at least 60 % saving on prod. Prints what drives the saving, line by line.
Run: .venv/bin/python bench/bench_cost.py [stack ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tollgate.capture.host import capture
from tollgate.cost import estimate, load_usage, usage_path
from tollgate.project import load_project

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    for stack in sys.argv[1:] or ["dev", "staging", "prod"]:
        costs = estimate(capture(ROOT, stack), load_usage(usage_path(load_project(ROOT).stack_config_dir, stack)))
        saving = costs.baseline_monthly_usd - costs.monthly_usd
        share = 100 * saving / costs.baseline_monthly_usd if costs.baseline_monthly_usd else 0.0
        print(f"{stack}: ${costs.monthly_usd:,.2f}/month vs naive twin ${costs.baseline_monthly_usd:,.2f}: "
              f"saving ${saving:,.2f} ({share:.1f} %), {len(costs.not_priced)} not priced, prices {costs.price_date}")
        lines = sorted((i for i in costs.resources if i.baseline_monthly_usd), key=lambda i: i.monthly_usd - i.baseline_monthly_usd)
        for item in lines:
            print(f"    {item.name:28s} ${item.monthly_usd:9,.2f}  naive ${item.baseline_monthly_usd:9,.2f}  "
                  f"saving ${item.baseline_monthly_usd - item.monthly_usd:9,.2f}")


if __name__ == "__main__":
    main()
