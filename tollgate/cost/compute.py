"""EC2 instances and AWS Batch compute environments."""

from __future__ import annotations

from typing import Optional

from ..model import Resource
from . import ebs
from .common import Cost, amount, items, not_priced, obj, quantity, rate, shown, text
from .context import Context

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
BATCH = "aws:batch/computeEnvironment:ComputeEnvironment"


def instance(r: Resource, ctx: Context) -> Cost:
    """hours (default 730) × the type's price (spot when the market options say so) + its sized disks."""
    i, prices = r.inputs, ctx.prices
    template = next((t for t in ctx.related(r, "launchTemplate") if t.type == TEMPLATE), None)
    kind = i.get("instanceType") or (template.inputs.get("instanceType") if template else None)
    market = obj(i.get("instanceMarketOptions") or (template.inputs.get("instanceMarketOptions") if template else None)
                 ).get("marketType")
    why = prices.why_not_priced([kind])
    if why:
        return not_priced(why)
    hourly = prices.spot(kind) if market == "spot" else prices.on_demand(kind)
    u = ctx.resolve(r, ("hours",))
    hours = u.get("hours") if u.get("hours") is not None else prices.hours
    disks = _instance_disks(i) + (ebs.template_disks(template) if template else [])
    disk_month, naive_disk = ebs.month(prices, disks), ebs.month(prices, [d.naive() for d in disks])
    if disk_month is None or naive_disk is None:
        return not_priced(f"disk(s) {', '.join(map(str, disks))} not in the price table")
    basis = (f"{kind} {'spot' if market == 'spot' else 'on-demand'} {rate(hourly)}/h × {quantity(hours)} h "
             f"({u.origin('hours')})")
    if disks:
        basis += f" + {' + '.join(map(str, disks))} ({rate(disk_month, 2)}/month)"
    if "volumeSize" not in obj(i.get("rootBlockDevice")) and not template:
        basis += "; root volume: the AMI's size, not counted"
    baseline = prices.hours * prices.on_demand(kind) + naive_disk
    return Cost(hours * hourly + disk_month, baseline,
                basis + f"; naive: on-demand {rate(prices.on_demand(kind))}/h always on"
                + (", gp2 disks" if any(d.naive() != d for d in disks) else ""))


def _instance_disks(i: dict) -> list[ebs.Disk]:
    blocks = [obj(i.get("rootBlockDevice"))] + [obj(b) for b in items(i.get("ebsBlockDevices"))]
    return [d for b in blocks if (d := ebs.disk(b)) is not None]


def _is_spot(r: Resource) -> bool:
    return obj(r.inputs.get("computeResources")).get("type") == "SPOT"


def _spot_first(peers: list[Resource]) -> list[Resource]:
    """A component's vcpu_hours are its spot environments' (an on-demand one behind them is the fallback)."""
    spot = [p for p in peers if _is_spot(p)]
    return spot or peers


def batch_environment(r: Resource, ctx: Context) -> Cost:
    """Expected vCPU-hours × the mean price per vCPU-hour of the listed types (spot or on-demand)."""
    res, prices = obj(r.inputs.get("computeResources")), ctx.prices
    kind = res.get("type")
    if r.inputs.get("type") == "UNMANAGED" or not res:
        return Cost(0.0, 0.0, "unmanaged: its instances are priced where they are declared")
    if kind not in ("SPOT", "EC2"):
        return not_priced(f"{shown(kind)} compute is not in the price table")
    types = items(res.get("instanceTypes"))
    unknown = [shown(t) for t in types if text(t) is None or prices.vcpus(t) is None]
    if not types or unknown:
        return not_priced(f"instance types {', '.join(unknown) or 'not listed'}: not current EC2 instance sizes "
                          "(families and 'optimal' cannot be priced); list instance sizes")
    why = prices.why_not_priced(types)
    if why:  # known sizes, but one has no price: the mean over them would be a guess
        return not_priced(why)
    vcpu_hours, origin = _vcpu_hours(r, ctx, amount(res.get("minVcpus")) or 0.0)
    if vcpu_hours is None:
        return not_priced(origin)
    spot = kind == "SPOT"
    per_vcpu, on_demand = prices.mean_vcpu_hourly(types, spot), prices.mean_vcpu_hourly(types, False)
    market = "spot" if spot else "on-demand"
    if vcpu_hours == 0:
        return Cost(0.0, 0.0, f"{origin} (mean {market} per vCPU-h of {', '.join(types)} {rate(per_vcpu)})")
    basis = (f"{quantity(vcpu_hours)} vCPU-h ({origin}) × mean {market} per vCPU-h of {', '.join(types)} "
             f"{rate(per_vcpu)}")
    if spot:
        basis += f"; naive: on-demand {rate(on_demand)}/vCPU-h"
    return Cost(vcpu_hours * per_vcpu, vcpu_hours * on_demand, basis)


def _vcpu_hours(r: Resource, ctx: Context, min_vcpus: float) -> tuple[Optional[float], str]:
    """Usage, never below what minVcpus keeps running; an on-demand fallback behind spot expects none."""
    floor = min_vcpus * ctx.prices.hours
    u = ctx.resolve(r, ("vcpu_hours",), targets=_spot_first)
    if u.get("vcpu_hours") is not None:
        if u.get("vcpu_hours") < floor:
            return floor, f"minVcpus {quantity(min_vcpus)} always on, above the expected {quantity(u.get('vcpu_hours'))}"
        return u.get("vcpu_hours"), u.origin("vcpu_hours")
    if floor:
        return floor, f"minVcpus {quantity(min_vcpus)} always on"
    if not _is_spot(r) and _has_spot_sibling(r, ctx):
        return 0.0, (f"on-demand fallback behind spot: no vCPU-hours expected; set vcpu_hours for {r.name} in "
                     f"{ctx.usage_file} if spot shortages send work here")
    return None, (f"no expected usage: set vcpu_hours for {r.name} in {ctx.usage_file}"
                  + ctx.component_hint(r, "SpotComputeEnvironment", "expected_vcpu_hours"))


def _has_spot_sibling(r: Resource, ctx: Context) -> bool:
    parent = ctx.by_urn.get(r.parent or "")
    if parent is None or parent.custom or parent.type == "pulumi:pulumi:Stack":
        return False  # only a component groups a spot environment with its fallback
    return any(_is_spot(s) and s.parent == r.parent for s in ctx.by_type[BATCH])
