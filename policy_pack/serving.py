"""How the pack answers Analyze and AnalyzeStack: one decoding, one evaluation, secrets blinded.

One evaluation a call. pulumi-policy's Analyze and AnalyzeStack decode the request again for each of the
pack's policies, though they all read the same rule results. So the pack answers those two calls itself
(`serve`): the SDK's loop over the policies (levels, configs, report format), with the request decoded
once into the rules' inputs (a `Call`) and the rules evaluated once per policy config in force, which each
policy reads its share of (`judge`). Should the SDK's internals it leans on be missing, or a policy not be
one of these, the SDK answers as before: each policy's `validate` makes its own Call.

Secrets. The CLI sends a secret's value to the pack, and pulumi-policy hands validate the plain value; a
message that names a value (an unknown instance type, an environment tag) would print it. So Analyze and
AnalyzeStack read every secret's value as "[secret]" before any policy sees it, which is exactly what the
engine's rules read (a snapshot holds no secret value). Remediate keeps the values: what a remediation
returns is written back to the resource.
"""

from __future__ import annotations

import json
import math
import os
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import EnforcementLevel, Policy, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as _pulumi_policy
from pulumi_policy.deserialize import deserialize_properties, serialize_properties

from tollgate.capture import options
from tollgate.capture.wire import SECRET_TEXT, number, whole_numbers
from tollgate.evaluate import RuleResult, RuleSet, rule_input
from tollgate.model import SECRET_SIG, SIG_KEY, ProviderRef, Resource
from tollgate.project import environment_key

SERVICER = _pulumi_policy._PolicyAnalyzerServicer
# What `serve` reads of the SDK's servicer; a version without one of them is served by the SDK itself.
INTERNALS = ("_PolicyAnalyzerServicer__policies", "_get_enforcement_level", "_create_report_violation",
             "_get_policy_config", "_get_resource_options", "_configure_runtime_settings")
# The SDK's policy config and enforcement levels, which Configure replaces (a new dict each): `_plan` keeps
# its work while they are the same objects, and redoes it each call should an SDK keep them otherwise.
CONFIG_STATE = ("_PolicyAnalyzerServicer__policy_pack_config",
                "_PolicyAnalyzerServicer__policy_pack_config_enforcement_level")


class Evaluator:
    """The pack's one RuleSet, on a thread of its own.

    A regorus engine is bound to the thread that made it (pyo3 `unsendable`: another thread using it
    panics). So the RuleSet is built on one dedicated thread, and the pack's gRPC server answers on that
    same thread (`serve` hands it to the server as its pool): a call evaluates where it is answered. Any
    other thread (a test calling the servicer, an SDK that makes its pool otherwise) hands the evaluation
    to the engine's thread and waits.
    """

    def __init__(self, rules_dir: Path):
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rego")
        self.rules: RuleSet = self.thread.submit(RuleSet, rules_dir).result()
        self._owner = self.thread.submit(threading.get_ident).result()

    def run(self, method: str, *args: Any, **kwargs: Any) -> tuple[RuleResult, ...]:
        """A RuleSet method on the engine's thread; a rule that fails to evaluate fails the call."""
        evaluate = getattr(self.rules, method)
        try:
            results, errors = (evaluate(*args, **kwargs) if threading.get_ident() == self._owner
                               else self.thread.submit(evaluate, *args, **kwargs).result())
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a Rust panic (pyo3's PanicException) is not an Exception: gRPC would
            # leave the call unanswered; as an Exception it fails the analysis at once
            raise RuntimeError(f"the rule engine crashed: {type(exc).__name__}: {exc}") from exc
        if errors:  # a broken rule fails the preview loudly, never passes quietly
            raise RuntimeError("; ".join(f"rule {rule.name} ({rule.id}) failed to evaluate: {error}"
                                         for rule, error in errors.items()))
        return tuple(results)

    def close(self) -> None:
        """Frees the RuleSet on its own thread, as an engine must be (the pack's process never needs to)."""
        def free() -> None:
            del self.rules
        self.thread.submit(free).result()
        self.thread.shutdown()


class Call:
    """One Analyze (a resource) or AnalyzeStack (the stack) call as every policy reads it: the rules' inputs
    and, for TG011, the resources; the rules' results under each policy config in force, evaluated once."""

    def __init__(self, rules: Evaluator, docs: list[dict[str, Any]], stack_call: bool,
                 resources: Callable[[], list[Resource]] = list):
        self.rules, self.docs, self.stack_call, self._resources, self._results = rules, docs, stack_call, resources, {}

    def results(self, config_key: str, config: dict[str, Any]) -> dict[str, list[RuleResult]]:
        """The results under a policy config, by rule name (each policy reads its rule's share)."""
        if config_key not in self._results:
            if self.stack_call:  # the stack rules only: Analyze judged each resource
                found = self.rules.run("evaluate", self.docs, stack(), config, query="stack_results")
            else:
                found = self.rules.run("evaluate_resource", self.docs[0], stack(), config, config_key, stack_key())
            by_rule: dict[str, list[RuleResult]] = {}
            for result in found:
                by_rule.setdefault(result.rule.name, []).append(result)
            self._results[config_key] = by_rule
        return self._results[config_key]

    def resources(self) -> list[Resource]:
        return self._resources()


@cache
def stack() -> dict[str, Optional[str]]:
    """The stack the pack was started for, with the environment from its config (as the engine reads it)."""
    project = os.environ.get("PULUMI_PROJECT", "")
    config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    key = environment_key(config, project)
    return {"name": os.environ.get("PULUMI_STACK") or pulumi.get_stack(), "environment": config.get(key)}



@cache
def stack_key() -> str:
    """stack() as the engine keys its per-type engines (its sorted JSON), made once."""
    return json.dumps(stack(), sort_keys=True)


class _ServerPool:
    """What pulumi-policy's PolicyPack reads as `concurrent.futures` when it makes its gRPC server: the
    server's pool is the engine's thread, so a call is answered where it is evaluated (no hand-off a call).
    The CLI calls the pack one call at a time; a second call waits for the first, as its evaluation would."""

    def __init__(self, evaluator: "Evaluator"):
        self._evaluator = evaluator

    def ThreadPoolExecutor(self, *args: Any, **kwargs: Any) -> ThreadPoolExecutor:  # noqa: N802 (the SDK's name)
        return self._evaluator.thread

    def __getattr__(self, name: str) -> Any:
        return getattr(futures, name)


def serve(rules: Evaluator) -> None:
    """The pack answers Analyze and AnalyzeStack itself (see the module docstring), on the engine's thread."""
    if getattr(_pulumi_policy, "futures", None) is futures or isinstance(_pulumi_policy.futures, _ServerPool):
        _pulumi_policy.futures = _ServerPool(rules)  # else the SDK makes its pool otherwise: calls hand off
    for method, stack_call in (("Analyze", False), ("AnalyzeStack", True)):
        original = getattr(SERVICER, method)
        if getattr(original, "_tollgate_serves", False):
            continue

        def serving(self: Any, request: Any, context: Any, _original: Callable = original,
                    _stack_call: bool = stack_call) -> Any:
            own = _own_policies(self)
            return _serve(self, own, request, _stack_call) if own else _original(self, _blinded(request), context)
        serving._tollgate_serves = True  # type: ignore[attr-defined]
        setattr(SERVICER, method, serving)


def _own_policies(servicer: Any) -> Optional[list[Policy]]:
    """The servicer's policies when the pack may serve them itself, else None (worked out once)."""
    if "_tollgate_policies" not in servicer.__dict__:
        listed = getattr(servicer, INTERNALS[0], [])
        ok = all(hasattr(servicer, name) for name in INTERNALS) and hasattr(proto, "PolicyNotApplicable") and all(
            hasattr(p, "_tollgate_judge") or not isinstance(p, (ResourceValidationPolicy, StackValidationPolicy))
            or (isinstance(p, ResourceValidationPolicy) and not p.has_validation()) for p in listed)
        if ok:
            servicer._configure_runtime_settings()  # as the SDK does each call; nothing it reads changes
        servicer._tollgate_policies = list(listed) if ok else None
    return servicer._tollgate_policies


def _serve(servicer: Any, own: list[Policy], request: Any, stack_call: bool) -> Any:
    """pulumi-policy's Analyze / AnalyzeStack loop, each policy judging the one Call."""
    response = proto.AnalyzeResponse()
    call = None
    for policy, level, settings, config in _plan(servicer, own, stack_call):
        if level is None:  # a remediation only
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason="Policy does not implement validate"))
            continue
        call = call or _request_call(servicer, policy._tollgate_rules, request, stack_call)
        if config is not None and policy._tollgate_reads[0] not in call.results(*config):
            continue  # its rule found nothing under its config: nothing to report
        violations = policy._tollgate_judge(call, settings)
        if violations:
            report = servicer._create_report_violation(response, policy.name, policy.description, level,
                                                       policy.severity)
            for message, urn in violations:
                report(message, urn)
    return response


def _plan(servicer: Any, own: list[Policy], stack_call: bool) -> list[tuple[Policy, Any, Optional[dict], Any]]:
    """The policies a call runs: (policy, level, its settings, its rule's (config key, data.config) or None),
    or (policy, None, None, None) for one that is not applicable. Worked out again after a Configure, which
    replaces the SDK's two config dicts (CONFIG_STATE); judges read their settings and do not change them, so
    one copy of them serves every call."""
    state = tuple(servicer.__dict__.get(name) for name in CONFIG_STATE)
    plans = servicer.__dict__.setdefault("_tollgate_plans", {})
    known = plans.get(stack_call)
    if known is not None and None not in state and all(a is b for a, b in zip(known[0], state)):
        return known[1]
    kind = StackValidationPolicy if stack_call else ResourceValidationPolicy
    plan = []
    for policy in own:
        level = servicer._get_enforcement_level(policy)
        if level == EnforcementLevel.DISABLED or not isinstance(policy, kind):
            continue
        if not stack_call and not policy.has_validation():
            plan.append((policy, None, None, None))
            continue
        if level == EnforcementLevel.REMEDIATE:  # still violated after remediation: reported as mandatory
            level = EnforcementLevel.MANDATORY
        settings = servicer._get_policy_config(policy.name)
        reads = getattr(policy, "_tollgate_reads", None)
        plan.append((policy, level, settings, reads[1](settings) if reads else None))
    plans[stack_call] = (state, plan)
    return plan


def _request_call(servicer: Any, rules: Evaluator, request: Any, stack_call: bool) -> Call:
    """The request decoded once, as the SDK's decoding then `_plain` would leave each resource."""
    listed = list(request.resources) if stack_call else [request]
    urns = {r.urn for r in listed}
    records = []
    for r in listed:
        provider = _request_provider(r)
        deps = [d for d in r.dependencies if d in urns] if stack_call else None  # the SDK drops the unknown ones
        prop_deps = {k: [d for d in v.urns if d in urns] for k, v in r.propertyDependencies.items()} if stack_call \
            else None
        records.append((r, _plain_struct(r.properties), provider, deps, prop_deps))
    # secret_free: _plain_value blinded every secret, and protobuf text is valid UTF-8 of bounded depth
    docs = [rule_input(r.type, r.name, r.urn, props, options.from_analyzer(servicer._get_resource_options(r)),
                       provider[0] if provider else None, deps, prop_deps, provider[1] if provider else None,
                       secret_free=True)
            for r, props, provider, deps, prop_deps in records]

    def resources() -> list[Resource]:
        return [Resource(urn=r.urn, type=r.type, name=r.name, inputs=props, custom=provider is not None
                         or r.type.startswith("pulumi:providers:"), parent=r.parent if r.parent in urns else None,
                         provider=ProviderRef(provider[0]["urn"], provider[0]["properties"]) if provider else None,
                         dependencies=deps or [], property_dependencies=prop_deps or {})
                for r, props, provider, deps, prop_deps in records]
    return Call(rules, docs, stack_call, resources)


@lru_cache(maxsize=256)
def _provider_of(serialized: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """A provider message (most resources share one) as rule_input takes it, and the providers_seen it fills."""
    provider = proto.AnalyzerProviderResource.FromString(serialized)
    return ({"type": provider.type, "name": provider.name, "urn": provider.urn,
             "properties": _plain_struct(provider.properties)}, {})


def _request_provider(resource: Any) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
    return _provider_of(resource.provider.SerializeToString(deterministic=True)) if resource.HasField("provider") \
        else None


def _plain_struct(struct: Any) -> dict[str, Any]:
    fields = struct.fields  # by key: a protobuf map's items() is a Python-level view, a generator a field
    return {key: _plain_value(fields[key]) for key in fields}


def _plain_value(value: Any) -> Any:
    """A protobuf Value as `_plain` reads the SDK's decoding of it: a secret is "[secret]" (blinded)."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return number(value.number_value) if math.isfinite(value.number_value) else json_format.MessageToDict(value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_plain_value(item) for item in value.list_value.values]
    if kind == "struct_value":
        fields = value.struct_value.fields
        if SIG_KEY not in fields:
            return {key: _plain_value(fields[key]) for key in fields}
        if fields[SIG_KEY].string_value == SECRET_SIG:
            return SECRET_TEXT
        # an asset or archive (or a signature the SDK refuses): its own decoding, errors and all, of a copy
        # whose secrets are blinded (the SDK's decoding unwraps a secret: it would leave no mark to blind)
        blinded = type(value)()
        blinded.CopyFrom(value)
        _blind_value(blinded)
        return whole_numbers(serialize_properties(deserialize_properties(
            {"value": json_format.MessageToDict(blinded.struct_value)})["value"]))
    return None  # null, or no value


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


def _blinded(request: Any) -> Any:
    """A copy of an AnalyzeRequest or AnalyzeStackRequest with no secret value in it (nor in its providers)."""
    blinded = type(request)()
    blinded.CopyFrom(request)
    for resource in (blinded.resources if hasattr(blinded, "resources") else [blinded]):
        for item in resource.properties.fields.values():
            _blind_value(item)
        if resource.HasField("provider"):
            for item in resource.provider.properties.fields.values():
                _blind_value(item)
    return blinded
