"""The distribution, and where the files it ships beside the code are: the tables, the rules and the pack.

An installed distribution holds the rules and the pack inside this package (pyproject.toml maps the
repository's rego/ and policy_pack/ there); a checkout, and its editable install, keeps them at the
repository's top level, their one source. Only the standard library: the capture child and the
components import this too.
"""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "tollgate-iac"  # what pip installs, and what a project lists to import tollgate_components
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def _bundled(inside: str, in_checkout: str) -> Path:
    packaged = PACKAGE_DIR / inside
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / in_checkout


RULES_DIR = _bundled("rules", "rego")
PACK_DIR = _bundled("policy_pack", "policy_pack")
