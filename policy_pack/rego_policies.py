"""The Rego rules of rego/ as CrossGuard policies, judged by one rule engine per pack process.

Verdicts and levels. A rule's `deny_` results carry the rule's enforcement; its `warn_` results mean
"cannot decide at preview" and are advisory (the engine's findings say the same). pulumi-policy reports
every violation of a policy at that policy's one level, so a rule whose verdicts have two levels becomes
two policies: `<rule>` (the rule's level, deny results) and `<rule>-undecided` (advisory, warn results).
The companion exists only for rules with warn heads that are not advisory themselves; it shares the
rule's id and severity. Readers of the diagnostics (tollgate.evaluate.crossguard) strip the suffix.

The rule id (TG001) travels as the policy's compliance framework reference (framework "tollgate"):
PolicyInfo has no id field, and a framework reference is what names a control.

Secrets. The CLI sends a secret's value to the pack, and pulumi-policy hands validate the plain value; a
message that names a value (an unknown instance type, an environment tag) would print it. So Analyze and
AnalyzeStack requests have every secret's value replaced by "[secret]" before any policy sees them, which
is exactly what the engine's rules read (a snapshot holds no secret value). Remediate keeps the values:
what a remediation returns is written back to the resource.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
from pulumi_policy import (EnforcementLevel, Policy, PolicyComplianceFramework, PolicyConfigSchema, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, Severity,
                           StackValidationArgs, StackValidationPolicy)
from pulumi_policy import policy as _pulumi_policy
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

from tollgate.bundled import RULES_DIR  # noqa: E402
from tollgate.capture import options  # noqa: E402
from tollgate.capture.wire import SECRET_TEXT, whole_numbers  # noqa: E402
from tollgate.cost import estimate, load_usage, usage_path  # noqa: E402
from tollgate.errors import TollgateError  # noqa: E402
from tollgate.evaluate import (Rule, RuleResult, RuleSet, budget_check, policy_config, remediate,  # noqa: E402
                               rule_input, stack_urn)
from tollgate.model import SECRET_SIG, SIG_KEY, ProviderRef, Resource, Snapshot  # noqa: E402
from tollgate.project import environment_key, load_project, stack_tags  # noqa: E402

UNDECIDED = "-undecided"
FRAMEWORK = "tollgate"


class Evaluator:
    """The pack's one RuleSet, on a thread of its own.

    A regorus engine is bound to the thread that made it (pyo3 `unsendable`: another thread using it
    panics), while the pack's gRPC server answers on a pool of threads; so the RuleSet is built on one
    dedicated thread and every evaluation is handed to that thread.
    """

    def __init__(self, rules_dir: Path):
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rego")
        self.rules: RuleSet = self._thread.submit(RuleSet, rules_dir).result()

    def evaluate(self, inputs: list[dict[str, Any]], stack: dict[str, Any], config: Optional[dict[str, Any]] = None):
        try:
            return self._thread.submit(self.rules.evaluate, inputs, stack, config).result()
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a Rust panic (pyo3's PanicException) is not an Exception: gRPC would
            # leave the call unanswered; as an Exception it fails the analysis at once
            raise RuntimeError(f"the rule engine crashed: {type(exc).__name__}: {exc}") from exc


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
    """A policy (or two) per listed Rego rule, then the Python-only tag remediation."""
    blind_secrets()
    rules = load_rules(names, rules_dir)
    made = [policy for name in names for policy in _rule_policies(rules, rules.rules.rule(name))]
    return made + [tag_remediation(rules), cost_within_budget()]


def _blind_value(value: Any) -> None:
    """A protobuf Value in place: a secret {sig, value} keeps its signature, its value becomes "[secret]"."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        if SIG_KEY in fields and fields[SIG_KEY].string_value == SECRET_SIG:
            fields["value"].string_value = SECRET_TEXT
            return
        for item in fields.values():
            _blind_value(item)
    elif kind == "list_value":
        for item in value.list_value.values:
            _blind_value(item)


def _blind_struct(struct: Any) -> None:
    for item in struct.fields.values():
        _blind_value(item)


def _blinded(request: Any) -> Any:
    """A copy of an AnalyzeRequest or AnalyzeStackRequest with no secret value in it (nor in its providers)."""
    blinded = type(request)()
    blinded.CopyFrom(request)
    for resource in (blinded.resources if hasattr(blinded, "resources") else [blinded]):
        _blind_struct(resource.properties)
        if resource.HasField("provider"):
            _blind_struct(resource.provider.properties)
    return blinded


def blind_secrets() -> None:
    """Analyze and AnalyzeStack see "[secret]" for every secret value (see the module docstring). Once."""
    servicer = _pulumi_policy._PolicyAnalyzerServicer
    for method in ("Analyze", "AnalyzeStack"):
        original = getattr(servicer, method)
        if getattr(original, "_tollgate_blinds", False):
            continue

        def blinding(self: Any, request: Any, context: Any, _original: Callable = original) -> Any:
            return _original(self, _blinded(request), context)
        blinding._tollgate_blinds = True  # type: ignore[attr-defined]
        setattr(servicer, method, blinding)


def cost_within_budget() -> Policy:
    """TG011, Python-only: the stack's estimated monthly cost (tollgate.cost, the same estimator as
    `tollgate preview`) against its own monthly COST budgets."""
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_resource(r) for r in args.resources]
        stack_name = os.environ.get("PULUMI_STACK") or pulumi.get_stack()
        project = os.environ.get("PULUMI_PROJECT") or pulumi.get_project()
        snapshot = Snapshot(project, stack_name, resources)
        stacks_dir = _stack_config_dir()
        usage_file = usage_path(stacks_dir, stack_name) if stacks_dir else None
        costs = estimate(snapshot, load_usage(usage_file) if usage_file and usage_file.exists() else None)
        for finding in budget_check.cost_findings(snapshot, costs.monthly_usd, len(costs.not_priced),
                                                  stack_urn(snapshot)):
            report_violation(finding.message, finding.urn)

    return StackValidationPolicy(
        name=budget_check.RULE, description=budget_check.DESCRIPTION, validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY, severity=Severity(budget_check.SEVERITY),
        framework=PolicyComplianceFramework(FRAMEWORK, reference=budget_check.RULE_ID))


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
    # reach validate through args.get_config(). The `-undecided` companion has no settings of its own.
    defaults = rules.rules.config.get(rule.name, {})
    config_schema = PolicyConfigSchema(policy_config.schema(defaults)) if defaults and name == rule.name else None
    common = dict(name=name, description=description, enforcement_level=level, display_name=title,
                  severity=Severity(rule.severity), framework=PolicyComplianceFramework(FRAMEWORK, reference=rule.id),
                  config_schema=config_schema)

    def data(args: Any) -> str:
        settings = {rule.name: whole_numbers(dict(args.get_config() or {}))} if config_schema else {}  # protobuf: 4.0
        parsed = policy_config.parse(settings, {rule.name: defaults}, f"policy config of {name}")
        return json.dumps(parsed.data(rules.rules.config), sort_keys=True)

    if rule.scope == "stack":
        def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
            inputs = [_input(r, [d.urn for d in r.dependencies],
                             {k: [d.urn for d in v] for k, v in r.property_dependencies.items()})
                      for r in args.resources]
            for result in _evaluate(rules, json.dumps(inputs, sort_keys=True), data(args)):
                if result.rule == rule and reports(result):
                    report_violation(result.message, result.urn)
        return StackValidationPolicy(validate=validate_stack, **common)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for result in _evaluate(rules, json.dumps([_input(args)], sort_keys=True), data(args)):
            if result.rule == rule and reports(result):
                report_violation(result.message)
    return ResourceValidationPolicy(validate=validate, **common)


@lru_cache(maxsize=64)
def _evaluate(rules: Evaluator, inputs_json: str, config_json: str) -> tuple[RuleResult, ...]:
    """All rules over the inputs, once per config: a rule's policy and its companion (and the other rules'
    policies, called for the same resource in the same Analyze call) share one evaluation."""
    results, errors = rules.evaluate(json.loads(inputs_json), stack(), json.loads(config_json))
    if errors:  # a broken rule fails the preview loudly, never passes quietly
        raise RuntimeError("; ".join(f"rule {rule.name} ({rule.id}) failed to evaluate: {error}"
                                     for rule, error in errors.items()))
    return tuple(results)


@cache
def stack() -> dict[str, Optional[str]]:
    """The stack the pack was started for, with the environment from its config (as the engine reads it)."""
    project = os.environ.get("PULUMI_PROJECT", "")
    config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    key = environment_key(config, project)
    return {"name": os.environ.get("PULUMI_STACK") or pulumi.get_stack(), "environment": config.get(key)}


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
    """A resource of Analyze (or, with its dependencies, of AnalyzeStack) as the rules' input (rule_input)."""
    return rule_input(resource.resource_type, resource.name, resource.urn, _plain(resource.props),
                      options.from_analyzer(resource.opts), _provider(resource.provider), dependencies,
                      property_dependencies)
