"""Run one Pulumi Python program the way the language host does, against the capture monitor.

Usage (by tollgate.capture.host, never by hand): python -m tollgate.capture.child REQUEST.json RESULT.json

Mirrors pulumi-language-python-exec: config from the request (as PULUMI_CONFIG would give it),
Settings with a monitor and engine, `os.chdir(pwd)`, `sys.argv = [program]`, then
`loop.run_until_complete(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))`, so
the program runs inside a running event loop exactly as under `pulumi preview` (plus one turn of the loop
after its top-level code: see `_program`).
Needs only the Pulumi SDK (the program's own environment) and the standard library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pulumi.runtime  # the program's own SDK
from pulumi.runtime.proto import engine_pb2

from tollgate.capture.monitor import CaptureMonitor


class _Engine:
    """The engine's Log service: program diagnostics go to stderr; an error fails the preview, as in Pulumi."""

    LEVELS = {engine_pb2.DEBUG: logging.DEBUG, engine_pb2.INFO: logging.INFO,
              engine_pb2.WARNING: logging.WARNING, engine_pb2.ERROR: logging.ERROR}

    def __init__(self):
        self.errors: list[str] = []

    def Log(self, request):
        if request.severity == engine_pb2.ERROR:
            self.errors.append(request.message)
        if request.severity != engine_pb2.DEBUG:
            sys.stderr.write(f"[program] {engine_pb2.LogSeverity.Name(request.severity).lower()}: "
                             f"{request.message}\n")

    def GetRootResource(self, request):
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(self, request):
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()

    _root = ""


def _progress(count: int) -> None:
    if count % 25 == 0:
        sys.stderr.write(f"\rcapturing: {count} resources registered")
        sys.stderr.flush()


def _error(exc: BaseException, program_dir: Path) -> dict:
    """The innermost frame in the user's project: that is the line the user has to look at."""
    frames = traceback.extract_tb(exc.__traceback__)
    here = Path(__file__).resolve().parent.parent  # tollgate itself is never the user's code
    user = [f for f in frames if Path(f.filename).is_absolute() and Path(f.filename).resolve().is_relative_to(program_dir)
            and not Path(f.filename).resolve().is_relative_to(here)]
    frame = user[-1] if user else None
    # Show the user's frames only: the runtime's and ours are noise to someone fixing their program.
    shown = traceback.format_list(user) if user else traceback.format_tb(exc.__traceback__)
    text = "Traceback (most recent call last):\n" + "".join(shown) + "".join(traceback.format_exception_only(exc))
    return {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__,
            "file": frame.filename if frame else None, "line": frame.lineno if frame else None,
            "traceback": text}


async def _program(path: str) -> None:
    """The program's top-level code, then one turn of the event loop, so that the registrations it queued have
    started when run_in_stack waits for them: the SDK then awaits them one by one. Without the turn it finds
    none started and polls every pending output instead (asyncio.wait FIRST_COMPLETED over ~20 outputs per
    resource, each turn), which cost a quarter of the capture's CPU. What the program registers is unchanged."""
    runpy.run_path(path, run_name="__main__")
    await asyncio.sleep(0)


def run(request: dict) -> dict:
    pwd = Path(request["pwd"])
    monitor = CaptureMonitor(request["stack"], request["project"], Path(request["root_directory"]),
                             request["provider_config"],
                             _progress if request.get("progress") else None)
    engine = _Engine()
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
        return {"error": _error(exc, Path(request["root_directory"]).resolve())}
    finally:
        monitor.close()
        if request.get("progress"):
            sys.stderr.write("\r\033[K")
    if engine.errors:
        return {"error": {"type": "ProgramError", "message": "; ".join(engine.errors),
                          "file": None, "line": None, "traceback": ""}}
    return {"resources": monitor.records}


def main() -> None:
    request_file, result_file = Path(sys.argv[1]), Path(sys.argv[2])  # run() hands sys.argv to the program
    result = run(json.loads(request_file.read_text(encoding="utf-8")))
    result_file.write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    os._exit(1 if "error" in result else 0)  # skip interpreter teardown of lingering gRPC threads


if __name__ == "__main__":
    main()
