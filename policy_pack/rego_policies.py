"""The Rego rules of rego/ as CrossGuard policies, judged by one rule engine per pack process.

Verdicts and levels. A rule's `deny_` results carry the rule's enforcement; its `warn_` results mean
"cannot decide at preview" and are advisory (the engine's findings say the same). pulumi-policy reports
every violation of a policy at that policy's one level, so a rule whose verdicts have two levels becomes
two policies: `<rule>` (the rule's level, deny results) and `<rule>-undecided` (advisory, warn results).
The companion exists only for rules with warn heads that are not advisory themselves; it shares the
rule's id and severity. Readers of the diagnostics (tollgate.evaluate.crossguard) strip the suffix.

The rule id (TG001) travels as the policy's compliance framework reference (framework "tollgate"):
PolicyInfo has no id field, and a framework reference is what names a control.

How the pack answers a call (one decoding, one evaluation, secrets blinded): serving.py.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
from pulumi_policy import (EnforcementLevel, Policy, PolicyComplianceFramework, PolicyConfigSchema, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, Severity, StackValidationPolicy)
from pulumi_policy.deserialize import serialize_properties

# Where the pack's code comes from: a built pack (`tollgate pack build`, what `pulumi policy publish` ships)
# carries it in _vendor/; in this repository the pack sits beside tollgate/; that directory goes first on
# sys.path. Otherwise (`tollgate pack path`) the pack runs in the environment tollgate is installed in.
# The rules are the ones that tollgate package bundles, so the pack runs the very loader the engine runs.
VENDORED = Path(__file__).resolve().parent / "_vendor"
CHECKOUT = Path(__file__).resolve().parent.parent
SOURCE = next((d for d in (VENDORED, CHECKOUT) if (d / "tollgate" / "__init__.py").is_file()), None)
if SOURCE is not None and str(SOURCE) not in sys.path:
    sys.path.insert(0, str(SOURCE))
if str(Path(__file__).resolve().parent) not in sys.path:  # serving.py, beside this file, however it is loaded
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import Call, Evaluator, serve, stack  # noqa: E402,F401 (stack: the pack's, as tests reach it)
from tollgate.bundled import RULES_DIR  # noqa: E402
from tollgate.capture import options  # noqa: E402
from tollgate.capture.wire import whole_numbers  # noqa: E402
from tollgate.cost import estimate, load_usage, usage_path  # noqa: E402
from tollgate.errors import TollgateError  # noqa: E402
from tollgate.evaluate import Rule, RuleResult, budget_check, policy_config, remediate, rule_input, stack_urn  # noqa: E402
from tollgate.model import ProviderRef, Resource, Snapshot  # noqa: E402
from tollgate.project import load_project, stack_tags  # noqa: E402

UNDECIDED = "-undecided"
Judge = Callable[["Call", Optional[dict]], list]  # (the call, the policy's config) -> [(message, urn or None)]
FRAMEWORK = "tollgate"


def load_rules(names: list[str], rules_dir: Path = RULES_DIR) -> Evaluator:
    """The rule set, checked against the pack's explicit list in both directions, so it cannot drift."""
    evaluator = Evaluator(rules_dir)
    found = {rule.name for rule in evaluator.rules.rules}
    missing = [name for name in names if name not in found]
    unlisted = sorted(found - set(names))
    if missing or unlisted:
        problems = [f"listed but not in {rules_dir}: {', '.join(missing)}"] if missing else []
        problems += [f"in {rules_dir} but not listed: {', '.join(unlisted)}"] if unlisted else []
        raise TollgateError("the pack's rule list and rego/ disagree (" + "; ".join(problems) + ")",
                            str(Path(__file__).with_name("__main__.py")),
                            fix="add the rule file, or add/remove its name in policy_pack/__main__.py RULES")
    return evaluator


def policies(names: list[str], rules_dir: Path = RULES_DIR) -> list[Policy]:
    """A policy (or two) per listed Rego rule, then the Python-only tag remediation and TG011."""
    rules = load_rules(names, rules_dir)
    serve(rules)
    made = [policy for name in names for policy in _rule_policies(rules, rules.rules.rule(name))]
    return made + [tag_remediation(rules), cost_within_budget(rules)]


# --- the policies ----------------------------------------------------------------------------------------

def _policy_made(policy: Policy, rules: Evaluator, judge: Judge, reads: Optional[tuple[str, Callable]] = None) -> Policy:
    """A policy `serve` hands the Call to: its judge says what to report (message, urn). `reads`: the rule
    whose results it reports and its config function (settings -> (key, data.config)), so `serve` passes
    over a policy whose rule found nothing without asking its judge."""
    policy._tollgate_rules, policy._tollgate_judge = rules, judge  # type: ignore[attr-defined]
    policy._tollgate_reads = reads  # type: ignore[attr-defined]
    return policy


def _validate(judge: Judge, call_of: Callable[[Any], Call]) -> Callable[[Any, ReportViolation], None]:
    """A policy's validate for the SDK's own loop: the Call made from the SDK's args, for this policy alone."""
    def validate(args: Any, report_violation: ReportViolation) -> None:
        for message, urn in judge(call_of(args), args.get_config()):
            report_violation(message, urn)
    return validate


def cost_within_budget(rules: Evaluator) -> Policy:
    """TG011, Python-only: the stack's estimated monthly cost (tollgate.cost, the same estimator as
    `tollgate preview`) against its own monthly COST budgets."""
    def judge(call: Call, _settings: Optional[dict]) -> list[tuple[str, Optional[str]]]:
        stack_name = os.environ.get("PULUMI_STACK") or pulumi.get_stack()
        project = os.environ.get("PULUMI_PROJECT") or pulumi.get_project()
        snapshot = Snapshot(project, stack_name, call.resources())
        stacks_dir = _stack_config_dir()
        usage_file = usage_path(stacks_dir, stack_name) if stacks_dir else None
        costs = estimate(snapshot, load_usage(usage_file) if usage_file and usage_file.exists() else None)
        return [(finding.message, finding.urn) for finding in budget_check.cost_findings(
            snapshot, costs.monthly_usd, len(costs.not_priced), stack_urn(snapshot))]

    validate = _validate(judge, lambda args: Call(rules, [], True, lambda: [_resource(r) for r in args.resources]))
    return _policy_made(StackValidationPolicy(
        name=budget_check.RULE, description=budget_check.DESCRIPTION, validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY, severity=Severity(budget_check.SEVERITY),
        framework=PolicyComplianceFramework(FRAMEWORK, reference=budget_check.RULE_ID)), rules, judge)


def _resource(r: Any) -> Resource:
    """An AnalyzeStack resource as a snapshot Resource (what the estimator reads)."""
    provider = ProviderRef(r.provider.urn, _plain(r.provider.props)) if r.provider is not None else None
    # Only custom resources and providers have a provider; components (and the Stack) do not.
    custom = r.provider is not None or r.resource_type.startswith("pulumi:providers:")
    return Resource(urn=r.urn, type=r.resource_type, name=r.name, custom=custom,
                    inputs=_plain(r.props), parent=r.parent.urn if r.parent is not None else None, provider=provider,
                    dependencies=[d.urn for d in r.dependencies],
                    property_dependencies={k: [d.urn for d in v] for k, v in r.property_dependencies.items()})


def tag_remediation(rules: Evaluator) -> Policy:
    """Opt-in (disabled unless a policy config sets it to remediate): fills missing required tags from the
    stack's tag set, so `pulumi up` fixes rather than blocks. Same function as `tollgate preview` applies."""
    required = list(rules.rules.config.get("required-tags", {}).get("tags", []))

    def fix(args: ResourceValidationArgs) -> Optional[dict[str, Any]]:
        props = _plain(args.props)
        provider = _plain(args.provider.props) if args.provider is not None else None
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
        tags = stack_tags(config, os.environ.get("PULUMI_PROJECT", ""))
        added = remediate.missing_tags(args.resource_type, props, provider, tags, required)
        return remediate.remediated(props, added, args.resource_type) if added else None

    return ResourceValidationPolicy(
        name=remediate.POLICY, description=remediate.DESCRIPTION, remediate=fix,
        enforcement_level=EnforcementLevel.DISABLED, severity=Severity.LOW,
        framework=PolicyComplianceFramework(FRAMEWORK, reference=remediate.RULE_ID))


def _rule_policies(rules: Evaluator, rule: Rule) -> list[Policy]:
    """`<rule>` at the rule's level; `<rule>-undecided` (advisory) when the rule has warn results to report."""
    undecided = rule.enforcement != "advisory" and any(h.startswith(("warn_", "stack_warn_")) for h in rule.heads)
    made = [_policy(rules, rule, rule.name, rule.description, rule.title, EnforcementLevel(rule.enforcement),
                    lambda result: result.verdict == "deny" or not undecided)]
    if undecided:
        made.append(_policy(rules, rule, rule.name + UNDECIDED,
                            f"{rule.description} Undecided at preview: a value the rule reads is unknown until apply.",
                            f"{rule.title} (undecided at preview)", EnforcementLevel.ADVISORY,
                            lambda result: result.verdict == "warn"))
    return made


def _policy(rules: Evaluator, rule: Rule, name: str, description: str, title: str, level: EnforcementLevel,
            reports: Callable[[RuleResult], bool]) -> Policy:
    # The rule's settings (rego/data.json) are the policy's config schema; `--policy-pack-config` values
    # reach it as the policy's config. The `-undecided` companion has no settings of its own.
    defaults = rules.rules.config.get(rule.name, {})
    config_schema = PolicyConfigSchema(policy_config.schema(defaults)) if defaults and name == rule.name else None
    common = dict(name=name, description=description, enforcement_level=level, display_name=title,
                  severity=Severity(rule.severity), framework=PolicyComplianceFramework(FRAMEWORK, reference=rule.id),
                  config_schema=config_schema)
    configs: dict[str, tuple[str, dict[str, Any]]] = {}

    def config(settings: Optional[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        """data.config under this policy's settings, and its JSON (which names the evaluation): parsed once."""
        key = json.dumps(settings, sort_keys=True) if settings and config_schema else ""
        if key not in configs:
            given = {rule.name: whole_numbers(dict(settings))} if key else {}  # protobuf: 4.0
            parsed = policy_config.parse(given, {rule.name: defaults}, f"policy config of {name}")
            parsed = parsed.data(rules.rules.config)
            configs[key] = (json.dumps(parsed, sort_keys=True), parsed)
        return configs[key]

    def judge(call: Call, settings: Optional[dict[str, Any]]) -> list[tuple[str, Optional[str]]]:
        # a resource rule's result has no urn: the diagnostic is about the resource analyzed
        return [(r.message, r.urn) for r in call.results(*config(settings)).get(rule.name, ()) if reports(r)]

    if rule.scope == "stack":
        validate = _validate(judge, lambda args: Call(rules, [_input(r, [d.urn for d in r.dependencies], {
            k: [d.urn for d in v] for k, v in r.property_dependencies.items()}) for r in args.resources], True))
        return _policy_made(StackValidationPolicy(validate=validate, **common), rules, judge, (rule.name, config))
    validate = _validate(judge, lambda args: Call(rules, [_input(args)], False))
    return _policy_made(ResourceValidationPolicy(validate=validate, **common), rules, judge, (rule.name, config))


def _plain(props: Any) -> Any:
    """The SDK's proxy back to plain JSON (unknowns stay sentinel strings, reading them never raises);
    protobuf numbers are doubles: 2.0 becomes 2 again, as the engine's own JSON would print it."""
    return whole_numbers(serialize_properties(props))


@cache
def _stack_config_dir() -> Optional[Path]:
    """Where the usage files (usage.<stack>.yaml) are: the stackConfigDir of the project (Pulumi.yaml) of the
    checkout the pack is served from; none when it is served from elsewhere or the checkout has no project."""
    if SOURCE != CHECKOUT or not (CHECKOUT / "Pulumi.yaml").is_file():
        return None
    return load_project(CHECKOUT).stack_config_dir


def _provider(provider: Any) -> Optional[dict[str, Any]]:
    if provider is None:
        return None
    return {"type": provider.resource_type, "name": provider.name, "urn": provider.urn,
            "properties": _plain(provider.props)}


def _input(resource: Any, dependencies: Optional[list[str]] = None,
           property_dependencies: Optional[dict[str, list[str]]] = None) -> dict[str, Any]:
    """A resource of the SDK's Analyze (or, with its dependencies, AnalyzeStack) as the rules' input."""
    return rule_input(resource.resource_type, resource.name, resource.urn, _plain(resource.props),
                      options.from_analyzer(resource.opts), _provider(resource.provider), dependencies,
                      property_dependencies)
