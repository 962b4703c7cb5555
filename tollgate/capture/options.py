"""Resource options as an analyzer is told them (AnalyzerResourceOptions), marshalled here for every source.

A snapshot holds them camelCase, only those set: protect, ignoreChanges, deleteBeforeReplace,
additionalSecretOutputs, customTimeouts (Go durations, as the program gave them), retainOnDelete, import.
They come from a registration (the capture child) or a ResourceV3 state (`pulumi preview --json`,
`pulumi stack export`); they go to a policy pack as AnalyzerResourceOptions (the CrossGuard source), and to
the rules as what an analyzer is told (for_rules): the pack reads them back from its request (from_analyzer),
the engine from the snapshot (to_rules), so the Rego input is the same on both paths (custom timeouts in
seconds). Standard library only: the capture child imports this module.
"""

from __future__ import annotations

import re
from typing import Any, Optional

TIMEOUTS = ("create", "update", "delete")
DURATION = r"(\d+(?:\.\d+)?)(h|ms|m|s)"  # compiled on first use (re caches it): the child never needs it
SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


def _set(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


def from_transform(opts: Any) -> dict[str, Any]:
    """A registration's options after its transforms (a TransformResourceOptions message), those set."""
    def given(field: str) -> Any:
        return getattr(opts, field) if opts.HasField(field) else None

    timeouts = given("custom_timeouts")
    return _set({
        "protect": given("protect"), "ignoreChanges": list(opts.ignore_changes) or None,
        "deleteBeforeReplace": given("delete_before_replace"),
        "additionalSecretOutputs": list(opts.additional_secret_outputs) or None,
        "customTimeouts": {k: getattr(timeouts, k) for k in TIMEOUTS} if timeouts is not None else None,
        "retainOnDelete": given("retain_on_delete"), "import": getattr(opts, "import") or None,
    })


def from_state(state: dict[str, Any]) -> dict[str, Any]:
    """The options a ResourceV3 state (apitype) records, those set."""
    return _set({
        "protect": True if state.get("protect") else None,
        "ignoreChanges": list(state["ignoreChanges"]) if state.get("ignoreChanges") else None,
        "additionalSecretOutputs": list(state["additionalSecretOutputs"]) if state.get("additionalSecretOutputs")
        else None,
        "retainOnDelete": True if state.get("retainOnDelete") else None,
        "import": state.get("importID") or None,
    })


def seconds(duration: Any) -> float:
    """A Go duration of customTimeouts ("5m", "1h30m") in seconds, as AnalyzerResourceOptions has it."""
    return sum(float(n) * SECONDS[unit] for n, unit in re.findall(DURATION, str(duration or "")))


def to_analyzer(options: dict[str, Any], parent: Optional[str]) -> dict[str, Any]:
    """A snapshot's options as the fields of AnalyzerResourceOptions, as the CLI sends them to a pack."""
    timeouts = options.get("customTimeouts")
    return dict(
        protect=bool(options.get("protect")), ignoreChanges=options.get("ignoreChanges", []),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in options,
        additionalSecretOutputs=options.get("additionalSecretOutputs", []), parent=parent or "",
        customTimeouts={k: seconds(timeouts.get(k)) for k in TIMEOUTS} if timeouts else None)


def to_rules(options: dict[str, Any], parent: Optional[str]) -> dict[str, Any]:
    """A snapshot's options as the rules read them: what a pack is told of them (to_analyzer), read back."""
    if not options:  # nothing set (most resources): what the round trip gives, without it
        return {"parent": parent or ""}
    told = to_analyzer(options, parent)
    return for_rules(told["protect"], told["ignoreChanges"],
                     told["deleteBeforeReplace"] if told["deleteBeforeReplaceDefined"] else None,
                     told["additionalSecretOutputs"], told["customTimeouts"] or {}, told["parent"])


def from_analyzer(opts: Any) -> dict[str, Any]:
    """What a pack is told (pulumi-policy's PolicyResourceOptions) as the rules read it."""
    return for_rules(opts.protect, opts.ignore_changes, opts.delete_before_replace, opts.additional_secret_outputs,
                     {k: getattr(opts.custom_timeouts, f"{k}_seconds") for k in TIMEOUTS}, opts.parent)


def for_rules(protect: Optional[bool], ignore_changes: list[str], delete_before_replace: Optional[bool],
              additional_secret_outputs: list[str], timeouts: dict[str, float], parent: Optional[str]) -> dict[str, Any]:
    """The options of the Rego input: those set (custom timeouts in seconds), and the parent ("" for none)."""
    return {**_set({"protect": protect or None, "ignoreChanges": list(ignore_changes) or None,
                    "deleteBeforeReplace": delete_before_replace,
                    "additionalSecretOutputs": list(additional_secret_outputs) or None,
                    "customTimeouts": dict(timeouts) if any(timeouts.values()) else None}), "parent": parent or ""}
