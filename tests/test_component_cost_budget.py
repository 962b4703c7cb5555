"""CostBudget: Args validation in plain Python; resources and inputs under the SDK mocks (one capture of a
program with an account budget and a team budget with anomaly detection); zero findings when tagged."""

from __future__ import annotations

import json

import pytest

from conftest import capture_source
from tollgate.evaluate import evaluate

from tollgate_components.cost_budget import CostBudgetArgs, topic_policy

PROGRAM = """
import pulumi, pulumi_aws as aws
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
tags = {"project": "tollgate", "environment": "dev", "team": "ml", "cost-center": "cc-1", "owner": "ml@example.com"}
provider = aws.Provider("aws", region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(provider=provider)
CostBudget("account", CostBudgetArgs(limit_usd=5000, emails=["team@example.com", "finance@example.com"]), opts=opts)
CostBudget("ml", CostBudgetArgs(limit_usd=1234.5, actual_thresholds=[80, 100], forecast_thresholds=[120],
                                filter_tag_values=["ml"], anomaly_detection=True, anomaly_threshold_usd=250),
           opts=opts)
"""
TOPIC = "urn:pulumi:dev::inline::tollgate:components:CostBudget$aws:sns/topic:Topic::{}-alerts"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("budget"), PROGRAM, {"tollgate:environment": "dev"})


def _named(snapshot):
    return {r.name: r for r in snapshot.resources}


def _children(snapshot, name):
    parent = _named(snapshot)[name]
    assert parent.type == "tollgate:components:CostBudget"
    return {r.name: r.type for r in snapshot.resources if r.parent == parent.urn}


def test_children_are_named_and_parented(snapshot):
    assert _children(snapshot, "account") == {
        "account-alerts": "aws:sns/topic:Topic", "account-alerts-policy": "aws:sns/topicPolicy:TopicPolicy",
        "account-email-0": "aws:sns/topicSubscription:TopicSubscription",
        "account-email-1": "aws:sns/topicSubscription:TopicSubscription",
        "account-budget": "aws:budgets/budget:Budget"}
    assert _children(snapshot, "ml") == {
        "ml-alerts": "aws:sns/topic:Topic", "ml-alerts-policy": "aws:sns/topicPolicy:TopicPolicy",
        "ml-budget": "aws:budgets/budget:Budget",
        "ml-anomaly-monitor": "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
        "ml-anomaly-alerts": "aws:costexplorer/anomalySubscription:AnomalySubscription"}


def test_budget_is_monthly_cost_with_default_thresholds_to_the_topic(snapshot):
    budget = _named(snapshot)["account-budget"]
    inputs = budget.inputs
    assert (inputs["budgetType"], inputs["timeUnit"], inputs["limitAmount"], inputs["limitUnit"]) == \
        ("COST", "MONTHLY", "5000.00", "USD")
    assert "costFilters" not in inputs
    alerts = [(n["notificationType"], n["threshold"]) for n in inputs["notifications"]]
    assert alerts == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 95), ("ACTUAL", 100),
                      ("FORECASTED", 100), ("FORECASTED", 120)]
    assert {(n["thresholdType"], n["comparisonOperator"]) for n in inputs["notifications"]} == \
        {("PERCENTAGE", "GREATER_THAN")}
    assert all(len(n["subscriberSnsTopicArns"]) == 1 for n in inputs["notifications"])
    assert budget.property_dependencies["notifications"] == [TOPIC.format("account")]
    # created after the topic policy: Budgets checks it may publish when the budget is created
    assert _named(snapshot)["account-alerts-policy"].urn in budget.dependencies


def test_topic_policy_and_email_subscriptions(snapshot):
    names = _named(snapshot)
    policy = names["account-alerts-policy"]
    assert policy.property_dependencies == {"arn": [TOPIC.format("account")], "policy": [TOPIC.format("account")]}
    emails = [names[f"account-email-{i}"].inputs for i in range(2)]
    assert [(e["protocol"], e["endpoint"]) for e in emails] == [
        ("email", "team@example.com"), ("email", "finance@example.com")]


def test_team_budget_filters_by_tag_and_watches_anomalies(snapshot):
    names = _named(snapshot)
    inputs = names["ml-budget"].inputs
    assert inputs["limitAmount"] == "1234.50"
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$ml"]}]
    assert [(n["notificationType"], n["threshold"]) for n in inputs["notifications"]] == [
        ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 120)]
    monitor = names["ml-anomaly-monitor"].inputs
    assert monitor["monitorType"] == "CUSTOM"
    assert json.loads(monitor["monitorSpecification"]) == {
        "Tags": {"Key": "team", "Values": ["ml"], "MatchOptions": ["EQUALS"]}}
    alerts = names["ml-anomaly-alerts"]
    assert alerts.inputs["frequency"] == "IMMEDIATE"
    assert alerts.inputs["subscribers"][0]["type"] == "SNS"
    assert alerts.property_dependencies["subscribers"] == [TOPIC.format("ml")]
    assert alerts.inputs["thresholdExpression"] == {"dimension": {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"], "values": ["250"]}}


def test_program_passes_every_rule(snapshot):
    assert evaluate(snapshot)[1] == []
    # TG010 (not implemented yet): every budget alerts at or below 100 %.
    for budget in (r for r in snapshot.resources if r.type == "aws:budgets/budget:Budget"):
        assert any(n["threshold"] <= 100 for n in budget.inputs["notifications"])


def test_topic_policy_lets_only_this_accounts_budgets_publish():
    arn = "arn:aws:sns:us-east-1:123456789012:alerts"
    budgets, = json.loads(topic_policy(arn, anomaly_detection=False))["Statement"]
    assert budgets["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert (budgets["Action"], budgets["Resource"]) == ("SNS:Publish", arn)
    assert budgets["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                    "ArnLike": {"aws:SourceArn": "arn:aws:budgets::123456789012:*"}}
    statements = json.loads(topic_policy(arn, anomaly_detection=True))["Statement"]
    assert [s["Principal"]["Service"] for s in statements] == ["budgets.amazonaws.com", "costalerts.amazonaws.com"]


def test_args_defaults_alert_early():
    args = CostBudgetArgs(limit_usd=100)
    assert list(args.actual_thresholds) == [50, 80, 95, 100] and list(args.forecast_thresholds) == [100, 120]
    assert args.anomaly_detection is False and args.allow_no_early_alert is False


def test_late_alerts_only_with_explicit_argument():
    args = CostBudgetArgs(limit_usd=100, actual_thresholds=[110], forecast_thresholds=[], allow_no_early_alert=True)
    assert list(args.actual_thresholds) == [110]


@pytest.mark.parametrize("overrides, field", [
    ({"limit_usd": 0}, "limit_usd"),
    ({"limit_usd": -5}, "limit_usd"),
    ({"limit_usd": "100"}, "limit_usd"),
    ({"actual_thresholds": [0]}, "actual_thresholds"),
    ({"actual_thresholds": [1001]}, "actual_thresholds"),
    ({"actual_thresholds": [80, 80]}, "actual_thresholds"),
    ({"forecast_thresholds": [-1]}, "forecast_thresholds"),
    ({"forecast_thresholds": "100"}, "forecast_thresholds"),
    ({"actual_thresholds": [110, 150], "forecast_thresholds": [120]}, "actual_thresholds"),  # no early alert
    ({"actual_thresholds": [], "forecast_thresholds": []}, "actual_thresholds"),
    ({"actual_thresholds": list(range(10, 90, 10)), "forecast_thresholds": [100, 110, 120]}, "actual_thresholds"),
    ({"emails": ["not-an-email"]}, "emails"),
    ({"emails": "team@example.com"}, "emails"),
    ({"filter_tag_key": "te$am", "filter_tag_values": ["ml"]}, "filter_tag_key"),
    ({"filter_tag_values": [""]}, "filter_tag_values"),
    ({"filter_tag_values": "ml"}, "filter_tag_values"),
    ({"anomaly_threshold_usd": 0}, "anomaly_threshold_usd"),
])
def test_args_validation_names_the_field(overrides, field):
    with pytest.raises(ValueError, match=rf"^CostBudgetArgs\.{field}: "):
        CostBudgetArgs(**{"limit_usd": 100, **overrides})
