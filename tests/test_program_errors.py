"""A program that fails reads like a compiler error: `file:line: Type: message`, the program's own frames,
a fix a user can act on; Tollgate's and the runtime's frames only with --debug."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollgate.cli import main


def project(tmp_path: Path, source: str, config: str = "config:\n  aws:region: us-east-1\n") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(config)
    (tmp_path / "__main__.py").write_text(source)
    return tmp_path


def preview(capsys, directory: Path, *extra: str) -> tuple[int, str]:
    code = main(["preview", "--stack", "dev", "--cwd", str(directory), *extra])
    return code, capsys.readouterr().err


def test_a_syntax_error_is_file_line_type_message_with_the_line_and_a_caret(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = preview(capsys, project(tmp_path, 'import pulumi\n\nbucket = dict(name="b"\nx = 1\n'))
    assert code == 2
    assert err == ("tollgate: error: __main__.py:3: SyntaxError: '(' was never closed\n"
                   '    bucket = dict(name="b"\n'
                   "                 ^\n"
                   "  fix: fix the program: it must also run under `pulumi preview`; --debug shows the whole "
                   "traceback\n")


def test_an_exception_shows_the_programs_frames_innermost_first_and_nothing_of_tollgate(tmp_path, capsys,
                                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("def zone(names):\n    return names['primary']\n")
    code, err = preview(capsys, project(tmp_path, "import pulumi\nfrom lib import zone\n\nzone({})\n"))
    assert code == 2
    assert err == ("tollgate: error: lib/__init__.py:2: KeyError: 'primary'\n"
                   "    return names['primary']\n"
                   "  called from __main__.py:4 in <module>: zone({})\n"
                   "  fix: fix the program: it must also run under `pulumi preview`; --debug shows the whole "
                   "traceback\n")


def test_debug_prints_the_whole_traceback_first(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = preview(capsys, project(tmp_path, "import pulumi\nraise RuntimeError('boom')\n"), "--debug")
    assert code == 2
    traceback, error = err.split("tollgate: error: ")
    assert traceback.startswith("Traceback (most recent call last):") and "runpy" in traceback
    assert error.startswith("__main__.py:2: RuntimeError: boom\n")
    assert "--debug shows" not in error


def test_a_missing_config_key_says_how_to_set_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = "import pulumi\nconfig = pulumi.Config()\npassword = config.require_secret('dbPassword')\n"
    code, err = preview(capsys, project(tmp_path, source))
    assert code == 2
    assert err == ("tollgate: error: __main__.py:3: ConfigMissingError: missing required configuration variable "
                   "'broken:dbPassword'\n"
                   "    password = config.require_secret('dbPassword')\n"
                   "  fix: pulumi config set --secret broken:dbPassword <value> (or add `broken:dbPassword:` under "
                   "`config:` in Pulumi.dev.yaml)\n")


def test_paths_are_given_from_where_tollgate_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inner = project(tmp_path / "infra", "import pulumi\n1 / 0\n")
    code, err = preview(capsys, inner)
    assert code == 2 and err.startswith("tollgate: error: infra/__main__.py:2: ZeroDivisionError: division by zero")


REMOTE = """
import pulumi
pulumi.ComponentResource("acme:index:Widget", "w", {}, None, remote=True)
"""


@pytest.mark.parametrize("strict, code", [(False, 0), (True, 1)])
def test_strict_fails_a_preview_on_a_component_it_cannot_expand(tmp_path, capsys, strict, code):
    directory = project(tmp_path, REMOTE, "config:\n  aws:region: us-east-1\n  tollgate:environment: dev\n")
    got = main(["preview", "--stack", "dev", "--cwd", str(directory), "--format", "json",
                *(["--strict"] if strict else [])])
    out = capsys.readouterr().out
    assert got == code and '"rule": "not-expanded"' in out


def test_a_virtualenv_named_in_pulumi_yaml_that_is_not_there_is_an_error(tmp_path, capsys):
    directory = project(tmp_path, "import pulumi\n")
    (directory / "Pulumi.yaml").write_text("name: broken\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    code, err = preview(capsys, directory)
    assert code == 2
    assert f"Pulumi.yaml names the virtualenv {directory / 'venv'}, which has no python" in err
    assert f"fix: create it as `pulumi install` does: python3 -m venv {directory / 'venv'}" in err
