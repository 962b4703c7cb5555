"""Secret values the program's run has seen, and their redaction from every message the capture relays.

Child side (tollgate.capture.child): a program that fails on a secret (`pw.apply(lambda v: int(v))`) puts its
plaintext in the exception text; what it prints may hold one too. Every known secret Output value is recorded
as it resolves (the SDK's _OutputData, or Output.secret where the SDK has no _OutputData), never written
anywhere, and replaced by "[secret]" in the error the parent prints, the engine diagnostics and the program's
own stdout and stderr.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

SHOWN = "[secret]"
SHORTEST = 4  # shorter values (a "1", a "yes") would blank out ordinary words, and say little of a secret


class SeenSecrets:
    def __init__(self) -> None:
        self.values: set[str] = set()
        self._ordered: list[str] = []

    def add(self, value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                self.add(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self.add(v)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = str(value)
            if len(text) >= SHORTEST and text != SHOWN:
                # as written, as repr() and json.dumps() quote it inside a message
                new = {text, repr(text)[1:-1], json.dumps(text)[1:-1]} - self.values
                if new:
                    self.values |= new
                    self._ordered = sorted(self.values, key=len, reverse=True)  # a longer one before its parts

    def redact(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, SHOWN)
        return text

    def redact_all(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_all(v) for v in value]
        return value

    def watch(self) -> None:
        """Record each secret Output value as it resolves, in the program's own SDK."""
        import pulumi.output as output

        data = getattr(output, "_OutputData", None)
        if data is not None and hasattr(data, "__post_init__"):
            post_init = data.__post_init__

            def recording(this: Any) -> None:
                post_init(this)
                if this.is_secret and this.is_known:
                    self.add(this.value)

            data.__post_init__ = recording
            return
        secret = output.Output.secret  # an SDK before _OutputData: the values the program marks secret itself

        def recording_secret(val: Any) -> Any:
            self.add(val)
            return secret(val)

        output.Output.secret = staticmethod(recording_secret)


class RedactingStream:
    """A text stream (the program's sys.stdout / sys.stderr) that writes through `seen.redact`."""

    def __init__(self, inner: TextIO, seen: SeenSecrets) -> None:
        self._inner, self._seen = inner, seen

    def write(self, text: str) -> int:
        self._inner.write(self._seen.redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
