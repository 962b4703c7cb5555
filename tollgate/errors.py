"""Errors a user can act on. Every one maps to exit code 2 ("the preview could not be done")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


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
