"""The app factory behind `jobber-robot serve`.

    create_app(settings, routers=[...])

builds one FastAPI app: the key-and-size gate in front, the one error shape for every non-2xx
answer, the job routes (robot/api/jobs.py), the webhook routes (robot/api/webhooks.py), and any
`routers` a caller adds: they sit behind the same key gate and error handlers. (The support
dashboard is not one of them: staff sign in with sessions, not the POS key, so `serve` puts it in
front of this app under /support: robot/dashboard/mount.py.)
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI

from robot.api import errors, jobs, openapi, webhooks
from robot.api.auth import KeyThenSizeGate
from robot.api.idempotency import IdempotencyStore
from robot.api.schemas import Health
from robot.jobs import dbos_app
from robot.jobs.queue import store_url
from robot.vault import Vault

if TYPE_CHECKING:
    from robot.config import Settings

DESCRIPTION = """\
The POS back end's door to the payment robot. A **job** asks the robot to move money into
Jobber (charge, deposit, quote deposit, payment link, refund, void) or to check it (reconcile,
link reconcile, ACH returns). A worker runs it; follow it with `GET /jobs/{id}` or a webhook.

* Authentication: `X-API-Key` on every path but `/healthz` and `/openapi.json`.
* Errors: every non-2xx answer is `{"error": {"type", "code", "message", "param"}}`
  (codes: docs/api.md). No value sent is repeated back.
* Idempotency: `Idempotency-Key` is required for money-moving jobs; the same key and body again
  replays the first answer with `Idempotent-Replayed: true` (kept 24 h).
* Amounts are decimal strings with two places (`"150.00"`), never numbers.
* Webhooks: `job.finished`, `job.failed`, `job.cancelled`, `job.needs_person`, signed with
  `Jobber-Robot-Signature: t=...,v1=...` (HMAC-SHA256 of `t.body`); see the webhooks section.
"""


@dataclass
class ApiState:
    settings: "Settings"
    vault: Any = None
    client: Any = None
    idempotency: Any = None


def create_app(settings: "Settings", routers: list[APIRouter] | None = None) -> FastAPI:
    state = ApiState(settings=settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        state.vault = await asyncio.to_thread(Vault.from_settings, settings)
        await asyncio.to_thread(state.vault.check)
        state.client = await asyncio.to_thread(dbos_app.client, settings)
        state.idempotency = await asyncio.to_thread(IdempotencyStore, store_url(state.client),
                                                    settings.idempotency_key_hours)
        try:
            yield
        finally:
            await asyncio.to_thread(state.client.destroy)

    app = FastAPI(title="Jobber payment robot API", version=dbos_app.app_version(), lifespan=lifespan,
                  description=DESCRIPTION, redoc_url="/redoc")
    app.state.api = state
    errors.install(app)
    expected_key = settings.api_key.get_secret_value() if settings.api_key else None
    app.add_middleware(KeyThenSizeGate, expected_key=expected_key)  # outermost: before any body is read

    @app.get("/healthz", response_model=Health, summary="Liveness", tags=["system"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(jobs.router, tags=["jobs"])
    app.include_router(webhooks.router, tags=["webhooks"])
    webhooks.document(app)
    for r in routers or []:
        app.include_router(r)
    openapi.install(app)
    return app
