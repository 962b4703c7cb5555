"""What the program's SDK packages declare: a function's result type, a resource's output types.

The capture answers as a provider would, in the shape the provider's schema gives; offline the schema's
image is the Python SDK's typed classes, registered with the Pulumi runtime when the program imports them.
Runs inside the program's process (see child.py).
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import typing
from functools import cache
from typing import Any, Optional

from pulumi import _types
from pulumi.runtime import rpc


def _package_module(pkg: str) -> Optional[str]:
    """The Python package of a Pulumi package, as it registered itself (pulumi_aws for aws)."""
    for package in rpc._RESOURCE_PACKAGES.get(pkg, []):
        fqn = getattr(package, "pkg_info", {}).get("fqn")
        if fqn:
            return fqn
    return "pulumi_" + pkg.replace("-", "_")


def _module_of(pkg: str, mod: str) -> Optional[str]:
    """The Python module holding a token's module (`ec2` in aws:ec2/getAmi:getAmi)."""
    head = mod.split("/")[0]
    if head in ("", "index"):
        return _package_module(pkg)
    for key, modules in list(rpc._RESOURCE_MODULES.items()):
        if key.split("@")[0] in (f"{pkg}:{head}", f"{pkg}:{mod}") or key.startswith(f"{pkg}:{head}/"):
            for module in modules:
                fqn = getattr(module, "mod_info", {}).get("fqn")
                if fqn:
                    return fqn
    base = _package_module(pkg)
    return f"{base}.{head.replace('-', '_')}" if base else None


def _import(name: Optional[str]) -> Any:
    if not name:
        return None
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a module the SDK does not have: the answer is shaped without it
        return None


@cache
def function_result(token: str) -> Optional[type]:
    """The @output_type class of a function's result (aws:ec2/getAmi:getAmi -> GetAmiResult), if the SDK has it."""
    parts = token.split(":")
    if len(parts) != 3:
        return None
    pkg, mod, fn = parts
    module = _import(_module_of(pkg, mod))
    name = fn.split("/")[-1]
    cls = getattr(module, name[:1].upper() + name[1:] + "Result", None) if module else None
    return cls if isinstance(cls, type) and _types.is_output_type(cls) else None


@cache
def resource_class(type_token: str) -> Optional[type]:
    """The SDK class of a resource type (aws:iam/policy:Policy -> pulumi_aws.iam.Policy), if registered."""
    parts = type_token.split(":")
    if len(parts) != 3:
        return None
    for key, modules in list(rpc._RESOURCE_MODULES.items()):
        if key.split("@")[0] != f"{parts[0]}:{parts[1]}":
            continue
        for module in modules:
            info = getattr(module, "mod_info", {})
            name = info.get("classes", {}).get(type_token)
            cls = getattr(_import(info.get("fqn")), name, None) if name else None
            if isinstance(cls, type):
                return cls
    return None


@cache
def output_types(cls: type) -> dict[str, Any]:
    """camelCase property -> declared type, of a resource class or an @output_type class."""
    try:
        return _types.output_type_types(cls) if _types.is_output_type(cls) else _types.resource_types(cls)
    except Exception:  # noqa: BLE001 - annotations the SDK cannot resolve: no types known
        return {}


def unwrap(typ: Any) -> Any:
    """Optional[X] -> X, Output[X] / Input[X] -> X, a Union -> its first member that is not None."""
    while True:
        origin = typing.get_origin(typ)
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if origin is typing.Union and args:
            typ = args[0]
        elif getattr(origin, "__name__", "") in ("Output", "Awaitable") and args:
            typ = args[0]
        else:
            return typ


def kind(typ: Any) -> tuple[str, Any]:
    """A declared type as ("str"|"int"|"float"|"bool"|"enum"|"list"|"map"|"object"|"any", element or class)."""
    typ = unwrap(typ)
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if isinstance(typ, type) and issubclass(typ, enum.Enum):
        return "enum", typ
    if typ is str:
        return "str", None
    if typ is bool:
        return "bool", None
    if typ is int:
        return "int", None
    if typ is float:
        return "float", None
    if origin in (list, collections.abc.Sequence, typing.List) or typ in (list,):
        return "list", args[0] if args else Any
    if origin in (dict, collections.abc.Mapping, typing.Dict) or typ in (dict,):
        return "map", args[1] if len(args) == 2 else Any
    if isinstance(typ, type) and _types.is_output_type(typ):
        return "object", typ
    return "any", None
