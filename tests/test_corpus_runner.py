"""The real-program corpus runner (scripts/corpus.py), piece by piece: no network, no virtualenv, no preview."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import corpus

# Where the corpus is mirrored on the project's machines; elsewhere the corpus test is skipped.
EXAMPLES = Path(os.environ.get("TOLLGATE_CORPUS", "/work/.mirror/pulumi+examples/repo"))


def report(*enforcements: str) -> str:
    findings = [{"rule": "r", "id": "TG001", "urn": f"urn:{i}", "enforcement": e} for i, e in enumerate(enforcements)]
    return json.dumps({"project": "p", "stack": "dev", "findings": findings, "summary": {}})


def test_the_config_table_names_every_project_the_corpus_lists():
    if not (EXAMPLES / "HEAD").exists():
        pytest.skip(f"no pulumi/examples mirror at {EXAMPLES} (set TOLLGATE_CORPUS)")
    try:
        projects = corpus.list_projects(EXAMPLES)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"git cannot read {EXAMPLES}: {exc.stderr.strip()}")
    assert projects and set(projects) <= set(corpus.CONFIG)
    assert set(corpus.FILES) <= set(projects)


def test_findings_are_counted_by_enforcement():
    result = corpus.outcome("aws-py-eks", 1, report("mandatory", "advisory", "mandatory", "remediate"), "", 12, 3.2)
    assert (result.exit, result.resources, result.mandatory, result.advisory) == (1, 12, 2, 1)
    assert result.note == ""


def test_an_exit_2_keeps_the_error_and_its_fix_with_paths_from_the_repository_root(tmp_path):
    stderr = ("[program] warning: something\n"
              f"tollgate: error: {tmp_path}/aws-py-eks/vpc.py:12: the program failed: TypeError: 'NoneType' object "
              "is not iterable\n  fix: fix the program (it must run under `pulumi preview` too)\nTraceback ...\n")
    result = corpus.outcome("aws-py-eks", 2, "", stderr, None, 1.0, tmp_path)
    assert result.note == ("aws-py-eks/vpc.py:12: the program failed: TypeError: 'NoneType' object is not iterable"
                           " — fix: fix the program (it must run under `pulumi preview` too)")
    assert result.cause == "TypeError: 'NoneType' object is not iterable"


def test_the_cause_drops_only_the_programs_own_place():
    assert corpus.cause("aws-py-eks: the program failed: TypeError: x", "aws-py-eks") == "TypeError: x"
    assert corpus.cause("AttributeError: module has no attribute", "aws-py-eks") == (
        "AttributeError: module has no attribute")


def test_an_exit_2_without_a_tollgate_error_line_keeps_the_last_line():
    result = corpus.outcome("p", 2, "", "tollgate: internal error: KeyError: 'x'\n  this is a bug\n", None, 1.0)
    assert result.note == "this is a bug"


def test_the_table_has_a_row_per_program_and_a_summary():
    outcomes = [corpus.Outcome("aws-py-s3-folder", 1, 7, 2, 1, 3.25),
                corpus.Outcome("aws-py-eks", 2, seconds=1.0, note="a | b — fix: c", cause="TypeError: x"),
                corpus.Outcome("aws-py-fargate", 2, seconds=1.0, note="n", cause="TypeError: x"),
                corpus.Outcome("aws-py-hub", None, note="missing package: ERROR: No matching distribution",
                               cause="missing package")]
    lines = corpus.render(outcomes).splitlines()
    assert lines[0] == "| program | exit | resources | mandatory | advisory | seconds | note |"
    assert lines[2] == "| `aws-py-s3-folder` | 1 | 7 | 2 | 1 | 3.2 | - |"
    assert lines[3] == "| `aws-py-eks` | 2 | - | - | - | 1.0 | a \\| b — fix: c |"
    assert lines[5] == "| `aws-py-hub` | - | - | - | - | - | missing package: ERROR: No matching distribution |"
    assert lines[-1] == "1 of 4 preview (exit 0 or 1); exit 2: 2 (2 TypeError: x); missing package: 1"


def test_pip_error_is_its_first_error_line():
    output = "Collecting x\nERROR: Could not find a version that satisfies x\nERROR: No matching distribution\n"
    assert corpus.pip_error(output) == "ERROR: Could not find a version that satisfies x"


def test_pip_error_names_the_conflicting_requirement_and_the_first_conflict():
    output = ("    pulumi-awsx 2.22.0 depends on pulumi-aws<7.0.0 and >=6.0.4\n"
              "    pulumi-awsx 2.21.0 depends on pulumi-aws<7.0.0 and >=6.0.4\n"
              "ERROR: Cannot install -r /cache/ab12.txt (line 2) and pulumi_aws<8 because these package versions "
              "have conflicting dependencies.\nERROR: ResolutionImpossible: for help visit ...\n")
    assert corpus.pip_error(output, "pulumi_aws<8\npulumi_awsx<3\n") == (
        "ERROR: Cannot install pulumi_awsx<3 and pulumi_aws<8 because these package versions have conflicting "
        "dependencies. (pulumi-awsx 2.22.0 depends on pulumi-aws<7.0.0 and >=6.0.4)")


def test_the_stack_file_has_the_config_and_the_files_the_readme_asks_for(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: w\nruntime: python\nstackConfigDir: stacks\n")
    corpus.write_stack(tmp_path, "aws-py-ansible-wordpress")
    stack = (tmp_path / "stacks" / "Pulumi.dev.yaml").read_text()
    assert "&" not in stack and yaml.safe_load(stack)["config"]["dbPassword"] == corpus.SECRET
    assert (tmp_path / "wordpress-keypair.pub").read_text() == corpus.PUBLIC_KEY


def test_a_requirements_set_ignores_order_comments_and_blanks():
    assert corpus.requirement_set("b>=1\n# note\n\na<2  # pin\n") == corpus.requirement_set("a<2\nb>=1\n")


def test_poetry_dependencies_become_pip_requirements():
    pyproject = ('[tool.poetry.dependencies]\npython = "^3.10"\npulumi = "==3.228.0"\npulumi-aws = "^7.23.0"\n'
                 'boto = "~1.2.3"\nzero = "^0.2.1"\nbare = "1.0"\nany = "*"\nrange = ">=1.1,<2.0"\n')
    assert corpus.poetry_requirements(pyproject).splitlines() == [
        "pulumi==3.228.0", "pulumi-aws>=7.23.0,<8", "boto>=1.2.3,<1.3", "zero>=0.2.1,<0.3", "bare==1.0", "any",
        "range>=1.1,<2.0"]


def test_a_poetry_project_gets_the_virtualenv_written_into_its_pulumi_yaml(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime:\n  name: python\n  options:\n    toolchain: poetry\n"
                                          "    typechecker: pyright\nconfig:\n  reasoning:\n    default: off\n")
    corpus.use_venv(tmp_path, tmp_path / "env")
    text = (tmp_path / "Pulumi.yaml").read_text()
    assert f"    toolchain: pip\n    virtualenv: {tmp_path / 'env'}\n    typechecker: pyright\n" in text
    assert "default: off" in text  # the rest of the file as written


def test_a_named_virtualenv_becomes_a_link_to_the_cached_one(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (tmp_path / "cached").mkdir()
    corpus.use_venv(tmp_path, tmp_path / "cached")
    assert (tmp_path / "venv").resolve() == (tmp_path / "cached").resolve()


def test_a_requirement_fix_replaces_the_stated_requirement_and_fails_when_it_is_gone():
    stated, instead, _ = corpus.REQUIREMENT_FIXES["aws-py-hub-and-spoke-network"]
    text = f"pulumi>=3.0.0,<4.0.0\n{stated}\n"
    assert corpus.fixed_requirements("aws-py-hub-and-spoke-network", text) == f"pulumi>=3.0.0,<4.0.0\n{instead}\n"
    assert corpus.fixed_requirements("aws-py-s3-folder", text) == text
    with pytest.raises(SystemExit, match="no longer states"):
        corpus.fixed_requirements("aws-py-hub-and-spoke-network", "pulumi\n")
