package tollgate

import rego.v1

# Stack rule: a stack that creates AWS resources needs a budget that warns before its limit is spent.
# Which budget types count (COST by default) and how high an "early" alert may be are parameters.

budget_required_type := "aws:budgets/budget:Budget"

# Providers and the stack itself cost nothing: only a stack with AWS resources needs a budget.
budget_required_applies if {
	some t, _ in stack_positions_by_type
	startswith(t, "aws:")
}

budget_required_stack_urn := urn if {
	some i in stack_positions_by_type["pulumi:pulumi:Stack"]
	urn := input.resources[i].__urn
} else := ""

budget_required_counted(b) if {
	b.__type == budget_required_type
	object.get(b.properties, "budgetType", null) in data.config["budget-required"].budget_types
}

budget_required_type_unknown(b) if {
	b.__type == budget_required_type
	is_unknown(object.get(b.properties, "budgetType", null))
}

budget_required_budgets := [b | some i in stack_positions_by_type[budget_required_type]; b := input.resources[i]; budget_required_counted(b)]

budget_required_notifications(b) := ns if {
	ns := object.get(b.properties, "notifications", [])
	is_array(ns)
} else := []

# Operators that fire as spend rises; LESS_THAN alerts on under-spend.
budget_required_rising := {"GREATER_THAN", "EQUAL_TO"}

budget_required_limit(b) := to_number(b.properties.limitAmount) if {
	is_string(b.properties.limitAmount)
	not is_unknown(b.properties.limitAmount)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, b.properties.limitAmount)
}

budget_required_early_threshold(_, n) if {
	n.thresholdType == "PERCENTAGE"
	n.threshold <= data.config["budget-required"].max_threshold_percent
}

budget_required_early_threshold(b, n) if {
	n.thresholdType == "ABSOLUTE_VALUE"
	n.threshold <= budget_required_limit(b) * data.config["budget-required"].max_threshold_percent / 100
}

# An ACTUAL or FORECASTED notification at or below the limit, as spend rises.
budget_required_early(b) if {
	some n in budget_required_notifications(b)
	is_object(n)
	n.notificationType in {"ACTUAL", "FORECASTED"}
	n.comparisonOperator in budget_required_rising
	is_number(n.threshold)
	budget_required_early_threshold(b, n)
}

budget_required_notification_fields := ["notificationType", "comparisonOperator", "threshold", "thresholdType"]

budget_required_undecided(b) if is_unknown(object.get(b.properties, "notifications", null))

budget_required_undecided(b) if {
	some n in budget_required_notifications(b)
	is_unknown(n)
}

budget_required_undecided(b) if {
	some n in budget_required_notifications(b)
	is_object(n)
	some field in budget_required_notification_fields
	is_unknown(object.get(n, field, null))
}

budget_required_undecided(b) if {
	some n in budget_required_notifications(b)
	n.thresholdType == "ABSOLUTE_VALUE"
	is_unknown(object.get(b.properties, "limitAmount", null))
}

budget_required_any_early if {
	some b in budget_required_budgets
	budget_required_early(b)
}

budget_required_any_undecided if {
	some b in budget_required_budgets
	budget_required_undecided(b)
}

budget_required_type_unknowns := [b |
	some i in stack_positions_by_type[budget_required_type]
	b := input.resources[i]
	budget_required_type_unknown(b)
]

budget_required_types_text := concat(" or ", data.config["budget-required"].budget_types)

# METADATA
# title: Budget required
# description: >-
#   A stack with AWS resources needs an AWS Budget (of type COST by default) with a notification
#   (actual or forecasted, rising) at or below 100 % of its limit, so someone hears of an overspend
#   before it happens. One budget with such an alert is enough.
# custom:
#   id: TG010
#   severity: high
#   enforcement: mandatory
stack_deny_budget_required contains finding if {
	budget_required_applies
	count(budget_required_budgets) == 0
	count(budget_required_type_unknowns) == 0
	finding := {"urn": budget_required_stack_urn, "msg": sprintf("Stack `%s` has no AWS Budget of type %s; add tollgate_components.CostBudget (a monthly budget that alerts on actual and forecasted spend before the limit is reached)", [data.stack.name, budget_required_types_text])}
}

stack_deny_budget_required contains finding if {
	not budget_required_any_early
	not budget_required_any_undecided
	count(budget_required_type_unknowns) == 0
	some b in budget_required_budgets
	finding := {"urn": b.__urn, "msg": sprintf("%s has no notification at or below %v %% of its limit (actual or forecasted), so nobody hears of an overspend before it happens; add one (e.g. ACTUAL GREATER_THAN 80 PERCENTAGE) or use tollgate_components.CostBudget", [label(b), data.config["budget-required"].max_threshold_percent])}
}

stack_warn_budget_required contains finding if {
	not budget_required_any_early
	some b in budget_required_budgets
	budget_required_undecided(b)
	finding := {"urn": b.__urn, "msg": sprintf("%s: cannot decide the budget rule at preview, its notifications (or limitAmount) are unknown until apply; build them from known values", [label(b)])}
}

# A budget of unknown type may be the one that counts.
stack_warn_budget_required contains finding if {
	not budget_required_any_early
	some b in budget_required_type_unknowns
	finding := {"urn": b.__urn, "msg": sprintf("%s: cannot decide the budget rule at preview, its budgetType is unknown until apply; set it to %s", [label(b), budget_required_types_text])}
}
