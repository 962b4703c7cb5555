"""Fail closed on waivers and the policy config (issue 23): blanket patterns, duplicate keys, expiries, YAML
alias bombs. End to end on tests/fixtures/gpu_waiver (a prod GPU pool whose only finding is TG003)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from tollgate.cli import main
from tollgate.evaluate.waive import apply_waivers, load_waivers
from tollgate.model import Finding, Resource

from conftest import FIXTURES, captured

TODAY = date(2026, 12, 7)
ENTRY = ("waivers:\n  - rule: gpu-approval\n    resource: {resource}\n    owner: ml-lead@example.com\n"
         "    reason: Q4 training runs, PLAT-412\n    expires: {expires}\n")


def project(tmp_path: Path, waivers: str | None = None) -> Path:
    root = shutil.copytree(FIXTURES / "gpu_waiver", tmp_path / "gpu_waiver",
                           ignore=shutil.ignore_patterns("__pycache__"))
    (root / "waivers.yaml").unlink()
    if waivers is not None:
        (root / "waivers.yaml").write_text(waivers, encoding="utf-8")
    return root


def preview(capsys, root: Path, *extra: str) -> tuple[int, dict | None, str]:
    code = main(["preview", "--cwd", str(root), "--stack", "prod", "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def later(days: int = 30) -> str:
    from datetime import datetime, timezone

    return (datetime.now(timezone.utc).date() + timedelta(days=days)).isoformat()


def refusals(doc: dict) -> list[str]:
    return [f["message"] for f in doc["findings"] if f["id"] == "TG090" and f["enforcement"] == "mandatory"]


# --- 4. blanket patterns ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ['"*::*[a-z]"', '"urn:pulumi:*::*[!:]"', '"[a-z]*"', '"[!x]*[a-z]?"'])
def test_a_character_class_counts_as_a_wildcard(capsys, tmp_path, pattern):
    code, doc, err = preview(capsys, project(tmp_path, ENTRY.format(resource=pattern, expires=later())))
    gpu = next(f for f in doc["findings"] if f["id"] == "TG003")
    assert code == 1 and gpu["waiver"] is None, err
    [message] = refusals(doc)
    assert f"blanket waiver for gpu-approval on `{pattern.strip(chr(34))}` owned by ml-lead@example.com refused: " \
           f"the pattern names no resource" in message


@pytest.fixture(scope="module")
def two_gpu_pools(tmp_path_factory) -> Path:
    """The gpu_waiver stack with a second GPU pool, `pool-gpu-eval`, as a snapshot file."""
    snapshot = captured("gpu_waiver", "prod")
    pool = next(r for r in snapshot.resources if r.name == "pool-gpu-training")
    second = replace(pool, urn=pool.urn.replace("pool-gpu-training", "pool-gpu-eval"), name="pool-gpu-eval")
    path = tmp_path_factory.mktemp("pools") / "snapshot.json"
    replace(snapshot, resources=snapshot.resources + [second]).write(path)
    return path


@pytest.mark.parametrize("pattern", ["*o*", "pool-*", "*-gpu-*", "urn:pulumi:prod::*::*g*"])
def test_a_pattern_matching_every_resource_of_its_rules_type_is_refused(capsys, tmp_path, two_gpu_pools, pattern):
    root = project(tmp_path, ENTRY.format(resource=f'"{pattern}"', expires=later()))
    code, doc, err = preview(capsys, root, "--snapshot", str(two_gpu_pools))
    assert code == 1 and [f["waiver"] for f in doc["findings"] if f["id"] == "TG003"] == [None, None], err
    [message] = refusals(doc)
    assert f"on `{pattern}` owned by ml-lead@example.com refused: the pattern matches every " \
           f"aws:eks/nodeGroup:NodeGroup in the stack (2 resources)" in message


@pytest.mark.parametrize("pattern", ["pool-gpu-train*", "pool-gpu-training", "*-training"])
def test_a_pattern_naming_some_of_them_waives_those(capsys, tmp_path, two_gpu_pools, pattern):
    root = project(tmp_path, ENTRY.format(resource=f'"{pattern}"', expires=later()))
    code, doc, err = preview(capsys, root, "--snapshot", str(two_gpu_pools))
    waived = {f["name"]: f["waiver"] is not None for f in doc["findings"] if f["id"] == "TG003"}
    assert code == 1 and waived == {"pool-gpu-training": True, "pool-gpu-eval": False} and not refusals(doc), err


def test_one_resource_of_the_type_may_be_named_by_a_pattern(tmp_path):
    # A stack with a single GPU pool: `pool-gpu-*` names it (and nothing that is not a GPU pool).
    urn = "urn:pulumi:prod::p::aws:eks/nodeGroup:NodeGroup::pool-gpu-a"
    pool = Resource(urn, "aws:eks/nodeGroup:NodeGroup", "pool-gpu-a", True, {})
    finding = Finding("gpu-approval", "TG003", urn, pool.type, pool.name, "mandatory", "high", "gpu", "rego")
    path = tmp_path / "waivers.yaml"
    path.write_text(ENTRY.format(resource="pool-gpu-*", expires="2027-01-31"))
    [out] = apply_waivers([finding], load_waivers(path), TODAY, {"gpu-approval": "TG003"}, "", [pool])
    assert out.waiver is not None


# --- 5. duplicate keys ------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, line, key", [
    ('    resource: "*gpu*"\n', 7, "resource"),
    ("    expires: 2999-12-31\n", 7, "expires"),
])
def test_a_duplicate_key_in_a_waiver_is_refused_naming_file_and_line(capsys, tmp_path, extra, line, key):
    root = project(tmp_path, ENTRY.format(resource="pool-gpu-training", expires="2026-01-31") + extra)
    code, doc, err = preview(capsys, root)
    first = {"resource": 3, "expires": 6}[key]
    assert (code, doc) == (2, None)
    assert f"{root / 'waivers.yaml'}:{line}: duplicate key `{key}` (first on line {first})" in err, err


def test_a_duplicate_key_in_the_policy_config_is_refused_naming_file_and_line(capsys, tmp_path):
    config = tmp_path / "policy.json"
    config.write_text('{\n  "gpu-approval": "mandatory",\n  "required-tags": "advisory",\n'
                      '  "gpu-approval": "disabled"\n}\n')
    code, doc, err = preview(capsys, project(tmp_path), "--policy-config", str(config))
    assert (code, doc) == (2, None) and f"{config}:4: duplicate key `gpu-approval` (first on line 2)" in err, err
    nested = tmp_path / "nested.json"
    nested.write_text('{"instance-size-cap": {"max_vcpu": {"dev": 4,\n "dev": 64}}}')
    code, doc, err = preview(capsys, project(tmp_path / "n"), "--policy-config", str(nested))
    assert (code, doc) == (2, None) and f"{nested}:2: duplicate key `dev` (first on line 1)" in err, err


# --- 6. expiry is a date --------------------------------------------------------------------------------

@pytest.mark.parametrize("expires", ["2026-12-07T00:00:00+14:00", "20990101", "2099-1-1", "2099-01-01 00:00:00",
                                     "'2099-01-01T00:00:00Z'", "2099-02-30"])
def test_an_expiry_that_is_not_a_plain_date_is_refused_naming_file_and_line(capsys, tmp_path, expires):
    root = project(tmp_path, ENTRY.format(resource="pool-gpu-training", expires=expires))
    code, doc, err = preview(capsys, root)
    assert code == 1 and next(f for f in doc["findings"] if f["id"] == "TG003")["waiver"] is None, err
    [message] = refusals(doc)
    assert message.startswith(f"{root / 'waivers.yaml'}:2: waiver entry is incomplete: expires "
                              f"`{expires.strip(chr(39))}` is not a date (YYYY-MM-DD)"), message


def test_a_plain_date_quoted_or_not_is_an_expiry(capsys, tmp_path):
    for i, expires in enumerate((later(), f"'{later()}'", f'"{later()}"')):
        root = project(tmp_path / str(i), ENTRY.format(resource="pool-gpu-training", expires=expires))
        code, doc, err = preview(capsys, root)
        assert code == 0 and doc["summary"]["waived"] == 1, err


# --- 7. alias bombs, huge files, huge values -----------------------------------------------------------------

def _alias_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join('*' + prev for _ in range(9))}]")
    return "\n".join(lines) + "\nwaivers:\n  - rule: nope\n    resource: *i\n"


def test_a_yaml_alias_bomb_is_refused_before_it_is_built(capsys, tmp_path):
    bomb = _alias_bomb()
    assert len(bomb) < 700  # 9**9 strings once built
    started = time.monotonic()
    code, doc, err = preview(capsys, project(tmp_path, bomb))
    assert time.monotonic() - started < 30  # the capture of the program is most of it
    assert (code, doc) == (2, None) and len(err) < 600, err[:600]
    assert f"{tmp_path / 'gpu_waiver' / 'waivers.yaml'}:1: waivers file uses a YAML anchor or alias" in err


def test_an_anchor_to_reuse_an_entry_is_refused_too(tmp_path):
    from tollgate.errors import TollgateError

    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - &gpu\n    rule: gpu-approval\n    resource: pool-gpu-a\n    owner: a@example.com\n"
                    "    reason: r\n    expires: 2027-01-31\n  - *gpu\n")
    with pytest.raises(TollgateError, match="anchor or alias") as raised:
        load_waivers(path)
    assert raised.value.line == 2


def test_a_file_over_the_size_cap_is_refused_unread(capsys, tmp_path):
    root = project(tmp_path, "# padding\n" * 200_000 + ENTRY.format(resource="pool-gpu-training", expires=later()))
    code, doc, err = preview(capsys, root)
    assert (code, doc) == (2, None) and "waivers file is 2,000,000+ bytes" not in err
    assert f"{root / 'waivers.yaml'}: waivers file is 2,000,1" in err and "over the 1,048,576" in err, err


def test_a_huge_value_is_quoted_by_a_short_prefix(capsys, tmp_path):
    huge = "x" * 500_000
    code, doc, err = preview(capsys, project(tmp_path, ENTRY.format(resource="pool-gpu-training", expires=huge)))
    [message] = refusals(doc)
    assert code == 1 and len(message) < 600 and "expires `xxxx" in message and "...` is not a date" in message
