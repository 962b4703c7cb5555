"""Evaluate: Snapshot -> Findings: the opt-in tag remediation, then the Rego rules (embedded engine or OPA)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

from . import budget_check, policy_config, remediate
from .bundled import RULES_DIR
from .cost import Estimate, estimate
from .model import NOTE_RULES, Finding, Resource, Snapshot, long_lived
from .policy_config import PolicyConfig
from .rego import Forked, RuleResult, RuleSet, fork_allowed, opa_input

ENGINE_ERROR = "engine-error"
# fork_judge: a snapshot file holds about this many bytes a resource (the generated 10,000-resource estate:
# 1,480), so its size says whether it is worth a child before it is read.
SNAPSHOT_BYTES_PER_RESOURCE = 1000
# The share of the resource rules the parent judges when the child was forked before the load: the parent
# also checks the whole snapshot (the child trusts it), prices it, and judges the stack rules over every
# resource. Traced at 10,000 resources (cf. bench/README.md): at 0.35 the child was done about 0.1 s before the
# parent since the rules' fast paths; CLI runs interleaved, 12 each: 0.24 1.068 s, 0.28 1.049 s, 0.32 1.074 s.
FORKED_PARENT_SHARE = 0.28


def provider_input(resource: Resource) -> Optional[dict[str, Any]]:
    """The provider as the analyzer protocol describes it: {type, name, urn, properties}."""
    if resource.provider is None:
        return None
    urn = resource.provider.urn
    parts = urn.split("::")
    qualified_type, name = (parts[2], parts[3]) if len(parts) >= 4 else ("", urn)  # not a URN: judged as is
    return {"type": qualified_type.split("$")[-1], "name": name, "urn": urn,
            "properties": resource.provider.inputs}


def resource_input(resource: Resource, providers_seen: Optional[dict[str, Any]] = None,
                   secret_free: bool = False) -> dict[str, Any]:
    """pulumi-policy-opa's input for a resource, with the stack-rule extras (dependencies, parent).
    `providers_seen` caches provider documents by URN across the resources of one snapshot; `secret_free`:
    its snapshot holds no secret (Snapshot.secret_free)."""
    doc = opa_input(resource.type, resource.name, resource.urn, resource.inputs,
                    dict(resource.options, parent=resource.parent or ""), provider_input(resource), providers_seen,
                    secret_free)
    doc["dependencies"] = resource.dependencies
    doc["propertyDependencies"] = resource.property_dependencies
    return doc


def stack_doc(snapshot: Snapshot) -> dict[str, Any]:
    """The stack as the rules see it (data.stack): the environment fallback of a resource without a tag."""
    return {"name": snapshot.stack, "environment": snapshot.environment}


def fork_judge(load: Callable[[], Snapshot], size: int, rules: RuleSet, policy: PolicyConfig) -> Optional[Forked]:
    """A child, forked before the snapshot is loaded, that loads it too (`load`) and judges the resource rules
    of its last resources (RuleSet.fork_part), so that reading, loading, remediating and building inputs run on
    both cores; judge(..., forked=) collects it. None when not worth it: a file of `size` bytes too small for
    PARALLEL_MIN resources, one core, or a threaded process. The child's answer is used only if it judged
    the same split of a stack of the same size; otherwise the parent judges that part itself."""
    if not fork_allowed(size // SNAPSHOT_BYTES_PER_RESOURCE):
        return None

    def part() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], int, int]:
        snapshot = load()
        split = rules.split_at([r.type for r in snapshot.resources], FORKED_PARENT_SHARE)
        # Remediation changes a resource by itself alone: only this part's resources need it.
        mine, _ = remediate_snapshot(replace(snapshot, resources=snapshot.resources[split:]), rules, policy)
        providers: dict[str, Any] = {}
        inputs = [resource_input(r, providers, snapshot.secret_free) for r in mine.resources]
        return inputs, stack_doc(snapshot), policy.data(rules.config), split, len(snapshot.resources)

    return rules.fork_part(part, FORKED_PARENT_SHARE)


def stack_urn(snapshot: Snapshot) -> str:
    stacks = [r.urn for r in snapshot.resources if r.type == "pulumi:pulumi:Stack"]
    return stacks[0] if stacks else (
        f"urn:pulumi:{snapshot.stack}::{snapshot.project}::pulumi:pulumi:Stack::{snapshot.project}-{snapshot.stack}")


def _finding(result: RuleResult, resource: Optional[Resource], fallback_urn: str, level: str) -> Finding:
    rule = result.rule
    return Finding(
        rule=rule.name, id=rule.id, urn=resource.urn if resource else (result.urn or fallback_urn),
        type=resource.type if resource else "pulumi:pulumi:Stack", name=resource.name if resource else "",
        enforcement=level if result.verdict == "deny" else "advisory",
        severity=rule.severity, message=result.message, source="rego")


def rego_findings(snapshot: Snapshot, rules: RuleSet, policy: Optional[PolicyConfig] = None,
                  engine: Any = None, meanwhile: Optional[Callable[[], None]] = None,
                  forked: Optional[Forked] = None) -> list[Finding]:
    """Every rule over the snapshot; `policy` (a per-stack policy config) tunes and re-levels the rules.

    `engine` evaluates (RuleSet.evaluate's signature): the embedded engine by default, or an OPA server.
    `meanwhile` is the caller's other work, run while the embedded engine's forked child evaluates;
    `forked`, a child that fork_judge started on this snapshot.
    """
    policy = policy or PolicyConfig()
    providers: dict[str, Any] = {}
    with long_lived():
        inputs = [resource_input(r, providers, snapshot.secret_free) for r in snapshot.resources]
    if engine is None:  # the embedded engine may use a second core on a large stack
        results, errors = rules.evaluate(inputs, stack_doc(snapshot), policy.data(rules.config),
                                         workers=os.cpu_count() or 1, meanwhile=meanwhile, forked=forked)
    else:
        if meanwhile is not None:
            meanwhile()
        results, errors = engine.evaluate(inputs, stack_doc(snapshot), policy.data(rules.config))
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


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = {"mandatory": 0, "remediate": 1, "advisory": 2}
    return sorted(set(findings), key=lambda f: (order[f.enforcement], f.urn, f.rule, f.message))


def remediate_snapshot(snapshot: Snapshot, rules: RuleSet, policy: PolicyConfig) -> tuple[Snapshot, list[Finding]]:
    """What the pack's opt-in tag remediation would change, applied before judging (as the engine analyzes
    remediated properties); each change is a `remediate` finding."""
    if policy.level(remediate.POLICY, "disabled") != "remediate":
        return snapshot, []
    required = rules.config.get("required-tags", {}).get("tags", [])
    resources, findings = [], []
    for resource in snapshot.resources:
        provider = resource.provider.inputs if resource.provider else None
        added = remediate.missing_tags(resource.type, resource.inputs, provider, snapshot.tags, required)
        if added:
            resource = replace(resource, inputs=remediate.remediated(resource.inputs, added, resource.type))
            findings.append(Finding(rule=remediate.POLICY, id=remediate.RULE_ID, urn=resource.urn, type=resource.type,
                                    name=resource.name, enforcement="remediate", severity="low", source="crossguard",
                                    message=remediate.message(resource.name, resource.type, added)))
        resources.append(resource)
    return replace(snapshot, resources=resources), findings


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


def judge(snapshot: Snapshot, rules: RuleSet, policy: Optional[PolicyConfig] = None, engine: Any = None,
          costs: Optional[Estimate | Callable[[], Estimate]] = None, forked: Optional[Forked] = None,
          strict: bool = False) -> list[Finding]:
    """Remediation (when opted in), every rule, then cost within budget: the verdict a `pulumi preview`
    with the pack gives. `costs` is the snapshot's estimate when the caller has one (with its usage file),
    or a function that makes it: then it runs while the rules are judged on a second core (a large stack).
    `forked`: a child fork_judge started on this snapshot with these rules and policy."""
    policy = policy or PolicyConfig()
    snapshot, remediations = remediate_snapshot(snapshot, rules, policy)
    priced: list[Estimate] = []
    meanwhile = (lambda: priced.append(costs())) if callable(costs) else None
    rego = rego_findings(snapshot, rules, policy, engine, meanwhile, forked)
    known = priced[0] if priced else None if callable(costs) else costs
    return sort_findings(remediations + rego + cost_findings(snapshot, policy, known)
                         + capture_findings(snapshot, strict))


def evaluate(snapshot: Snapshot, rules_dir: Path = RULES_DIR, policy_config: Optional[Path] = None,
             opa_url: Optional[str] = None,
             costs: Optional[Estimate | Callable[[], Estimate]] = None) -> tuple[RuleSet, list[Finding]]:
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
