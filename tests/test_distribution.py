"""One distribution: the wheel built from this repository, installed with its dependencies from the registry in a
fresh virtualenv outside it, serves a team's own Pulumi project in another directory: preview, cost, the pack,
--version; and the same with the project's own virtualenv (Pulumi.yaml runtime.options.virtualenv), whose
packages, not Tollgate's, the program sees. One wheel and one set of environments per session: building and
installing are most of this file's time. Also here: nothing imports the components by their folder name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tollgate.evaluate.crossguard import start_pack
from tollgate.model import Snapshot

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "tollgate", "rego", "policy_pack", "components")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "venv", "*.egg-info")
STACK = {"config": {"aws:region": "us-east-1", "tollgate:environment": "dev", "tollgate:tags": {
    "project": "shop", "environment": "dev", "team": "web", "cost-center": "cc-web", "owner": "web@example.com"}}}
# A team's program: the installed components, and a line saying where the program found what it imports.
PROGRAM = '''import json
import sys

import pulumi
import pulumi_aws as aws

import tollgate_components
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.tagging import Tagging
from tollgate_components.tiered_bucket import TieredBucket, TieredBucketArgs

print("where:", json.dumps({"python": sys.prefix, "pulumi": pulumi.__file__,
                            "components": tollgate_components.__file__, "path": sys.path}))
tagging = Tagging.from_config()
opts = tagging.resource_options()
TieredBucket("features", TieredBucketArgs.processed_features(), opts=opts)
CostBudget("team", CostBudgetArgs(limit_usd=500, emails=["web@example.com"]), opts=opts)
aws.ec2.Instance("web", ami="ami-0123456789abcdef0", instance_type="{instance_type}", opts=opts)
'''
OVERSIZED, FITTING = "m5.24xlarge", "t3.micro"


def _bin(venv: Path, name: str) -> Path:
    return venv / "Scripts" / f"{name}.exe" if os.name == "nt" else venv / "bin" / name


def _run(*command: object, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources, so that nothing left in the checkout (build/, egg-info) gets in."""
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        (shutil.copytree(ROOT / name, source / name, ignore=SKIP) if (ROOT / name).is_dir()
         else shutil.copy2(ROOT / name, source / name))
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source)
    assert built.returncode == 0, built.stdout + built.stderr
    return next(dist.glob("tollgate_iac-*.whl"))


@pytest.fixture(scope="session")
def envs(wheel, tmp_path_factory) -> dict[str, Path]:
    """Fresh virtualenvs outside the repository, installed at once (each mostly unpacks pulumi-aws): Tollgate's
    own (the wheel and its dependencies), a project's (pulumi, pulumi-aws and tollgate-iac), and a project's that
    lacks tollgate-iac."""
    root = tmp_path_factory.mktemp("envs")
    assert not root.is_relative_to(ROOT)
    wanted = {"tollgate": [wheel], "project": [wheel, "pulumi", "pulumi-aws"], "bare": ["pulumi"]}
    installs = {}
    for name, packages in wanted.items():
        made = _run(sys.executable, "-m", "venv", root / name)  # no --system-site-packages: only what pip puts there
        assert made.returncode == 0, made.stderr
        # --no-compile: byte-compiling pulumi-aws is most of an install's time; imports compile what they use.
        installs[name] = subprocess.Popen([str(_bin(root / name, "python")), "-m", "pip", "install", "-q",
                                           "--no-compile", *map(str, packages)],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for name, install in installs.items():
        output = install.communicate()[0].decode(errors="replace")
        assert install.returncode == 0, f"{name}: {output}"
    return {name: root / name for name in wanted}


def _project(directory: Path, virtualenv: Path | None = None, instance_type: str = OVERSIZED) -> Path:
    runtime = {"name": "python", "options": {"virtualenv": str(virtualenv)}} if virtualenv else "python"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "shop", "runtime": runtime}))
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump(STACK))
    (directory / "__main__.py").write_text(PROGRAM.replace("{instance_type}", instance_type))
    (directory / "requirements.txt").write_text("pulumi>=3.200,<4\npulumi-aws>=7.0,<8\ntollgate-iac\n")
    return directory


def _tollgate(envs: dict[str, Path], *args: object, cwd: Path) -> subprocess.CompletedProcess:
    """The installed CLI, run from outside the repository, with nothing of the test run's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(cwd / "cache")
    return _run(_bin(envs["tollgate"], "tollgate"), *args, cwd=cwd, env=env)


def _where(stderr: str) -> dict:
    return json.loads(re.search(r"^where: (.*)$", stderr, re.M).group(1))


def _site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python3*/site-packages"))


# --- the wheel ---------------------------------------------------------------------------------------------------

def test_the_wheel_holds_the_package_the_rules_the_pack_and_the_components(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tollgate").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    files |= {f"tollgate/rules/{p.name}" for p in (ROOT / "rego").iterdir() if not p.name.endswith("_test.rego")}
    files |= {f"tollgate/policy_pack/{p.name}" for p in (ROOT / "policy_pack").iterdir() if p.is_file()}
    files |= {f"tollgate_components/{p.name}" for p in (ROOT / "components").glob("*.py")}
    assert files <= names
    assert not [n for n in names - files if not n.startswith("tollgate_iac-")]  # and nothing else but its metadata


# --- Tollgate's own environment, and a project's ------------------------------------------------------------------

@pytest.fixture(params=["tollgate's environment", "the project's virtualenv"])
def team(request, envs, tmp_path) -> tuple[Path, Path]:
    """A team's project outside the repository, and the environment its program runs in."""
    own = envs["project"] if request.param == "the project's virtualenv" else None
    return _project(tmp_path / "shop", own), own or envs["tollgate"]


def test_preview_fails_on_a_planted_violation_and_passes_once_it_is_fixed(team, envs, tmp_path):
    project, runs_in = team
    failed = _tollgate(envs, "preview", "--cwd", project, "--stack", "dev", "--format", "json", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    mandatory = {(f["rule"], f["name"]) for f in json.loads(failed.stdout)["findings"] if f["enforcement"] == "mandatory"}
    assert ("instance-size-cap", "web") in mandatory
    # The program ran with its environment's interpreter and packages; of Tollgate, only the tollgate package.
    where = _where(failed.stderr)
    assert Path(where["python"]).resolve() == runs_in.resolve()
    assert Path(where["pulumi"]).is_relative_to(_site_packages(runs_in))
    assert Path(where["components"]).is_relative_to(_site_packages(runs_in))
    if runs_in != envs["tollgate"]:
        assert not [p for p in where["path"] if Path(p).is_relative_to(envs["tollgate"])]

    (project / "__main__.py").write_text(PROGRAM.replace("{instance_type}", FITTING))
    passed = _tollgate(envs, "preview", "--cwd", project, "--stack", "dev", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_cost_prices_the_project(team, envs, tmp_path):
    project, _ = team
    priced = _tollgate(envs, "cost", "--cwd", project, "--stack", "dev", "--format", "json", cwd=tmp_path)
    assert priced.returncode == 0, priced.stderr
    costs = json.loads(priced.stdout)
    assert costs["monthly_usd"] > 0
    assert "aws:ec2/instance:Instance" in {r["type"] for r in costs["resources"] if r["priced"]}


def test_a_project_without_tollgate_iac_is_told_to_add_it(envs, tmp_path):
    project = _project(tmp_path / "shop", envs["bare"])
    (project / "__main__.py").write_text("import pulumi\nimport tollgate_components.tagging\n")
    failed = _tollgate(envs, "preview", "--cwd", project, "--stack", "dev", cwd=tmp_path)
    assert failed.returncode == 2
    assert "ModuleNotFoundError: No module named 'tollgate_components'" in failed.stderr
    assert "fix: add `tollgate-iac` to the project's requirements" in failed.stderr


def test_the_installed_pack_judges_like_the_installed_engine(envs, tmp_path):
    project = _project(tmp_path / "shop")
    where = _tollgate(envs, "pack", "path", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    pack = Path(where.stdout.strip())
    assert pack.is_relative_to(tmp_path / "cache" / "tollgate")  # the user's cache, not site-packages
    virtualenv = Path(yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"])
    assert virtualenv == envs["tollgate"]

    snapshot_file = tmp_path / "shop.snapshot.json"
    judged = _tollgate(envs, "preview", "--cwd", project, "--stack", "dev", "--format", "json",
                       "--snapshot-out", snapshot_file, cwd=tmp_path)
    assert judged.returncode == 1, judged.stderr
    engine = {(f["rule"], f["urn"], f["enforcement"], f["message"]) for f in json.loads(judged.stdout)["findings"]}
    snapshot = Snapshot.read(snapshot_file)
    # As the CLI's pulumi-analyzer-policy-python starts a pack: <virtualenv>/bin/python -m pulumi.policy, in it.
    with start_pack(pack, snapshot.project, snapshot.stack, {}, python=str(_bin(virtualenv, "python"))) as served:
        served.configure_stack()
        findings = served.analyze_snapshot(snapshot)
    assert {(f.rule, f.urn, f.enforcement, f.message) for f in findings} == engine != set()


def test_pack_build_works_from_the_installed_package(envs, tmp_path):
    built = _tollgate(envs, "pack", "build", "--out", tmp_path / "pack", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "pack" / "_vendor" / "tollgate" / "rules" / "required_tags.rego").is_file()
    assert (tmp_path / "pack" / "PulumiPolicy.yaml").is_file()


def test_version_is_the_distributions(envs, tmp_path):
    metadata = _run(_bin(envs["tollgate"], "python"), "-c",
                    "import importlib.metadata, tollgate; print(importlib.metadata.version('tollgate-iac'), "
                    "tollgate.__version__)")
    distribution, package = metadata.stdout.split()
    assert distribution == package
    assert _tollgate(envs, "--version", cwd=tmp_path).stdout == f"tollgate {distribution}\n"


# --- one import name ---------------------------------------------------------------------------------------------

FOLDER_IMPORT = re.compile(r"^\s*(?:from\s+components(?:\.|\s+import\b)|import\s+components\b)", re.M)


def _repository_files(*suffixes: str):
    """The repository's own files: no virtualenvs, caches or build output."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("build", "dist", "venv", "__pycache__")
                   and not d.endswith(".egg-info")]
        yield from (Path(folder, f) for f in files if Path(f).suffix in suffixes)


def test_nothing_imports_the_components_by_their_folder_name():
    """One path per module: `tollgate_components`, in programs, tests (inline programs too) and docs alike."""
    offenders = [f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}"
                 for path in _repository_files(".py", ".md")
                 for text in [path.read_text(encoding="utf-8")] for match in FOLDER_IMPORT.finditer(text)]
    assert offenders == []
