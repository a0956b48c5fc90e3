"""Run a web app for a person watching the terminal: `jobber-robot serve` and the mocks
(`jobber-robot mock jobber|gateway`).

Once the socket is bound (not before: a port in use must not be announced) it prints
"Listening on http://HOST:PORT" and the app's own addresses (the dashboard, the sign-in host),
then one line per request: `HH:MM:SS METHOD PATH STATUS N ms`.

The access line never carries a secret: no query string (Jobber's sign-in sends `state`,
`code` and tokens there), no header (API keys, cookies), and the path is scrubbed like every log
line (robot.logging.redact_text) with control characters dropped.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from robot.logging import redact_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _say(line: str, stream: Any = None) -> None:
    print(line, file=stream or sys.stderr, flush=True)


def access_line(method: str, path: str, status: int, ms: float) -> str:
    """One request as the access log prints it: the path only (never its query), scrubbed."""
    shown = redact_text(_CONTROL.sub("", path))[:200] or "/"
    return f"{time.strftime('%H:%M:%S')} {_CONTROL.sub('', method)[:10]} {shown} {status} {ms:.0f} ms"


class AccessLog:
    """ASGI middleware: one access line per HTTP request, once its response has started (the
    status) and ended (the time); a request whose app failed before answering is logged 500."""

    def __init__(self, app: ASGIApp, emit: Callable[[str], None] = _say) -> None:
        self.app = app
        self.emit = emit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.emit(access_line(scope.get("method", "?"), scope.get("path", ""), status,
                                  (time.perf_counter() - started) * 1000))


class _Announcing(uvicorn.Server):
    """uvicorn's server that says where it listens once it does."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[str], list[str]]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return  # the bind failed: uvicorn said why, and exits
        host, port = self.config.host, self.config.port
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                break
        base = f"http://{host}:{port}"
        _say(f"Listening on {base} (Ctrl-C stops)", sys.stdout)
        for line in self._announce(base):
            _say(line, sys.stdout)


def run(app: ASGIApp, *, host: str, port: int, announce: Callable[[str], list[str]] | None = None,
        **uvicorn_options: Any) -> None:
    """Serve `app` until Ctrl-C / SIGTERM, printing where and one line per request.
    `announce(base_url)`: more lines to print once listening (the app's own addresses)."""
    config = uvicorn.Config(AccessLog(app), host=host, port=port, log_level="warning", access_log=False,
                            **uvicorn_options)
    _Announcing(config, announce or (lambda base: [])).run()
