"""The plain data that moves one way between stages: Snapshot (capture) and Finding (evaluate)."""

from __future__ import annotations

import gc
import json
import re
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Optional

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


@contextmanager
def long_lived() -> Iterator[None]:
    """For a stage that builds many objects, no cycles, that live to the end of the run (a snapshot, the rule
    inputs): no cyclic garbage collection inside (each would only walk the growing heap again), and what is
    tracked then goes to the permanent generation (gc.freeze), so no later collection walks it again, nor
    writes to its pages in a forked child (copy-on-write). Without cycles, it is still freed when no longer
    referenced. Measured on the 10,000-resource bench: about a tenth of the preview's CPU time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


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
    # Known to hold no Pulumi secret anywhere (parse: its text shows no secret signature, not even escaped),
    # so its inputs go to the rules without the per-resource secret scan. Not written (to_json).
    secret_free: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> str:
        doc = asdict(self)
        del doc["secret_free"]
        return json.dumps(doc, indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<snapshot>", scalars_checked: bool = False,
                  trusted: bool = False) -> "Snapshot":
        """`scalars_checked`: `data` was parsed from JSON text with no `\\uD800`-style escape and no number of
        more than 308 digits, so it cannot hold a lone surrogate or a number beyond a float: only the nesting
        of the values is walked (a 10,000-resource snapshot loads in about half the time). `trusted`: the same
        text is checked in full by another process whose verdict alone counts (the parent of the forked judge,
        which stops the child if the text fails): only the fields' kinds are."""
        scalars = not scalars_checked and not trusted
        try:
            resources = [(None if scalars else _resource_as_is(r, nesting=not trusted))
                         or _resource_from_dict(r, scalars, nesting=not trusted) for r in data["resources"]]
            snapshot = cls(_text(data["project"], "project"), _text(data["stack"], "stack"), resources,
                           _optional_text(data.get("environment"), "environment"),
                           dict(_plain(data.get("tags") or {}, "tags", dict)),
                           _texts(data.get("context_only") or [], "context_only"),
                           [_note(n) for n in _plain(data.get("notes") or [], "notes", list)])
        except (KeyError, TypeError) as exc:
            raise TollgateError(f"not a Tollgate snapshot: missing or malformed {exc}", origin,
                                fix=FIX_SNAPSHOT) from exc
        except ValueError as exc:
            raise TollgateError(f"not a Tollgate snapshot: {exc}", origin, fix=FIX_SNAPSHOT) from exc
        if not trusted:
            _check_unique(snapshot.resources, origin)
        return snapshot

    @classmethod
    def read(cls, path: Path) -> "Snapshot":
        return cls.parse(read_text(path, "snapshot file"), path)

    @classmethod
    def parse(cls, text: str, path: Path, trusted: bool = False) -> "Snapshot":
        """A snapshot file's text (read_text) as a Snapshot, checked as from_dict checks (`trusted`: see there);
        `path` names it in errors. Its objects are handed to the collector's permanent generation (long_lived)."""
        if trusted:
            with long_lived():
                return replace(cls.from_dict(parse_json(text, path, "snapshot file"), str(path), trusted=True),
                               secret_free=text_secret_free(text))
        long_numbers: list[int] = []  # their lengths

        def whole_number(digits: str) -> int:
            if len(digits) > 308:  # maybe beyond a float: from_dict checks every value then
                long_numbers.append(len(digits))
                if len(digits) > 4000:  # beyond what int() takes, and far beyond a float
                    raise TollgateError(f"not a Tollgate snapshot: a number of {len(digits)} digits is too large "
                                        "to judge (beyond a 64-bit float)", str(path), fix=FIX_SNAPSHOT)
            return int(digits)

        with long_lived():
            try:
                data = parse_json(text, path, "snapshot file", parse_int=whole_number)
            except RecursionError as exc:  # json gives up on nesting far deeper than any Pulumi value
                raise TollgateError(f"not a Tollgate snapshot: nested more than {MAX_DEPTH} levels deep", str(path),
                                    fix=FIX_SNAPSHOT) from exc
            checked = not long_numbers and not SURROGATE_ESCAPE.search(text)
            return replace(cls.from_dict(data, str(path), scalars_checked=checked), secret_free=text_secret_free(text))


def text_secret_free(text: str) -> bool:
    """Whether JSON text can hold no Pulumi secret: a secret is an object with the secret signature as a
    value, so the signature is in the text, unless a \\u escape spells it (then the text is not vouched for)."""
    return SECRET_SIG not in text and "\\u" not in text


def _resource_from_dict(r: Any, scalars: bool = True, nesting: bool = True) -> Resource:
    """One resource, its shape checked: what every later stage may then rely on.

    Errors name the resource and the field, never a value (a value may be a secret). `scalars=False`: its
    text and numbers are known to be fine (Snapshot.from_dict), so the fields' kinds and the resource's
    nesting are checked, in one walk.
    """
    if not isinstance(r, dict):
        raise TypeError("resource: not an object")
    urn = _text(r["urn"], "urn", scalars)
    where = f"resource {urn[:200]}:"
    if not scalars and nesting:  # a field's values at most MAX_DEPTH deep: the resource at most one more
        _check_depth(r, where, MAX_DEPTH + 1)
    provider, source = r.get("provider"), r.get("source")
    if provider and _text(_plain(provider, f"{where} provider", dict, scalars)["urn"], f"{where} provider.urn",
                          scalars).count("::") < 3:
        raise ValueError(f"{where} provider.urn is not a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)")
    line = _plain(source, f"{where} source", dict, scalars).get("line") if source else 1
    if isinstance(line, bool) or not isinstance(line, (int, str)) or not str(line).strip().lstrip("+-").isdecimal():
        raise ValueError(f"{where} source.line is not a whole number")
    deps = _plain(r.get("property_dependencies") or {}, f"{where} property_dependencies", dict, scalars)
    return Resource(
        urn=urn, type=_text(r["type"], f"{where} type", scalars), name=_text(r["name"], f"{where} name", scalars),
        custom=bool(r["custom"]),
        inputs=_plain(r.get("inputs") or {}, f"{where} inputs", dict, scalars),
        parent=_optional_text(r.get("parent"), f"{where} parent", scalars),
        provider=ProviderRef(provider["urn"], _plain(provider.get("inputs") or {}, f"{where} provider.inputs", dict,
                                                     scalars)) if provider else None,
        dependencies=_texts(r.get("dependencies") or [], f"{where} dependencies", scalars),
        property_dependencies={k: _texts(v, f"{where} property_dependencies", scalars) for k, v in deps.items()},
        options=dict(_plain(r.get("options") or {}, f"{where} options", dict, scalars)),
        source=Position(_text(source["file"], f"{where} source.file", scalars), int(line)) if source else None,
    )


def _note(n: Any) -> Note:
    if not isinstance(n, dict):
        raise TypeError("notes[]: not an object")
    note = Note(*(_text(n[k], f"notes[].{k}") for k in ("rule", "urn", "type", "name", "message")))
    if note.rule not in NOTE_RULES:
        raise ValueError(f"notes[].rule {note.rule[:50]!r} is not one of {', '.join(NOTE_RULES)}")
    return note


def _resource_as_is(r: Any, nesting: bool) -> Optional[Resource]:
    """_resource_from_dict(r, scalars=False, nesting) for a resource that passes its checks, else None (then
    _resource_from_dict finds what is wrong and says so). The same checks, without making the texts that
    only an error needs (10,000-resource bench estate: 0.095 -> 0.076 s with the nesting check, 0.065 -> 0.046 s
    without; tests/test_properties.py holds the two to the same verdicts)."""
    try:
        if not isinstance(r, dict):
            return None
        urn, type_, name, custom = r["urn"], r["type"], r["name"], bool(r["custom"])
        if not (isinstance(urn, str) and isinstance(type_, str) and isinstance(name, str)):
            return None
        if nesting:
            _check_depth(r, "", MAX_DEPTH + 1)
        provider, source, parent = r.get("provider"), r.get("source"), r.get("parent")
        inputs, options = r.get("inputs") or {}, r.get("options") or {}
        dependencies, by_property = r.get("dependencies") or [], r.get("property_dependencies") or {}
        if not (isinstance(inputs, dict) and isinstance(options, dict) and isinstance(dependencies, list)
                and isinstance(by_property, dict) and (parent is None or isinstance(parent, str))):
            return None
        for urns in (dependencies, *by_property.values()):
            if not isinstance(urns, list) or urns and not all(isinstance(u, str) for u in urns):
                return None
        ref = position = None
        if provider:
            provider_urn, provider_inputs = provider["urn"], provider.get("inputs") or {}
            if not (isinstance(provider_urn, str) and provider_urn.count("::") >= 3 and isinstance(provider_inputs, dict)):
                return None
            ref = ProviderRef(provider_urn, provider_inputs)
        if source:
            line, file = source.get("line"), source["file"]
            if type(line) is not int or not isinstance(file, str):  # a line given as text: left to the checks
                return None
            position = Position(file, line)
    except (KeyError, TypeError, AttributeError, ValueError):  # ValueError: too deep
        return None
    return Resource(urn, type_, name, custom, inputs, parent, ref, list(dependencies),
                    {k: list(v) for k, v in by_property.items()}, dict(options), position)


# Deeper values are no Pulumi property (the SDK's protobuf caps nesting far below this), and would exhaust
# the recursion of the stages that walk them (secret redaction, the Rego engine's input conversion).
MAX_DEPTH = 200
# The Rego engine holds numbers as 64-bit floats at most; a larger integer cannot be judged.
MAX_NUMBER = sys.float_info.max
# What JSON text must hold for a parsed string to carry a lone surrogate: a \uD800-\uDFFF escape.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _text(value: Any, where: str, scalars: bool = True) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: not a string")
    return _plain(value, where, str) if scalars else value


def _optional_text(value: Any, where: str, scalars: bool = True) -> Optional[str]:
    return None if value is None else _text(value, where, scalars)


def _texts(value: Any, where: str, scalars: bool = True) -> list[str]:
    return [_text(item, f"{where}[]", scalars) for item in _plain(value, where, list, scalars)]


def _plain(value: Any, where: str, kind: type, scalars: bool = True) -> Any:
    """`value` if it is of `kind` and, all the way down, plain JSON the engine can hold: text without lone
    surrogates (a file's `\\ud800` escape is no character), numbers a float can hold, at most MAX_DEPTH deep.
    `scalars=False`: the value was parsed from JSON text known to hold no such text or number, and its
    nesting is checked by the caller (_check_depth), so only its kind is."""
    if not isinstance(value, kind):
        raise TypeError(f"{where}: not {'an object' if kind is dict else 'a list' if kind is list else 'a string'}")
    if not scalars:
        return value
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
        """As asdict(self), without its deep copy of each text (a report of 1,000 findings: 45 -> 4 ms)."""
        return {"rule": self.rule, "id": self.id, "urn": self.urn, "type": self.type, "name": self.name,
                "enforcement": self.enforcement, "severity": self.severity, "message": self.message,
                "source": self.source, "waiver": None if self.waiver is None else asdict(self.waiver)}
