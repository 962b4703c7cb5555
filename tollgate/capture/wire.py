"""Pulumi's wire conventions (the secret and unknown sentinels) and the property Structs on the wire, both ways.

The one home of SIG_KEY, SECRET_SIG and the unknown sentinels: tollgate.model and every stage read them from here.
Secrets become the bare secret signature (the value is dropped here, in the child process, so it never
reaches the snapshot); unknowns stay Pulumi's unknown sentinel; resource references become the
referenced resource's id (custom) or urn (component), as the engine marshals them for analyzers.
Only the standard library and protobuf: this module runs inside the captured program's process.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf import struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"  # how pulumi-policy reads back an unknown object
SECRET_TEXT = "[secret]"  # how Pulumi shows a secret's value where it must show one (and what the rules read)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def number(value: Any) -> Any:
    """protobuf numbers are doubles: 2.0 is 2 again, as the engine's own JSON (and the snapshot) has it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def decode_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf import json_format  # here: judging a snapshot needs this module, not protobuf (30 ms)

    return decode(json_format.MessageToDict(struct))


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return number(value)
    sig = value.get(SIG_KEY)
    if sig == SECRET_SIG:
        return {SIG_KEY: SECRET_SIG}
    if sig == RESOURCE_SIG:
        ref_id = value.get("id")
        return ref_id if ref_id is not None and ref_id != "" else (UNKNOWN if "id" in value else value.get("urn"))
    if sig == OUTPUT_SIG:
        if value.get("secret"):
            return {SIG_KEY: SECRET_SIG}
        return decode(value["value"]) if "value" in value else UNKNOWN
    return {k: decode(v) for k, v in value.items()}


def whole_numbers(value: Any) -> Any:
    """Plain JSON values with every protobuf double that is a whole number as an int (nothing else changed)."""
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return number(value)


def with_secret_values(value: Any, secret_value: Any) -> Any:
    """Decoded values back on the wire: each secret marker a secret {sig, value} holding `secret_value`, since
    its own value was dropped at capture."""
    if is_secret(value):
        return {SIG_KEY: SECRET_SIG, "value": secret_value}
    if isinstance(value, dict):
        return {k: with_secret_values(v, secret_value) for k, v in value.items()}
    if isinstance(value, list):
        return [with_secret_values(v, secret_value) for v in value]
    return value


def encode_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def decode_provider_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """The SDK sends a provider's object-valued inputs (e.g. defaultTags) JSON-encoded; undo that."""
    decoded = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
                pass  # a string that merely starts with a brace (or nests past reason) stays a string
        decoded[key] = value
    return decoded
