"""Preview the real-program corpus: the Pulumi Python projects of pulumi/examples, each run by `tollgate preview`.

What it measures: for every project under the `aws-py-*` and `kubernetes-py-*` folders (36 at commit 40c09b26,
nested ones included), whether Tollgate previews it offline (exit 0 or 1) or cannot (exit 2: the error and its
fix), how many resources the capture recorded (the snapshot's `resources`, stack and providers included), how
many findings it reported by enforcement, and how long the preview took. Each project runs the way a user
following its README would run it:

* its own requirements in a virtualenv, as `pulumi install` makes one: one virtualenv per distinct requirements
  set, made with `python3 -m venv` and `pip install -r requirements.txt` and cached under --venvs for the next
  run (delete a directory there to rebuild it). A project whose Pulumi.yaml names a virtualenv (`virtualenv:
  venv`) gets a symlink of that name to the cached one. A project with `toolchain: poetry` (its requirements
  are then its pyproject's [tool.poetry.dependencies]) or without a virtualenv option gets `toolchain: pip` and
  `virtualenv: <absolute path>` written into its extracted copy's Pulumi.yaml. An install that fails is
  reported as "missing package" with pip's error line; the other projects go on;
* the stack config its README asks a user to set (CONFIG below), written as Pulumi.dev.yaml in its
  stackConfigDir, secrets as `secure:` values (Tollgate treats them as secret and never decrypts them);
* the files its README asks a user to make (FILES below: key pairs, a build output), harmless stand-ins.

Each project is extracted with `git archive | tar -x` into a temporary directory (or --keep DIR); no example
code is copied into this repository.

Fetch the corpus (a bare clone is enough):

    git clone --bare https://github.com/pulumi/examples.git /path/to/examples   # the table was made at 40c09b26

Run (from the repository root):

    .venv/bin/python scripts/corpus.py --examples /work/.mirror/pulumi+examples/repo [--out FILE]
        [--only SUBSTRING] [--jobs N] [--keep DIR] [--venvs DIR] [--rev REV]

It prints a Markdown table (program | exit | resources | mandatory | advisory | seconds | note) and a summary
line; --out FILE also writes them there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import yaml

PREFIXES = ("aws-py-", "kubernetes-py-")
STACK = "dev"
PREVIEW_TIMEOUT = 300                 # tollgate's --timeout: how long the program itself may run
WALL_CLOCK = PREVIEW_TIMEOUT + 120    # the whole preview; past it the runner stops tollgate and says so
PIP_TIMEOUT = 1800
BASE_PYTHON = "python3"
VENV_DONE = ".corpus-complete"        # written last: a virtualenv without it was interrupted and is rebuilt

SECRET = {"secure": "dG9sbGdhdGUtY29ycHVzLXNlY3JldA=="}  # any base64 text: Tollgate never decrypts it
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRvbGxnYXRlIGNvcnB1cyBub3QgYSByZWFsIGtleQ tollgate-corpus\n"
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key: a stand-in written by scripts/corpus.py\n"
               "-----END OPENSSH PRIVATE KEY-----\n")

# Project path -> the stack config its README (or Pulumi.yaml's template, or its automation program) asks for.
# Keys without a namespace are the project's own, as `pulumi config set` writes them.
CONFIG: dict[str, dict[str, Any]] = {
    "aws-py-ansible-wordpress": {"aws:region": "us-east-1", "publicKeyPath": "wordpress-keypair.pub",
                                 "privateKeyPath": "wordpress-keypair", "dbPassword": SECRET},
    "aws-py-apigateway-lambda-serverless": {"aws:region": "us-east-2"},
    "aws-py-apigatewayv2-eventbridge": {"aws:region": "us-west-2"},
    "aws-py-apigatewayv2-http-api-quickcreate": {"aws:region": "us-east-2"},
    "aws-py-appsync": {"aws:region": "us-east-2"},
    "aws-py-assume-role/assume-role": {"aws:region": "us-east-1",
                                       "roleToAssumeARN": "arn:aws:iam::123456789012:role/allow-s3-management"},
    # The README writes `create-role:unprivilegedUsername`; the program reads its own namespace.
    "aws-py-assume-role/create-role": {"aws:region": "us-east-1", "unprivilegedUsername": "somebody@example.com"},
    "aws-py-django-voting-app": {"aws:region": "us-west-2", "sql-admin-name": "admin", "sql-admin-password": SECRET,
                                 "sql-user-name": "voter", "sql-user-password": SECRET,
                                 "django-admin-name": "admin", "django-admin-password": SECRET,
                                 "django-secret-key": SECRET},
    "aws-py-dynamicresource": {"aws:region": "us-west-2", "sql-admin-name": "admin", "sql-admin-password": SECRET,
                               "sql-user-name": "voter", "sql-user-password": SECRET},
    "aws-py-ec2-provisioners": {"aws:region": "us-west-2", "publicKey": PUBLIC_KEY.strip(), "privateKey": SECRET},
    # No README steps: its automation program (automation/index.ts) sets these two.
    "aws-py-ecs-instances-autoapi/py-ecs-instance": {"aws:region": "us-east-1", "cfg:autoscalingGroupSize": "1"},
    "aws-py-eks": {"aws:region": "us-east-2"},
    "aws-py-fargate": {"aws:region": "us-east-1"},
    "aws-py-hub-and-spoke-network": {"aws:region": "us-east-2"},
    "aws-py-langserve": {"aws:region": "us-east-1", "open-api-key": SECRET},
    # The README sets the region only; the program requires the template's keys, which `pulumi new` writes.
    "aws-py-redshift-glue-etl": {"aws:region": "us-west-2", "clusterIdentifier": "my-redshift-cluster",
                                 "clusterNodeType": "ra3.xlplus", "clusterDBName": "dev",
                                 "clusterDBUsername": "admin", "clusterDBPassword": SECRET,
                                 "glueDBName": "my-glue-db"},
    "aws-py-resources": {"aws:region": "us-east-2"},
    "aws-py-s3-folder": {"aws:region": "us-west-2"},
    "aws-py-secrets-manager": {"aws:region": "us-east-1"},
    "aws-py-serverless-raw": {"aws:region": "us-east-2"},
    "aws-py-slackbot": {"aws:region": "us-east-2", "mentionbot:slackToken": SECRET,
                        "mentionbot:verificationToken": SECRET},
    "aws-py-stackreference/company": {"companyName": "ACME Widget Company"},
    "aws-py-stackreference/department": {"departmentName": "E-Commerce"},
    "aws-py-stackreference/team": {"aws:region": "us-west-2",
                                   "companyStack": "organization/aws-py-stackreference-company/dev",
                                   "departmentStack": "organization/aws-py-stackreference-department/dev",
                                   "teamName": "Frontend Dev"},
    # pathToWebsiteContents is the template's default, which the program requires.
    "aws-py-static-website": {"aws:region": "us-west-2", "targetDomain": "www.example.com",
                              "pathToWebsiteContents": "./www"},
    "aws-py-stepfunctions": {"aws:region": "us-east-2"},
    "aws-py-voting-app": {"aws:region": "us-west-2", "redis-password": SECRET},
    "aws-py-webserver": {"aws:region": "us-west-2"},
    "aws-py-wordpress-fargate-rds": {"aws:region": "us-west-2"},
    "kubernetes-py-exposed-deployment": {"is_minikube": "false"},
    "kubernetes-py-guestbook/components": {"isMinikube": "false"},
    "kubernetes-py-guestbook/simple": {"isMinikube": "false"},
    "kubernetes-py-helm-release-wordpress": {},
    "kubernetes-py-jenkins": {"username": "admin", "password": SECRET, "isMinikube": "false"},
    "kubernetes-py-nginx": {},
    "kubernetes-py-self-host-gemma4-llm": {},  # every key has a default; Tailscale is optional and off
}

# Project path -> files its README asks a user to make (path inside the project -> content).
FILES: dict[str, dict[str, str]] = {
    "aws-py-ansible-wordpress": {"wordpress-keypair": PRIVATE_KEY, "wordpress-keypair.pub": PUBLIC_KEY},
    # `dotnet publish app`: the Lambda's code archive is that build's output folder.
    "aws-py-serverless-raw": {"app/bin/Release/net8.0/publish/README": "stand-in for `dotnet publish app`\n"},
}


# Project path -> (a requirement it states, the one the runner installs instead, why): requirements pip cannot
# install together (`pulumi install` fails on them as well), replaced by the nearest set that installs, and said
# in the table, so that the program is still measured.
REQUIREMENT_FIXES: dict[str, tuple[str, str, str]] = {
    "aws-py-hub-and-spoke-network": (
        "pulumi_awsx>=2.0.0,<3.0.0", "pulumi_awsx>=3.0.0,<4.0.0",
        "run with pulumi-awsx 3: the stated pulumi-awsx 2 needs pulumi-aws 6, the stated pulumi-aws is 7"),
}


@dataclass
class Outcome:
    program: str
    exit: Optional[int]             # None: no preview ran (its virtualenv could not be made)
    resources: Optional[int] = None
    mandatory: int = 0
    advisory: int = 0
    seconds: Optional[float] = None
    note: str = ""
    cause: str = ""                 # the note without place or fix, to group failures in the summary


# --- the corpus -----------------------------------------------------------------------------------------------

def git(examples: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(examples), *args], check=True, capture_output=True,
                          text=True).stdout


def list_projects(examples: Path, rev: str = "HEAD") -> list[str]:
    """Every directory holding a Pulumi.yaml under the corpus folders, nested ones included."""
    files = git(examples, "ls-tree", "-r", "--name-only", rev).splitlines()
    return sorted(os.path.dirname(f) for f in files
                  if f.startswith(PREFIXES) and os.path.basename(f) == "Pulumi.yaml")


def extract(examples: Path, rev: str, program: str, root: Path) -> Path:
    """`git archive REV <dir> | tar -x`: the project at its repository path under root."""
    # stderr kept for a failure only: a mirror without its large blobs warns about files of other projects
    with tempfile.TemporaryFile() as errors:
        archive = subprocess.Popen(["git", "--git-dir", str(examples), "archive", rev, program],
                                   stdout=subprocess.PIPE, stderr=errors)
        subprocess.run(["tar", "-x", "-C", str(root)], stdin=archive.stdout, check=True)
        archive.stdout.close()
        if archive.wait() != 0:
            errors.seek(0)
            raise RuntimeError(f"git archive {rev} {program} failed: {errors.read().decode().strip()}")
    return root / program


# --- virtualenvs ----------------------------------------------------------------------------------------------

def requirements(copy: Path) -> str:
    """What `pulumi install` would install: requirements.txt, else the poetry dependencies of pyproject.toml."""
    if (copy / "requirements.txt").exists():
        return (copy / "requirements.txt").read_text(encoding="utf-8")
    if (copy / "pyproject.toml").exists():
        return poetry_requirements((copy / "pyproject.toml").read_text(encoding="utf-8"))
    return ""


def poetry_requirements(pyproject: str) -> str:
    deps = tomllib.loads(pyproject).get("tool", {}).get("poetry", {}).get("dependencies", {})
    return "".join(f"{name}{pep440(spec)}\n" for name, spec in deps.items() if name != "python")


def pep440(spec: Any) -> str:
    """A poetry version constraint as a pip specifier: ^ and ~ become ranges, a bare version is exact."""
    spec = (spec.get("version", "") if isinstance(spec, dict) else str(spec)).strip()
    if spec in ("", "*"):
        return ""
    if spec[0] in "^~" and spec[1:2] != "=":
        parts = [int(p) for p in spec[1:].split(".")]
        # ^ may change what follows the first non-zero part; ~ what follows the second part (or the only one).
        last = len(parts) - 1
        keep = next((i for i, p in enumerate(parts) if p), last) if spec[0] == "^" else min(1, last)
        upper = parts[:keep] + [parts[keep] + 1]
        return f">={spec[1:]},<{'.'.join(map(str, upper))}"
    return f"=={spec}" if spec[0].isdigit() else spec


def fixed_requirements(program: str, text: str) -> str:
    if program not in REQUIREMENT_FIXES:
        return text
    stated, instead, _ = REQUIREMENT_FIXES[program]
    if stated not in text:
        raise SystemExit(f"corpus: {program} no longer states {stated}: review REQUIREMENT_FIXES")
    return text.replace(stated, instead)


def requirement_set(text: str) -> str:
    """The requirements as a set: comments, blanks and order do not make a different virtualenv."""
    lines = {line.split("#", 1)[0].strip() for line in text.splitlines()}
    return "".join(f"{line}\n" for line in sorted(lines) if line)


def venv_dir(venvs: Path, reqs: str) -> Path:
    return venvs / hashlib.sha256(reqs.encode()).hexdigest()[:12]


def make_venv(venv: Path, reqs: str) -> Optional[str]:
    """Create (or reuse) the virtualenv for one requirements set; pip's error line when it cannot be made."""
    if (venv / VENV_DONE).exists():
        return None
    venv.parent.mkdir(parents=True, exist_ok=True)
    listing, log = venv.with_suffix(".txt"), venv.with_suffix(".log")  # beside it: --clear empties the directory
    listing.write_text(reqs, encoding="utf-8")
    steps = [[BASE_PYTHON, "-m", "venv", "--clear", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "-r", str(listing)]]
    output = ""
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=PIP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"{' '.join(step[-3:])} did not finish within {PIP_TIMEOUT} s"
        output += proc.stdout + proc.stderr
        log.write_text(output, encoding="utf-8")
        if proc.returncode != 0:
            return pip_error(output, reqs)
    (venv / VENV_DONE).write_text(reqs, encoding="utf-8")
    return None


def pip_error(output: str, reqs: str = "") -> str:
    """pip's first `ERROR:` line (what it could not find or build), else its last line; a `-r FILE (line N)` in
    it is spelled as that requirement, and the first conflict pip explains is added."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("ERROR:")), lines[-1] if lines else "pip failed")
    listed = reqs.splitlines()
    error = re.sub(r"-r \S+ \(line (\d+)\)",
                   lambda m: listed[int(m[1]) - 1] if int(m[1]) <= len(listed) else m[0], error)
    conflict = next((line for line in lines if " depends on " in line), None)
    return f"{error} ({conflict})" if conflict else error


def use_venv(copy: Path, venv: Path) -> None:
    """Point the copy's Pulumi.yaml at the cached virtualenv, as `pulumi install` would have made it there."""
    file = copy / "Pulumi.yaml"
    text = file.read_text(encoding="utf-8")
    runtime = yaml.safe_load(text).get("runtime")
    options = (runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    if options.get("virtualenv"):
        link = copy / options["virtualenv"]
        if link.is_symlink():  # a kept copy from an earlier run
            link.unlink()
        link.symlink_to(venv.resolve(), target_is_directory=True)
        return
    # Edited as text: a YAML round trip would rewrite values such as `default: off` (read as false).
    toolchain = re.search(r"^(\s+)toolchain:.*$", text, re.M)
    if toolchain:
        pad = toolchain[1]
        lines = f"{pad}toolchain: pip\n{pad}virtualenv: {venv.resolve()}"
        text = text[:toolchain.start()] + lines + text[toolchain.end():]
    elif re.search(r"^runtime:\s*python\s*$", text, re.M):
        text = re.sub(r"^runtime:\s*python\s*$", f"runtime:\n  name: python\n  options:\n"
                      f"    virtualenv: {venv.resolve()}", text, count=1, flags=re.M)
    else:
        raise RuntimeError(f"{file}: no virtualenv, toolchain or scalar runtime to point at {venv}")
    file.write_text(text, encoding="utf-8")


# --- the stack ------------------------------------------------------------------------------------------------

def write_stack(copy: Path, program: str) -> None:
    """Pulumi.dev.yaml in the project's stackConfigDir with the README's config, and the files it asks for."""
    project = yaml.safe_load((copy / "Pulumi.yaml").read_text(encoding="utf-8"))
    stack_file = copy / project.get("stackConfigDir", ".") / f"Pulumi.{STACK}.yaml"
    stack_file.parent.mkdir(parents=True, exist_ok=True)
    # each value its own copy: the shared SECRET would otherwise be written as YAML anchors and aliases
    config = {key: dict(value) if isinstance(value, dict) else value for key, value in CONFIG[program].items()}
    stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False), encoding="utf-8")
    for name, content in FILES.get(program, {}).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text(content, encoding="utf-8")


# --- one preview ----------------------------------------------------------------------------------------------

def preview(copy: Path, program: str, root: Path) -> Outcome:
    """`tollgate preview` of one prepared copy, stopped (with its program) past the wall-clock limit."""
    snapshot = copy.parent / f".{copy.name}.snapshot.json"
    snapshot.unlink(missing_ok=True)  # a kept copy's earlier snapshot must not count for this run
    command = [sys.executable, "-m", "tollgate", "preview", "--stack", STACK, "--cwd", str(copy), "--format", "json",
               "--timeout", str(PREVIEW_TIMEOUT), "--snapshot-out", str(snapshot)]
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group: a stop takes the program's process too
    try:
        stdout, stderr = proc.communicate(timeout=WALL_CLOCK)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(program, 2, seconds=time.monotonic() - start, cause="no answer",
                       note=f"runner: no answer within {WALL_CLOCK} s; stopped")
    seconds = time.monotonic() - start
    resources = len(json.loads(snapshot.read_text(encoding="utf-8"))["resources"]) if snapshot.exists() else None
    return outcome(program, proc.returncode, stdout, stderr, resources, seconds, root)


def outcome(program: str, code: int, stdout: str, stderr: str, resources: Optional[int], seconds: float,
            root: Optional[Path] = None) -> Outcome:
    """What one preview said: its findings by enforcement (exit 0 or 1), or its error and fix (exit 2)."""
    result = Outcome(program, code, resources, seconds=seconds)
    if code in (0, 1):
        result.mandatory, result.advisory = count_findings(stdout)
        return result
    message, fix = error_lines(stderr)
    for prefix in {str(root), str(root.resolve())} if root else ():
        message = message.replace(prefix + os.sep, "")  # paths read from the repository root, not the temp dir
    result.note = f"{message} — {fix}" if fix else message
    result.cause = cause(message, program)
    return result


def count_findings(report: str) -> tuple[int, int]:
    enforcement = Counter(f["enforcement"] for f in json.loads(report)["findings"])
    return enforcement["mandatory"], enforcement["advisory"]


def error_lines(stderr: str) -> tuple[str, str]:
    """The first `tollgate: error:` line and the line after it (the fix), trimmed; else the last line."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("tollgate: error:"):
            fix = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return line.removeprefix("tollgate: error:").strip(), fix
    last = [line.strip() for line in lines if line.strip()]
    return (last[-1] if last else "no error message"), ""


def cause(message: str, program: str) -> str:
    """The error without the program's file and line: the same failure in two programs reads the same."""
    if message.startswith(program):
        message = message.split(": ", 1)[-1]
    return message.removeprefix("the program failed: ")


# --- the table ------------------------------------------------------------------------------------------------

def cell(value: Any) -> str:
    return "-" if value is None else str(value).replace("|", "\\|")


def render(outcomes: list[Outcome]) -> str:
    rows = ["| program | exit | resources | mandatory | advisory | seconds | note |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for o in outcomes:
        counted = o.exit in (0, 1)
        rows.append("| " + " | ".join(cell(v) for v in (
            f"`{o.program}`", o.exit, o.resources, o.mandatory if counted else None, o.advisory if counted else None,
            None if o.seconds is None else f"{o.seconds:.1f}", o.note or None)) + " |")
    return "\n".join(rows) + "\n\n" + summary(outcomes) + "\n"


def summary(outcomes: list[Outcome]) -> str:
    previewed = sum(o.exit in (0, 1) for o in outcomes)
    failed = Counter(o.cause for o in outcomes if o.exit == 2)
    missing = sum(o.exit is None for o in outcomes)
    causes = "; ".join(f"{n} {text}" for text, n in failed.most_common())
    line = f"{previewed} of {len(outcomes)} preview (exit 0 or 1); exit 2: {sum(failed.values())}"
    line += f" ({causes})" if causes else ""
    return line + (f"; missing package: {missing}" if missing else "")


# --- the run --------------------------------------------------------------------------------------------------

def in_parallel(jobs: int, work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        return list(pool.map(work, items))


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def prepare_venvs(copies: dict[str, Path], venvs: Path, jobs: int) -> dict[str, tuple[Path, Optional[str]]]:
    """Each program's virtualenv and, when it could not be made, pip's error line."""
    sets = {program: requirement_set(fixed_requirements(program, requirements(copy)))
            for program, copy in copies.items()}
    distinct = sorted(set(sets.values()))
    say(f"virtualenvs: {len(distinct)} requirements sets for {len(sets)} programs, under {venvs}")

    def build(reqs: str) -> Optional[str]:
        venv = venv_dir(venvs, reqs)
        fresh = not (venv / VENV_DONE).exists()
        error = make_venv(venv, reqs)
        if fresh:
            say(f"  {venv.name}: {'FAILED: ' + error if error else 'made'} ({', '.join(reqs.split())})")
        return error

    errors = dict(zip(distinct, in_parallel(jobs, build, distinct)))
    return {program: (venv_dir(venvs, reqs), errors[reqs]) for program, reqs in sets.items()}


def run_one(program: str, copy: Path, venv: Path, error: Optional[str], root: Path) -> Outcome:
    if error:
        return Outcome(program, None, note=f"missing package: {error}", cause="missing package")
    use_venv(copy, venv)
    write_stack(copy, program)
    result = preview(copy, program, root)
    if program in REQUIREMENT_FIXES and not result.note:
        result.note = REQUIREMENT_FIXES[program][2]
    say(f"  {program}: exit {result.exit}, {result.seconds:.1f} s")
    return result


def run(examples: Path, rev: str, only: Optional[str], venvs: Path, jobs: int, root: Path) -> list[Outcome]:
    programs = [p for p in list_projects(examples, rev) if not only or only in p]
    unknown = [p for p in programs if p not in CONFIG]
    if unknown:
        raise SystemExit(f"corpus: no CONFIG entry for {', '.join(unknown)}: read its README and add one")
    copies = {program: extract(examples, rev, program, root) for program in programs}
    envs = prepare_venvs(copies, venvs, jobs)
    say(f"previewing {len(programs)} programs, {jobs} at a time")
    return in_parallel(jobs, lambda p: run_one(p, copies[p], *envs[p], root), programs)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=Path, required=True, help="pulumi/examples git directory (bare is fine)")
    parser.add_argument("--rev", default="HEAD", help="the commit to preview (default: HEAD)")
    parser.add_argument("--venvs", type=Path, default=Path(".corpus/venvs"), help="virtualenv cache")
    parser.add_argument("--only", help="only the programs whose path contains this")
    parser.add_argument("--jobs", type=int, default=2, help="previews (and virtualenv builds) at a time")
    parser.add_argument("--keep", type=Path, help="extract into this directory and keep it")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        outcomes = run(args.examples, args.rev, args.only, args.venvs.resolve(), args.jobs, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="tollgate-corpus-") as tmp:
            outcomes = run(args.examples, args.rev, args.only, args.venvs.resolve(), args.jobs, Path(tmp))
    text = render(outcomes)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
