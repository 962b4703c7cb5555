"""Evaluate: Snapshot -> Findings. What callers import; `run(Request)` is the stage's one entry point.

* pipeline.py   run(Request) -> Result: the snapshot (file, program, pulumi JSON), judged, checkov, waivers
* findings.py   judge: remediation, the Rego rules, cost within budget, the capture's notes, as Findings
* rules.py      Rule and RuleResult from rego/ (METADATA, resource_types, fast paths); the reference tables
* driver.py     the generated Rego (driver module, group module, the merged rule module)
* engine.py     RuleSet: compile, one-pass evaluation, per-rule fallback, results
* parallel.py   the forked evaluation of a large stack (split points, the child protocol)
* inputs.py     the one builder of the rules' input (resource, provider, stack), secrets redacted
* remediate.py, budget_check.py (TG011), policy_config.py, waive.py, opa.py (OPA server and bundle),
  crossguard.py (the CrossGuard pack spoken to over gRPC), checkov/ (the checkov bridge)
"""

from ..bundled import RULES_DIR
from .engine import RuleSet
from .findings import (ENGINE_ERROR, capture_findings, evaluate, judge, known_policies, load_policy_config,
                       rego_findings, rules_run, sort_findings, stack_urn)
from .inputs import resource_input, rule_input
from .pipeline import Request, Result, run
from .rules import Rule, RuleResult

__all__ = ["ENGINE_ERROR", "RULES_DIR", "Request", "Result", "Rule", "RuleResult", "RuleSet", "capture_findings",
           "evaluate", "judge", "known_policies", "load_policy_config", "rego_findings", "resource_input",
           "rule_input", "rules_run", "run", "sort_findings", "stack_urn"]
