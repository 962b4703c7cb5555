"""Managed services priced per hour (and per unit of usage): EKS, NAT, ALB, RDS, ElastiCache, Lambda.

None of them has a cost lever the naive twin turns off, except Lambda on arm64 (twin: x86).
"""

from __future__ import annotations

from ..model import Resource
from .common import Cost, amount, items, not_priced, obj, quantity, rate, same, shown, text
from .context import Context


def eks_cluster(r: Resource, ctx: Context) -> Cost:
    p = ctx.prices
    return same(p.hours * p["eks_cluster_hourly"],
                f"control plane {rate(p['eks_cluster_hourly'], 2)}/h × {quantity(p.hours)} h (standard support; "
                f"a version in extended support costs {rate(p['eks_cluster_extended_support_hourly'], 2)}/h)")


def nat_gateway(r: Resource, ctx: Context) -> Cost:
    p, u = ctx.prices, ctx.resolve(r, ("gb_processed",))
    gb = u.get("gb_processed") or 0.0
    return same(p.hours * p["nat_gateway_hourly"] + gb * p["nat_gateway_gb_processed"],
                f"{rate(p['nat_gateway_hourly'], 3)}/h × {quantity(p.hours)} h + {quantity(gb)} GB processed "
                f"({u.origin('gb_processed')}) × {rate(p['nat_gateway_gb_processed'], 3)}")


def load_balancer(r: Resource, ctx: Context) -> Cost:
    kind = r.inputs.get("loadBalancerType") or "application"
    if kind != "application":
        return not_priced(f"{shown(kind)} load balancers are not in the price table (application only)")
    p, u = ctx.prices, ctx.resolve(r, ("lcu",))
    lcu = u.get("lcu") if u.get("lcu") is not None else 1.0
    return same(p.hours * (p["alb_hourly"] + lcu * p["alb_lcu_hourly"]),
                f"ALB {rate(p['alb_hourly'])}/h + {quantity(lcu)} LCU ({u.origin('lcu')}) × "
                f"{rate(p['alb_lcu_hourly'], 3)}/h, × {quantity(p.hours)} h")


def rds_instance(r: Resource, ctx: Context) -> Cost:
    """PostgreSQL Single-AZ with gp2 storage: what the table holds."""
    i, p = r.inputs, ctx.prices
    cls, engine = i.get("instanceClass"), i.get("engine")
    hourly = p["rds_on_demand_hourly"].get(cls) if text(cls) else None
    if hourly is None:
        return not_priced(f"RDS class {shown(cls)} is not in the price table "
                          f"(it has {', '.join(p['rds_on_demand_hourly'])})")
    if engine != "postgres":
        return not_priced(f"RDS engine {shown(engine or 'unknown')}: the price table has PostgreSQL prices only")
    if i.get("multiAz") is True:
        return not_priced("Multi-AZ RDS is not in the price table (Single-AZ only)")
    storage = i.get("storageType") or ("io1" if i.get("iops") else "gp2")
    if storage != "gp2":
        return not_priced(f"RDS {shown(storage)} storage is not in the price table (gp2 only); "
                          f"the instance alone is {rate(hourly * p.hours, 2)}/month")
    gb = amount(i.get("allocatedStorage")) or 0.0
    return same(p.hours * hourly + gb * p["rds_gp2_storage_gb_month"],
                f"{cls} PostgreSQL Single-AZ {rate(hourly, 3)}/h × {quantity(p.hours)} h + {quantity(gb)} GB gp2 "
                f"× {rate(p['rds_gp2_storage_gb_month'], 3)}")


def elasticache(r: Resource, ctx: Context) -> Cost:
    i, p = r.inputs, ctx.prices
    node = i.get("nodeType")
    hourly = p["elasticache_hourly"].get(node) if text(node) else None
    if hourly is None:
        return not_priced(f"ElastiCache node {shown(node)} is not in the price table "
                          f"(it has {', '.join(p['elasticache_hourly'])})")
    if amount(i.get("numNodeGroups")):  # cluster mode: shards × (primary + replicas)
        nodes = amount(i.get("numNodeGroups")) * (1 + (amount(i.get("replicasPerNodeGroup")) or 0))
    else:
        nodes = amount(i.get("numCacheNodes")) or amount(i.get("numCacheClusters")) or 1.0
    return same(nodes * p.hours * hourly, f"{quantity(nodes)} × {i.get('nodeType')} {rate(hourly, 3)}/h × "
                                         f"{quantity(p.hours)} h (2022-07 list price)")


def lambda_function(r: Resource, ctx: Context) -> Cost:
    """Requests + GB-seconds (+ ephemeral storage above the free 512 MB); all of it is usage."""
    i, lam = r.inputs, ctx.prices["lambda"]
    u = ctx.resolve(r, ("requests", "duration_ms", "memory_mb"))
    missing = [k for k in ("requests", "duration_ms") if u.get(k) is None]
    if missing:
        return not_priced(f"no expected usage: set {' and '.join(missing)} for {r.name} in {ctx.usage_file}")
    requests, seconds = u.get("requests"), u.get("requests") * u.get("duration_ms") / 1000
    memory = u.get("memory_mb") if u.get("memory_mb") is not None else (amount(i.get("memorySize")) or 128.0)
    arm = "arm64" in items(i.get("architectures"))
    storage_gb = max(0.0, ((amount(obj(i.get("ephemeralStorage")).get("size")) or 512.0) - 512) / 1024)
    fixed = requests / 1e6 * lam["requests_per_million"] + seconds * storage_gb * lam["ephemeral_storage_gb_second"]
    gb_seconds = seconds * memory / 1024
    monthly = fixed + gb_seconds * (lam["gb_second_arm"] if arm else lam["gb_second"])
    basis = (f"{quantity(requests)} requests × {rate(lam['requests_per_million'], 2)}/1M + "
             f"{quantity(gb_seconds)} GB-s ({quantity(memory)} MB × {quantity(u.get('duration_ms'))} ms) × "
             f"{rate(lam['gb_second_arm'] if arm else lam['gb_second'], 10)}{' arm64' if arm else ''}")
    return Cost(monthly, fixed + gb_seconds * lam["gb_second"], basis + ("; naive: x86" if arm else ""))
