"""CostBudget: a monthly AWS cost budget (optionally one team's, by cost allocation tag) that alerts early
through an SNS topic, plus an optional Cost Explorer anomaly monitor on the same topic.

    CostBudget("ml", CostBudgetArgs(limit_usd=20_000, emails=["ml-leads@example.com"],
                                    filter_tag_values=["ml-platform"], anomaly_detection=True))
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
MAX_NOTIFICATIONS = 10  # AWS Budgets: up to ten notifications per budget


def _fail(field_name: str, problem: str) -> ValueError:
    return ValueError(f"CostBudgetArgs.{field_name}: {problem}")


def _check_thresholds(field_name: str, thresholds: Sequence[float]) -> None:
    if isinstance(thresholds, (str, bytes)):
        raise _fail(field_name, f"must be a list of percentages, got {thresholds!r}")
    for t in thresholds:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1000:
            raise _fail(field_name, f"each threshold must be a percentage in (0, 1000], got {t!r}")
    if len(set(thresholds)) != len(thresholds):
        raise _fail(field_name, f"thresholds must be distinct (AWS rejects duplicates), got {list(thresholds)}")


@dataclass
class CostBudgetArgs:
    limit_usd: float
    """Monthly cost limit in USD (> 0). TG011 compares the stack's estimated cost with its budgets."""
    actual_thresholds: Sequence[float] = (50, 80, 95, 100)
    """Alert when actual spend passes these percentages of the limit."""
    forecast_thresholds: Sequence[float] = (100, 120)
    """Alert when the month's forecast passes these percentages of the limit."""
    allow_no_early_alert: bool = False
    """Permit thresholds that are all over 100 % (or none): alerts only after the money is spent.
    TG010 still blocks such a stack unless another budget alerts at <= 100 %."""
    emails: Sequence[str] = ()
    """Addresses subscribed to the alert topic (each must confirm the SNS subscription once)."""
    filter_tag_key: str = "team"
    """Cost allocation tag the budget filters on, when filter_tag_values is given (must be activated as a
    cost allocation tag in Billing, or the budget sees no spend)."""
    filter_tag_values: Sequence[str] = ()
    """Only count cost whose filter_tag_key tag has one of these values (e.g. ["ml-platform"]); empty = all."""
    anomaly_detection: bool = False
    """Also create a Cost Explorer anomaly monitor (per tag when filtered, else per service) alerting the
    topic. Off by default: an account allows only one per-service monitor."""
    anomaly_threshold_usd: float = 100.0
    """Alert on anomalies whose total impact is at least this many USD (> 0)."""
    topic_kms_key_id: Optional[pulumi.Input[str]] = None
    """Customer-managed KMS key for the topic; its key policy must let budgets.amazonaws.com (and
    costalerts.amazonaws.com) use it. The AWS-managed aws/sns key cannot be used by Budgets."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags on every taggable child, on top of the stack's tag set."""

    def __post_init__(self) -> None:
        if isinstance(self.limit_usd, bool) or not isinstance(self.limit_usd, (int, float)) or self.limit_usd <= 0:
            raise _fail("limit_usd", f"must be a positive amount of USD, got {self.limit_usd!r}")
        _check_thresholds("actual_thresholds", self.actual_thresholds)
        _check_thresholds("forecast_thresholds", self.forecast_thresholds)
        thresholds = [*self.actual_thresholds, *self.forecast_thresholds]
        if len(thresholds) > MAX_NOTIFICATIONS:
            raise _fail("actual_thresholds", f"AWS allows {MAX_NOTIFICATIONS} notifications per budget, "
                                             f"got {len(thresholds)} actual + forecasted thresholds")
        if not any(t <= 100 for t in thresholds) and not self.allow_no_early_alert:
            raise _fail("actual_thresholds", "no threshold at or below 100 %, so nobody hears of the overspend "
                                             "before it happens; add one (e.g. 80) or set allow_no_early_alert=True")
        bad = [e for e in self.emails if not isinstance(e, str) or not EMAIL.match(e)]
        if isinstance(self.emails, str) or bad:
            raise _fail("emails", f"must be a list of email addresses, got {bad or self.emails!r}")
        if not self.filter_tag_key or "$" in self.filter_tag_key:
            raise _fail("filter_tag_key", f"must be a tag key without '$', got {self.filter_tag_key!r}")
        if isinstance(self.filter_tag_values, str) or not all(isinstance(v, str) and v for v in self.filter_tag_values):
            raise _fail("filter_tag_values", f"must be a list of non-empty tag values, got {self.filter_tag_values!r}")
        t = self.anomaly_threshold_usd
        if isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0:
            raise _fail("anomaly_threshold_usd", f"must be a positive amount of USD, got {self.anomaly_threshold_usd!r}")


def topic_policy(topic_arn: str, anomaly_detection: bool) -> str:
    """Only the Budgets (and, with anomaly detection, Cost Anomaly Detection) services of this account may
    publish: the account conditions stop another account's budget from using the topic."""
    account = topic_arn.split(":")[4]
    statements = [{
        "Sid": "AllowBudgetsPublish", "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"},
        "Action": "SNS:Publish", "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": account},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{account}:*"}},
    }]
    if anomaly_detection:
        statements.append({
            "Sid": "AllowAnomalyDetectionPublish", "Effect": "Allow",
            "Principal": {"Service": "costalerts.amazonaws.com"}, "Action": "SNS:Publish", "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class CostBudget(pulumi.ComponentResource):
    budget: aws.budgets.Budget
    topic: aws.sns.Topic
    monitor: Optional[aws.costexplorer.AnomalyMonitor]
    anomaly_subscription: Optional[aws.costexplorer.AnomalySubscription]

    def __init__(self, name: str, args: CostBudgetArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("tollgate:components:CostBudget", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = dict(args.tags) or None  # absent rather than empty: the stack's tags come from the provider
        self.topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=args.topic_kms_key_id, tags=self._tags,
                                   opts=self._child)
        policy = aws.sns.TopicPolicy(f"{name}-alerts-policy", arn=self.topic.arn, opts=self._child,
                                     policy=self.topic.arn.apply(lambda arn: topic_policy(arn, args.anomaly_detection)))
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(f"{name}-email-{i}", topic=self.topic.arn, protocol="email", endpoint=email,
                                      opts=self._child)
        # Budgets and Cost Anomaly Detection check that they may publish when they are created.
        after_policy = pulumi.ResourceOptions(parent=self, depends_on=[policy])
        self.budget = aws.budgets.Budget(
            f"{name}-budget", budget_type="COST", time_unit="MONTHLY", limit_amount=f"{args.limit_usd:.2f}",
            limit_unit="USD", cost_filters=self._cost_filters(), notifications=self._notifications(),
            tags=self._tags, opts=after_policy)
        self.monitor = self.anomaly_subscription = None
        if args.anomaly_detection:
            self._anomaly_detection(after_policy)
        self.register_outputs({"budget": self.budget, "topic": self.topic, "monitor": self.monitor})

    def _cost_filters(self) -> Optional[list[aws.budgets.BudgetCostFilterArgs]]:
        """Cost Explorer's tag filter syntax is "user:<key>$<value>"; several values are OR-ed."""
        args = self._args
        if not args.filter_tag_values:
            return None
        return [aws.budgets.BudgetCostFilterArgs(
            name="TagKeyValue", values=[f"user:{args.filter_tag_key}${v}" for v in args.filter_tag_values])]

    def _notifications(self) -> list[aws.budgets.BudgetNotificationArgs]:
        args = self._args
        kinds = [("ACTUAL", t) for t in args.actual_thresholds] + [("FORECASTED", t) for t in args.forecast_thresholds]
        return [aws.budgets.BudgetNotificationArgs(
            notification_type=kind, threshold=float(t), threshold_type="PERCENTAGE",
            comparison_operator="GREATER_THAN", subscriber_sns_topic_arns=[self.topic.arn]) for kind, t in kinds]

    def _anomaly_detection(self, opts: pulumi.ResourceOptions) -> None:
        args, name = self._args, self._name
        if args.filter_tag_values:  # the team's own spend, not the whole account's
            spec = {"Tags": {"Key": args.filter_tag_key, "Values": list(args.filter_tag_values),
                             "MatchOptions": ["EQUALS"]}}
            monitor_args: dict[str, Any] = {"monitor_type": "CUSTOM", "monitor_specification": json.dumps(spec)}
        else:
            monitor_args = {"monitor_type": "DIMENSIONAL", "monitor_dimension": "SERVICE"}
        self.monitor = aws.costexplorer.AnomalyMonitor(f"{name}-anomaly-monitor", tags=self._tags,
                                                       opts=self._child, **monitor_args)
        self.anomaly_subscription = aws.costexplorer.AnomalySubscription(
            f"{name}-anomaly-alerts", frequency="IMMEDIATE",  # SNS subscribers require IMMEDIATE
            monitor_arn_lists=[self.monitor.arn], tags=self._tags, opts=opts,
            subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=self.topic.arn)],
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[_number(args.anomaly_threshold_usd)])))
