"""Tag remediation: fill a resource's missing required tags from the stack's tag set.

Opt-in (policy `required-tags-remediation`, off unless a policy config sets it to `remediate`), so
`pulumi up` can fix rather than block where a team chooses that. The CrossGuard pack runs it in
`Remediate`; `tollgate preview` applies the same function to the snapshot before judging it
(remediate_snapshot), as the engine analyzes remediated properties, so both paths reach the same verdict.
The stack's tag set is the project's (project.stack_tags).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping, Optional

from ..capture.wire import UNKNOWN, UNKNOWN_OBJECT
from ..model import Finding, Snapshot
from .policy_config import PolicyConfig
from .rules import taggable_types

if TYPE_CHECKING:
    from .engine import RuleSet

POLICY = "required-tags-remediation"
RULE_ID = "TG001"  # it remediates what required-tags reports
DESCRIPTION = ("Fills a taggable AWS resource's missing required tags from the stack's tag set "
               "(config tollgate:tags); opt in with enforcement level remediate.")
UNKNOWNS = (UNKNOWN, UNKNOWN_OBJECT)  # what a tag map or block reads at preview when it is not known
# Tags as a list of {key, value, propagateAtLaunch} blocks, which the provider's default tags never reach
# (rego/lib.rego's list_tagged_types; components/tagging.py's LIST_TAGGED).
LIST_TAGGED = frozenset({"aws:autoscaling/group:Group"})


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _tags(value: Any) -> Optional[dict[str, Any]]:
    """A tag map, or None when it cannot be known (unknown at preview): then nothing is filled."""
    if value in UNKNOWNS:
        return None
    if isinstance(value, str):  # a provider's defaultTags arrive JSON-encoded
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return dict(value) if isinstance(value, Mapping) else {}


def _blocks(value: Any) -> Optional[dict[str, Any]]:
    """A list-tagged type's tag blocks as a tag map (the last block of a key wins), or None when it cannot be
    known at preview (the list, a block or a block's key unknown): then nothing is filled."""
    if value is None:
        return {}
    if not isinstance(value, list):
        return None if value in UNKNOWNS else {}
    tags: dict[str, Any] = {}
    for block in value:
        if block in UNKNOWNS or isinstance(block, Mapping) and block.get("key") in UNKNOWNS:
            return None
        if isinstance(block, Mapping) and isinstance(block.get("key"), str):
            tags[block["key"]] = block.get("value")
    return tags


def missing_tags(type_: str, props: Mapping[str, Any], provider_props: Optional[Mapping[str, Any]],
                 stack_tags: Mapping[str, str], required: list[str]) -> dict[str, str]:
    """The stack's values for the required tags this resource lacks (its own tags and provider default tags;
    a list-tagged type's own blocks alone)."""
    if type_ not in taggable_types() or not stack_tags:
        return {}
    if type_ in LIST_TAGGED:
        listed = _blocks(props.get("tags"))
        if listed is None:
            return {}
        return {k: stack_tags[k] for k in required if _blank(listed.get(k)) and not _blank(stack_tags.get(k))}
    own = _tags(props.get("tags"))
    defaults = _tags((provider_props or {}).get("defaultTags"))
    default_tags = _tags(defaults.get("tags")) if defaults is not None else None
    if own is None or default_tags is None:
        return {}
    effective = {**default_tags, **own}
    return {k: stack_tags[k] for k in required if _blank(effective.get(k)) and not _blank(stack_tags.get(k))}


def remediated(props: Mapping[str, Any], added: Mapping[str, str], type_: str = "") -> dict[str, Any]:
    """The properties with the added tags; a list-tagged type gets blocks (propagated to the instances it
    launches, as tollgate_components.Tagging adds them), replacing any blank block of the same key."""
    if type_ in LIST_TAGGED:
        current = props.get("tags")
        kept = [b for b in current if not (isinstance(b, Mapping) and b.get("key") in added)] if isinstance(current, list) else []
        return {**props, "tags": [*kept, *({"key": k, "value": v, "propagateAtLaunch": True} for k, v in added.items())]}
    own = _tags(props.get("tags")) or {}
    return {**props, "tags": {**own, **added}}


def message(name: str, type_: str, added: Mapping[str, str]) -> str:
    return (f"`{name}` ({type_}) gets missing tags {', '.join(sorted(added))} from the stack's tag set "
            "(tollgate:tags) by remediation")


def remediate_snapshot(snapshot: Snapshot, rules: RuleSet, policy: PolicyConfig) -> tuple[Snapshot, list[Finding]]:
    """What the pack's opt-in tag remediation would change, applied before judging (as the engine analyzes
    remediated properties); each change is a `remediate` finding."""
    if policy.level(POLICY, "disabled") != "remediate":
        return snapshot, []
    required = rules.config.get("required-tags", {}).get("tags", [])
    resources, findings = [], []
    for resource in snapshot.resources:
        provider = resource.provider.inputs if resource.provider else None
        added = missing_tags(resource.type, resource.inputs, provider, snapshot.tags, required)
        if added:
            resource = replace(resource, inputs=remediated(resource.inputs, added, resource.type))
            findings.append(Finding(rule=POLICY, id=RULE_ID, urn=resource.urn, type=resource.type,
                                    name=resource.name, enforcement="remediate", severity="low", source="crossguard",
                                    message=message(resource.name, resource.type, added)))
        resources.append(resource)
    return replace(snapshot, resources=resources), findings
