"""The pack as `pulumi policy publish` ships it: only its own directory. `tollgate pack build` vendors what
it loads; the built directory, started as the CLI starts a pack, judges like the engine. So does the pack
`tollgate pack path` makes for `pulumi preview --policy-pack` (tests/test_distribution.py: from a wheel)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from tollgate.cli import main
from tollgate.evaluate import RULES_DIR, RuleSet, judge
from tollgate.evaluate.crossguard import start_pack
from tollgate.pack_build import pack_path

from conftest import captured


def built(tmp_path):
    out = tmp_path / "pack"
    assert main(["pack", "build", "--out", str(out)]) == 0
    return out


def test_the_built_pack_holds_what_it_loads_and_no_tests(tmp_path):
    out = built(tmp_path)
    assert {p.name for p in out.iterdir()} == {"PulumiPolicy.yaml", "__main__.py", "rego_policies.py", "serving.py",
                                               "requirements.txt", "_vendor"}
    assert {p.name for p in (out / "_vendor").iterdir()} == {"tollgate"}
    rules = {p.name for p in (out / "_vendor" / "tollgate" / "rules").iterdir()}  # where an installed package has them
    assert rules == {p.name for p in RULES_DIR.glob("*.rego") if not p.name.endswith("_test.rego")} | {"data.json"}
    assert (out / "_vendor" / "tollgate" / "data" / "aws-us-east-1.yaml").exists()
    assert not (out / "_vendor" / "tollgate" / "policy_pack").exists()
    assert not list(out.rglob("__pycache__"))


def test_the_built_pack_judges_like_the_engine(tmp_path):
    out = built(tmp_path)
    snapshot = captured("untagged")
    with start_pack(out, snapshot.project, snapshot.stack, {}) as pack:
        pack.configure_stack()
        served = pack.analyze_snapshot(snapshot)
    engine = judge(snapshot, RuleSet(RULES_DIR))
    assert sorted((f.rule, f.urn, f.enforcement, f.message) for f in served) == \
        sorted((f.rule, f.urn, f.enforcement, f.message) for f in engine) != []


def test_the_built_pack_reads_its_vendored_rules_not_the_repository(tmp_path):
    out = built(tmp_path)
    data = out / "_vendor" / "tollgate" / "rules" / "data.json"
    doc = json.loads(data.read_text())
    doc["config"]["instance-size-cap"]["max_vcpu"]["dev"] = 1
    data.write_text(json.dumps(doc))
    with start_pack(out, "tg-untagged", "dev", {}) as pack:
        pack.configure_stack()
        served = pack.analyze_snapshot(captured("untagged"))
    capped = [f.message for f in served if f.rule == "instance-size-cap"]
    assert capped and all("cap of 1 vCPU" in m for m in capped)


def test_pack_path_is_made_once_in_the_cache_with_this_environment_as_its_virtualenv(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = pack_path()
    assert path.parent == tmp_path / "cache" / "tollgate"
    assert sorted(p.name for p in path.iterdir()) == ["PulumiPolicy.yaml", "__main__.py", "rego_policies.py",
                                                      "requirements.txt", "serving.py"]
    project = yaml.safe_load((path / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": sys.prefix}}
    made = {p.name: p.stat().st_mtime_ns for p in path.iterdir()}
    assert pack_path() == path and {p.name: p.stat().st_mtime_ns for p in path.iterdir()} == made
    (path / "rego_policies.py").write_text("stale")
    assert pack_path() == path and (path / "rego_policies.py").read_text() != "stale"


def test_pack_path_runs_as_the_cli_runs_it_and_judges_like_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = pack_path()
    # As the CLI's pulumi-analyzer-policy-python shim does: <virtualenv>/bin/python -m pulumi.policy, in the pack.
    venv = Path(yaml.safe_load((path / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"])
    snapshot = captured("untagged")
    with start_pack(path, snapshot.project, snapshot.stack, {}, python=str(venv / "bin" / "python")) as pack:
        pack.configure_stack()
        served = pack.analyze_snapshot(snapshot)
    engine = judge(snapshot, RuleSet(RULES_DIR))
    assert sorted((f.rule, f.urn, f.enforcement, f.message) for f in served) == \
        sorted((f.rule, f.urn, f.enforcement, f.message) for f in engine) != []


def test_build_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "keep.txt").write_text("x")
    assert main(["pack", "build", "--out", str(tmp_path / "pack")]) == 2
    assert "output directory is not empty" in capsys.readouterr().err


def test_the_stack_policy_configs_in_the_repository_are_valid(capsys):
    from conftest import ROOT

    for config in sorted((ROOT / "stacks").glob("policy-config.*.json")):
        stack = config.name.split(".")[1]
        code = main(["preview", "--cwd", str(ROOT), "--stack", stack, "--policy-config", str(config), "--format", "json"])
        assert code == 0, capsys.readouterr().err
        capsys.readouterr()
