"""Capture from a real CrossGuard preview's engine event log: its resources and its policy findings.

For `tollgate report --from-event-log FILE`: `pulumi preview --event-log FILE --policy-pack policy_pack`
writes one JSON engine event a line (apitype.EngineEvent, sdk/go/common/apitype/events.go). Its policyEvents
become Findings with source "crossguard"; its resourcePreEvents give the resources (urn and type only).
Nothing else is read: the log may hold property values (resourcePreEvent metadata old/new state, prelude
config, remediation before/after) and none of them ever reaches a Finding, a Snapshot or a report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..bundled import RULES_DIR
from ..errors import TollgateError
from ..evaluate import RuleSet, budget_check, remediate, stack_urn
from ..model import Finding, Resource, Snapshot

UNDECIDED = "-undecided"  # the pack's "cannot decide at preview" companion of a rule (advisory)
UNDECIDED_NOTE = " Undecided at preview: a value the rule reads is unknown until apply."
STACK_TYPE = "pulumi:pulumi:Stack"
# enforcementLevel as the engine writes it; "warning" and "none" are the older names events.go still documents.
LEVELS = {"advisory": "advisory", "warning": "advisory", "mandatory": "mandatory", "remediate": "remediate",
          "disabled": None, "none": None}
SEVERITIES = ("low", "medium", "high", "critical")
# Pulumi colour directives (<{%reset%}>) and ANSI escapes, in case the log was written with colour.
_COLOR = re.compile(r"<\{%[^%]*%\}>|\x1b\[[0-9;]*[A-Za-z]")
FIX = "pass the file written by `pulumi preview --event-log FILE --policy-pack policy_pack`"
# The engine's own closing words when policy violations fail a preview: an error diagnostic explained by them.
WRAP_UP = {"preview failed", "update failed"}
QUOTED = 160  # characters of an engine error quoted back (the whole text is in the log)


@dataclass(frozen=True)
class _Policy:
    id: str
    severity: str
    descriptions: tuple[str, ...]  # what the pack puts before "\n<message>" for this policy name


@dataclass
class EventLog:
    snapshot: Snapshot      # resources from resourcePreEvents: urn, type, name; never inputs
    findings: list[Finding]
    rules: list[Any]        # the Rego rules (tollgate.evaluate.rules.Rule), for the report's rule catalogue


def parse_urn(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of urn:pulumi:<stack>::<project>::<qualified type>::<name>; "" parts if not."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        return "", "", "", ""
    return parts[0][len("urn:pulumi:"):], parts[1], parts[2].rsplit("$", 1)[-1], parts[3]


def _policies(rules: list[Any]) -> dict[str, _Policy]:
    known: dict[str, _Policy] = {}
    for rule in rules:
        known[rule.name] = _Policy(rule.id, rule.severity, (rule.description,))
        known[rule.name + UNDECIDED] = _Policy(rule.id, rule.severity,
                                               (rule.description + UNDECIDED_NOTE, rule.description))
    known[budget_check.RULE] = _Policy(budget_check.RULE_ID, budget_check.SEVERITY, (budget_check.DESCRIPTION,))
    sev = known.get(remediate.POLICY.removesuffix("-remediation"))
    known[remediate.POLICY] = _Policy(remediate.RULE_ID, sev.severity if sev else "medium", (remediate.DESCRIPTION,))
    return known


def _message(text: str, policy: Optional[_Policy]) -> str:
    text = _COLOR.sub("", text)
    first, newline, rest = text.partition("\n")
    if newline and policy and first.strip() in policy.descriptions:
        return rest
    return text


def _field(event: dict[str, Any], key: str, where: tuple[str, int], kind: type = str) -> Any:
    value = event.get(key)
    if not isinstance(value, kind):
        raise TollgateError(f"policyEvent has no {kind.__name__} {key!r}", where[0], where[1], fix=FIX)
    return value


class _Seen:
    """What says the log is whole and the pack judged: its summaryEvent, the packs that ran, engine errors."""

    def __init__(self) -> None:
        self.events, self.summary, self.packs = 0, None, False
        self.errors: list[tuple[int, str]] = []

    def event(self, event: dict[str, Any], where: tuple[str, int]) -> None:
        self.events += 1
        diagnostic, summary = event.get("diagnosticEvent"), event.get("summaryEvent")
        if isinstance(diagnostic, dict) and diagnostic.get("severity") == "error":
            text = _COLOR.sub("", str(diagnostic.get("message", ""))).strip()
            self.errors.append((where[1], text))
        if isinstance(summary, dict):
            self.summary = summary
            self.packs = self.packs or bool(summary.get("PolicyPacks"))
        if "policyEvent" in event or "policyAnalyzeSummaryEvent" in event:
            self.packs = True

    def check(self, file: str, policy_events: list[tuple[dict[str, Any], tuple[str, int]]]) -> None:
        """A log that cannot say the preview passed is an error, never a pass."""
        if not self.events:
            raise TollgateError("event log is empty: the preview wrote no event", file, fix=FIX)
        if self.summary is None:
            raise TollgateError("event log ends before its summaryEvent: the preview was cut off or is still "
                                "running, and what it left out was never judged", file, fix=FIX)
        if not self.packs:
            raise TollgateError("event log shows no policy pack: the preview ran without one, so nothing was "
                                "judged", file, fix=FIX)
        mandatory = any(p.get("enforcementLevel") == "mandatory" for p, _ in policy_events)
        for line, text in self.errors:
            if not (mandatory and text in WRAP_UP):
                first = text.splitlines()[0] if text else "(no message)"
                quoted = first if len(first) <= QUOTED else first[:QUOTED] + "..."
                raise TollgateError(f"the preview failed with an engine error (a policy pack that crashed judges "
                                    f"nothing): {quoted}", file, line, fix="fix the error and preview again; "
                                    + FIX)


def read_event_log(path: Path, rules_dir: Path = RULES_DIR) -> EventLog:
    rules = RuleSet(rules_dir).rules
    known = _policies(rules)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TollgateError("event log not found", str(path), fix=FIX) from exc
    except UnicodeDecodeError as exc:
        raise TollgateError(f"event log is not UTF-8 text: {exc.reason}", str(path), fix=FIX) from exc

    resources: dict[str, Resource] = {}
    policy_events: list[tuple[dict[str, Any], tuple[str, int]]] = []
    seen = _Seen()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = (str(path), number)
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TollgateError(f"event log line is not JSON: {exc.msg}", *where, fix=FIX) from exc
        if not isinstance(event, dict):
            raise TollgateError("event log line is not a JSON object (an engine event)", *where, fix=FIX)
        seen.event(event, where)
        pre = event.get("resourcePreEvent")
        if pre is not None:
            metadata = pre.get("metadata") if isinstance(pre, dict) else None
            urn = metadata.get("urn") if isinstance(metadata, dict) else None
            if not isinstance(urn, str) or not urn:
                raise TollgateError("resourcePreEvent has no metadata.urn", *where, fix=FIX)
            _, _, urn_type, name = parse_urn(urn)
            kind = metadata.get("type") if isinstance(metadata.get("type"), str) and metadata.get("type") else urn_type
            # urn and type only: metadata.old/new hold the resource's property values (secrets included).
            resources.setdefault(urn, Resource(urn, kind, name, custom=True, inputs={}))
        policy = event.get("policyEvent")
        if policy is not None:
            if not isinstance(policy, dict):
                raise TollgateError("policyEvent is not a JSON object", *where, fix=FIX)
            policy_events.append((policy, where))

    seen.check(str(path), policy_events)
    urns = list(resources) + [p.get("resourceUrn") for p, _ in policy_events if isinstance(p.get("resourceUrn"), str)]
    stack, project = next(((s, p) for s, p, _, _ in map(parse_urn, urns) if s), ("", ""))
    snapshot = Snapshot(project, stack, list(resources.values()))
    root = stack_urn(snapshot) if project else ""

    findings: list[Finding] = []
    for event, where in policy_events:
        name = _field(event, "policyName", where)
        level = _field(event, "enforcementLevel", where)
        if level not in LEVELS:
            raise TollgateError(f"policyEvent enforcementLevel {level!r} is not one of {sorted(LEVELS)}",
                                *where, fix=FIX)
        enforcement = LEVELS[level]
        if enforcement is None:
            continue  # a disabled policy reports nothing
        message = _field(event, "message", where)
        urn = event.get("resourceUrn") or root
        if not isinstance(urn, str):
            raise TollgateError("policyEvent resourceUrn is not a string", *where, fix=FIX)
        resource = resources.get(urn)
        _, _, urn_type, res_name = parse_urn(urn)
        meta = known.get(name)
        severity = event.get("severity")
        if severity not in SEVERITIES:
            severity = meta.severity if meta else "medium"
        findings.append(Finding(
            rule=name.removesuffix(UNDECIDED), id=meta.id if meta else "", urn=urn,
            type=resource.type if resource else (urn_type or STACK_TYPE), name=res_name,
            enforcement=enforcement, severity=severity, message=_message(message, meta), source="crossguard"))
    return EventLog(snapshot, findings, rules)
