"""Tollgate's cost-optimized Pulumi components (TieredBucket, SpotComputeEnvironment, CostBudget,
TaggedNodePool, NamespaceGuardrails, Tagging) live here, one class per module."""
