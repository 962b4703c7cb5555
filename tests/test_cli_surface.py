"""The CLI a user meets: --version, help on every option, README synopses equal to --help, `pack path`."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tollgate import cli, pack_build
from tollgate.cli import _parser, main

from conftest import ROOT

SYNOPSES = ["preview", "cost", "report"]


def commands(parser: argparse.ArgumentParser, prog: str = "tollgate"):
    """Every (sub)command's parser, by its full name, walking the parser as argparse does."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prog} {name}")


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"tollgate {version('tollgate-iac')}\n"


def test_console_script_prints_its_version():
    script = Path(sys.executable).with_name("tollgate")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == f"tollgate {version('tollgate-iac')}\n" and proc.stderr == ""


def test_every_option_and_command_has_help():
    missing = []
    for name, parser in commands(_parser()):
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{name} {choice.dest}" for choice in action._choices_actions if not choice.help]
    assert missing == []


def test_every_leaf_command_has_a_handler():
    parser = _parser()
    for name, sub in commands(parser):
        if not any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
            assert callable(sub.get_default("run")), name


def readme_synopsis(command: str) -> str:
    """The README's fenced block that starts with `tollgate <command> `, whitespace normalized."""
    blocks = re.findall(r"^```(.*?)\n(.*?)^```$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M | re.S)
    found = [text for info, text in blocks if not info and text.startswith(f"tollgate {command} ")]
    assert len(found) == 1, f"README needs one synopsis block of `tollgate {command}`, has {len(found)}"
    return " ".join(found[0].split())


@pytest.mark.parametrize("command", SYNOPSES)
def test_readme_synopsis_is_the_usage_of_help(command):
    parser = dict(commands(_parser()))[f"tollgate {command}"]
    usage = parser.format_usage()
    assert usage.startswith("usage: ")
    assert readme_synopsis(command) == " ".join(usage.removeprefix("usage: ").split())


def test_readme_prose_explains_reading_what_the_pulumi_cli_saw():
    prose = re.sub(r"^```.*?\n.*?^```$", "", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.M | re.S)
    for option in ("--from-event-log", "--from-preview-json", "--from-export", "--include-unchanged"):
        assert option in prose, option


def test_pack_path_prints_the_pack_directory(capsys, monkeypatch, tmp_path):
    args = _parser().parse_args(["pack", "path"])
    assert args.run is cli.print_pack_path
    # pack_path itself is tollgate.pack_build's: here only that the command prints what it returns
    monkeypatch.setattr(pack_build, "pack_path", lambda: tmp_path / "pack", raising=False)
    assert main(["pack", "path"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'pack'}\n"
