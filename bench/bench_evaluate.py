"""Evaluate a 10,000-resource snapshot in one pass vs one engine set-up per resource.

Prints both timings measured in this run and their ratio (machines here are noisy: compare ratios).
Run: .venv/bin/python bench/bench_evaluate.py [N]
"""

from __future__ import annotations

import sys
import time

from tollgate.evaluate import RULES_DIR, RuleSet, rego_findings, resource_input
from tollgate.model import ProviderRef, Resource, Snapshot

TYPES = ["m5.large", "m5.4xlarge", "t3.micro", "z9.huge"]


def synthetic(n: int) -> Snapshot:
    provider = ProviderRef("urn:pulumi:dev::bench::pulumi:providers:aws::default", {"defaultTags": {"tags": {
        "project": "bench", "environment": "dev", "team": "t", "cost-center": "c"}}})
    resources = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            resources.append(Resource(f"urn:pulumi:dev::bench::aws:s3/bucket:Bucket::b{i}", "aws:s3/bucket:Bucket",
                                      f"b{i}", True, {"tags": {"owner": "o"} if i % 2 else {}}, provider=provider))
        else:
            resources.append(Resource(f"urn:pulumi:dev::bench::aws:ec2/instance:Instance::i{i}",
                                      "aws:ec2/instance:Instance", f"i{i}", True,
                                      {"instanceType": TYPES[i % len(TYPES)]}, provider=provider))
    return Snapshot("bench", "dev", resources, "dev")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    snapshot = synthetic(n)
    start = time.perf_counter()
    rules = RuleSet(RULES_DIR)
    one_pass = rego_findings(snapshot, rules)
    t_one = time.perf_counter() - start

    sample = snapshot.resources[: max(n // 20, 1)]  # per-resource set-up is slow: time a sample, scale up
    start = time.perf_counter()
    per_resource = 0
    for resource in sample:
        fresh = RuleSet(RULES_DIR)
        per_resource += len(fresh.evaluate([resource_input(resource)], {"name": "dev", "environment": "dev"})[0])
    t_each = (time.perf_counter() - start) * n / len(sample)

    print(f"resources: {n}, rules: {len(rules.rules)}, findings: {len(one_pass)}")
    print(f"one pass (one engine):            {t_one:8.3f} s")
    print(f"one engine set-up per resource:   {t_each:8.3f} s (extrapolated from {len(sample)})")
    print(f"ratio per-resource / one-pass:    {t_each / t_one:8.1f}x")


if __name__ == "__main__":
    main()
