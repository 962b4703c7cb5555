"""Capture from the Pulumi CLI's own files: `pulumi preview --json` and `pulumi stack export` into a Snapshot.

* `pulumi preview --json`: a PreviewDigest (pulumi/pulumi pkg/display/json.go): `steps` of PreviewStep
  {op, urn, provider, oldState, newState, ...}, each state an apitype.ResourceV3. The CLI blinds secrets
  there as the string "[secret]".
* `pulumi stack export`: an UntypedDeployment {version: 3, deployment: DeploymentV3{manifest,
  secrets_providers, resources: [ResourceV3]}} (sdk/go/common/apitype/core.go). Secrets are SecretV1
  objects: the secret signature with `ciphertext`, or with `plaintext` under --show-secrets.

Every secret becomes the bare secret marker here, before anything else sees it. The stack's config is in
neither file, so `environment` and `tags` stay unset (rules fall back to the environment tag, then the stack).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from ..errors import TollgateError, read_json
from ..model import SECRET_MARKER, Position, ProviderRef, Resource, Snapshot
from . import options
from .wire import SECRET_TEXT, decode, decode_provider_inputs

PROVIDER_PREFIX = "pulumi:providers:"
STACK_TYPE = "pulumi:pulumi:Stack"
# Steps whose resource will not exist after the update: never judged.
GONE_OPS = {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}
# Steps that leave a resource as it is (or only read an external one): judged only with include_unchanged.
UNCHANGED_OPS = {"same", "read", "read-replacement", "refresh"}
# Steps that belong to one replacement: the same urn may appear in several, each with the same new state.
REPLACEMENT_OPS = {"create-replacement", "replace", "import-replacement", "read-replacement"}
KNOWN_OPS = GONE_OPS | UNCHANGED_OPS | REPLACEMENT_OPS | {"create", "update", "import"}
SHORT = 200  # characters of a bad value quoted back in an error
BLINDED_SECRET = SECRET_TEXT  # how `pulumi preview --json` prints a secret (massagePropertyValue)
_URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::(?P<type>.+?)::(?P<name>.*)$", re.S)
_POSITION = re.compile(r"^project://(?P<file>[^#]*)#(?P<line>\d+)")

PREVIEW_FIX = "give the output of `pulumi preview --json` (an object with \"steps\")"
EXPORT_FIX = "give the output of `pulumi stack export` (version 3)"


class _Reader:
    def __init__(self, path: Path, fix: str, blinded_secrets: bool) -> None:
        self.path, self.fix, self.blinded_secrets = path, fix, blinded_secrets

    def error(self, message: str) -> TollgateError:
        return TollgateError(message, str(self.path), fix=self.fix)

    def field(self, obj: dict[str, Any], key: str, where: str, kind: type, required: bool = False) -> Any:
        value, name = obj.get(key), f"{where}.{key}" if where else key
        if value is None:
            if required:
                raise self.error(f"{name} missing")
            return None
        if not isinstance(value, kind) or (kind is str and not value):
            raise self.error(f"{name} is not a{'n' if kind is dict else ''} {_KIND[kind]}")
        return value

    def values(self, value: Any) -> Any:
        """Engine JSON -> snapshot values: secrets (signature objects, or blinded strings) become markers."""
        return decode(_unblind(value) if self.blinded_secrets else value)

    def check_state(self, state: Any, where: str, step_urn: Optional[str] = None) -> dict[str, Any]:
        if not isinstance(state, dict):
            raise self.error(f"{where} is not an object")
        urn = self.field(state, "urn", where, str, required=True)
        match = _URN.match(urn)
        if not match:
            raise self.error(f"{where}.urn is not a Pulumi urn (urn:pulumi:<stack>::<project>::<type>::<name>): "
                             f"{_short(urn)}")
        if step_urn is not None and urn != step_urn:
            raise self.error(f"{where}.urn is {_short(urn)}, not its step's urn {_short(step_urn)}")
        type_ = self.field(state, "type", where, str, required=True)
        # The urn's type is the engine's (the last of its parent-qualified types): a `type` that disagrees lies.
        if match["type"].rsplit("$", 1)[-1] != type_:
            raise self.error(f"{where}.type is {_short(type_)} but its urn says {_short(match['type'].rsplit('$', 1)[-1])}: "
                             f"a resource's type is part of its urn")
        if "custom" in state and not isinstance(state["custom"], bool):
            raise self.error(f"{where}.custom is not a boolean")
        for key, kind in (("inputs", dict), ("parent", str), ("provider", str), ("dependencies", list),
                          ("propertyDependencies", dict)):
            self.field(state, key, where, kind)
        return state

    def snapshot(self, states: list[tuple[str, dict[str, Any]]], known: dict[str, dict[str, Any]]) -> Snapshot:
        """`states` are judged; `known` (urn -> state) are every resource in the file, to resolve providers."""
        if not states:
            raise self.error("no resources to judge (every step deletes, or leaves unchanged: see --include-unchanged)")
        first = _URN.match(states[0][1]["urn"])
        resources = [self.resource(state, where, known) for where, state in states]
        return Snapshot(first["project"], first["stack"], resources)

    def resource(self, state: dict[str, Any], where: str, known: dict[str, dict[str, Any]]) -> Resource:
        type_, custom = state["type"], bool(state.get("custom", False))
        inputs = self.values(state.get("inputs") or {})
        if type_.startswith(PROVIDER_PREFIX):
            inputs = decode_provider_inputs(inputs)
        return Resource(
            urn=state["urn"], type=type_, name=_URN.match(state["urn"])["name"], custom=custom, inputs=inputs,
            parent=state.get("parent") or None,
            provider=self.provider(state, where, known) if custom and not type_.startswith(PROVIDER_PREFIX) else None,
            dependencies=list(state.get("dependencies") or []),
            property_dependencies={k: list(v) for k, v in (state.get("propertyDependencies") or {}).items() if v},
            options=options.from_state(state), source=_position(state.get("sourcePosition")),
        )

    def provider(self, state: dict[str, Any], where: str, known: dict[str, dict[str, Any]]) -> Optional[ProviderRef]:
        ref = state.get("provider")
        if not ref:
            return None
        if "::" not in ref:
            raise self.error(f"{where}.provider is not a provider reference (<provider urn>::<id>): {ref}")
        urn = ref.rsplit("::", 1)[0]
        provider = known.get(urn)
        inputs = decode_provider_inputs(self.values(provider.get("inputs") or {})) if provider else {}
        return ProviderRef(urn, inputs)


_KIND = {str: "non-empty string", dict: "object", list: "list", bool: "boolean"}


def _short(value: str) -> str:
    """A value quoted back in an error: at most a short prefix of it."""
    return repr(value if len(value) <= SHORT else value[:SHORT] + "...")


def _unblind(value: Any) -> Any:
    if value == BLINDED_SECRET:
        return dict(SECRET_MARKER)
    if isinstance(value, list):
        return [_unblind(v) for v in value]
    if isinstance(value, dict):
        return {k: _unblind(v) for k, v in value.items()}
    return value


def _position(value: Any) -> Optional[Position]:
    match = _POSITION.match(value) if isinstance(value, str) else None
    return Position(match["file"].lstrip("/") or match["file"], int(match["line"])) if match else None


def snapshot_from_preview_json(path: Path, include_unchanged: bool = False) -> Snapshot:
    """The resources a `pulumi preview --json` would leave in the stack; deleted ones are not judged, unchanged
    ones (`same`, and external reads) only with include_unchanged."""
    return read_preview_json(path, include_unchanged)[0]


def read_preview_json(path: Path, include_unchanged: bool = False) -> tuple[Snapshot, Optional[Snapshot]]:
    """The stack after the update (snapshot_from_preview_json) and before it (the steps' old states, every one
    judged; None when the stack did not exist): a finding the change causes may land on an unchanged resource."""
    path = Path(path)
    reader = _Reader(path, PREVIEW_FIX, blinded_secrets=True)
    data = read_json(path, "pulumi preview --json file", PREVIEW_FIX)
    if not isinstance(data, dict):
        raise reader.error("not a pulumi preview --json object")
    steps = reader.field(data, "steps", "", list, required=True)
    known: dict[str, dict[str, Any]] = {}
    old_known: dict[str, tuple[str, dict[str, Any]]] = {}
    judged: dict[str, tuple[str, dict[str, Any]]] = {}
    ops: dict[str, tuple[str, str]] = {}  # urn -> (where, op) of the step that first left it in the stack
    unchanged: set[str] = set()
    changed: set[str] = set()
    gone: set[str] = set()
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        if not isinstance(step, dict):
            raise reader.error(f"{where} is not an object")
        op = reader.field(step, "op", where, str, required=True)
        if op not in KNOWN_OPS:
            raise reader.error(f"{where}.op {_short(op)} is not a Pulumi step op (one of {', '.join(sorted(KNOWN_OPS))})")
        urn = reader.field(step, "urn", where, str, required=True)
        old, new = step.get("oldState"), step.get("newState")
        if old is not None:
            reader.check_state(old, f"{where}.oldState", urn)
            old_known.setdefault(old["urn"], (f"{where}.oldState", old))
        if op in GONE_OPS:
            gone.add(urn)
            continue
        if new is None:
            raise reader.error(f"{where}.newState missing (op {op!r} leaves the resource in the stack)")
        state = reader.check_state(new, f"{where}.newState", urn)
        if urn in ops:
            _check_repeat(reader, ops[urn], (where, op), judged[urn], state)
        ops.setdefault(urn, (where, op))
        known[urn] = state
        (unchanged if op in UNCHANGED_OPS and state["type"] != STACK_TYPE else changed).add(urn)
        judged.setdefault(urn, (f"{where}.newState", state))  # a replace has several steps per urn
    # Unchanged resources stay in the snapshot as context (stack rules and the cost estimate need the whole
    # stack: an unchanged budget still counts); findings about them are reported only with include_unchanged,
    # or when the change causes them (the pipeline judges the old states too).
    context = set() if include_unchanged else unchanged - changed
    if not gone and not changed - {u for u, (_, s) in judged.items() if s["type"] == STACK_TYPE}:
        raise reader.error("no resources to judge (every step leaves its resource unchanged: see --include-unchanged)")
    after = replace(reader.snapshot(list(judged.values()), known), context_only=sorted(context))
    olds = {urn: state for urn, (_, state) in old_known.items()}
    before = reader.snapshot(list(old_known.values()), olds) if old_known else None
    return after, before


def _check_repeat(reader: _Reader, first: tuple[str, str], again: tuple[str, str], first_state: tuple[str, dict],
                  state: dict[str, Any]) -> None:
    """A urn left in the stack by two steps: only a replacement's steps, each with the same new state."""
    urn = state["urn"]
    if first[1] not in REPLACEMENT_OPS or again[1] not in REPLACEMENT_OPS:
        raise reader.error(f"duplicate urn {_short(urn)} in {first[0]} (op {first[1]}) and {again[0]} (op {again[1]}): a "
                           f"preview has one step per resource, a replacement's steps excepted")
    if first_state[1] != state:
        raise reader.error(f"{first_state[0]} and {again[0]}.newState give urn {_short(urn)} two different states: a "
                           f"replacement's steps carry the same new state")


def snapshot_from_export(path: Path) -> Snapshot:
    """Every resource of a `pulumi stack export` (version 3), except those pending deletion."""
    path = Path(path)
    reader = _Reader(path, EXPORT_FIX, blinded_secrets=False)
    data = read_json(path, "pulumi stack export file", EXPORT_FIX)
    if not isinstance(data, dict):
        raise reader.error("not a pulumi stack export object")
    version = data.get("version")
    if version is None:
        raise reader.error("version missing")
    if version != 3:
        raise reader.error(f"version is {version!r}; only version 3 deployments are read")
    deployment = reader.field(data, "deployment", "", dict, required=True)
    resources = reader.field(deployment, "resources", "deployment", list) or []
    states = [(f"deployment.resources[{i}]", reader.check_state(r, f"deployment.resources[{i}]"))
              for i, r in enumerate(resources)]
    first: dict[str, str] = {}
    for where, state in states:
        if state.get("delete"):
            continue  # a resource pending deletion shares its urn with its replacement
        if state["urn"] in first:
            raise reader.error(f"duplicate urn {_short(state['urn'])} in {first[state['urn']]} and {where}: a "
                               f"deployment holds each live resource once")
        first[state["urn"]] = where
    known = {state["urn"]: state for _, state in states if not state.get("delete")}
    return reader.snapshot([(w, s) for w, s in states if not s.get("delete")], known)
