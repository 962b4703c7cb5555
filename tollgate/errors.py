"""Errors a user can act on. Every one maps to exit code 2 ("the preview could not be done")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml


@dataclass
class TollgateError(Exception):
    """What went wrong, where (file and line when known) and how to fix it."""

    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    fix: Optional[str] = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


# PyYAML's safe loader, in C when PyYAML was built with libyaml (its wheels are): the same documents, about six
# times faster on the price table.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_json(path: Path, what: str, fix: Optional[str] = None) -> Any:
    """A JSON file the user gave us; missing or malformed is an error naming the file (and line)."""
    return parse_json(read_text(path, what, fix), path, what, fix)


def read_text(path: Path, what: str, fix: Optional[str] = None) -> str:
    """A UTF-8 text file the user gave us; missing or not UTF-8 is an error naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TollgateError(f"{what} not found", str(path), fix=fix) from exc
    except UnicodeDecodeError as exc:
        raise TollgateError(f"{what} is not UTF-8 text (byte {exc.start})", str(path), fix=fix) from exc


def parse_json(text: str, path: Path, what: str, fix: Optional[str] = None,
               parse_int: Optional[Callable[[str], Any]] = None) -> Any:
    try:
        return json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        raise TollgateError(f"{what} is not JSON: {exc.msg}", str(path), exc.lineno, fix=fix) from exc
