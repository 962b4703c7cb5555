# Tests for budget-required (TG010), a stack rule: input.resources is the whole stack and each finding
# is {"urn", "msg"}. Naming convention: see instance_size_cap_test.rego. Helpers are prefixed tg010_.
package tollgate

import rego.v1

tg010_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

tg010_dev := {"name": "dev"}

tg010_resource(type, name, properties) := {
	"__type": type,
	"__name": name,
	"__urn": sprintf("urn:pulumi:dev::atlas::%s::%s", [type, name]),
	"properties": properties,
	"options": {},
	"provider": {},
	"dependencies": [],
	"propertyDependencies": {},
}

tg010_root := tg010_resource("pulumi:pulumi:Stack", "atlas-dev", {})

tg010_root_urn := "urn:pulumi:dev::atlas::pulumi:pulumi:Stack::atlas-dev"

tg010_provider := tg010_resource("pulumi:providers:aws", "default", {"region": "us-east-1"})

tg010_bucket := tg010_resource("aws:s3/bucket:Bucket", "raw", {})

tg010_notification(kind, operator, threshold, threshold_type) := {
	"notificationType": kind,
	"comparisonOperator": operator,
	"threshold": threshold,
	"thresholdType": threshold_type,
	"subscriberEmailAddresses": ["finops@example.com"],
}

tg010_pct(kind, threshold) := tg010_notification(kind, "GREATER_THAN", threshold, "PERCENTAGE")

tg010_budget_named(name, properties) := tg010_resource("aws:budgets/budget:Budget", name, object.union(
	{"budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": "1000.00", "limitUnit": "USD"},
	properties,
))

tg010_budget(notifications) := tg010_budget_named("team", {"notifications": notifications})

tg010_budget_urn(name) := sprintf("urn:pulumi:dev::atlas::aws:budgets/budget:Budget::%s", [name])

tg010_team := "`team` (aws:budgets/budget:Budget)"

tg010_no_budget(stack) := sprintf("Stack `%s` has no AWS Budget of type COST; add tollgate_components.CostBudget (a monthly budget that alerts on actual and forecasted spend before the limit is reached)", [stack])

tg010_late(label) := sprintf("%s has no notification at or below 100 %% of its limit (actual or forecasted), so nobody hears of an overspend before it happens; add one (e.g. ACTUAL GREATER_THAN 80 PERCENTAGE) or use tollgate_components.CostBudget", [label])

tg010_cannot(label) := sprintf("%s: cannot decide the budget rule at preview, its notifications (or limitAmount) are unknown until apply; build them from known values", [label])

tg010_at(urn, msg) := {"urn": urn, "msg": msg}

# --- allow ---

test_budget_required_allow_actual_at_eighty_percent if {
	s := {"resources": [tg010_root, tg010_bucket, tg010_budget([tg010_pct("ACTUAL", 80)])]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_forecast_at_exactly_one_hundred if {
	s := {"resources": [tg010_root, tg010_bucket, tg010_budget([tg010_pct("FORECASTED", 100)])]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_equal_to_operator if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_notification("ACTUAL", "EQUAL_TO", 90, "PERCENTAGE")])]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_absolute_value_under_limit if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_notification("ACTUAL", "GREATER_THAN", 800, "ABSOLUTE_VALUE")])]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_one_early_budget_covers_a_late_one if {
	s := {"resources": [
		tg010_bucket,
		tg010_budget([tg010_pct("ACTUAL", 80)]),
		tg010_budget_named("late", {"notifications": [tg010_pct("ACTUAL", 120)]}),
	]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_early_budget_beside_unknown_one if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_pct("ACTUAL", 80)]), tg010_budget_named("other", {"notifications": tg010_unknown})]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_stack_without_aws_resources if {
	s := {"resources": [tg010_root, tg010_provider, tg010_resource("kubernetes:core/v1:Namespace", "ml", {})]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_empty_stack if {
	s := {"resources": [tg010_root]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_allow_usage_budget_when_configured if {
	b := tg010_budget_named("hours", {"budgetType": "USAGE", "notifications": [tg010_pct("ACTUAL", 80)]})
	s := {"resources": [tg010_bucket, b]}
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
		with data.config["budget-required"].budget_types as ["COST", "USAGE"]
}

# --- deny ---

test_budget_required_deny_no_budget if {
	s := {"resources": [tg010_root, tg010_provider, tg010_bucket]}
	stack_deny_budget_required == {tg010_at(tg010_root_urn, "Stack `dev` has no AWS Budget of type COST; add tollgate_components.CostBudget (a monthly budget that alerts on actual and forecasted spend before the limit is reached)")} with input as s
		with data.stack as tg010_dev
	count(stack_warn_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_deny_no_budget_without_stack_resource if {
	# No pulumi:pulumi:Stack in the input: the finding still comes, with an empty urn (the engine uses the root).
	s := {"resources": [tg010_bucket]}
	stack_deny_budget_required == {tg010_at("", tg010_no_budget("prod"))} with input as s with data.stack as {"name": "prod"}
}

test_budget_required_deny_only_usage_budget if {
	b := tg010_budget_named("hours", {"budgetType": "USAGE", "notifications": [tg010_pct("ACTUAL", 80)]})
	s := {"resources": [tg010_root, tg010_bucket, b]}
	stack_deny_budget_required == {tg010_at(tg010_root_urn, tg010_no_budget("dev"))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_budget_without_notifications if {
	s := {"resources": [tg010_root, tg010_bucket, tg010_budget_named("team", {})]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_only_late_alerts if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_pct("ACTUAL", 110), tg010_pct("FORECASTED", 150)])]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_less_than_alert if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_notification("ACTUAL", "LESS_THAN", 50, "PERCENTAGE")])]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_absolute_value_over_limit if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_notification("ACTUAL", "GREATER_THAN", 1200, "ABSOLUTE_VALUE")])]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_absolute_value_without_limit_amount if {
	# Planned or auto-adjusted limits: no single limit to compare an absolute threshold with.
	b := tg010_resource("aws:budgets/budget:Budget", "team", {
		"budgetType": "COST", "timeUnit": "MONTHLY",
		"notifications": [tg010_notification("ACTUAL", "GREATER_THAN", 500, "ABSOLUTE_VALUE")],
	})
	s := {"resources": [tg010_bucket, b]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team))} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_every_late_budget if {
	s := {"resources": [
		tg010_bucket,
		tg010_budget([tg010_pct("ACTUAL", 120)]),
		tg010_budget_named("ml", {"notifications": [tg010_pct("FORECASTED", 200)]}),
	]}
	stack_deny_budget_required == {
		tg010_at(tg010_budget_urn("team"), tg010_late(tg010_team)),
		tg010_at(tg010_budget_urn("ml"), tg010_late("`ml` (aws:budgets/budget:Budget)")),
	} with input as s with data.stack as tg010_dev
}

test_budget_required_deny_tuned_threshold if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_pct("ACTUAL", 95)])]}
	stack_deny_budget_required == {tg010_at(tg010_budget_urn("team"), "`team` (aws:budgets/budget:Budget) has no notification at or below 80 % of its limit (actual or forecasted), so nobody hears of an overspend before it happens; add one (e.g. ACTUAL GREATER_THAN 80 PERCENTAGE) or use tollgate_components.CostBudget")} with input as s
		with data.stack as tg010_dev
		with data.config["budget-required"].max_threshold_percent as 80
}

# --- warn: cannot decide at preview ---

test_budget_required_warn_notifications_unknown if {
	s := {"resources": [tg010_bucket, tg010_budget(tg010_unknown)]}
	stack_warn_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_cannot(tg010_team))} with input as s with data.stack as tg010_dev
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_warn_threshold_unknown if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_pct("ACTUAL", tg010_unknown)])]}
	stack_warn_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_cannot(tg010_team))} with input as s with data.stack as tg010_dev
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_warn_limit_unknown_for_absolute_threshold if {
	b := tg010_budget_named("team", {"limitAmount": tg010_unknown, "notifications": [tg010_notification("ACTUAL", "GREATER_THAN", 500, "ABSOLUTE_VALUE")]})
	s := {"resources": [tg010_bucket, b]}
	stack_warn_budget_required == {tg010_at(tg010_budget_urn("team"), tg010_cannot(tg010_team))} with input as s with data.stack as tg010_dev
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_warn_unknown_budget_keeps_late_one_from_deny if {
	s := {"resources": [tg010_bucket, tg010_budget([tg010_pct("ACTUAL", 150)]), tg010_budget_named("other", {"notifications": tg010_unknown})]}
	stack_warn_budget_required == {tg010_at(tg010_budget_urn("other"), tg010_cannot("`other` (aws:budgets/budget:Budget)"))} with input as s
		with data.stack as tg010_dev
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}

test_budget_required_warn_budget_type_unknown if {
	b := tg010_budget_named("team", {"budgetType": tg010_unknown, "notifications": [tg010_pct("ACTUAL", 80)]})
	s := {"resources": [tg010_root, tg010_bucket, b]}
	stack_warn_budget_required == {tg010_at(tg010_budget_urn("team"), "`team` (aws:budgets/budget:Budget): cannot decide the budget rule at preview, its budgetType is unknown until apply; set it to COST")} with input as s
		with data.stack as tg010_dev
	count(stack_deny_budget_required) == 0 with input as s with data.stack as tg010_dev
}
