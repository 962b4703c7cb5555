"""The program's `apply` callbacks that never ran at preview, and the resources they would have created.

An `apply` callback runs only once its value is known; at preview a value that a resource being created
computes (an id, an arn) is not, so the callback is skipped, under `pulumi preview` as here. A resource made
inside it is never registered, so never judged: the report must say so. Most callbacks only compute a value
(a policy text, a name); which ones make resources is read from their code: the names they load, followed
attribute by attribute, that are Resource classes, directly or in the project's functions they call (an SDK
function merely naming a Resource class, say in an isinstance test, makes none).
Runs inside the program's process (see child.py).
"""

from __future__ import annotations

import builtins
import dis
import functools
import sys
from pathlib import Path
from types import CodeType, FunctionType, MethodType
from typing import Any, Callable

import pulumi

TOLLGATE_DIR = Path(__file__).resolve().parent.parent  # tollgate itself is never the user's code
MAX_DEPTH = 4  # functions called from functions called from the callback: deeper is beyond a careless program
_MISSING = object()


def in_project(filename: str, root: Path) -> bool:
    """A frame of the user's own code: inside the project, outside any installed package and tollgate."""
    path = Path(filename)
    if not path.is_absolute() or "site-packages" in path.parts:
        return False
    path = path.resolve()
    return path.is_relative_to(root) and not path.is_relative_to(TOLLGATE_DIR)


def shown(path: str, root: Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path


def _function(obj: Any) -> tuple[Any, dict[str, Any]] | None:
    """(function, its closure by name) behind a callable, if it is Python code."""
    if isinstance(obj, functools.partial):
        obj = obj.func
    if isinstance(obj, MethodType):
        obj = obj.__func__
    if not isinstance(obj, FunctionType) and callable(obj) and isinstance(getattr(type(obj), "__call__", None),
                                                                          FunctionType):
        obj = type(obj).__call__
    if not isinstance(obj, FunctionType):
        return None
    cells = {}
    for name, cell in zip(obj.__code__.co_freevars, obj.__closure__ or ()):
        try:
            cells[name] = cell.cell_contents
        except ValueError:  # a cell not yet filled
            pass
    return obj, cells


def _codes(code: CodeType):
    """A code object and the ones defined inside it (lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def resources_made(callback: Callable, root: Path, depth: int = 0, seen: set | None = None) -> list[str]:
    """The Resource classes the callback may construct, as its code names them (`aws.ec2.Subnet`)."""
    seen = set() if seen is None else seen
    found = _function(callback)
    if found is None or depth > MAX_DEPTH or found[0] in seen:
        return []
    if depth and not in_project(found[0].__code__.co_filename, root):
        return []
    fn, cells = found
    seen.add(fn)
    made: list[str] = []
    for code in _codes(fn.__code__):
        chain: list[str] = []
        obj: Any = _MISSING
        for ins in list(dis.get_instructions(code)) + [None]:
            name = ins.opname if ins else ""
            if name in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"):
                made += _judge(obj, chain, root, depth, seen)
                chain = [str(ins.argval)]
                scope = cells if name.endswith("DEREF") else fn.__globals__
                obj = scope.get(chain[0], getattr(builtins, chain[0], _MISSING))
            elif name in ("LOAD_ATTR", "LOAD_METHOD") and obj is not _MISSING:
                chain.append(str(ins.argval))
                try:
                    obj = getattr(obj, str(ins.argval), _MISSING)
                except Exception:  # noqa: BLE001 - a property that fails: nothing to follow
                    obj = _MISSING
            else:
                made += _judge(obj, chain, root, depth, seen)
                obj, chain = _MISSING, []
    return sorted(set(made))


def _judge(obj: Any, chain: list[str], root: Path, depth: int, seen: set) -> list[str]:
    if obj is _MISSING:
        return []
    if isinstance(obj, type):
        return [".".join(chain)] if issubclass(obj, pulumi.Resource) else []
    if callable(obj) and not isinstance(obj, type(sys)):
        return resources_made(obj, root, depth + 1, seen)
    return []


class Applies:
    """Watches the program's own `apply` calls (Output.apply, called from the project's code)."""

    def __init__(self, root: Path):
        self.root = root
        self.sites: list[dict[str, Any]] = []

    def watch(self) -> None:
        original = pulumi.Output.apply
        sites, root = self.sites, self.root

        def apply(output, func, run_with_unknowns=False):
            caller = sys._getframe(1)
            if not in_project(caller.f_code.co_filename, root):
                return original(output, func, run_with_unknowns)
            site = {"file": caller.f_code.co_filename, "line": caller.f_lineno, "ran": False, "output": output,
                    "func": func}
            sites.append(site)

            def run(value):
                site["ran"] = True
                return func(value)

            return original(output, run, run_with_unknowns)

        pulumi.Output.apply = apply

    def skipped(self) -> dict[tuple[str, int], tuple[int, list[str]]]:
        """(file, line) -> (callbacks from there that did not run, their value unknown; what they would make),
        for the callbacks that would create resources."""
        out: dict[tuple[str, int], tuple[int, list[str]]] = {}
        for site in self.sites:
            data = site["output"]._data
            if site["ran"] or not data.done() or data.cancelled() or data.exception() or data.result().is_known:
                continue
            made = resources_made(site["func"], self.root)
            if not made:
                continue
            key = (shown(site["file"], self.root), site["line"])
            count, before = out.get(key, (0, []))
            out[key] = (count + 1, sorted(set(before) | set(made)))
        return out
