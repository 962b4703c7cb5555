"""`tollgate pack build`: the CrossGuard pack as `pulumi policy publish` ships it, self-contained.

In this repository the pack imports tollgate/ and reads rego/ from beside it; a published pack is only its
own directory. The build copies the pack's files and, under _vendor/, everything it loads: the tollgate
package (with its data files) and the rules (no tests). policy_pack/rego_policies.py prefers _vendor/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import TollgateError

ROOT = Path(__file__).resolve().parent.parent
PACK_FILES = ("PulumiPolicy.yaml", "__main__.py", "rego_policies.py", "requirements.txt")


def build(out: Path, root: Path = ROOT) -> Path:
    pack, rules, package = root / "policy_pack", root / "rego", root / "tollgate"
    if not (pack / "PulumiPolicy.yaml").exists():
        raise TollgateError("no policy pack to build", str(pack), fix="run from a checkout of the tollgate repository")
    if out.exists() and any(out.iterdir()):
        raise TollgateError("output directory is not empty", str(out), fix="pass a new or empty --out directory")
    out.mkdir(parents=True, exist_ok=True)
    for name in PACK_FILES:
        shutil.copy2(pack / name, out / name)
    shutil.copytree(package, out / "_vendor" / "tollgate", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (out / "_vendor" / "rego").mkdir(parents=True)
    for path in sorted(rules.glob("*.rego")):
        if not path.name.endswith("_test.rego"):
            shutil.copy2(path, out / "_vendor" / "rego" / path.name)
    shutil.copy2(rules / "data.json", out / "_vendor" / "rego" / "data.json")
    return out
