"""Fail closed on the capture (issue 23): secrets in relayed errors and prints, structured secret config, and a
program (or a stand-in interpreter) that forges the capture's answer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from tollgate.cli import main

SECRET = "hunter2-relayed-plaintext"


def project(tmp_path: Path, source: str, config: dict | None = None, pulumi_yaml: str = "") -> Path:
    root = tmp_path / "project"
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(pulumi_yaml or "name: forge\nruntime: python\n")
    (root / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": {"aws:region": "us-east-1", **(config or {})}}))
    (root / "__main__.py").write_text(source)
    return root


def preview(capsys, root: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["preview", "--cwd", str(root), "--stack", "dev", "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


# --- 8. a secret in the program's own error text or prints ----------------------------------------------

@pytest.mark.parametrize("debug", [(), ("--debug",)])
def test_a_secret_in_the_programs_exception_is_redacted(capsys, tmp_path, debug):
    root = project(tmp_path, f'''import pulumi
import pulumi_aws as aws
pw = pulumi.Output.secret("{SECRET}")
aws.s3.Bucket("b", bucket=pw.apply(lambda v: str(int(v))))
''')
    code, out, err = preview(capsys, root, *debug)
    assert code == 2 and out == "" and SECRET not in err, err
    assert "invalid literal for int() with base 10: '[secret]'" in err, err


def test_a_secret_the_program_prints_or_logs_is_redacted(capfd, tmp_path):
    root = project(tmp_path, f'''import sys
import pulumi
import pulumi_aws as aws
token = pulumi.Output.secret({{"user": "app", "password": "{SECRET}"}})
token.apply(lambda v: print("token is", v["password"]))
token.apply(lambda v: print("again:", repr(v), file=sys.stderr))
token.apply(lambda v: pulumi.log.warn(f"rotating {{v['password']}}"))
aws.s3.Bucket("b", bucket="plain-name", tags={{"t": token.apply(lambda v: v["user"])}})
''')
    code = main(["preview", "--cwd", str(root), "--stack", "dev", "--format", "json"])
    out, err = capfd.readouterr()
    assert code == 1 and SECRET not in out + err, err
    assert "token is [secret]" in err and "'password': '[secret]'" in err and "rotating [secret]" in err, err


# --- 9. structured secret config ------------------------------------------------------------------------

def test_a_structured_secret_config_key_reaches_the_program_blinded(capsys, tmp_path):
    root = project(tmp_path, '''import pulumi
import pulumi_aws as aws
db = pulumi.Config().require_object("db")
aws.s3.Bucket("b", bucket=f"data-{db['password']}", tags={"user": db["user"]})
''', config={"forge:db": {"user": "app", "password": SECRET}},
        pulumi_yaml="name: forge\nruntime: python\nconfig:\n  db:\n    type: object\n    secret: true\n")
    snapshot = tmp_path / "snapshot.json"
    code, out, err = preview(capsys, root, "--snapshot-out", str(snapshot))
    assert code == 1, err
    assert SECRET not in out + err + snapshot.read_text()
    [bucket] = [r for r in json.loads(snapshot.read_text())["resources"] if r["name"] == "b"]
    assert bucket["inputs"]["bucket"] == "data-[secret]" and bucket["inputs"]["tags"] == {"user": "[secret]"}


# --- 10. the capture's answer comes from the capture ----------------------------------------------------

FORGED = json.dumps({"resources": []})


@pytest.mark.parametrize("forgery, message", [
    # the program: the result file named in its own argv, then an exit before the capture reports
    ('''cmdline = open("/proc/self/cmdline", "rb").read().split(b"\\0")
for arg in cmdline:
    if arg.endswith(b"result.json"):
        open(arg, "w").write(FORGED)
os._exit(0)''', "before the capture reported"),
    # every descriptor it did not open, then an exit
    ('''for fd in range(3, 64):
    try:
        os.write(fd, FORGED.encode())
    except OSError:
        pass
os._exit(0)''', "did not come from the capture (it lacks this run's token)"),
])
def test_a_program_cannot_forge_the_captures_answer(capsys, tmp_path, forgery, message):
    root = project(tmp_path, f"import os\nimport pulumi_aws as aws\nFORGED = {FORGED!r}\n"
                             f"aws.s3.Bucket('b', bucket='untagged')\n{forgery}\n")
    code, out, err = preview(capsys, root)
    assert (code, out) == (2, "") and message in err, err


def test_an_answer_without_the_stack_resource_is_refused(capsys, tmp_path):
    # A program that reaches into the capture and keeps the stack resource out of what it records.
    root = project(tmp_path, """import gc
import pulumi_aws as aws
from tollgate.capture.monitor import CaptureMonitor

class NoStack(list):
    def append(self, record):
        if record["type"] != "pulumi:pulumi:Stack":
            super().append(record)

for o in gc.get_objects():
    if isinstance(o, CaptureMonitor):
        o.records = NoStack(r for r in o.records if r["type"] != "pulumi:pulumi:Stack")
aws.s3.Bucket('b', bucket='untagged')
""")
    code, out, err = preview(capsys, root)
    assert (code, out) == (2, "") and "the capture's answer has no stack resource " \
                                      "(urn:pulumi:dev::forge::pulumi:pulumi:Stack::forge-dev)" in err, err


VENV_YAML = "name: forge\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"


def test_a_virtualenv_whose_python_is_a_script_is_refused_before_it_runs(capsys, tmp_path):
    root = project(tmp_path, "raise SystemExit('the program never runs')\n", pulumi_yaml=VENV_YAML)
    python = root / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    python.write_text(f"#!/bin/sh\ntouch {marker}\nfor a; do case $a in *result.json) "
                      f"echo '{FORGED}' > $a;; esac; done\nexit 0\n")
    python.chmod(0o755)
    code, out, err = preview(capsys, root)
    assert (code, out) == (2, "") and not marker.exists()
    assert f"the virtualenv's interpreter {python} is a script, not a Python interpreter" in err, err


def test_a_virtualenv_whose_python_links_to_an_interpreter_runs_the_program(capsys, tmp_path):
    root = project(tmp_path, "import pulumi_aws as aws\naws.s3.Bucket('b', bucket='untagged')\n",
                   pulumi_yaml=VENV_YAML)
    (root / "venv").symlink_to(sys.prefix, target_is_directory=True)  # tollgate's own virtualenv, as the program's
    code, out, err = preview(capsys, root)
    assert code == 1 and {f["name"] for f in json.loads(out)["findings"]} >= {"b"}, err
