"""A loopback OPA server whose compiler and evaluator are OPA's own (opa-golib-python-bindings embeds OPA's Go
engine), answering the slice of OPA's REST API that Tollgate speaks, with OPA's semantics:

- PUT/DELETE /v1/policies/<id> compiles the whole module set as it would be after the change and answers
  400 `{code, message, errors: [{code, message, location: {file, row}}]}` when it does not compile, leaving
  the set as it was; GET /v1/policies lists the ids.
- PUT /v1/data/<path> replaces that document (204); GET reads it back (`{}` when there is none).
- POST /v1/data/<path> evaluates it with `input`; an evaluation error is 500 with the same error shape.
  OPA by default turns a builtin error into an undefined value (the rule does not fire); this server
  evaluates only with `?strict-builtin-errors=true`, as Tollgate asks, and refuses a query without it
  (400), so a client that forgets to ask is caught instead of silently judged strictly.

No OPA binary can be installed on these machines; tests/test_opa.py also runs against a real server when
OPA_URL is set.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlparse

from opa_bindings.engine import OpaEngine, OpaError

# One error line of an OPA message: "<file>:<row>: <code>: <message>".
ERROR_LINE = re.compile(r"^(?:.*?: )?(?P<file>[^\s:]+):(?P<row>\d+): (?P<code>[a-z_]+): (?P<message>.*)$")


def errors_of(exc: OpaError) -> list[dict[str, Any]]:
    """OPA's structured errors from the engine's message (one line each; source excerpts skipped)."""
    found = []
    for line in exc.message.splitlines():
        match = ERROR_LINE.match(line.strip())
        if match:
            found.append({"code": match["code"], "message": match["message"],
                          "location": {"file": match["file"], "row": int(match["row"])}})
    return found or [{"code": exc.code, "message": exc.message}]


def build(modules: dict[str, str], data: dict[str, Any]) -> OpaEngine:
    """An engine holding the modules and data, compiled (OPA compiles on first evaluation)."""
    engine = OpaEngine()
    for name, text in modules.items():
        engine.add_policy(name, text)
    if data:
        engine.add_data(data)
    engine.eval_query("true")
    return engine


def _evaluate(engine: OpaEngine, query: str, body: bytes) -> list[dict[str, Any]]:
    """The query's bindings with the body's `input`. OPA decodes the body once, in Go; the bindings'
    eval_query would decode and encode it again in Python first, work of this double's that a real server
    does not do (bench/README.md: bench_opa). So a body that is `{"input":` <JSON> `}` goes to the
    engine as its own text; Go refuses the text (invalid_json) when it is not one value (another key after
    it), and then the body is read the slow way."""
    text = body.strip()
    if text.startswith(b'{"input":') and text.endswith(b"}"):
        try:
            with engine._eval_lock:  # the bindings' eval_query, less its encoding of the input (0.4.4)
                engine._eval_reset()
                found = engine._eval_result(engine._call(engine._lib.OpaEvalQuery, query.encode(), text[9:-1], 0, 0))
            return [r.get("bindings", {}) for r in found or []]
        except OpaError as exc:
            if exc.code != "invalid_json":
                raise
    return engine.eval_query(query, json.loads(body).get("input"))


class _State:
    def __init__(self) -> None:
        self.modules: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []
        self.inputs_bytes = 0  # the bytes of every evaluation body received
        self._engine: Optional[OpaEngine] = None

    def engine(self) -> OpaEngine:
        if self._engine is None:
            self._engine = build(self.modules, self.data)
        return self._engine

    def change(self, modules: dict[str, str]) -> None:
        build(modules, {})  # raises OpaError when the set does not compile: the set stays as it was
        self.modules, self._engine = modules, None


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, code: int, body: Any = None) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _policy_id(self) -> str:
        return unquote(urlparse(self.path).path[len("/v1/policies/"):])

    def _compile_error(self, exc: OpaError) -> None:
        self._reply(400, {"code": "invalid_parameter", "message": "error(s) occurred while compiling module(s)",
                          "errors": errors_of(exc)})

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        if self.path.rstrip("/") == "/v1/policies":
            self._reply(200, {"result": [{"id": k, "raw": v} for k, v in self.state.modules.items()]})
        elif self.path.startswith("/v1/data/"):  # a data document as written (undefined: no result)
            node: Any = self.state.data
            for key in urlparse(self.path).path[len("/v1/data/"):].split("/"):
                node = node.get(key) if isinstance(node, dict) else None
            self._reply(200, {} if node is None else {"result": node})
        else:
            self._reply(404, {"code": "resource_not_found", "message": self.path})

    def do_DELETE(self) -> None:
        self.state.requests.append(("DELETE", self.path))
        policy_id = self._policy_id()
        if not self.path.startswith("/v1/policies/") or policy_id not in self.state.modules:
            self._reply(404, {"code": "resource_not_found", "message": f"storage_not_found_error: policy id {policy_id!r}"})
            return
        try:
            self.state.change({k: v for k, v in self.state.modules.items() if k != policy_id})
        except OpaError as exc:
            self._compile_error(exc)
            return
        self._reply(200, {})

    def do_PUT(self) -> None:
        self.state.requests.append(("PUT", self.path))
        body = self._body()
        if self.path.startswith("/v1/policies/"):
            try:
                self.state.change(dict(self.state.modules, **{self._policy_id(): body.decode()}))
            except OpaError as exc:
                self._compile_error(exc)
                return
            self._reply(200, {})
        elif self.path.startswith("/v1/data/"):
            *parents, leaf = urlparse(self.path).path[len("/v1/data/"):].split("/")
            node = self.state.data
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = json.loads(body)
            self.state._engine = None
            self._reply(204)
        else:
            self._reply(404, {"code": "resource_not_found", "message": self.path})

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        url = urlparse(self.path)
        if not url.path.startswith("/v1/data/"):
            self._reply(404, {"code": "resource_not_found", "message": self.path})
            return
        if parse_qs(url.query).get("strict-builtin-errors") != ["true"]:
            self._reply(400, {"code": "invalid_parameter",
                              "message": "this test server evaluates only with ?strict-builtin-errors=true"})
            return
        body = self._body()
        self.state.inputs_bytes += len(body)
        query = "x = data." + ".".join(url.path[len("/v1/data/"):].split("/"))
        try:
            rows = _evaluate(self.state.engine(), query, body)
        except OpaError as exc:
            self._reply(500, {"code": "internal_error", "message": exc.message, "errors": errors_of(exc)})
            return
        self._reply(200, {"result": rows[0]["x"]} if rows else {})


class OpaRestServer:
    """`with OpaRestServer() as opa: opa.url` — real OPA behind its REST API on 127.0.0.1, stopped on exit."""

    def __enter__(self) -> "OpaRestServer":
        self.state = _State()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = HTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
