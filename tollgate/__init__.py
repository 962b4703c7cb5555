"""Tollgate: cost guardrails for Pulumi programs.

Kept import-light on purpose: the CrossGuard pack imports ``tollgate.evaluate`` and must not pull in
the capture machinery or the Pulumi SDK's resource modules.
"""

__version__ = "0.1.0"
