"""The sourced price table (tollgate/data/aws-us-east-1.yaml, with its provenance) behind small lookups.

Every price the estimator uses comes from that file; nothing here is a price. Instance specs (vCPUs) come
from the table of every current EC2 type (tollgate/data/aws-instance-types.json), so a known type the price
table does not price is "not priced", never unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from statistics import mean
from typing import Any, Optional

import yaml

from ..errors import YAML_LOADER

TABLE = Path(__file__).resolve().parent.parent / "data" / "aws-us-east-1.yaml"
SPECS = TABLE.with_name("aws-instance-types.json")
# S3 lifecycle storage classes -> price-table keys (Intelligent-Tiering is split by tier in storage.py).
S3_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")


@dataclass(frozen=True)
class Prices:
    raw: dict[str, Any]
    specs: dict[str, Any] = field(default_factory=dict)  # EC2 type -> vcpu, memory_gib, gpus, ... (every current type)

    @property
    def hours(self) -> float:
        """Hours in a month: the table's own assumption (730, as Infracost prices an always-on resource)."""
        return float(self.raw["hours_per_month_assumed"])

    @property
    def price_date(self) -> str:
        return str(self.raw["as_of"])

    @property
    def region(self) -> str:
        return str(self.raw["region"])

    def on_demand(self, instance_type: str) -> Optional[float]:
        spec = self.raw["ec2_on_demand_hourly"].get(instance_type)
        return float(spec["usd"]) if spec else None

    def spot(self, instance_type: str) -> Optional[float]:
        """The spot feed's snapshot price; else on-demand less the table's typical spot discount."""
        snap = self.raw["ec2_spot_hourly_typical"].get(instance_type)
        if snap:
            return float(snap["usd"])
        on_demand = self.on_demand(instance_type)
        return None if on_demand is None else on_demand * (1 - float(self.raw["spot_discount_typical"]["value"]))

    def vcpus(self, instance_type: str) -> Optional[int]:
        spec = self.specs.get(instance_type)
        return int(spec["vcpu"]) if spec else None

    def why_not_priced(self, types: list[Any]) -> Optional[str]:
        """Why these instance types cannot be priced, or None when each has an on-demand price. A known type
        without a price is told apart from a name no table knows (a typo, a family, a retired type)."""
        unpriced = [t for t in types if isinstance(t, str) and t in self.specs and self.on_demand(t) is None]
        unknown = [t if isinstance(t, str) else "unknown" for t in types if not isinstance(t, str) or t not in self.specs]
        reasons = []
        if unpriced:
            reasons.append(f"{', '.join(unpriced)}: known EC2 type{_s(unpriced)} without a price in the price table")
        if unknown:
            reasons.append(f"{', '.join(unknown)}: not {'current EC2 types' if _s(unknown) else 'a current EC2 type'}")
        return f"instance type{_s(types)} " + "; ".join(reasons) if reasons else None

    def mean_hourly(self, types: list[str], spot: bool) -> Optional[float]:
        """Mean hourly price of interchangeable types: the fleet lands on any of them."""
        found = [self.spot(t) if spot else self.on_demand(t) for t in types]
        return None if not found or None in found else mean(found)

    def mean_vcpu_hourly(self, types: list[str], spot: bool) -> Optional[float]:
        per_vcpu = []
        for t in types:
            price, vcpus = self.spot(t) if spot else self.on_demand(t), self.vcpus(t)
            if price is None or not vcpus:
                return None
            per_vcpu.append(price / vcpus)
        return mean(per_vcpu) if per_vcpu else None

    def ebs_month(self, kind: str, gb: float, iops: float = 0, throughput: float = 0) -> Optional[float]:
        """Monthly EBS price: GB-month, plus gp3 IOPS/throughput above the free baseline, plus io1/io2 PIOPS."""
        per_gb = self.raw["ebs_gb_month"].get(kind)
        if per_gb is None:
            return None
        usd = gb * per_gb
        if kind == "gp3":
            extra = self.raw["ebs_gp3_extra"]
            usd += max(0.0, iops - extra["free_iops"]) * extra["iops_month"]
            usd += max(0.0, throughput - extra["free_throughput_mibps"]) * extra["throughput_mibps_month"]
        elif kind in self.raw["ebs_piops_month"]:
            if kind == "io2" and iops > 32000:
                return None  # the table holds io2's first IOPS tier only
            usd += iops * self.raw["ebs_piops_month"][kind]
        return usd

    def s3(self, key: str) -> Optional[float]:
        value = self.raw["s3_gb_month"].get(key)
        return None if value is None else float(value)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def _s(things: list[Any]) -> str:
    return "s" if len(things) > 1 else ""


@cache
def load() -> Prices:
    specs = json.loads(SPECS.read_text(encoding="utf-8"))["ec2_instance_types"]
    return Prices(yaml.load(TABLE.read_text(encoding="utf-8"), Loader=YAML_LOADER), specs)
