"""`serve`'s one ASGI app: the dashboard under /support, everything else to the intake.

The dashboard is put in front of the intake rather than inside it: its requests never meet the
intake's X-API-Key gate (staff have sessions, not the POS back end's key), and the intake never
sees a dashboard cookie. Lifespan events go to the intake as before; the dashboard opens its own
job-store client and vault when the intake has started and closes them when it has stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from robot.dashboard import PREFIX
from robot.dashboard.app import Dashboard
from robot.logging import redact_text

if TYPE_CHECKING:
    from robot.config import Settings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class WithSupport:
    def __init__(self, app: ASGIApp, dashboard: Any) -> None:
        self.app = app
        self.dashboard = dashboard  # robot.dashboard.app.Dashboard

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.dashboard.app(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def lifespan_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                try:
                    await self.dashboard.start()
                except Exception as exc:  # noqa: BLE001 - reported to the server, which stops

                    message = {"type": "lifespan.startup.failed",
                               "message": f"support dashboard: {type(exc).__name__}: {redact_text(str(exc))}"}
            elif message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.dashboard.stop()
            await send(message)

        await self.app(scope, receive, lifespan_send)


def with_support(app: ASGIApp, settings: "Settings") -> WithSupport:
    """The intake app with the support dashboard mounted at /support."""
    return WithSupport(app, Dashboard(settings))
