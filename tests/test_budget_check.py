"""TG011 cost-within-budget: the estimate against the stack's own monthly COST budgets."""

from __future__ import annotations

from tollgate.evaluate.budget_check import cost_findings
from tollgate.model import UNKNOWN, Resource, Snapshot

STACK = "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev"


def budget(name: str, limit, **extra) -> Resource:
    inputs = {"budgetType": "COST", "timeUnit": "MONTHLY", "limitUnit": "USD", "limitAmount": limit, **extra}
    return Resource(f"urn:pulumi:dev::app::aws:budgets/budget:Budget::{name}", "aws:budgets/budget:Budget", name,
                    True, inputs)


def snapshot(*budgets: Resource) -> Snapshot:
    stack = Resource(STACK, "pulumi:pulumi:Stack", "app-dev", False, {})
    return Snapshot("app", "dev", [stack, *budgets])


def test_allow_estimate_within_the_budget():
    assert cost_findings(snapshot(budget("total", "1000.00")), 999.99, 0, STACK) == []
    assert cost_findings(snapshot(budget("total", "1000.00")), 1000.00, 0, STACK) == []


def test_deny_states_the_estimate_and_the_budget():
    [finding] = cost_findings(snapshot(budget("total", "1000.00")), 1312.5, 2, STACK)
    assert (finding.rule, finding.id, finding.urn, finding.name, finding.enforcement, finding.source) == (
        "cost-within-budget", "TG011", STACK, "app-dev", "mandatory", "cost")
    assert finding.message == ("Stack `dev` is estimated at $1,312.50/month (2 resources not priced), over its "
                               "monthly COST budgets of $1,000.00 (total); cut cost (spot, storage tiering, scale to "
                               "zero: see `tollgate cost`) or raise the budget")


def test_team_budgets_with_cost_filters_do_not_add_to_the_ceiling():
    team = budget("ml", "5000.00", costFilters=[{"name": "TagKeyValue", "values": ["user:team$ml"]}])
    [finding] = cost_findings(snapshot(budget("total", "1000.00"), team), 1500.0, 0, STACK)
    assert "budgets of $1,000.00 (total)" in finding.message


def test_only_filtered_budgets_are_summed_when_there_is_no_other():
    teams = [budget(n, "600.00", costFilters=[{"name": "TagKeyValue", "values": [f"user:team${n}"]}])
             for n in ("ml", "data")]
    assert cost_findings(snapshot(*teams), 1100.0, 0, STACK) == []
    assert "budgets of $1,200.00 (data, ml)" in cost_findings(snapshot(*teams), 1300.0, 0, STACK)[0].message


def test_other_budgets_do_not_count_and_no_budget_is_left_to_tg010():
    usage = budget("usage", "10", budgetType="USAGE")
    yearly = budget("yearly", "100", timeUnit="ANNUALLY")
    assert cost_findings(snapshot(usage, yearly), 5000.0, 0, STACK) == []
    assert cost_findings(snapshot(), 5000.0, 0, STACK) == []


def test_unknown_limit_cannot_be_decided():
    [finding] = cost_findings(snapshot(budget("total", UNKNOWN)), 10.0, 0, STACK)
    assert finding.enforcement == "advisory"
    assert finding.message == ("Stack `dev`: cannot decide cost within budget at preview, the limit of total is "
                               "unknown until apply; set limitAmount from known values")


def test_policy_config_levels_apply():
    over = snapshot(budget("total", "10"))
    assert cost_findings(over, 20.0, 0, STACK, level="disabled") == []
    assert cost_findings(over, 20.0, 0, STACK, level="advisory")[0].enforcement == "advisory"
