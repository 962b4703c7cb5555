"""Facts the components share with the guardrails, read from the same files so the two cannot drift:
instance specs from the price table (tollgate/data/aws-us-east-1.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

PRICE_TABLE = Path(__file__).resolve().parent.parent / "tollgate" / "data" / "aws-us-east-1.yaml"


@cache
def instance_types() -> dict[str, dict]:
    """Instance type -> {vcpu, memory_gib, gpus?, usd}: the types the guardrails know."""
    return yaml.safe_load(PRICE_TABLE.read_text(encoding="utf-8"))["ec2_on_demand_hourly"]
