"""The same rules on an OPA server (`--opa-url`), and as an OPA bundle for a fleet (`tollgate rego bundle`).

Interchangeable with the embedded engine: `OpaServer.evaluate` has RuleSet.evaluate's signature and
returns the same RuleResults. It loads every module (rules, helpers, the driver) as a policy and the
reference data and default config as data, then queries the driver once per rule, with the stack and
the policy config in the input, so one server serves every stack.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

import requests
from opa_client import OpaClient

from ..errors import TollgateError
from .driver import rule_query
from .engine import RuleSet
from .rules import PACKAGE, Rule, RuleResult, reference_data

DATA_ROOTS = ("config", "instance_types", "database_classes", "aws")  # data documents the rules read (plus input-borne stack)


def _data(rules: RuleSet) -> dict[str, Any]:
    return {**reference_data(), "config": rules.config}


class OpaServer:
    def __init__(self, url: str, rules: RuleSet, timeout: float = 60.0):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise TollgateError(f"--opa-url {url!r} is not an http(s) URL", fix="e.g. --opa-url http://localhost:8181")
        self.url, self.rules = url, rules
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.client = OpaClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https", timeout=timeout,
                                retries=1)

    def _fail(self, what: str, exc: Exception) -> TollgateError:
        return TollgateError(f"OPA server {self.url}: {what}: {exc}", fix="check that the server runs and is reachable; "
                                                                        "without --opa-url the embedded engine is used")

    def load(self) -> None:
        """Upload the rules and data; a server that refuses them is an error, never a pass."""
        try:
            for name, text in self.rules.modules().items():
                self.client.update_policy_from_string(text, f"{PACKAGE}/{name}", rego_compat=False)
            for root, value in _data(self.rules).items():
                self.client.update_or_create_data(value, root)
        except requests.RequestException as exc:
            raise self._fail("cannot load the rules", exc) from exc
        except Exception as exc:  # noqa: BLE001 - opa-python-client raises its own types for refusals
            raise self._fail("refused the rules", exc) from exc

    def evaluate(self, inputs: list[dict[str, Any]], stack: dict[str, Any],
                 config: Optional[dict[str, Any]] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        body = self.rules.driver_input(inputs, stack, config)
        results: list[RuleResult] = []
        errors: dict[Rule, str] = {}
        for rule in self.rules.rules:
            try:
                answer = self.client.query_rule(body, f"{PACKAGE}_driver", rule_query(rule))
            except requests.HTTPError as exc:  # the server ran the rule and it failed: that rule's error
                errors[rule] = _server_error(exc)
                continue
            except requests.RequestException as exc:
                raise self._fail("query failed", exc) from exc
            # A set rule is always defined (`[]` when empty): an answer without a list `result` (undefined: the
            # module is not loaded) or with rows of another shape is that rule's error, never "no findings".
            rows = answer.get("result") if isinstance(answer, dict) else None
            try:
                if not isinstance(rows, list):
                    raise ValueError("no result list")
                results += self.rules.results(rows)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                errors[rule] = f"the OPA server's answer is malformed ({exc}): {json.dumps(answer)[:200]}"
        return results, errors


def _server_error(exc: requests.HTTPError) -> str:
    try:
        doc = exc.response.json()
        return "; ".join([doc.get("message", "")] + [e.get("message", "") for e in doc.get("errors", [])]).strip("; ")
    except ValueError:
        return str(exc)


def bundle(rules: RuleSet, out: Path, revision: Optional[str] = None) -> Path:
    """An OPA bundle (tar.gz): .manifest, the modules and data.json, servable by any OPA fleet."""
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
