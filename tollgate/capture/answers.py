"""The engine's answers to a program offline: data sources (invokes), resource reads and resource methods.

In this order of preference: an answer the user pinned for the stack (datasources.<stack>.yaml), one computed
exactly (computed.py), one from a sourced table (availability zones), else a placeholder of the declared
shape, read off the SDK's typed result class. A placeholder string carries PLACEHOLDER, and the capture records
any input holding one as unknown, so a rule never takes a placeholder for a fact. Numbers, booleans and enums
cannot carry a mark: they are 0, false and the first member (README, "Data sources", says so).
Runs inside the program's process (see child.py).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from . import computed, sdk_types
from .wire import SIG_KEY, UNKNOWN

PLACEHOLDER = "tollgate-placeholder"
# A list the program will index: as long as most code that indexes a data source's list expects.
PLACEHOLDER_LIST_LENGTH = 3
MAX_DEPTH = 8  # result types can be recursive; nothing a program reads is deeper


def placeholder(typ: Any, label: str, depth: int = 0) -> Any:
    """A value of the declared type, recognisable as a placeholder where it is text."""
    what, inner = sdk_types.kind(typ)
    if what in ("str", "any"):
        return f"{PLACEHOLDER}-{label}"
    if what == "bool":
        return False
    if what in ("int", "float"):
        return 0
    if what == "enum":  # only a member is a value the SDK accepts: the first, unmarked like a number
        return next(iter(inner)).value
    if what == "map" or depth >= MAX_DEPTH:
        return {}
    if what == "list":
        return [placeholder(inner, f"{label}-{i}", depth + 1) for i in range(PLACEHOLDER_LIST_LENGTH)]
    return {name: placeholder(t, f"{label}.{name}", depth + 1) for name, t in sdk_types.output_types(inner).items()}


def holds_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER in value
    if isinstance(value, dict):
        return any(holds_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_placeholder(v) for v in value)
    return False


def unknown_placeholders(value: Any) -> Any:
    """`value` with every string that holds a placeholder made unknown, as the rules must see it."""
    if isinstance(value, str):
        return UNKNOWN if PLACEHOLDER in value else value
    if isinstance(value, dict):
        return {k: unknown_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_placeholders(v) for v in value]
    return value


def _subset(want: Any, have: Any) -> bool:
    """Whether the call's arguments `have` hold every argument a pinned answer names, equal."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _subset(v, have[k]) for k, v in want.items())
    return want == have


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return copy.deepcopy(over)


class Answers:
    """What the capture monitor answers, and a count of what it had to make up (for the report)."""

    def __init__(self, pinned: list[dict[str, Any]], provider_of: Callable[[str, str], dict[str, Any]]):
        self.pinned = pinned                  # [{function, args, result}], checked by the parent (project.py)
        self.provider_of = provider_of        # (package, provider reference or "") -> that provider's inputs
        self.placeholders: dict[str, int] = {}  # function -> calls answered with a placeholder

    def _pinned(self, token: str, args: dict[str, Any]) -> Optional[dict[str, Any]]:
        matches = [p for p in self.pinned if p["function"] == token and _subset(p.get("args") or {}, args)]
        return max(matches, key=lambda p: len(p.get("args") or {}))["result"] if matches else None

    def invoke(self, token: str, args: dict[str, Any], provider: str = "") -> dict[str, Any]:
        pinned = self._pinned(token, args)
        exact = computed.answer(token, args, self.provider_of(token.split(":")[0], provider))
        if exact is None:
            cls = sdk_types.function_result(token)
            exact = placeholder(cls, token.split(":")[-1]) if cls is not None else {}
            if pinned is None:
                self.placeholders[token] = self.placeholders.get(token, 0) + 1
        return exact if pinned is None else _merge(exact, pinned)

    def read(self, type_: str, name: str, id_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A `Resource.get` or StackReference: the resource's state as a read would return it."""
        args = {"name": name, "id": id_}
        pinned = self._pinned(type_, args)
        if type_ == "pulumi:pulumi:StackReference":
            state: dict[str, Any] = {"name": inputs.get("name", id_), "outputs": UNKNOWN, "secretOutputNames": []}
        else:
            cls = sdk_types.resource_class(type_)
            label = f"{type_.split(':')[-1]}-{name}"
            state = {k: placeholder(t, f"{label}.{k}") for k, t in sdk_types.output_types(cls).items()} if cls else {}
            state.update({k: v for k, v in inputs.items() if v is not None})
            if pinned is None:
                self.placeholders[type_ + ".get"] = self.placeholders.get(type_ + ".get", 0) + 1
        state["id"] = id_
        return state if pinned is None else _merge(state, pinned)


def conform(value: Any, typ: Any, depth: int = 0) -> Any:
    """An input echoed as the output the provider returns at preview: kept where it has the declared type,
    JSON text where the provider takes a document and returns its text (IAM policies), else unknown."""
    what, inner = sdk_types.kind(typ)
    if value == UNKNOWN or isinstance(value, dict) and SIG_KEY in value:
        return value  # unknown or secret: as it is
    if what in ("any", "enum") or depth >= MAX_DEPTH:
        return value
    if what == "str":
        if isinstance(value, (dict, list)):
            return computed.go_json(value, indent=False, sort_keys=True)  # the provider's JSON of a map
        return value if isinstance(value, str) else UNKNOWN
    if what == "bool":
        return value if isinstance(value, bool) else UNKNOWN
    if what in ("int", "float"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else UNKNOWN
    if what == "list":
        return [conform(v, inner, depth + 1) for v in value] if isinstance(value, list) else UNKNOWN
    if what == "map":
        return {k: conform(v, inner, depth + 1) for k, v in value.items()} if isinstance(value, dict) else UNKNOWN
    if not isinstance(value, dict):
        return UNKNOWN
    fields = sdk_types.output_types(inner)
    return {k: conform(v, fields[k], depth + 1) if k in fields else v for k, v in value.items()}
