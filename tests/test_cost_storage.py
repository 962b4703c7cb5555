"""S3 buckets: expected GB × the steady-state class mix of their lifecycle rules or Intelligent-Tiering,
against the naive twin (everything in STANDARD at $0.023/GB-month)."""

from __future__ import annotations

import math

import pytest

from conftest import capture_source
from tollgate.cost import estimate
from tollgate.cost.storage import steady_mix
from tollgate.cost.usage import Usage

PROGRAM = """
import pulumi_aws as aws
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs

TieredBucket("raw", TieredBucketArgs.raw_data(expected_gb=1000))                  # 30 / 90 / 180, expires 365
TieredBucket("models", TieredBucketArgs.model_artifacts(expected_gb=1000))        # Intelligent-Tiering, kept
TieredBucket("cold-models", TieredBucketArgs.model_artifacts(expected_gb=1000, intelligent_archive_days=90,
                                                             intelligent_deep_archive_days=180))
TieredBucket("unsized", TieredBucketArgs.raw_data())
# Plain resources related by the bucket's literal name rather than by an output.
aws.s3.BucketV2("logs", bucket="acme-logs")
aws.s3.BucketLifecycleConfigurationV2("logs-lifecycle", bucket="acme-logs", rules=[
    {"id": "age", "status": "Enabled", "transitions": [{"days": 60, "storage_class": "ONEZONE_IA"}]},
    {"id": "tmp", "status": "Enabled", "filter": {"prefix": "tmp/"}, "expiration": {"days": 1}},
])
aws.s3.Bucket("plain")
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("cost_storage"), PROGRAM, {"tollgate:environment": "dev"})


@pytest.fixture(scope="module")
def items(snapshot):
    usage = Usage({"logs": {"storage_gb": 300, "data_age_days": 180}, "plain": {"storage_gb": 100}})
    return {i.name: i for i in estimate(snapshot, usage).resources}


def test_lifecycle_30_90_180_365_mix(items):
    raw = items["raw-bucket"]
    # Of 365 days: STANDARD 30, STANDARD_IA 60, GLACIER_IR 90, DEEP_ARCHIVE 185.
    # 1000 GB × (30 × 0.023 + 60 × 0.0125 + 90 × 0.004 + 185 × 0.00099) / 365 = 1000 × 1.98315 / 365 = 5.4333
    assert round(raw.monthly_usd, 2) == 5.43
    assert round(raw.baseline_monthly_usd, 2) == 23.00        # 1000 × 0.023
    assert "1,000 GB (component raw)" in raw.basis and "DEEP_ARCHIVE 50.7%" in raw.basis


def test_intelligent_tiering_with_monitoring_fee(items):
    models = items["models-bucket"]
    # No expiry: 365 days of data (data_age_days default). IT frequent 30, infrequent 60, archive instant 275:
    # 1000 × (30 × 0.023 + 60 × 0.0125 + 275 × 0.004) / 365 = 6.9589; monitoring: 1000 GB at 1 MB each =
    # 1,024,000 objects / 1000 × 0.0025 = 2.56 -> 9.5189
    assert round(models.monthly_usd, 2) == 9.52 and round(models.baseline_monthly_usd, 2) == 23.00
    assert "1,024,000 objects (default: 1 MB each)" in models.basis


def test_intelligent_tiering_archive_tiers_from_its_configuration(items):
    cold = items["cold-models-bucket"]
    # ARCHIVE_ACCESS at 90, DEEP_ARCHIVE_ACCESS at 180: frequent 30, infrequent 60, archive 90, deep archive 185
    # 1000 × (0.69 + 0.75 + 90 × 0.0036 + 185 × 0.00099) / 365 = 5.3347 + monitoring 2.56 = 7.8947
    assert round(cold.monthly_usd, 2) == 7.89


def test_literal_bucket_name_links_the_lifecycle_and_filtered_rules_are_not_counted(items):
    logs = items["logs"]
    # 180 days of data (usage), ONEZONE_IA from day 60: 300 × (60 × 0.023 + 120 × 0.01) / 180 = 4.30
    assert round(logs.monthly_usd, 2) == 4.30 and round(logs.baseline_monthly_usd, 2) == 6.90
    assert "1 filtered rule(s) not counted" in logs.basis and "logs-lifecycle" in logs.basis


def test_bucket_without_lifecycle_costs_its_naive_twin(items):
    assert round(items["plain"].monthly_usd, 2) == 2.30 == round(items["plain"].baseline_monthly_usd, 2)


def test_bucket_without_expected_storage_is_not_priced(items):
    unsized = items["unsized-bucket"]
    assert not unsized.priced and "set storage_gb for unsized-bucket" in unsized.basis


def test_usage_file_overrides_what_the_component_recorded(snapshot):
    by_bucket = Usage({"raw-bucket": {"storage_gb": 2000}})
    by_component = Usage({"raw": {"storage_gb": 3000}})
    both = Usage({"raw": {"storage_gb": 3000}, "raw-bucket": {"storage_gb": 2000}})

    def raw(usage):
        return next(i for i in estimate(snapshot, usage).resources if i.name == "raw-bucket")

    assert round(raw(by_bucket).monthly_usd, 2) == 10.87 and "(usage file)" in raw(by_bucket).basis  # 2 × 5.4333
    assert round(raw(by_component).monthly_usd, 2) == 16.30 and "usage file entry raw" in raw(by_component).basis
    assert round(raw(both).monthly_usd, 2) == 10.87       # the resource's own entry beats its component's


def test_steady_mix_shares():
    assert steady_mix([(30, "STANDARD_IA"), (90, "GLACIER")], 365, {}) == pytest.approx(
        {"STANDARD": 30 / 365, "STANDARD_IA": 60 / 365, "GLACIER": 275 / 365})
    # a transition after the horizon never holds data; shares always add up to one
    mix = steady_mix([(30, "STANDARD_IA"), (400, "DEEP_ARCHIVE")], 100, {})
    assert mix == pytest.approx({"STANDARD": 0.3, "STANDARD_IA": 0.7}) and math.isclose(sum(mix.values()), 1)
    # Intelligent-Tiering entered at day 30: its tiers count from there
    mix = steady_mix([(30, "INTELLIGENT_TIERING")], 200, {})
    assert mix == pytest.approx({"STANDARD": 0.15, "INTELLIGENT_TIERING_frequent": 0.15,
                                 "INTELLIGENT_TIERING_infrequent": 0.3, "INTELLIGENT_TIERING_archive_instant": 0.4})
    with pytest.raises(ValueError, match="REDUCED_REDUNDANCY is not in the price table"):
        steady_mix([(30, "REDUCED_REDUNDANCY")], 365, {})
