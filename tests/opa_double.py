"""A loopback stand-in for an OPA server: the slice of OPA's REST API that tollgate uses, answered by the
embedded engine. No OPA binary can be installed on these machines (it is in none of the package
registries we reach), so the OPA client path is tested against this; tests/test_opa.py also runs
against a real server when OPA_URL is set.

Served on one thread on purpose: a regorus engine may only be used by the thread that built it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import regorus


class _State:
    def __init__(self) -> None:
        self.modules: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []

    def engine(self) -> regorus.Engine:
        engine = regorus.Engine()
        for name, text in self.modules.items():
            engine.add_policy(name, text)
        engine.add_data(self.data)
        return engine


def _error(exc: Exception) -> str:
    return str(exc).split("Stack backtrace:")[0].strip()


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

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        if self.path.rstrip("/") == "/v1/policies":
            self._reply(200, {"result": [{"id": k} for k in self.state.modules]})
        else:
            self._reply(404, {"code": "resource_not_found", "message": self.path})

    def do_PUT(self) -> None:
        self.state.requests.append(("PUT", self.path))
        body = self._body()
        if self.path.startswith("/v1/policies/"):
            candidate = dict(self.state.modules, **{self.path[len("/v1/policies/"):]: body.decode()})
            try:
                engine = regorus.Engine()
                for name, text in candidate.items():
                    engine.add_policy(name, text)
            except RuntimeError as exc:
                self._reply(400, {"code": "invalid_parameter", "message": "error(s) occurred while compiling module(s)",
                                  "errors": [{"code": "rego_parse_error", "message": _error(exc)}]})
                return
            self.state.modules = candidate
            self._reply(200, {})
        elif self.path.startswith("/v1/data/"):
            *parents, leaf = self.path[len("/v1/data/"):].split("/")
            node = self.state.data
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = json.loads(body)
            self._reply(204)
        else:
            self._reply(404, {"code": "resource_not_found", "message": self.path})

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        if not self.path.startswith("/v1/data/"):
            self._reply(404, {"code": "resource_not_found", "message": self.path})
            return
        query = "data." + ".".join(self.path[len("/v1/data/"):].split("?")[0].split("/"))
        engine = self.state.engine()
        engine.set_input(json.loads(self._body()).get("input"))
        try:
            raw = json.loads(engine.eval_query_as_json(query))
        except RuntimeError as exc:
            self._reply(500, {"code": "internal_error", "message": _error(exc)})
            return
        results = raw.get("result", [])
        self._reply(200, {"result": results[0]["expressions"][0]["value"]} if results else {})


class OpaDouble:
    """`with OpaDouble() as opa: opa.url` — a server on 127.0.0.1 with a free port, stopped on exit."""

    def __enter__(self) -> "OpaDouble":
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
