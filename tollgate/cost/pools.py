"""Groups of interchangeable instances: EKS managed node groups and Auto Scaling groups.

price = node-hours × mean hourly price of the listed types (spot or on-demand) + each node's disks.
Node-hours: the `node_hours` usage, else the desired size over the hours its scheduled actions leave on
(schedule.py), else desired size × 730. Naive twin: on-demand, always on, with the nodes the workload needs
at its peak (the `peak_nodes` usage, else the desired size, at least one node when the pool scales to
zero; never fewer node-hours than expected), gp2 for gp3: a pool that cannot scale must be sized for the
peak to do the same work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..model import Resource
from . import ebs
from .common import Cost, amount, items, not_priced, num, obj, quantity, rate, share
from .context import Context
from .schedule import Action, Sizes, weekly_average

SCHEDULE = ("aws:autoscaling/schedule:Schedule",)
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EKS_DEFAULT_TYPE, EKS_DEFAULT_DISK_GB = "t3.medium", 20  # EKS's defaults without instanceTypes / diskSize


@dataclass
class Pool:
    types: list[str]
    spot: float                 # share of nodes on spot, 0..1
    sizes: Optional[Sizes]      # None: unknown at preview
    disks: list[ebs.Disk]       # per node


def _int(value: object) -> Optional[int]:
    n = num(value)
    return None if n is None else int(n)


def _count(value: object) -> Optional[int]:
    """A group size: a whole number of nodes, never negative (a negative one reads as unknown)."""
    n = amount(value)
    return None if n is None else int(n)


def _sizes(low: object, high: object, desired: object) -> Optional[Sizes]:
    low_n, high_n = _count(low) or 0, _count(high)
    want = _count(desired) if desired is not None else low_n
    if want is None:
        return None
    return Sizes(low_n, want if high_n is None else high_n, want)


def _template(r: Resource, ctx: Context, *props: str) -> Optional[Resource]:
    found = [t for p in props for t in ctx.related(r, p) if t.type == TEMPLATE]
    return found[0] if found else None


def node_group(r: Resource, ctx: Context) -> Cost:
    i, template = r.inputs, _template(r, ctx, "launchTemplate")
    scaling = obj(i.get("scalingConfig"))
    types = items(i.get("instanceTypes")) or ([template.inputs["instanceType"]] if template and
                                              template.inputs.get("instanceType") else [EKS_DEFAULT_TYPE])
    disks = ebs.template_disks(template) if template else []
    if not template or not disks:  # without a template's disk EKS gives each node diskSize GB of gp2
        disks = [ebs.Disk("gp2", amount(i.get("diskSize")) or EKS_DEFAULT_DISK_GB)]
    pool = Pool(types, 1.0 if i.get("capacityType") == "SPOT" else 0.0,
                _sizes(scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize")), disks)
    return price(r, ctx, pool, ctx.dependents(r, "autoscalingGroupName", SCHEDULE))


def auto_scaling_group(r: Resource, ctx: Context) -> Cost:
    i = r.inputs
    mixed = obj(i.get("mixedInstancesPolicy"))
    template = _template(r, ctx, "launchTemplate", "mixedInstancesPolicy")
    overrides = [o["instanceType"] for o in map(obj, items(obj(mixed.get("launchTemplate")).get("overrides")))
                 if o.get("instanceType")]
    types = overrides or ([template.inputs["instanceType"]] if template and template.inputs.get("instanceType") else [])
    if not types:
        return not_priced("instance type unknown: no launch template with an instanceType and no overrides")
    sizes = _sizes(i.get("minSize"), i.get("maxSize"), i.get("desiredCapacity"))
    market = obj(template.inputs.get("instanceMarketOptions")).get("marketType") if template else None
    spot = _mixed_spot_share(mixed, sizes) if mixed else (1.0 if market == "spot" else 0.0)
    schedules = ctx.dependents(r, "autoscalingGroupName", SCHEDULE)
    if isinstance(i.get("name"), str):
        schedules += [s for s in ctx.by_type[SCHEDULE[0]] if s not in schedules
                      and s.inputs.get("autoscalingGroupName") == i["name"]]
    return price(r, ctx, Pool(types, spot, sizes, ebs.template_disks(template) if template else []), schedules)


def _mixed_spot_share(mixed: dict, sizes: Optional[Sizes]) -> float:
    """Share of spot nodes: on-demand base capacity first, then the on-demand percentage above it."""
    dist = obj(mixed.get("instancesDistribution"))
    base = amount(dist.get("onDemandBaseCapacity")) or 0.0
    above = amount(dist.get("onDemandPercentageAboveBaseCapacity"))
    pct = 100.0 if above is None else min(above, 100.0)
    n = sizes.desired if sizes else 0
    if n <= 0:
        return 1 - pct / 100
    on_demand = min(n, base) + max(0.0, n - base) * pct / 100
    return 1 - on_demand / n


def _actions(schedules: list[Resource]) -> list[Action]:
    """Recurring actions only: a one-off action (no recurrence) does not shape the month."""
    return [Action(s.name, s.inputs["recurrence"], _int(s.inputs.get("minSize")), _int(s.inputs.get("maxSize")),
                   _int(s.inputs.get("desiredCapacity")))
            for s in sorted(schedules, key=lambda s: s.urn)  # one order for actions due at the same minute
            if isinstance(s.inputs.get("recurrence"), str)]


def price(r: Resource, ctx: Context, pool: Pool, schedules: list[Resource]) -> Cost:
    prices, hours_month = ctx.prices, ctx.prices.hours
    why = prices.why_not_priced(pool.types)
    if why:
        return not_priced(why)
    on_demand = prices.mean_hourly(pool.types, spot=False)
    hourly = pool.spot * prices.mean_hourly(pool.types, spot=True) + (1 - pool.spot) * on_demand
    node_hours, how = _node_hours(r, ctx, pool, _actions(schedules))
    if node_hours is None:
        return not_priced(how)
    naive_nodes, problem = _naive_nodes(r, ctx, pool.sizes)
    if problem:
        return not_priced(problem)
    disk_month, naive_disk_month = ebs.month(prices, pool.disks), ebs.month(prices, [d.naive() for d in pool.disks])
    if disk_month is None or naive_disk_month is None:
        return not_priced(f"node disk(s) {', '.join(map(str, pool.disks))} not in the price table")
    monthly = node_hours * hourly + node_hours / hours_month * disk_month
    naive_hours = max(naive_nodes * hours_month, node_hours)
    baseline = naive_hours * on_demand + naive_hours / hours_month * naive_disk_month
    types = pool.types[0] if len(pool.types) == 1 else f"mean({', '.join(pool.types)})"
    market = {1.0: "spot", 0.0: "on-demand"}.get(pool.spot, f"{share(pool.spot)} spot")
    disks = f" + {' + '.join(map(str, pool.disks))} per node ({rate(disk_month, 2)}/node-month)" if pool.disks else ""
    naive = f"naive: {quantity(naive_hours / hours_month)} node(s) on-demand always on {rate(on_demand)}/h"
    if any(d.naive() != d for d in pool.disks):
        naive += ", gp2 disks"
    return Cost(monthly, baseline, f"{how} × {types} {market} {rate(hourly)}/h{disks}; {naive}")


def _naive_nodes(r: Resource, ctx: Context, sizes: Optional[Sizes]) -> tuple[float, Optional[str]]:
    """The naive twin's always-on nodes: the peak the usage states, else the desired size (one when the
    pool may scale to zero); an error when the stated peak does not fit the pool."""
    u = ctx.resolve(r, ("peak_nodes",))
    peak = u.get("peak_nodes")
    if peak is not None:
        if sizes is not None and peak > sizes.max:
            return 0, (f"peak_nodes {quantity(peak)} ({u.origin('peak_nodes')}) is above the pool's maxSize "
                       f"{sizes.max}: the pool could never run it; fix the usage or the pool")
        return peak, None
    if sizes is None:
        return 1, None
    return (max(sizes.desired, 1) if sizes.min == 0 else sizes.desired), None


def _node_hours(r: Resource, ctx: Context, pool: Pool, actions: list[Action]) -> tuple[Optional[float], str]:
    hours_month = ctx.prices.hours
    u = ctx.resolve(r, ("node_hours",))
    if u.get("node_hours") is not None:
        return u.get("node_hours"), f"{quantity(u.get('node_hours'))} node-h ({u.origin('node_hours')})"
    if pool.sizes is None:
        return None, f"desired size unknown at preview: set node_hours for {r.name} in {ctx.usage_file}"
    if not actions:
        return pool.sizes.desired * hours_month, f"{pool.sizes.desired} × {quantity(hours_month)} h"
    try:
        average = weekly_average(pool.sizes, actions)
    except ValueError as exc:
        return None, f"{exc}; set node_hours for {r.name} in {ctx.usage_file}"
    names = ", ".join(a.name for a in actions)
    return average * hours_month, (f"{quantity(average * hours_month)} node-h ({average:.3f} nodes on average "
                                   f"of the week under schedules {names}; {pool.sizes.desired} without them)")
