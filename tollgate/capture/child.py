"""Run one Pulumi Python program the way the language host does, against the capture monitor.

Usage (by tollgate.capture.host, never by hand): python -m tollgate.capture.child, the request on stdin; the
result goes, with the request's per-run token, to the pipe the request names (`result_fd`), never to a file.

Mirrors pulumi-language-python-exec: config from the request (as PULUMI_CONFIG would give it),
Settings with a monitor and engine, `os.chdir(pwd)`, `sys.argv = [program]`, then
`loop.run_until_complete(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))`, so
the program runs inside a running event loop exactly as under `pulumi preview` (plus one turn of the loop
after its top-level code: see `_program`).
Needs only the Pulumi SDK (the program's own environment) and the standard library.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import os
import runpy
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi.runtime  # the program's own SDK
from pulumi.runtime.proto import engine_pb2

from tollgate.capture.applies import Applies, in_project, shown
from tollgate.capture.monitor import CaptureMonitor
from tollgate.capture.seen_secrets import RedactingStream, SeenSecrets

APPLY_SKIPPED = "apply-skipped"


class _Engine:
    """The engine's Log service: program diagnostics go to stderr; an error fails the preview, as in Pulumi."""

    LEVELS = {engine_pb2.DEBUG: logging.DEBUG, engine_pb2.INFO: logging.INFO,
              engine_pb2.WARNING: logging.WARNING, engine_pb2.ERROR: logging.ERROR}

    def __init__(self, seen: SeenSecrets):
        self.errors: list[str] = []
        self.seen = seen

    def Log(self, request):
        message = self.seen.redact(request.message)
        if request.severity == engine_pb2.ERROR:
            self.errors.append(message)
        if request.severity != engine_pb2.DEBUG:
            sys.stderr.write(f"[program] {engine_pb2.LogSeverity.Name(request.severity).lower()}: {message}\n")

    def GetRootResource(self, request):
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(self, request):
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()

    _root = ""


def _progress(mode: Any) -> Optional[Callable[[int], None]]:
    """The monitor's on_register for the request's `progress`: {"live": true} (stderr is a terminal) rewrites one
    line; {"every": seconds} (a CI log) writes a plain line at most that often; false shows nothing."""
    if not mode:
        return None
    if mode is True or mode.get("live"):  # True: a caller that knows only the live line

        def live(count: int) -> None:
            if count % 25 == 0:
                sys.stderr.write(f"\r\033[Kcapturing: {count:,} resources registered")
                sys.stderr.flush()

        return live
    every = float(mode["every"])
    start = time.monotonic()
    due = [start + every]
    lock = threading.Lock()  # registrations arrive on several threads: still one line per interval

    def plain(count: int) -> None:
        now = time.monotonic()
        if now < due[0]:
            return
        with lock:
            if now < due[0]:
                return
            due[0] = now + every
        sys.stderr.write(f"capturing: {count:,} resources registered ({now - start:.0f} s)\n")
        sys.stderr.flush()

    return plain


def _error(exc: BaseException, root: Path) -> dict:
    """The error as a compiler would give it: the user's innermost frame (`file:line: Type: message`), then the
    user's frames that called it; the whole traceback only for --debug."""
    full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if in_project(f.filename, root)][::-1]
    where = [{"file": shown(f.filename, root), "line": f.lineno, "function": f.name, "code": (f.line or "").strip()}
             for f in frames]
    message = str(exc) or type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename:  # raised by the compiler: its position is the error's
        message = exc.msg
        code = (exc.text or "").rstrip("\n")
        where.insert(0, {"file": shown(exc.filename, root), "line": exc.lineno, "function": "",
                         "code": code.strip(), "column": (exc.offset or 0) - (len(code) - len(code.lstrip()))})
    error = {"type": type(exc).__name__, "message": message, "frames": where, "traceback": full}
    if isinstance(exc, pulumi.ConfigMissingError):
        error["config_key"], error["config_secret"] = exc.key, bool(exc.secret)
        error["message"] = f"missing required configuration variable '{exc.key}'"
    return error


def _skipped_notes(applies: Applies, stack_urn: str) -> list[dict]:
    notes = []
    for (file, line), (count, made) in sorted(applies.skipped().items()):
        times = "" if count == 1 else f" ({count} times)"
        notes.append({"rule": APPLY_SKIPPED, "urn": stack_urn, "type": "pulumi:pulumi:Stack", "name": "",
                      "message": f"{file}:{line}: an `apply` callback that creates resources ({', '.join(made)}) "
                                 f"did not run at preview{times}: its value is unknown until the resources it reads "
                                 "are created, so what it creates is not judged; create those resources outside "
                                 "`apply`, passing the output as an input"})
    return notes


async def _program(path: str) -> None:
    """The program's top-level code, then one turn of the event loop, so that the registrations it queued have
    started when run_in_stack waits for them: the SDK then awaits them one by one. Without the turn it finds
    none started and polls every pending output instead (asyncio.wait FIRST_COMPLETED over ~20 outputs per
    resource, each turn), which cost a quarter of the capture's CPU. What the program registers is unchanged."""
    runpy.run_path(path, run_name="__main__")
    await asyncio.sleep(0)


def run(request: dict) -> dict:
    pwd = Path(request["pwd"])
    root = Path(request["root_directory"]).resolve()
    monitor = CaptureMonitor(request["stack"], request["project"], root, request["provider_config"],
                             _progress(request.get("progress")), request.get("answers"), pwd)
    applies = Applies(root)
    applies.watch()
    seen = SeenSecrets()
    seen.watch()
    sys.stdout, sys.stderr = RedactingStream(sys.stdout, seen), RedactingStream(sys.stderr, seen)
    engine = _Engine(seen)
    pulumi.runtime.set_all_config(request["config"], request["secret_keys"])
    pulumi.runtime.configure(pulumi.runtime.Settings(
        project=request["project"], stack=request["stack"], monitor=monitor, engine=engine,
        parallel=request.get("parallel", 4), dry_run=True, organization=request.get("organization", "organization"),
        root_directory=request["root_directory"]))
    os.chdir(pwd)
    sys.path.insert(0, str(pwd))
    sys.argv = [request["program"]]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(ThreadPoolExecutor(max(request.get("parallel", 4), 1) * 4))
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: _program(request["program"])))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which exits 2
        return {"error": seen.redact_all(_error(exc, root))}
    finally:
        monitor.close()
        if request.get("progress") and sys.stderr.isatty():  # the live line; a log's plain lines stay
            sys.stderr.write("\r\033[K")
    if engine.errors:
        return {"error": {"type": "ProgramError", "message": "; ".join(engine.errors), "frames": [],
                          "traceback": ""}}
    stack_urn = f"urn:pulumi:{request['stack']}::{request['project']}::pulumi:pulumi:Stack::" \
                f"{request['project']}-{request['stack']}"
    return {"resources": _in_order(monitor.records, monitor.expansion_rank), "notes": monitor.notes + _skipped_notes(applies, stack_urn),
            "placeholders": monitor.answers.placeholders}


def _in_order(records: list[dict], expansion_rank: dict[str, int]) -> list[dict]:
    """The records in one order for every run: registrations reach the monitor from several threads, in the
    order they happen to win. Each after what it depends on (parent, provider, dependencies), as a stack's
    state lists them; else by the program line that declared it, an expanded component's children in the
    order its plugin registers them, then by URN."""
    by_urn = {r["urn"]: r for r in records}
    needs: dict[str, set[str]] = {}
    for r in records:
        before = {r.get("parent"), (r.get("provider") or {}).get("urn"), *r["dependencies"],
                  *(u for urns in r["property_dependencies"].values() for u in urns)}
        needs[r["urn"]] = {u for u in before if u in by_urn and u != r["urn"]}
    waiting_on: dict[str, list[str]] = {}
    for urn, before in needs.items():
        for u in before:
            waiting_on.setdefault(u, []).append(urn)

    def key(urn: str) -> tuple:
        source = by_urn[urn].get("source") or {}
        return (source.get("file", ""), source.get("line", 0), expansion_rank.get(urn, -1), urn)

    ready = [key(u) for u, before in needs.items() if not before]
    heapq.heapify(ready)
    ordered = []
    while ready:
        urn = heapq.heappop(ready)[-1]
        ordered.append(by_urn[urn])
        for later in waiting_on.get(urn, ()):
            needs[later].discard(urn)
            if not needs[later]:
                heapq.heappush(ready, key(later))
    # A cycle (no engine state has one) cannot hide a resource: what is left follows, by URN.
    placed = {r["urn"] for r in ordered}
    return ordered + sorted((r for r in records if r["urn"] not in placed), key=lambda r: r["urn"])


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    token, channel = request.pop("token"), request.pop("result_fd")
    os.set_inheritable(channel, False)  # nothing the program starts holds the parent's pipe open
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the request (and its token) is not there for the program to read again
    result = run(request)
    with os.fdopen(channel, "w", encoding="utf-8") as out:
        json.dump({**result, "token": token}, out)
    sys.stdout.flush()
    os._exit(1 if "error" in result else 0)  # skip interpreter teardown of lingering gRPC threads


if __name__ == "__main__":
    main()
