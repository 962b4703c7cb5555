"""Errors a user can act on. Every one maps to exit code 2 ("the preview could not be done")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional


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


def read_json(path: Path, what: str, fix: Optional[str] = None) -> Any:
    """A JSON file the user gave us; missing or malformed is an error naming the file (and line)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TollgateError(f"{what} not found", str(path), fix=fix) from exc
    except json.JSONDecodeError as exc:
        raise TollgateError(f"{what} is not JSON: {exc.msg}", str(path), exc.lineno, fix=fix) from exc
