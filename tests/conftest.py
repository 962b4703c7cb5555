"""Shared fixtures: captured snapshots are cached per session (each capture starts a Python process)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tollgate.capture.host import capture
from tollgate.model import Snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def captured(fixture: str, stack: str = "dev") -> Snapshot:
    return capture(FIXTURES / fixture, stack)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
