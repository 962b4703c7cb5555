"""TG011 cost-within-budget: the stack's estimated monthly cost against its own monthly COST budgets.

A stack rule of the cost source (Python, not Rego: it needs the estimator). The budgets that count are
the monthly COST budgets in USD without cost filters: a filtered budget (per team, per tag) covers part
of the same spend, so adding it to the whole-stack budget would count that spend twice. When every
budget is filtered, their sum is the ceiling. No budget at all is budget-required's (TG010) finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..model import UNKNOWN, Finding, Resource, Snapshot

RULE, RULE_ID, SEVERITY = "cost-within-budget", "TG011", "high"
DESCRIPTION = ("The stack's estimated monthly cost must not exceed its monthly COST budgets (those without "
               "cost filters; the filtered ones when all are filtered).")


@dataclass(frozen=True)
class RuleInfo:
    """TG011 as a report lists the rules that ran, beside the Rego rules (the same attributes as rego.Rule)."""

    name: str = RULE
    id: str = RULE_ID
    title: str = "Cost within budget"
    description: str = DESCRIPTION
    severity: str = SEVERITY
    enforcement: str = "mandatory"
    file: str = "budget_check.py"


@dataclass(frozen=True)
class Budget:
    resource: Resource
    limit: Optional[float]   # None: unknown at preview
    filtered: bool


def _limit(value: Any) -> Optional[float]:
    try:
        return None if value == UNKNOWN else float(value)
    except (TypeError, ValueError):
        return None


def monthly_budgets(snapshot: Snapshot) -> list[Budget]:
    budgets = []
    for r in snapshot.resources:
        if r.type != "aws:budgets/budget:Budget":
            continue
        i = r.inputs
        if i.get("budgetType", "COST") != "COST" or i.get("timeUnit") != "MONTHLY" or i.get("limitUnit", "USD") != "USD":
            continue
        budgets.append(Budget(r, _limit(i.get("limitAmount")), bool(i.get("costFilters") or i.get("costFilter"))))
    return budgets


def _money(usd: float) -> str:
    return f"${usd:,.2f}"


def cost_findings(snapshot: Snapshot, monthly_usd: float, not_priced: int, stack_urn: str,
                  level: str = "mandatory") -> list[Finding]:
    """The TG011 finding (or a cannot-decide one), given the stack's estimate."""
    budgets = monthly_budgets(snapshot)
    counted = [b for b in budgets if not b.filtered] or budgets
    if not counted or level == "disabled":
        return []
    name = f"Stack `{snapshot.stack}`"

    root = next((r.name for r in snapshot.resources if r.urn == stack_urn), "")

    def finding(enforcement: str, message: str) -> Finding:
        return Finding(rule=RULE, id=RULE_ID, urn=stack_urn, type="pulumi:pulumi:Stack", name=root,
                       enforcement=enforcement, severity=SEVERITY, message=message, source="cost")

    unknown = [b.resource.name for b in counted if b.limit is None]
    if unknown:
        return [finding("advisory", f"{name}: cannot decide cost within budget at preview, the limit of "
                                    f"{', '.join(unknown)} is unknown until apply; set limitAmount from known values")]
    ceiling = sum(b.limit for b in counted)
    if monthly_usd <= ceiling:
        return []
    names = ", ".join(sorted(b.resource.name for b in counted))
    unpriced = f" ({not_priced} resources not priced)" if not_priced else ""
    return [finding(level, f"{name} is estimated at {_money(monthly_usd)}/month{unpriced}, over its monthly COST "
                           f"budgets of {_money(ceiling)} ({names}); cut cost (spot, storage tiering, scale to zero: "
                           "see `tollgate cost`) or raise the budget")]
