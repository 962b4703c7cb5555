"""Snapshot -> Estimate: one line per resource, priced from the table, with its naive twin.

The naive twin is the same stack with every cost lever off: on-demand instead of spot, STANDARD storage
instead of lifecycle tiers, always on instead of scheduled, gp2 instead of gp3. A resource the table
cannot price is a not-priced line (counted in neither total), never a silent $0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..model import Resource, Snapshot
from . import compute, ebs, free, pools, services, storage
from .common import Cost, not_priced
from .context import Context
from .prices import load
from .usage import Usage

PRICERS: dict[str, Callable[[Resource, Context], Cost]] = {
    "aws:ec2/instance:Instance": compute.instance,
    "aws:batch/computeEnvironment:ComputeEnvironment": compute.batch_environment,
    "aws:eks/nodeGroup:NodeGroup": pools.node_group,
    "aws:autoscaling/group:Group": pools.auto_scaling_group,
    "aws:ebs/volume:Volume": ebs.volume,
    "aws:s3/bucket:Bucket": storage.bucket,
    "aws:s3/bucketV2:BucketV2": storage.bucket,
    "aws:eks/cluster:Cluster": services.eks_cluster,
    "aws:ec2/natGateway:NatGateway": services.nat_gateway,
    "aws:lb/loadBalancer:LoadBalancer": services.load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": services.load_balancer,
    "aws:rds/instance:Instance": services.rds_instance,
    "aws:elasticache/cluster:Cluster": services.elasticache,
    "aws:elasticache/replicationGroup:ReplicationGroup": services.elasticache,
    "aws:lambda/function:Function": services.lambda_function,
}


@dataclass(frozen=True)
class LineItem:
    urn: str
    type: str
    name: str
    monthly_usd: float
    baseline_monthly_usd: float
    priced: bool
    basis: str

    @property
    def free(self) -> bool:
        """Costs nothing in either world (IAM, configuration, components): left out of the table's rows."""
        return self.priced and self.monthly_usd == 0 and self.baseline_monthly_usd == 0


@dataclass
class Estimate:
    monthly_usd: float
    baseline_monthly_usd: float
    price_date: str
    resources: list[LineItem]
    notes: list[str] = field(default_factory=list)   # e.g. usage-file entries that matched no resource

    @property
    def not_priced(self) -> list[LineItem]:
        return [item for item in self.resources if not item.priced]

    @property
    def saving_usd(self) -> float:
        return self.baseline_monthly_usd - self.monthly_usd


# No resource costs a trillion dollars a month: an amount beyond this comes from an input that is no real
# quantity (a size of 1e300 GB), and is listed as not priced rather than carried into the totals.
PLAUSIBLE_MONTHLY_USD = 1e12


def price_one(r: Resource, ctx: Context) -> Cost:
    pricer = PRICERS.get(r.type)
    if pricer is not None:
        return _region_note(r, ctx, _plausible(pricer(r, ctx)))
    why = free.reason(r)
    if why is not None:
        return Cost(0.0, 0.0, why)
    return not_priced(free.billed_kubernetes(r) or f"{r.type} is not in the price table")


def _plausible(cost: Cost) -> Cost:
    if not cost.priced or all(0 <= x <= PLAUSIBLE_MONTHLY_USD for x in (cost.monthly, cost.baseline)):
        return cost  # (NaN fails every comparison, so it is not plausible either)
    return not_priced(f"an input is no real quantity: it would cost ${cost.monthly:,.2f}/month "
                      f"(naive ${cost.baseline:,.2f}); {cost.basis}")


def _region_note(r: Resource, ctx: Context, cost: Cost) -> Cost:
    """The table is one region's; say so when the resource lives elsewhere rather than guess a price."""
    region = (r.provider.inputs.get("region") if r.provider else None) or ctx.prices.region
    if region == ctx.prices.region or not cost.priced:
        return cost
    if not isinstance(region, str) or region[:1] in ("{", "["):  # an object (a secret, JSON-encoded or not)
        region = "a region that cannot be read"
    return Cost(cost.monthly, cost.baseline, f"{cost.basis} ({ctx.prices.region} prices; resource in {region})")


def estimate(snapshot: Snapshot, usage: Optional[Usage] = None) -> Estimate:
    prices, usage = load(), usage or Usage()
    ctx = Context(snapshot, usage, prices)
    items = []
    for r in snapshot.resources:
        cost = price_one(r, ctx)
        items.append(LineItem(r.urn, r.type, r.name, cost.monthly, cost.baseline, cost.priced, cost.basis))
    priced = [i for i in items if i.priced]
    # fsum: exact, so the totals do not depend on the order of the resources
    return Estimate(math.fsum(i.monthly_usd for i in priced), math.fsum(i.baseline_monthly_usd for i in priced),
                    prices.price_date, items, _unmatched(snapshot, usage))


def _unmatched(snapshot: Snapshot, usage: Usage) -> list[str]:
    known = {r.name for r in snapshot.resources} | {r.urn for r in snapshot.resources}
    return [f"usage file entry {key!r} matches no resource name or URN ({usage.file})"
            for key in usage.entries if key not in known]
