"""The CrossGuard pack, wherever tollgate is installed: `tollgate pack path` and `tollgate pack build`.

`pack_path()` gives a directory `pulumi preview --policy-pack` runs as is. The pack's files ship inside the
package, but the CLI creates a pack's virtualenv beside it, and site-packages is no place for one; so the
pack is written once per version and environment into the user's cache, its virtualenv the environment
this tollgate runs in (sys.prefix), which already holds everything the pack imports.

`build(out)` is the pack as `pulumi policy publish` ships it: only its own directory, self-contained. It
copies the pack's files and, under _vendor/, everything the pack loads: the tollgate package (with its
data files) and the rules it bundles (no tests), at _vendor/tollgate/rules as in an installed package.
policy_pack/rego_policies.py prefers _vendor/.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from . import __version__
from .bundled import DISTRIBUTION, PACK_DIR, PACKAGE_DIR, RULES_DIR
from .errors import TollgateError

PACK_CODE = ("__main__.py", "rego_policies.py", "serving.py")
PACK_FILES = ("PulumiPolicy.yaml", *PACK_CODE, "requirements.txt")


def _pack_dir() -> Path:
    if not (PACK_DIR / "PulumiPolicy.yaml").is_file():
        raise TollgateError("the policy pack is not where this tollgate keeps it", str(PACK_DIR),
                            fix=f"reinstall {DISTRIBUTION} (pip install --force-reinstall {DISTRIBUTION})")
    return PACK_DIR


def build(out: Path) -> Path:
    pack = _pack_dir()
    if out.exists() and any(out.iterdir()):
        raise TollgateError("output directory is not empty", str(out), fix="pass a new or empty --out directory")
    out.mkdir(parents=True, exist_ok=True)
    for name in PACK_FILES:
        shutil.copy2(pack / name, out / name)
    vendored = out / "_vendor" / "tollgate"
    # An installed package holds the pack and the rules inside it: the pack is the directory being built,
    # and the rules are copied below from wherever this tollgate finds them, without tests.
    shutil.copytree(PACKAGE_DIR, vendored,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "policy_pack", "rules"))
    (vendored / "rules").mkdir()
    for path in sorted(RULES_DIR.glob("*.rego")):
        if not path.name.endswith("_test.rego"):
            shutil.copy2(path, vendored / "rules" / path.name)
    shutil.copy2(RULES_DIR / "data.json", vendored / "rules" / "data.json")
    return out


def cache_dir() -> Path:
    """The user's cache directory for tollgate (XDG_CACHE_HOME when set, else the platform's own)."""
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tollgate"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "tollgate" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "tollgate"
    return Path.home() / ".cache" / "tollgate"


def _environment_python(prefix: Path) -> Path:
    return prefix / "Scripts" / "python.exe" if os.name == "nt" else prefix / "bin" / "python"


def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomically, so that a preview starting the pack meanwhile never reads half a file."""
    if path.exists() and path.read_bytes() == data:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def pack_path() -> Path:
    """A directory `pulumi preview --policy-pack <dir>` runs as is: the bundled pack, its virtualenv this
    tollgate's environment. Made on first use, kept per version and environment, refreshed if it differs."""
    pack, prefix = _pack_dir(), Path(sys.prefix)
    if not _environment_python(prefix).is_file():
        raise TollgateError(f"the Pulumi CLI runs a pack's virtualenv as {_environment_python(prefix)}, which "
                            "this environment does not have", str(prefix),
                            fix=f"install {DISTRIBUTION} into a virtualenv (python3 -m venv) and run it from there")
    environment = hashlib.sha256(str(prefix).encode()).hexdigest()[:12]
    target = cache_dir() / f"pack-{__version__}-{environment}"
    target.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    project["runtime"] = {"name": "python", "options": {"virtualenv": str(prefix)}}
    files = {name: (pack / name).read_bytes() for name in PACK_CODE}
    files["PulumiPolicy.yaml"] = yaml.safe_dump(project, sort_keys=False).encode()
    # What `pulumi install` would put in that environment: the distribution, already there.
    files["requirements.txt"] = f"{DISTRIBUTION}=={__version__}\n".encode()
    for name, data in files.items():
        _write_if_changed(target / name, data)
    return target
