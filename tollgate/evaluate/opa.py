"""The same rules on an OPA server (`--opa-url`), and as an OPA bundle for a fleet (`tollgate rego bundle`).

Interchangeable with the embedded engine: `OpaServer.evaluate` has RuleSet.evaluate's signature and
returns the same RuleResults. Spoken over OPA's REST API with the standard library (urllib):
- load: the rule files go up as one module (the embedded engine's merged module, whose positions map back
  to the files), then any file that cannot join it, then the driver, because OPA compiles the whole module
  set on every PUT and refuses a module whose helpers are not loaded yet. Tollgate owns the policy ids
  under `tollgate/`; one it no longer writes (an older Tollgate's per-file modules) is deleted first. What
  the server holds already, as it is, is not written again.
- evaluate: one query (`tollgate_driver.results`) per preview, the input sent once, with strict builtin
  errors, so a builtin error is an answer of 500, never an undefined value that passes. Only then is each
  rule queried alone, to tell which one failed.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import quote, urlparse

from ..errors import TollgateError
from .driver import MERGED, merge_modules, relocate, rule_query
from .engine import RuleSet
from .rules import PACKAGE, Rule, RuleResult, reference_data

DATA_ROOTS = ("config", "instance_types", "database_classes", "aws")  # data documents the rules read (plus input-borne stack)
DRIVER = "tollgate_driver.rego"
POLICY_PREFIX = f"{PACKAGE}/"  # the policy ids Tollgate writes and owns on a server
FIX_SERVER = "check that the server runs and is reachable; without --opa-url the embedded engine is used"


def _data(rules: RuleSet) -> dict[str, Any]:
    return {**reference_data(), "config": rules.config}


class _Refused(Exception):
    """An answer of 4xx/5xx: its status and OPA's message, with each error's code and location."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class OpaServer:
    def __init__(self, url: str, rules: RuleSet, timeout: float = 60.0):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise TollgateError(f"--opa-url {url!r} is not an http(s) URL", fix="e.g. --opa-url http://localhost:8181")
        self.url, self.rules, self.timeout = url.rstrip("/"), rules, timeout
        self._starts: list[tuple[int, str]] = []

    def _request(self, method: str, path: str, body: Optional[bytes] = None, content: str = "application/json") -> Any:
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": content} if body is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raise _Refused(exc.code, self._message(exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            raise TollgateError(f"OPA server {self.url}: cannot reach it ({method} {path}): "
                                f"{getattr(exc, 'reason', exc)}", fix=FIX_SERVER) from None
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise TollgateError(f"OPA server {self.url}: the answer to {method} {path} is not JSON: "
                                f"{raw[:200].decode('utf-8', 'replace')!r}", fix=FIX_SERVER) from None

    def _message(self, raw: bytes) -> str:
        """OPA's error document as one line: its message, then each error as `file:row: code: message`, with
        positions in the merged module given in the rule files."""
        try:
            doc = json.loads(raw)
        except ValueError:
            return raw[:300].decode("utf-8", "replace").strip() or "no message"
        if not isinstance(doc, dict):
            return json.dumps(doc)[:300]
        parts = []
        for error in doc.get("errors") or []:
            if not isinstance(error, dict):
                continue
            where = error.get("location") or {}
            file = str(where.get("file") or "").removeprefix(POLICY_PREFIX)
            at = relocate(f"{file}:{where.get('row')}: ", self._starts) if file else ""
            parts.append(f"{at}{error.get('code', 'error')}: {error.get('message', '')}".strip())
        return "; ".join(parts) or str(doc.get("message") or doc.get("code") or "no message")

    def _modules(self) -> dict[str, str]:
        """The policies to write, by id, in the order OPA accepts them: the merged rule files, the files that
        may not join them, the driver last."""
        files = self.rules.modules()
        driver = files.pop(DRIVER)
        merged, self._starts, alone = merge_modules(files)
        ordered = {MERGED: merged, **alone, DRIVER: driver}
        return {POLICY_PREFIX + name: text for name, text in ordered.items()}

    def load(self) -> None:
        """Write the rules and data the server does not hold already (a shared server keeps them from one run
        to the next, and every write of a policy recompiles the whole set); a server that refuses them is an
        error (exit 2), never a pass."""
        modules = self._modules()
        try:
            listed = {str(p.get("id")): p.get("raw") for p in self._request("GET", "/v1/policies").get("result") or []
                      if isinstance(p, dict)}
            self._delete([i for i in listed if i.startswith(POLICY_PREFIX) and i not in modules])
            for policy_id, text in modules.items():
                if listed.get(policy_id) != text:
                    self._request("PUT", f"/v1/policies/{quote(policy_id)}", text.encode("utf-8"), "text/plain")
            for root, value in _data(self.rules).items():
                if self._request("GET", f"/v1/data/{root}").get("result") != value:
                    self._request("PUT", f"/v1/data/{root}", json.dumps(value).encode("utf-8"))
        except _Refused as exc:
            raise TollgateError(f"OPA server {self.url}: refused the rules (HTTP {exc.status}): {exc}",
                                fix="fix the rule the server names; `pytest tests/test_rego.py` runs the rules' "
                                    "tests under both engines") from None

    def _delete(self, ids: list[str]) -> None:
        """Delete stale policies, dependents first: each pass deletes what the server lets go of."""
        while ids:
            left = []
            for policy_id in ids:
                try:
                    self._request("DELETE", f"/v1/policies/{quote(policy_id)}")
                except _Refused as exc:
                    left.append((policy_id, exc))
            if len(left) == len(ids):
                policy_id, exc = left[0]
                raise TollgateError(f"OPA server {self.url}: cannot remove the stale policy {policy_id} "
                                    f"(HTTP {exc.status}): {exc}",
                                    fix=f"delete the policies under {POLICY_PREFIX} on the server by hand") from None
            ids = [policy_id for policy_id, _ in left]

    def _query(self, name: str, body: bytes) -> Any:
        answer = self._request("POST", f"/v1/data/{PACKAGE}_driver/{name}?strict-builtin-errors=true", body)
        # A set rule is always defined (`[]` when empty): an answer without a list `result` (undefined: the
        # module is not loaded) is malformed, never "no findings".
        rows = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise ValueError(f"no result list: {json.dumps(answer)[:200]}")
        return rows

    def evaluate(self, inputs: list[dict[str, Any]], stack: dict[str, Any], config: Optional[dict[str, Any]] = None,
                 meanwhile: Optional[Callable[[], None]] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        """RuleSet.evaluate on the server; `meanwhile` (the caller's other work) runs while the server evaluates."""
        body = json.dumps({"input": self.rules.driver_input(inputs, stack, config)}, separators=(",", ":")).encode()
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="opa") as waiting:
                answer = waiting.submit(self._query, "results", body)
                if meanwhile is not None:
                    meanwhile()
                rows = answer.result()
            return self.rules.results(rows), {}
        except _Refused as exc:
            if exc.status != 500:  # the server did not evaluate: the query or its input was refused
                raise TollgateError(f"OPA server {self.url}: refused the query (HTTP {exc.status}): {exc}",
                                    fix=FIX_SERVER) from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return [], {rule: f"the OPA server's answer is malformed ({exc})" for rule in self.rules.rules}
        return self._rule_by_rule(body)

    def _rule_by_rule(self, body: bytes) -> tuple[list[RuleResult], dict[Rule, str]]:
        """After an evaluation error: each rule alone, so the one that fails is an engine error of its own."""
        results: list[RuleResult] = []
        errors: dict[Rule, str] = {}
        for rule in self.rules.rules:
            try:
                results += self.rules.results(self._query(rule_query(rule), body))
            except _Refused as exc:
                errors[rule] = str(exc)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                errors[rule] = f"the OPA server's answer is malformed ({exc})"
        return results, errors


def bundle(rules: RuleSet, out: Path, revision: Optional[str] = None) -> Path:
    """An OPA bundle (tar.gz): .manifest, the modules and data.json, servable by any OPA fleet (a bundle is
    activated whole, so each rule file keeps its own module)."""
    manifest = {"revision": revision or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                "roots": [PACKAGE, f"{PACKAGE}_driver", *DATA_ROOTS], "rego_version": 1,
                "metadata": {"rules": {r.name: r.id for r in rules.rules}}}
    files = {".manifest": json.dumps(manifest, indent=2), "data.json": json.dumps(_data(rules), indent=1)}
    files.update({f"{PACKAGE}/{name}": text for name, text in rules.modules().items()})
    with tarfile.open(out, "w:gz") as tar:
        for name, text in files.items():
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(f"/{name}")
            info.size, info.mtime = len(raw), 0
            tar.addfile(info, io.BytesIO(raw))
    return out
