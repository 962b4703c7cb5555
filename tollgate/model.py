"""The plain data that moves one way between stages: Snapshot (capture) and Finding (evaluate)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import TollgateError, read_json

# Pulumi's own wire conventions, kept as-is so a snapshot reads like engine data.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
FIX_SNAPSHOT = "write snapshots with `tollgate preview --snapshot-out FILE`"
# A secret in a snapshot is the secret signature with no value: nothing downstream can print it.
SECRET_MARKER = {SIG_KEY: SECRET_SIG}

ENFORCEMENTS = ("mandatory", "advisory", "remediate")
SOURCES = ("rego", "crossguard", "cost", "checkov", "waivers")  # waivers: findings about the waivers file


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


@dataclass
class Position:
    file: str
    line: int


@dataclass
class ProviderRef:
    urn: str
    inputs: dict[str, Any]


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: Optional[str] = None
    provider: Optional[ProviderRef] = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    source: Optional[Position] = None


@dataclass
class Snapshot:
    project: str
    stack: str
    resources: list[Resource]
    # The stack's configured environment (config `<project>:environment` or `tollgate:environment`).
    environment: Optional[str] = None
    # The stack's tag set (config `<project>:tags` or `tollgate:tags`), for tag remediation.
    tags: dict[str, str] = field(default_factory=dict)
    # Resources present only as context (unchanged in a `pulumi preview --json`): stack rules and the cost
    # estimate see them, but findings about them are not reported.
    context_only: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<snapshot>") -> "Snapshot":
        try:
            resources = [_resource_from_dict(r) for r in data["resources"]]
            snapshot = cls(_text(data["project"], "project"), _text(data["stack"], "stack"), resources,
                           _optional_text(data.get("environment"), "environment"),
                           dict(_plain(data.get("tags") or {}, "tags", dict)),
                           _texts(data.get("context_only") or [], "context_only"))
        except (KeyError, TypeError) as exc:
            raise TollgateError(f"not a Tollgate snapshot: missing or malformed {exc}", origin,
                                fix=FIX_SNAPSHOT) from exc
        except ValueError as exc:
            raise TollgateError(f"not a Tollgate snapshot: {exc}", origin, fix=FIX_SNAPSHOT) from exc
        _check_unique(snapshot.resources, origin)
        return snapshot

    @classmethod
    def read(cls, path: Path) -> "Snapshot":
        try:
            data = read_json(path, "snapshot file")
        except RecursionError as exc:  # json gives up on nesting far deeper than any Pulumi value
            raise TollgateError(f"not a Tollgate snapshot: nested more than {MAX_DEPTH} levels deep", str(path),
                                fix=FIX_SNAPSHOT) from exc
        return cls.from_dict(data, str(path))


def _resource_from_dict(r: Any) -> Resource:
    """One resource, its shape checked: what every later stage may then rely on.

    Errors name the resource and the field, never a value (a value may be a secret).
    """
    if not isinstance(r, dict):
        raise TypeError("resource: not an object")
    urn = _text(r["urn"], "urn")
    where = f"resource {urn[:200]}:"
    provider, source = r.get("provider"), r.get("source")
    if provider and _text(_plain(provider, f"{where} provider", dict)["urn"], f"{where} provider.urn").count("::") < 3:
        raise ValueError(f"{where} provider.urn is not a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)")
    line = _plain(source, f"{where} source", dict).get("line") if source else 1
    if isinstance(line, bool) or not isinstance(line, (int, str)) or not str(line).strip().lstrip("+-").isdecimal():
        raise ValueError(f"{where} source.line is not a whole number")
    deps = _plain(r.get("property_dependencies") or {}, f"{where} property_dependencies", dict)
    return Resource(
        urn=urn, type=_text(r["type"], f"{where} type"), name=_text(r["name"], f"{where} name"),
        custom=bool(r["custom"]),
        inputs=_plain(r.get("inputs") or {}, f"{where} inputs", dict),
        parent=_optional_text(r.get("parent"), f"{where} parent"),
        provider=ProviderRef(provider["urn"], _plain(provider.get("inputs") or {}, f"{where} provider.inputs", dict))
        if provider else None,
        dependencies=_texts(r.get("dependencies") or [], f"{where} dependencies"),
        property_dependencies={k: _texts(v, f"{where} property_dependencies") for k, v in deps.items()},
        options=dict(_plain(r.get("options") or {}, f"{where} options", dict)),
        source=Position(_text(source["file"], f"{where} source.file"), int(line)) if source else None,
    )


# Deeper values are no Pulumi property (the SDK's protobuf caps nesting far below this), and would exhaust
# the recursion of the stages that walk them (secret redaction, the Rego engine's input conversion).
MAX_DEPTH = 200
# The Rego engine holds numbers as 64-bit floats at most; a larger integer cannot be judged.
MAX_NUMBER = sys.float_info.max


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: not a string")
    return _plain(value, where, str)


def _optional_text(value: Any, where: str) -> Optional[str]:
    return None if value is None else _text(value, where)


def _texts(value: Any, where: str) -> list[str]:
    return [_text(item, f"{where}[]") for item in _plain(value, where, list)]


def _plain(value: Any, where: str, kind: type) -> Any:
    """`value` if it is of `kind` and, all the way down, plain JSON the engine can hold: text without lone
    surrogates (a file's `\\ud800` escape is no character), numbers a float can hold, at most MAX_DEPTH deep."""
    if not isinstance(value, kind):
        raise TypeError(f"{where}: not {'an object' if kind is dict else 'a list' if kind is list else 'a string'}")
    stack = [(value, 0)]
    while stack:  # iterative: the depth check must not be the thing that overflows
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{where}: a string is not valid Unicode (a lone surrogate)") from None
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_NUMBER:
                raise ValueError(f"{where}: a number is too large to judge (beyond a 64-bit float)")
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ValueError(f"{where}: nested more than {MAX_DEPTH} levels deep")
            children = list(item.items()) if isinstance(item, dict) else [(None, x) for x in item]
            for key, child in children:
                if key is not None:
                    stack.append((key, depth + 1))
                stack.append((child, depth + 1))
        else:
            raise TypeError(f"{where}: holds a {type(item).__name__}, which is not JSON")
    return value


def _check_unique(resources: list[Resource], origin: str) -> None:
    """What every Pulumi snapshot holds and every stage keys on: one resource per URN, at most one root stack,
    one set of inputs per provider. A file that breaks them would be judged differently in another order."""
    seen: set[str] = set()
    providers: dict[str, str] = {}
    for r in resources:
        if r.urn in seen:
            raise TollgateError(f"not a Tollgate snapshot: URN {r.urn[:200]} appears twice", origin, fix=FIX_SNAPSHOT)
        seen.add(r.urn)
        inputs = json.dumps(r.provider.inputs, sort_keys=True) if r.provider else ""  # (text: NaN equals NaN)
        if r.provider and providers.setdefault(r.provider.urn, inputs) != inputs:
            raise TollgateError(f"not a Tollgate snapshot: provider {r.provider.urn[:200]} has other inputs on "
                                f"resource {r.urn[:200]}", origin, fix=FIX_SNAPSHOT)
    if sum(1 for r in resources if r.type == "pulumi:pulumi:Stack") > 1:
        raise TollgateError("not a Tollgate snapshot: more than one pulumi:pulumi:Stack resource", origin,
                            fix=FIX_SNAPSHOT)


@dataclass(frozen=True)
class Waiver:
    """An approved exception (waivers.yaml), reviewed like code: who, why, until when."""

    rule: str
    resource: str   # urn or name pattern it matched
    owner: str
    reason: str
    expires: str    # ISO date; the waiver is void after it


@dataclass(frozen=True)
class Finding:
    rule: str
    id: str
    urn: str
    type: str
    name: str
    enforcement: str
    severity: str
    message: str
    source: str
    waiver: Optional[Waiver] = None  # set when a waiver covers it: reported as waived, never removed

    @property
    def blocking(self) -> bool:
        """A mandatory finding no waiver covers: what fails a preview."""
        return self.enforcement == "mandatory" and self.waiver is None

    def __post_init__(self) -> None:
        if self.enforcement not in ENFORCEMENTS:
            raise ValueError(f"finding enforcement {self.enforcement!r} not in {ENFORCEMENTS}")
        if self.source not in SOURCES:
            raise ValueError(f"finding source {self.source!r} not in {SOURCES}")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
