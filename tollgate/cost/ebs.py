"""EBS: volumes on their own and the disks a launch template or instance gives every node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..model import Resource
from .common import Cost, amount, items, not_priced, obj, quantity, rate, shown
from .context import Context
from .prices import Prices


@dataclass(frozen=True)
class Disk:
    kind: str
    gb: float
    iops: float = 0.0
    throughput: float = 0.0

    def naive(self) -> "Disk":
        """The naive twin's disk: gp2 where gp3 is used (the same size; gp3's extra IOPS are not bought)."""
        return Disk("gp2", self.gb) if self.kind == "gp3" else self

    def __str__(self) -> str:
        extras = []
        if self.iops and self.kind != "gp2":
            extras.append(f"{quantity(self.iops)} IOPS")
        if self.throughput and self.kind == "gp3":
            extras.append(f"{quantity(self.throughput)} MiB/s")
        return f"{quantity(self.gb)} GB {self.kind}" + (f" ({', '.join(extras)})" if extras else "")


def disk(ebs: dict[str, Any], default_kind: str = "gp2") -> Optional[Disk]:
    """A disk from block-device inputs (volumeSize, volumeType, iops, throughput); None without a size."""
    gb = amount(ebs.get("volumeSize") if "volumeSize" in ebs else ebs.get("size"))
    if gb is None:
        return None
    kind = shown(ebs.get("volumeType") or ebs.get("type") or default_kind)  # not a string: no type in the table
    return Disk(kind, gb, amount(ebs.get("iops")) or 0.0, amount(ebs.get("throughput")) or 0.0)


def template_disks(template: Resource) -> list[Disk]:
    """The EBS disks a launch template gives each instance (mappings without a size are the AMI's own)."""
    mappings = items(template.inputs.get("blockDeviceMappings"))
    return [d for m in mappings if (d := disk(obj(obj(m).get("ebs")))) is not None]


def month(prices: Prices, disks: list[Disk]) -> Optional[float]:
    """Monthly price of these disks; None if one of them is not in the table."""
    total = 0.0
    for d in disks:
        usd = prices.ebs_month(d.kind, d.gb, d.iops, d.throughput)
        if usd is None:
            return None
        total += usd
    return total


def volume(r: Resource, ctx: Context) -> Cost:
    """aws:ebs/volume: the provider's default type is gp2; gp3 IOPS/throughput count above 3,000 / 125."""
    d = disk(r.inputs)
    if d is None:
        return not_priced("size unknown at preview (e.g. restored from a snapshot): set `size` to price it")
    actual, naive = month(ctx.prices, [d]), month(ctx.prices, [d.naive()])
    if actual is None or naive is None:
        return not_priced(f"EBS {d} is not in the price table")
    basis = f"{d}: {rate(ctx.prices['ebs_gb_month'][d.kind], 3)}/GB-month"
    if d.kind == "gp3" and (d.iops > 3000 or d.throughput > 125):
        extra = ctx.prices["ebs_gp3_extra"]
        basis += (f" + IOPS above 3,000 × {rate(extra['iops_month'], 3)} + MiB/s above 125 × "
                  f"{rate(extra['throughput_mibps_month'], 2)}")
    elif d.kind in ("io1", "io2"):
        basis += f" + {quantity(d.iops)} IOPS × {rate(ctx.prices['ebs_piops_month'][d.kind], 3)}"
    if d.naive() != d:
        basis += f"; naive: gp2 {rate(ctx.prices['ebs_gb_month']['gp2'], 2)}/GB-month"
    return Cost(actual, naive, basis)
