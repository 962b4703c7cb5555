"""S3 buckets: expected GB times the steady-state mix of storage classes the lifecycle rules imply.

With data written at a steady rate and expired at day E, the bytes in a class are proportional to the
days objects spend in it, so a class held from day a to day b holds (b - a) / E of the data. When nothing
expires, the horizon is `data_age_days` (default 365). Intelligent-Tiering is modelled for data that is
not read again: Frequent Access for 30 days, Infrequent Access until day 90, Archive Instant Access after,
plus the asynchronous archive tiers the bucket's intelligent-tiering configuration enables.
Only whole-bucket rules count: a rule with a filter covers a share of the data nobody stated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import Resource
from .common import Cost, amount, items, not_priced, obj, quantity, rate, share, shown
from .context import Context
from .prices import S3_CLASSES

LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
TIERING = ("aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration",)
IT = "INTELLIGENT_TIERING"
DEFAULT_AGE_DAYS = 365
MB_PER_GB = 1024  # default objects: 1 MB average (conservative for the per-object monitoring fee)


@dataclass
class Rules:
    transitions: list[tuple[float, str]]
    expiration: float | None
    sources: list[str]
    ignored: int = 0     # filtered rules: a share of the data nobody stated


def _whole_bucket(rule: dict) -> bool:
    flt = rule.get("filter") or {}
    if not isinstance(flt, dict):
        return False  # a filter that cannot be read may cover any share of the data
    return not rule.get("prefix") and not any(v not in (None, "", {}, []) for v in flt.values())


def lifecycle(bucket: Resource, ctx: Context) -> Rules:
    configs = ctx.attached(bucket, "bucket", LIFECYCLE)
    rules = [(c.name, obj(rule)) for c in configs for rule in items(c.inputs.get("rules"))]
    rules += [(bucket.name, obj(rule)) for rule in items(bucket.inputs.get("lifecycleRules"))]  # inline (legacy Bucket)
    out = Rules([], None, [])
    for source, rule in rules:
        if not (rule.get("status") == "Enabled" or rule.get("enabled") is True):
            continue
        moves = [(amount(t.get("days")), t.get("storageClass")) for t in map(obj, items(rule.get("transitions")))]
        expires = amount(obj(rule.get("expiration")).get("days"))
        if not moves and expires is None:
            continue  # clean-up only (multipart uploads, old versions)
        if not _whole_bucket(rule):
            out.ignored += 1
            continue
        out.transitions += [(d, c) for d, c in moves if d is not None]
        if expires is not None:  # several whole-bucket expirations: the earliest deletes first
            out.expiration = expires if out.expiration is None else min(out.expiration, expires)
        out.sources.append(source)
    out.transitions.sort(key=lambda t: t[0])
    return out


def archive_tiers(bucket: Resource, ctx: Context) -> dict[str, float]:
    """Days without access before ARCHIVE_ACCESS / DEEP_ARCHIVE_ACCESS, from enabled whole-bucket configs."""
    tiers: dict[str, float] = {}
    for config in ctx.attached(bucket, "bucket", TIERING):
        if config.inputs.get("status", "Enabled") == "Enabled" and _whole_bucket(config.inputs):
            for t in map(obj, items(config.inputs.get("tierings"))):
                if amount(t.get("days")) is not None and isinstance(t.get("accessTier"), str):
                    tiers[t["accessTier"]] = amount(t.get("days"))
    return tiers


def _it_tiers(tiers: dict[str, float]) -> list[tuple[str, float, float]]:
    """Intelligent-Tiering tiers as (price key, from day, to day) after an object enters the class."""
    deep = tiers.get("DEEP_ARCHIVE_ACCESS", math.inf)
    archive = tiers.get("ARCHIVE_ACCESS", deep)
    return [(f"{IT}_frequent", 0, 30), (f"{IT}_infrequent", 30, 90), (f"{IT}_archive_instant", 90, archive),
            (f"{IT}_archive", archive, deep), (f"{IT}_deep_archive", deep, math.inf)]


def steady_mix(transitions: list[tuple[float, str]], horizon: float, tiers: dict[str, float]) -> dict[str, float]:
    """Share of stored bytes per price-table class (raises ValueError for a class the table lacks)."""
    steps = [(0.0, "STANDARD")] + transitions
    mix: dict[str, float] = {}
    for (start, cls), (end, _) in zip(steps, steps[1:] + [(math.inf, "")]):
        if cls == IT:
            pieces = [(key, start + a, start + b) for key, a, b in _it_tiers(tiers)]
        elif cls in S3_CLASSES:
            pieces = [(cls, start, end)]
        else:
            raise ValueError(f"storage class {shown(cls)} is not in the price table")
        for key, a, b in pieces:
            days = min(b, end, horizon) - min(max(a, start), horizon)
            if days > 0:
                mix[key] = mix.get(key, 0.0) + days / horizon
    return mix


def bucket(r: Resource, ctx: Context) -> Cost:
    u = ctx.resolve(r, ("storage_gb", "objects", "data_age_days"))
    gb = u.get("storage_gb")
    if gb is None:
        return not_priced(f"no expected storage: set storage_gb for {r.name} in {ctx.usage_file}"
                          + ctx.component_hint(r, "TieredBucket", "expected_gb"))
    rules, tiers = lifecycle(r, ctx), archive_tiers(r, ctx)
    transitions = rules.transitions or ([(0.0, IT)] if tiers else [])  # a tiering config implies IT uploads
    horizon = rules.expiration or u.get("data_age_days") or DEFAULT_AGE_DAYS
    try:
        mix = steady_mix(transitions, horizon, tiers)
    except ValueError as exc:
        return not_priced(str(exc))
    prices = ctx.prices
    storage = gb * sum(f * prices.s3(key) for key, f in mix.items())
    it_share = sum(f for key, f in mix.items() if key.startswith(IT))
    objects = (u.get("objects") if u.get("objects") is not None else gb * MB_PER_GB) * it_share
    objects_origin = u.origin("objects") if u.get("objects") is not None else "default: 1 MB each"
    monitoring = objects / 1000 * prices["s3_intelligent_tiering_monitoring_per_1000_objects_month"]
    naive = gb * prices.s3("STANDARD")
    return Cost(storage + monitoring, naive, _basis(r, gb, u.origin("storage_gb"), mix, horizon, rules, objects,
                                                     monitoring, objects_origin, ctx))


def _basis(r, gb, origin, mix, horizon, rules, objects, monitoring, objects_origin, ctx) -> str:
    classes = " · ".join(f"{k.replace(IT + '_', 'IT ')} {share(f)}" for k, f in mix.items())
    why = (f"expires at day {quantity(horizon)}" if rules.expiration else f"{quantity(horizon)} days of data")
    text = f"{quantity(gb)} GB ({origin}): {classes} ({why}"
    text += f"; {', '.join(rules.sources)})" if rules.sources else "; no lifecycle rule)"
    if monitoring:
        text += f" + IT monitoring {quantity(round(objects))} objects ({objects_origin}) × {rate(ctx.prices['s3_intelligent_tiering_monitoring_per_1000_objects_month'])}/1,000"
    if rules.ignored:
        text += f"; {rules.ignored} filtered rule(s) not counted"
    return text + f"; naive: all STANDARD {rate(ctx.prices.s3('STANDARD'), 3)}/GB"
