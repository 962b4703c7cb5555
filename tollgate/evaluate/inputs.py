"""The rules' input: a resource, its provider and the stack as pulumi-policy-opa hands them to Rego.

rule_input is the one builder: of a snapshot's resources here (resource_input, for the embedded engine and
an OPA server alike) and of what the Pulumi CLI tells the pack (policy_pack/rego_policies.py). Options
arrive already in the rules' shape (capture/options.py). Secrets read as "[secret]": a snapshot never holds
their value, and the pack blinds them before any policy sees them; the rules take "[secret]" as a value unknown
at preview (rego/lib.rego's unknown_sentinels), so a rule that needs it cannot decide and says so.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..capture import options
from ..capture.wire import SECRET_SIG, SECRET_TEXT, SIG_KEY, decode_provider_inputs
from ..errors import TollgateError
from ..model import Resource, Snapshot

# The secret scan's encoder, made once (json.dumps makes one a call): without the circular-reference check,
# as inputs parsed from JSON or a protobuf Struct cannot refer to themselves (a value that did would recurse
# until RecursionError, an error below).
_SCAN_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def rule_input(type_: str, name: str, urn: str, properties: dict[str, Any], rule_options: dict[str, Any],
               provider: Optional[dict[str, Any]], dependencies: Optional[list[str]] = None,
               property_dependencies: Optional[dict[str, list[str]]] = None,
               providers_seen: Optional[dict[str, Any]] = None, secret_free: bool = False) -> dict[str, Any]:
    """A resource as pulumi-policy-opa hands it to Rego, with the stack rules' extras (dependencies) when given.

    `provider` is {type, name, urn, properties}; its JSON-encoded inputs (defaultTags) are decoded, whichever
    path they came by. `providers_seen` holds the provider documents already built, by URN (many resources
    share a provider). `secret_free`: the properties are known to hold no secret, so they are not scanned.
    """
    if providers_seen is None or not provider:
        prov = provider_doc(provider)
    else:
        prov = providers_seen.get(provider.get("urn"))
        if prov is None:
            prov = providers_seen[provider.get("urn")] = provider_doc(provider)
    doc = {"__type": type_, "__name": name, "__urn": urn,
           "properties": properties if secret_free else _without_secrets(properties),
           "options": rule_options, "provider": prov}
    if dependencies is not None:
        doc["dependencies"] = dependencies
        doc["propertyDependencies"] = property_dependencies or {}
    return doc


def resource_input(resource: Resource, providers_seen: Optional[dict[str, Any]] = None,
                   secret_free: bool = False) -> dict[str, Any]:
    """A snapshot resource's rule_input, with the stack-rule extras. `providers_seen` caches provider documents
    by URN across the resources of one snapshot; `secret_free`: its snapshot holds no secret (text_secret_free)."""
    return rule_input(resource.type, resource.name, resource.urn, resource.inputs,
                      options.to_rules(resource.options, resource.parent), provider_input(resource),
                      resource.dependencies, resource.property_dependencies, providers_seen, secret_free)


def provider_input(resource: Resource) -> Optional[dict[str, Any]]:
    """The provider as the analyzer protocol describes it: {type, name, urn, properties}."""
    if resource.provider is None:
        return None
    urn = resource.provider.urn
    segments = urn.split("::")
    qualified_type, name = (segments[2], segments[3]) if len(segments) >= 4 else ("", urn)  # not a URN: judged as is
    return {"type": qualified_type.split("$")[-1], "name": name, "urn": urn, "properties": resource.provider.inputs}


def stack_doc(snapshot: Snapshot) -> dict[str, Any]:
    """The stack as the rules see it (data.stack): its environment is every resource's, whatever their tags."""
    return {"name": snapshot.stack, "environment": snapshot.environment}


def provider_doc(provider: Optional[dict[str, Any]]) -> dict[str, Any]:
    """A provider as the rules see it: {type, name, urn, properties}, inputs decoded, secrets redacted."""
    if not provider:
        return {}
    return dict(provider, properties=_without_secrets(decode_provider_inputs(provider.get("properties") or {})))


def text_secret_free(text: str) -> bool:
    """Whether JSON text can hold no Pulumi secret: a secret is an object with the secret signature as a
    value, so the signature is in the text, unless a \\u escape spells it (then the text is not vouched for)."""
    return SECRET_SIG not in text and "\\u" not in text


def _without_secrets(value: Any) -> Any:
    """`value` with each secret as "[secret]"; walked only when its JSON holds a secret's signature.
    A value the engine could not take (nested past reason, an unpaired surrogate) is an error, never judged
    half-way."""
    try:
        text = _SCAN_ENCODER.encode(value)
        text.encode("utf-8")
        return _redact_secrets(value) if SECRET_SIG in text else value
    except (RecursionError, UnicodeEncodeError) as exc:
        raise TollgateError(f"a resource input cannot be judged: {type(exc).__name__}: {str(exc)[:120]}",
                            fix="inputs must be JSON values of sane depth with valid Unicode text") from exc


def _redact_secrets(value: Any) -> Any:
    """A copy of `value` with each secret as "[secret]"; iterative, so any depth the JSON encoder took is fine."""
    def copy(v: Any) -> Any:
        if isinstance(v, dict):
            return SECRET_TEXT if v.get(SIG_KEY) == SECRET_SIG else {}
        return [] if isinstance(v, list) else v

    root = copy(value)
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        if isinstance(target, dict):
            for key, item in source.items():
                target[key] = copy(item)
                if isinstance(target[key], (dict, list)):
                    pending.append((item, target[key]))
        elif isinstance(target, list):
            for item in source:
                target.append(copy(item))
                if isinstance(target[-1], (dict, list)):
                    pending.append((item, target[-1]))
    return root
