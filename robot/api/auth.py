"""The API key and the body limit, checked in front of the whole app.

FastAPI reads and parses the body before it runs a route's dependencies, so a key check as a
dependency came after reading a body of any size. The gate here is ASGI middleware: nothing of
the body is read without the right `X-API-Key`; with it, at most MAX_BODY_BYTES are read
(a Content-Length announcing more is refused at once; a chunked body is counted as it arrives).
The routes still declare the key (`API_KEY_SCHEME`) so the OpenAPI document carries a security
scheme instead of an "optional" header.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from robot.api.errors import ApiError

#: The largest request body the API reads; a job is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
#: Routes that need no key (health checks, the schema and its viewers).
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_KEY_SCHEME = APIKeyHeader(name="X-API-Key", scheme_name="ApiKey", auto_error=False,
                              description="The installation's API key (JOBBER_ROBOT_API_KEY). Every path "
                                          "but /healthz and /openapi.json needs it.")


def key_ok(sent: str | None, expected: str | None) -> bool:
    return bool(expected) and bool(sent) and hmac.compare_digest(str(sent).encode(), str(expected).encode())


def require_key(_key: str | None = Security(API_KEY_SCHEME)) -> None:
    """Documents the scheme on a route; the gate below has checked the key already."""


#: wrong keys one client address may send per minute before it is answered 429 (a key guesser);
#: a request with the right key is never limited
BAD_KEYS_PER_MINUTE = 30


class KeyThenSizeGate:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], expected_key: str | None,
                 limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.expected_key = expected_key
        self.limit = limit
        self._bad: dict[str, list[float]] = {}

    def _too_many_bad_keys(self, client: str) -> bool:
        now = time.monotonic()
        if len(self._bad) > 10_000:  # forget quiet addresses (memory stays bounded)
            self._bad = {c: t for c, t in self._bad.items() if t and t[-1] > now - 60}
        recent = [t for t in self._bad.get(client, []) if t > now - 60]
        recent.append(now)
        self._bad[client] = recent[-(BAD_KEYS_PER_MINUTE + 1):]
        return len(recent) > BAD_KEYS_PER_MINUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not key_ok(headers.get("x-api-key"), self.expected_key):
            client = (scope.get("client") or ("?", 0))[0]
            if self._too_many_bad_keys(str(client)):
                await _send(send, ApiError("rate_limited", "too many requests with a wrong X-API-Key; wait a minute",
                                           "X-API-Key", headers={"Retry-After": "60"}))
                return
            await _send(send, ApiError("api_key_invalid", "missing or wrong X-API-Key", "X-API-Key",
                                       headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'}))
            return
        too_big = ApiError("body_too_large", f"body: must be at most {self.limit} bytes", "body")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send(send, too_big)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _send(send, too_big)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as the server would

        await self.app(scope, replay, send)


async def _send(send: Send, error: ApiError) -> None:
    data = JSONResponse(content=error.body()).body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
               (b"connection", b"close")]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
