"""The plain data that moves one way between stages: Snapshot (capture) and Finding (evaluate)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

# Pulumi's own wire conventions, kept as-is so a snapshot reads like engine data; their one home is
# capture/wire.py, which the capture child can import without this module.
from .capture.wire import SECRET_SIG, SIG_KEY, UNKNOWN, is_secret  # noqa: F401 (UNKNOWN: for the stages)
from .errors import TollgateError, parse_json, read_text

FIX_SNAPSHOT = "write snapshots with `tollgate preview --snapshot-out FILE`"
# A secret in a snapshot is the secret signature with no value: nothing downstream can print it.
SECRET_MARKER = {SIG_KEY: SECRET_SIG}

ENFORCEMENTS = ("mandatory", "advisory", "remediate")
# waivers: findings about the waivers file; capture: what the preview could not see (Snapshot.notes)
SOURCES = ("rego", "crossguard", "cost", "checkov", "waivers", "capture")


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


# What the capture notes, as findings of its own (id, severity): advisory; not-expanded mandatory with --strict.
NOTE_RULES = {"not-expanded": ("TG080", "medium"), "apply-skipped": ("TG081", "low")}


@dataclass
class Note:
    """Something the capture could not see (a component not expanded, an apply that did not run), for the report."""

    rule: str
    urn: str
    type: str
    name: str
    message: str


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
    notes: list[Note] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<snapshot>") -> "Snapshot":
        """A snapshot document, every value checked (_resource): what every later stage may rely on."""
        return cls._of(data, origin, lambda r: _resource(r, values=True), unique=True)

    @classmethod
    def from_checked(cls, data: dict[str, Any], origin: str = "<snapshot>") -> "Snapshot":
        """A document another process checks, whose verdict alone counts: its resources built as they are."""
        return cls._of(data, origin, _built, unique=False)

    @classmethod
    def read(cls, path: Path) -> "Snapshot":
        return cls.parse(read_text(path, "snapshot file"), path)

    @classmethod
    def parse(cls, text: str, path: Path) -> "Snapshot":
        """A snapshot file's text (read_text) as a Snapshot, checked as from_dict checks; `path` names it in
        errors. Text and numbers are walked only where the text could hold what the engine cannot take."""
        long_numbers: list[int] = []  # their lengths

        def whole_number(digits: str) -> int:
            if len(digits) > 308:  # maybe beyond a float: every value is checked then
                long_numbers.append(len(digits))
                if len(digits) > 4000:  # beyond what int() takes, and far beyond a float
                    raise TollgateError(f"not a Tollgate snapshot: a number of {len(digits)} digits is too large "
                                        "to judge (beyond a 64-bit float)", str(path), fix=FIX_SNAPSHOT)
            return int(digits)

        try:
            data = parse_json(text, path, "snapshot file", parse_int=whole_number)
        except RecursionError as exc:  # json gives up on nesting far deeper than any Pulumi value
            raise TollgateError(f"not a Tollgate snapshot: nested more than {MAX_DEPTH} levels deep", str(path),
                                fix=FIX_SNAPSHOT) from exc
        values = bool(long_numbers) or SURROGATE_ESCAPE.search(text) is not None
        return cls._of(data, str(path), lambda r: _resource(r, values), unique=True)

    @classmethod
    def _of(cls, data: dict[str, Any], origin: str, resource: Callable[[Any], Resource], unique: bool) -> "Snapshot":
        try:
            snapshot = cls(_text(data["project"], "project"), _text(data["stack"], "stack"),
                           [resource(r) for r in data["resources"]],
                           None if data.get("environment") is None else _text(data["environment"], "environment"),
                           dict(_plain(data.get("tags") or {}, "tags", dict)),
                           _texts(data.get("context_only") or [], "context_only"),
                           [_note(n) for n in _plain(data.get("notes") or [], "notes", list)])
        except (KeyError, TypeError) as exc:
            raise TollgateError(f"not a Tollgate snapshot: missing or malformed {exc}", origin,
                                fix=FIX_SNAPSHOT) from exc
        except ValueError as exc:
            raise TollgateError(f"not a Tollgate snapshot: {exc}", origin, fix=FIX_SNAPSHOT) from exc
        if unique:
            _check_unique(snapshot.resources, origin)
        return snapshot


def _resource(r: Any, values: bool) -> Resource:
    """One resource, its shape checked: what every later stage may then rely on. Errors name the resource
    (only when there is one) and the field, never a value (a value may be a secret). `values=False`: its text
    and numbers are known to be fine (Snapshot.parse): the fields' kinds and the nesting are checked."""
    if not isinstance(r, dict):
        raise TypeError("resource: not an object")
    urn = _text(r["urn"], "urn", values)
    try:
        _check_fields(r, values)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"resource {urn[:200]}:{exc}") from None
    return _built(r)


def _check_fields(r: dict[str, Any], values: bool) -> None:
    """_resource's checks, in the order their errors are reported; messages start with the field. A field of
    its usual kind skips _plain/_text unless its values are to be walked: they make the message, or walk."""
    if not values:  # a field's values at most MAX_DEPTH deep: the resource at most one more
        _check_depth(r, "", MAX_DEPTH + 1)
    provider, source = r.get("provider"), r.get("source")
    if provider:
        if values or type(provider) is not dict:
            _plain(provider, " provider", dict, values)
        if values or type(provider["urn"]) is not str:
            _text(provider["urn"], " provider.urn", values)
        if provider["urn"].count("::") < 3:
            raise ValueError(" provider.urn is not a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)")
    if source and (values or type(source) is not dict):
        _plain(source, " source", dict, values)
    line = source.get("line") if source else 1
    if type(line) is not int and (isinstance(line, bool) or not isinstance(line, (int, str))
                                  or not str(line).strip().lstrip("+-").isdecimal()):
        raise ValueError(" source.line is not a whole number")
    by_property = r.get("property_dependencies") or {}
    if values or type(by_property) is not dict:
        _plain(by_property, " property_dependencies", dict, values)
    for field in ("type", "name"):
        if values or type(r[field]) is not str:
            _text(r[field], f" {field}", values)
    r["custom"]  # noqa: B018 (present)
    inputs, parent = r.get("inputs") or {}, r.get("parent")
    if values or type(inputs) is not dict:
        _plain(inputs, " inputs", dict, values)
    if parent is not None and (values or type(parent) is not str):
        _text(parent, " parent", values)
    if provider and (values or type(provider.get("inputs") or {}) is not dict):
        _plain(provider.get("inputs") or {}, " provider.inputs", dict, values)
    _texts(r.get("dependencies") or [], " dependencies", values)
    for urns in by_property.values():
        _texts(urns, " property_dependencies", values)
    options = r.get("options") or {}
    if values or type(options) is not dict:
        _plain(options, " options", dict, values)
    if source and (values or type(source["file"]) is not str):
        _text(source["file"], " source.file", values)


def _built(r: dict[str, Any]) -> Resource:
    """The Resource of a checked resource document."""
    provider, source = r.get("provider"), r.get("source")
    return Resource(r["urn"], r["type"], r["name"], bool(r["custom"]), r.get("inputs") or {}, r.get("parent"),
                    ProviderRef(provider["urn"], provider.get("inputs") or {}) if provider else None,
                    list(r.get("dependencies") or []),
                    {k: list(v) for k, v in (r.get("property_dependencies") or {}).items()},
                    dict(r.get("options") or {}), Position(source["file"], int(source.get("line"))) if source else None)


def _note(n: Any) -> Note:
    if not isinstance(n, dict):
        raise TypeError("notes[]: not an object")
    note = Note(*(_text(n[k], f"notes[].{k}") for k in ("rule", "urn", "type", "name", "message")))
    if note.rule not in NOTE_RULES:
        raise ValueError(f"notes[].rule {note.rule[:50]!r} is not one of {', '.join(NOTE_RULES)}")
    return note


# Deeper values are no Pulumi property (the SDK's protobuf caps nesting far below this), and would exhaust
# the recursion of the stages that walk them (secret redaction, the Rego engine's input conversion).
MAX_DEPTH = 200
# The Rego engine holds numbers as 64-bit floats at most; a larger integer cannot be judged.
MAX_NUMBER = sys.float_info.max
# What JSON text must hold for a parsed string to carry a lone surrogate: a \uD800-\uDFFF escape.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _text(value: Any, where: str, values: bool = True) -> str:
    return _plain(value, where, str, values)


def _texts(value: Any, where: str, values: bool = True) -> list[str]:
    items = _plain(value, where, list, values)
    if values or not all(type(item) is str for item in items):  # text to walk, or a message to make
        for item in items:
            _text(item, f"{where}[]", values)
    return list(items)


def _plain(value: Any, where: str, kind: type, values: bool = True) -> Any:
    """`value` if it is of `kind` and, all the way down, plain JSON the engine can hold: text without lone
    surrogates (a file's `\\ud800` escape is no character), numbers a float can hold, at most MAX_DEPTH deep.
    `values=False`: only its kind (its text and numbers are known to be fine, its nesting checked apart)."""
    if not isinstance(value, kind):
        raise TypeError(f"{where}: not {'an object' if kind is dict else 'a list' if kind is list else 'a string'}")
    if values:
        _walk(value, where)
    return value


def _walk(value: Any, where: str) -> None:
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


def _check_depth(value: Any, where: str, limit: int = MAX_DEPTH) -> None:
    """At most `limit` levels of objects and arrays (iterative, only containers visited)."""
    level, depth = ([value] if type(value) is dict or type(value) is list else []), 0
    while level:  # level by level: the containers `depth` levels down
        if depth >= limit:
            raise ValueError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        deeper: list[Any] = []
        add = deeper.append
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    add(child)
        level, depth = deeper, depth + 1


def _check_unique(resources: list[Resource], origin: str) -> None:
    """What every Pulumi snapshot holds and every stage keys on: one resource per URN, at most one root stack,
    one set of inputs per provider. A file that breaks them would be judged differently in another order."""
    seen: set[str] = set()
    providers: dict[str, dict[str, Any]] = {}
    for r in resources:
        if r.urn in seen:
            raise TollgateError(f"not a Tollgate snapshot: URN {r.urn[:200]} appears twice", origin, fix=FIX_SNAPSHOT)
        seen.add(r.urn)
        first = providers.setdefault(r.provider.urn, r.provider.inputs) if r.provider else None
        if r.provider and first != r.provider.inputs and (  # as text too: NaN equals NaN there
                json.dumps(first, sort_keys=True) != json.dumps(r.provider.inputs, sort_keys=True)):
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

    def to_dict(self) -> dict[str, Any]:
        """As asdict(self), without its deep copy of each text (a large report writes many)."""
        return {"rule": self.rule, "id": self.id, "urn": self.urn, "type": self.type, "name": self.name,
                "enforcement": self.enforcement, "severity": self.severity, "message": self.message,
                "source": self.source, "waiver": None if self.waiver is None else asdict(self.waiver)}
