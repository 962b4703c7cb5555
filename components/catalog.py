"""Facts the components share with the guardrails, read from the same files so the two cannot drift:
instance specs from the price table (tollgate/data/aws-us-east-1.yaml)."""

from __future__ import annotations

from functools import cache

import yaml

from tollgate.bundled import DATA_DIR

PRICE_TABLE = DATA_DIR / "aws-us-east-1.yaml"


@cache
def instance_types() -> dict[str, dict]:
    """Instance type -> {vcpu, memory_gib, gpus?, usd}: the types the guardrails know."""
    return yaml.safe_load(PRICE_TABLE.read_text(encoding="utf-8"))["ec2_on_demand_hourly"]


def usage_props(**usage: object) -> dict | None:
    """A component's expected usage, recorded as its `usage` input so the cost estimate needs no guessing
    (keys as in the usage file, docs/usage.md); None when nothing is known."""
    known = {k: v for k, v in usage.items() if v is not None}
    return {"usage": known} if known else None


def check_usage(owner: str, field_name: str, value: object) -> None:
    """Expected usage is a non-negative number (or None: unknown)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        raise ValueError(f"{owner}.{field_name}: must be a non-negative number, got {value!r}")
