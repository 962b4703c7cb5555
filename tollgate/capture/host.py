"""Capture, parent side: run the program in a child process and turn what it registered into a Snapshot."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

from ..bundled import DISTRIBUTION, PACKAGE_DIR
from ..errors import TollgateError
from ..model import Snapshot
from ..project import Project, StackConfig, answers_path, load_answers, load_project, load_stack, stack_tags


def _tollgate_only(tmp: Path) -> Path:
    """A directory holding only the tollgate package, for the child's path: the program keeps its own
    environment (its SDK, its packages) and gains nothing else of ours, wherever tollgate is installed."""
    path = tmp / "path"
    path.mkdir()
    try:
        (path / "tollgate").symlink_to(PACKAGE_DIR, target_is_directory=True)
    except OSError:  # no symlinks (Windows without the privilege): a copy serves as well
        shutil.copytree(PACKAGE_DIR, path / "tollgate", ignore=shutil.ignore_patterns("__pycache__"))
    return path


class _ResultPipe:
    """The child's answer: a pipe it inherits by descriptor (no file a program is handed by name), read while
    the program runs so that a large answer never blocks it."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # not inherited by anything but the child (pass_fds)
        self._open: Optional[int] = self._write
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def start(self) -> int:
        self._thread.start()
        return self._write

    def _drain(self) -> None:
        with os.fdopen(self._read, "rb") as pipe:
            self._chunks.append(pipe.read())

    def close_write_end(self) -> None:
        if self._open is not None:
            os.close(self._open)
            self._open = None

    def text(self) -> str:
        self._thread.join(timeout=30)
        return b"".join(self._chunks).decode("utf-8", "replace")


def _checked(text: str, token: str, returncode: int, project: Project, stack: str) -> dict[str, Any]:
    """The capture's answer, if it is one: this run's token, and the stack resource every capture records."""
    where = str(project.pwd / ("__main__.py" if project.program == "." else project.program))
    if not text:
        raise TollgateError(f"the program's process ended (exit {returncode}) before the capture reported: the "
                            f"program ended it (os._exit, a signal) or it crashed", where,
                            fix="see the output above; a program must return normally (no os._exit)")
    try:
        result = json.loads(text)
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict) or result.get("token") != token:
        raise TollgateError("the capture's answer did not come from the capture (it lacks this run's token): "
                            "something in the program wrote it", where,
                            fix="a program must not write to descriptors it did not open")
    if "error" not in result:
        stack_urn = f"urn:pulumi:{stack}::{project.name}::pulumi:pulumi:Stack::{project.name}-{stack}"
        resources = result.get("resources")
        if not isinstance(resources, list) or not any(isinstance(r, dict) and r.get("urn") == stack_urn
                                                      for r in resources):
            raise TollgateError(f"the capture's answer has no stack resource ({stack_urn}): the program did not "
                                f"run to its end under the capture", where, fix="let the program return normally")
    return result


# The first bytes of a native executable (ELF, Mach-O 32/64 both byte orders and universal, PE): a Python
# interpreter is one; a script (#!) standing in for it could answer for the program without running it.
_EXECUTABLE_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
                     b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"MZ")


def _verified(candidate: Path, project: Project) -> str:
    """The virtualenv's interpreter, if it is an executable program (through its symlinks), not a script."""
    real = candidate.resolve()
    try:
        with open(real, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise TollgateError(f"the virtualenv's interpreter {candidate} cannot be read: {exc.strerror}",
                            str(project.file), fix="recreate the virtualenv") from exc
    if not head.startswith(_EXECUTABLE_MAGIC):
        kind = "a script" if head.startswith(b"#!") else "not an executable"
        raise TollgateError(f"the virtualenv's interpreter {candidate} is {kind}, not a Python interpreter: it "
                            f"could answer for the program without running it", str(project.file),
                            fix=f"recreate the virtualenv: python3 -m venv {project.virtualenv}")
    return str(candidate)


def _interpreter(project: Project) -> str:
    """The program's own virtualenv when Pulumi.yaml names one, else ours. A named one that is not there is an
    error, as under `pulumi preview`: running the program with other packages would judge another program."""
    if not project.virtualenv:
        return sys.executable
    candidate = project.virtualenv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not candidate.exists():
        raise TollgateError(f"Pulumi.yaml names the virtualenv {project.virtualenv}, which has no {candidate.name} "
                            f"({candidate} not found)", str(project.file),
                            fix=f"create it as `pulumi install` does: python3 -m venv {project.virtualenv} && "
                                f"{project.virtualenv}/bin/pip install -r requirements.txt")
    return _verified(candidate, project)


def capture(cwd: Path, stack: str, progress: bool = False, timeout: Optional[float] = None,
            debug: bool = False) -> Snapshot:
    project = load_project(cwd)
    config = load_stack(project, stack)
    return run_program(project, stack, config, progress, timeout, debug)


def run_program(project: Project, stack: str, config: StackConfig, progress: bool = False,
                timeout: Optional[float] = None, debug: bool = False) -> Snapshot:
    request = {
        "pwd": str(project.pwd), "program": project.program, "root_directory": str(project.root),
        "project": project.name, "stack": stack, "config": config.config, "secret_keys": config.secret_keys,
        "provider_config": config.provider_config, "progress": progress, "answers": load_answers(project, stack),
    }
    env = dict(os.environ)
    env.setdefault("GRPC_VERBOSITY", "ERROR")  # gRPC's INFO lines about closed loopback channels are noise
    # The program sees what the language host would give it, nothing of tollgate's own invocation.
    env.update({"PULUMI_CONFIG": json.dumps(config.config),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(config.secret_keys)})
    interpreter = _interpreter(project)
    token = secrets.token_hex(16)  # the answer must carry it: only the capture's own code was handed it
    with tempfile.TemporaryDirectory(prefix="tollgate-capture-") as tmp:
        # Ours first: the child protocol is this tollgate's, even where the project installs another version.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_tollgate_only(Path(tmp))), env.get("PYTHONPATH")]))
        answer = _ResultPipe()
        try:
            write_end = answer.start()
            request.update(token=token, result_fd=write_end)
            proc = subprocess.run([interpreter, "-m", "tollgate.capture.child"], input=json.dumps(request).encode(),
                                  cwd=project.pwd, env=env, stdout=subprocess.PIPE, timeout=timeout,
                                  pass_fds=(write_end,))
        except subprocess.TimeoutExpired as exc:
            main = project.pwd / ("__main__.py" if project.program == "." else project.program)
            raise TollgateError(f"the program did not finish within {timeout:g} s and was stopped", str(main),
                                fix="find what it waits for (a loop, a network call), or raise --timeout") from exc
        finally:
            answer.close_write_end()
        # The program's stdout is not ours (ours may be JSON): pass its prints on to stderr.
        sys.stderr.write(proc.stdout.decode("utf-8", "replace"))
        result = _checked(answer.text(), token, proc.returncode, project, stack)
    if "error" in result:
        raise program_error(result["error"], project, stack, config, debug)
    _say_placeholders(result.get("placeholders") or {}, project, stack)
    return Snapshot.from_dict({"project": project.name, "stack": stack, "environment": config.environment,
                               "tags": stack_tags(config.config, project.name), "resources": result["resources"],
                               "notes": result.get("notes") or []})


def program_error(err: dict, project: Project, stack: str, config: StackConfig, debug: bool) -> TollgateError:
    """What the program raised, as a compiler says it: `file:line: Type: message`, then the user's own frames
    that led there; Tollgate's and the runtime's frames only with --debug."""
    if debug:
        sys.stderr.write(err.get("traceback") or "")
    frames = err.get("frames") or []
    first = frames[0] if frames else {}
    lines = [f"{err['type']}: {err['message']}"]
    if first.get("code"):
        lines.append(f"    {first['code']}")
        if first.get("column"):
            lines.append("    " + " " * (first["column"] - 1) + "^")
    lines += [f"  called from {f['file']}:{f['line']} in {f['function']}: {f['code']}" for f in frames[1:]]
    if err.get("config_key"):
        key = err["config_key"]
        secret = " --secret" if err.get("config_secret") else ""
        fix = (f"pulumi config set{secret} {key} <value> (or add `{key}:` under `config:` in "
               f"{config.file.name})")
    elif _missing_module(err) == "tollgate_components":
        fix = (f"add `{DISTRIBUTION}` to the project's requirements and install them where the program runs "
               f"(`pulumi install`, or `{_interpreter(project)} -m pip install {DISTRIBUTION}`)")
    else:
        fix = "fix the program: it must also run under `pulumi preview`" + (
            "" if debug else "; --debug shows the whole traceback")
    main = project.pwd / ("__main__.py" if project.program == "." else project.program)
    where = project.root / first["file"] if first.get("file") else main
    return TollgateError("\n".join(lines), _from_here(where), first.get("line"), fix=fix)


def _missing_module(err: dict) -> str:
    """The top-level package a ModuleNotFoundError names ("" for any other error)."""
    match = re.fullmatch(r"No module named '([^']+)'", err.get("message") or "")
    return match.group(1).split(".")[0] if err.get("type") == "ModuleNotFoundError" and match else ""


def _from_here(path: Path) -> str:
    """A path as the user can open it from where they ran tollgate."""
    here = Path.cwd()
    return str(path.relative_to(here) if path.is_absolute() and path.is_relative_to(here) else path)


def _say_placeholders(placeholders: dict[str, int], project: Project, stack: str) -> None:
    """Which data sources were answered by shape alone: the user may pin real answers for them."""
    if not placeholders:
        return
    names = ", ".join(f"{token} ({count}x)" if count > 1 else token for token, count in sorted(placeholders.items()))
    sys.stderr.write(f"tollgate: data sources answered with placeholders (what they feed is judged as unknown): "
                     f"{names}; pin real answers in {answers_path(project, stack)}\n")
