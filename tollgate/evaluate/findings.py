"""Snapshot -> Findings: the opt-in tag remediation, the Rego rules (embedded engine or OPA), cost within
budget and what the capture could not see; the verdict a `pulumi preview` with the pack gives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from . import budget_check, policy_config, remediate
from ..bundled import RULES_DIR
from ..cost import Estimate, estimate
from ..model import NOTE_RULES, Finding, Resource, Snapshot
from .engine import RuleSet
from .inputs import resource_input, stack_doc
from .parallel import Forked
from .policy_config import PolicyConfig
from .rules import RuleResult

ENGINE_ERROR = "engine-error"


def judge(snapshot: Snapshot, rules: RuleSet, policy: Optional[PolicyConfig] = None, engine: Any = None,
          costs: Optional[Estimate | Callable[[], Estimate]] = None, forked: Optional[Forked] = None,
          strict: bool = False, secret_free: bool = False) -> list[Finding]:
    """Remediation (when opted in), every rule, then cost within budget and the capture's notes. `costs` is
    the snapshot's estimate when the caller has one (with its usage file), or a function that makes it: then
    it runs while the rules are judged on a second core (a large stack). `forked`: a child already judging
    this snapshot's tail with these rules and policy (parallel.fork); `secret_free`: its inputs hold no
    secret (inputs.text_secret_free), so they go to the rules unscanned."""
    policy = policy or PolicyConfig()
    snapshot, remediations = remediate.remediate_snapshot(snapshot, rules, policy)
    priced: list[Estimate] = []
    meanwhile = (lambda: priced.append(costs())) if callable(costs) else None
    rego = rego_findings(snapshot, rules, policy, engine, meanwhile, forked, secret_free)
    known = priced[0] if priced else None if callable(costs) else costs
    return sort_findings(remediations + rego + cost_findings(snapshot, policy, known)
                         + capture_findings(snapshot, strict))


def rego_findings(snapshot: Snapshot, rules: RuleSet, policy: Optional[PolicyConfig] = None,
                  engine: Any = None, meanwhile: Optional[Callable[[], None]] = None,
                  forked: Optional[Forked] = None, secret_free: bool = False) -> list[Finding]:
    """Every rule over the snapshot; `policy` (a per-stack policy config) tunes and re-levels the rules.
    `engine` evaluates (RuleSet.evaluate's signature): the embedded engine by default, or an OPA server.
    `meanwhile` is the caller's other work, run while the embedded engine's forked child (or the server) evaluates."""
    policy = policy or PolicyConfig()
    providers: dict[str, Any] = {}
    inputs = [resource_input(r, providers, secret_free) for r in snapshot.resources]
    if engine is None:  # the embedded engine may use a second core on a large stack
        results, errors = rules.evaluate(inputs, stack_doc(snapshot), policy.data(rules.config),
                                         workers=os.cpu_count() or 1, meanwhile=meanwhile, forked=forked)
    else:
        results, errors = engine.evaluate(inputs, stack_doc(snapshot), policy.data(rules.config), meanwhile=meanwhile)
    by_urn = {r.urn: r for r in snapshot.resources}
    root = stack_urn(snapshot)
    findings = []
    for result in results:
        level = policy.level(result.rule.name, result.rule.enforcement)
        if level == "disabled":
            continue
        resource = snapshot.resources[result.index] if result.index is not None else by_urn.get(result.urn or "")
        findings.append(_finding(result, resource, root, level))
    for rule, error in errors.items():  # a rule that errors is a mandatory finding, never a pass
        findings.append(Finding(rule=ENGINE_ERROR, id="TG000", urn=root, type="pulumi:pulumi:Stack", name="",
                                enforcement="mandatory", severity="critical", source="rego",
                                message=f"rule {rule.name} ({rule.id}) failed to evaluate: {error}; "
                                        f"fix {Path(rule.file).name} (run pytest tests/test_rego.py)"))
    return sort_findings(findings)


def _finding(result: RuleResult, resource: Optional[Resource], fallback_urn: str, level: str) -> Finding:
    rule = result.rule
    return Finding(
        rule=rule.name, id=rule.id, urn=resource.urn if resource else (result.urn or fallback_urn),
        type=resource.type if resource else "pulumi:pulumi:Stack", name=resource.name if resource else "",
        enforcement=level if result.verdict == "deny" else "advisory",
        severity=rule.severity, message=result.message, source="rego")


def stack_urn(snapshot: Snapshot) -> str:
    stacks = [r.urn for r in snapshot.resources if r.type == "pulumi:pulumi:Stack"]
    return stacks[0] if stacks else (
        f"urn:pulumi:{snapshot.stack}::{snapshot.project}::pulumi:pulumi:Stack::{snapshot.project}-{snapshot.stack}")


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = {"mandatory": 0, "remediate": 1, "advisory": 2}
    return sorted(set(findings), key=lambda f: (order[f.enforcement], f.urn, f.rule, f.message))


def cost_findings(snapshot: Snapshot, policy: PolicyConfig, costs: Optional[Estimate] = None) -> list[Finding]:
    """TG011: the stack's estimate against its own monthly budgets (the cost source)."""
    costs = costs if costs is not None else estimate(snapshot)
    level = policy.level(budget_check.RULE, "mandatory")
    return budget_check.cost_findings(snapshot, costs.monthly_usd, len(costs.not_priced), stack_urn(snapshot), level)


def capture_findings(snapshot: Snapshot, strict: bool = False) -> list[Finding]:
    """What the capture could not see (Snapshot.notes), never a silent pass: advisory, and a component not
    expanded mandatory under --strict."""
    findings = []
    for note in snapshot.notes:
        rule_id, severity = NOTE_RULES[note.rule]
        level = "mandatory" if strict and note.rule == "not-expanded" else "advisory"
        findings.append(Finding(rule=note.rule, id=rule_id, urn=note.urn, type=note.type, name=note.name,
                                enforcement=level, severity=severity, message=note.message, source="capture"))
    return findings


def evaluate(snapshot: Snapshot, rules_dir: Path = RULES_DIR, policy_config: Optional[Path] = None,
             opa_url: Optional[str] = None,
             costs: Optional[Estimate | Callable[[], Estimate]] = None) -> tuple[RuleSet, list[Finding]]:
    """A snapshot judged by the rules of a directory (a library call; `tollgate preview` runs pipeline.run)."""
    rules = RuleSet(rules_dir)
    policy = load_policy_config(policy_config, rules)
    return rules, judge(snapshot, rules, policy, opa_engine(opa_url, rules), costs)


def opa_engine(opa_url: Optional[str], rules: RuleSet) -> Any:
    """The OPA server at `opa_url` with the rules loaded, or None (the embedded engine) without a URL."""
    if not opa_url:
        return None
    from .opa import OpaServer  # only OPA server mode needs the HTTP client

    engine = OpaServer(opa_url, rules)
    engine.load()
    return engine


def rules_run(rules: RuleSet, policy: Optional[PolicyConfig] = None) -> list[Any]:
    """Every rule a preview runs, as a report counts and lists them: the Rego rules and cost-within-budget."""
    policy = policy or PolicyConfig()
    cost = [budget_check.RuleInfo()] if policy.level(budget_check.RULE, "mandatory") != "disabled" else []
    return [*rules.rules, *cost]


def known_policies(rules: RuleSet) -> dict[str, dict[str, Any]]:
    """Every policy a policy config may name, with its settings: the Rego rules and the tag remediation."""
    return {**{r.name: rules.config.get(r.name, {}) for r in rules.rules}, remediate.POLICY: {}, budget_check.RULE: {}}


def load_policy_config(path: Optional[Path], rules: RuleSet) -> PolicyConfig:
    """The policy config file, checked against the settings each rule has in rego/data.json."""
    return policy_config.load(path, known_policies(rules))
