"""Remote components, expanded offline from their inputs alone.

A remote (multi-language) component is built by its provider plugin, which does not exist offline. Where the
children follow from the component's inputs and documented defaults, an expander says what the plugin would
register; the capture records them as the component's children, so the rules judge them.

An expander takes a Component and returns its Children, or raises NotExpanded saying what it could not see
(then the preview reports the component as not expanded, as for a type with no expander at all).
Runs inside the program's process (see ../child.py): the standard library, PyYAML and the Pulumi SDK only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..wire import UNKNOWN, is_secret


@dataclass
class Component:
    type: str                       # e.g. "kubernetes:yaml/v2:ConfigFile", "eks:index:Cluster"
    name: str
    urn: str
    inputs: dict[str, Any]          # decoded as in a snapshot: camelCase, secrets as markers, unknowns as UNKNOWN
    pwd: Path                       # the program's working directory (relative file inputs resolve here)
    provider_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # package -> stack config


@dataclass(eq=False)
class Child:
    type: str                       # the resource type token the plugin would register
    name: str                       # its resource name, as the plugin names it
    inputs: dict[str, Any]          # camelCase inputs, as the plugin would send them
    custom: bool = True
    parent: Optional["Child"] = None  # another child (listed before it) that parents this one; None: the component
    # input -> the children (listed before it) whose outputs it takes, as the engine records property dependencies
    property_dependencies: dict[str, list["Child"]] = field(default_factory=dict)


class NotExpanded(Exception):
    """The component cannot be expanded offline; the message says what could not be seen (one sentence)."""


Expander = Callable[[Component], list[Child]]
EXPANDERS: dict[str, Expander] = {}


def expander(*types: str) -> Callable[[Expander], Expander]:
    """Register a function as the expander of these component types."""

    def register(fn: Expander) -> Expander:
        for t in types:
            EXPANDERS[t] = fn
        return fn

    return register


def spread_tags(*maps: Any) -> Any:
    """Tag maps spread left to right, as the plugins do; an unknown map makes the result unknown, a secret one
    secret (the engine's rule for a value computed from them)."""
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):  # UNKNOWN among them
            return UNKNOWN
        if is_secret(m):
            return m
        out.update(m)
    return out


def expand(component: Component) -> Optional[list[Child]]:
    """The component's children, or None when no expander knows its type. NotExpanded propagates."""
    _load()
    fn = EXPANDERS.get(component.type)
    return None if fn is None else fn(component)


# The expander modules, each registering its types when imported (an explicit list: no import-time glob).
MODULES: tuple[str, ...] = ("kubernetes_yaml", "eks", "awsx")


def _load() -> None:
    """Import the expander modules; here so that a program with no remote component never imports them."""
    import importlib

    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
