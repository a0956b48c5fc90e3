"""A webhook receiver on a real port for the tests: answers each event's first `fail` deliveries
with 500, then 200; keeps every request it got (headers, raw body, when)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    fail: int = 0
    got: list[Received] = field(default_factory=list)
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/robot"

    def start(self) -> "Receiver":
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                me.got.append(Received(dict(self.headers.items()), body, time.time()))
                event = self.headers.get("Jobber-Robot-Event-Id")
                tries = sum(1 for g in me.got if g.headers.get("Jobber-Robot-Event-Id") == event)
                status = 500 if tries <= me.fail else 200  # each event fails `fail` times first
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, event_type: str, job_id: str | None = None) -> list[Received]:
        import json

        out = []
        for g in self.got:
            e = json.loads(g.body)
            if e["type"] == event_type and (job_id is None or e["job_id"] == job_id):
                out.append(g)
        return out

    def wait_for(self, event_type: str, job_id: str | None, n: int, timeout: float = 120) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.of(event_type, job_id)) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.of(event_type, job_id))} of {n} {event_type} deliveries for "
                                     f"{job_id} in {timeout} s (got {[g.headers.get('Jobber-Robot-Event-Type') for g in self.got]})")
            time.sleep(0.1)
        return self.of(event_type, job_id)

    def wait(self, n: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver got {len(self.got)} of {n} deliveries in {timeout} s")
            time.sleep(0.05)
        return self.got


def documented_verify() -> Any:
    """The verification recipe as docs/api.md prints it, run as written."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    block = doc.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(compile(block, "docs/api.md", "exec"), scope)  # noqa: S102 - the documented code itself
    return scope["verify"]
