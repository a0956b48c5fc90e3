"""Delivering one event to one endpoint: a durable DBOS workflow on the queue "webhooks".

    attempt 1 ─ fail ─ sleep base ─ attempt 2 ─ fail ─ sleep 2·base ─ … ─ success (or the last attempt)

Each attempt is a step: sign with a fresh timestamp, POST the frozen payload, log the attempt in
`jobber_robot_webhook_deliveries` (what `GET /jobs/{id}/webhook_deliveries` shows). The pause is
`DBOS.sleep_async`, durable: a worker killed while a delivery waits resumes it (same id on
restart, or a live worker once its lease ran out) for the time that is left. Any 2xx is
success; anything else (another status, a timeout, a refused connection) is retried. An attempt
cut short by a crash after the POST went out is sent again: delivery is at least once, and a
receiver drops repeats by the event's `id`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import sqlalchemy as sa
from dbos import DBOS

from robot.config import get_settings
from robot.jobs.dbos_private import store_url_here
from robot.jobs.queue import DELIVERY_WORKFLOW
from robot.webhooks import endpoints
from robot.webhooks.events import payload_of
from robot.webhooks.signing import HEADER, sign
from robot.webhooks.store import db, deliveries, events

#: the longest pause between two attempts
MAX_PAUSE_SECONDS = 6 * 3600
TIMEOUT_SECONDS = 10.0
USER_AGENT = "jobber-robot-webhooks/1"


_SETTINGS: Any = None


def configure(settings: Any) -> None:
    """The settings of the process that delivers (set where DBOS is launched)."""
    global _SETTINGS
    _SETTINGS = settings


def _settings() -> Any:
    if _SETTINGS is not None:
        return _SETTINGS

    return get_settings()


def pause(base: float, attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, ...): base · 2^(attempt-1), at most 6 h."""
    return float(min(base * 2 ** (attempt - 1), MAX_PAUSE_SECONDS))


def _store_url() -> str:
    return store_url_here()


async def _attempt(event_id: str, endpoint_id: str, attempt: int, last: bool) -> dict[str, Any]:
    settings = _settings()
    url = _store_url()
    found = payload_of(url, event_id)
    try:
        ep = endpoints.get(url, endpoint_id)
        secret = endpoints.secret_of(url, endpoint_id, settings)
    except KeyError:
        ep, secret = None, None
    job_id = found[1] if found else None
    now = int(time.time() * 1000)
    if found is None or ep is None or not ep.enabled or not secret:
        why = "the event is gone" if found is None else "the endpoint was deleted or disabled"
        _log(url, event_id, endpoint_id, job_id, attempt, now, False, None, why, None, None)
        return {"succeeded": False, "final": True, "error": why}
    event_type, _, body = found
    data = body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, HEADER: sign(data, secret),
               "Jobber-Robot-Event-Id": event_id, "Jobber-Robot-Event-Type": event_type}
    status: int | None = None
    error: str | None = None
    t0 = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            r = await http.post(ep.url, content=data, headers=headers)
        status = r.status_code
        if not 200 <= status < 300:
            error = f"the receiver answered {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: no answer from the receiver"
    ms = int((time.monotonic() - t0) * 1000)
    ok = error is None
    nxt = None if ok or last else now + int(pause(settings.webhook_retry_base_seconds, attempt) * 1000)
    _log(url, event_id, endpoint_id, job_id, attempt, now, ok, status, error, ms, nxt)
    return {"succeeded": ok, "final": ok or last, "status_code": status, "error": error}


def _log(url: str, event_id: str, endpoint_id: str, job_id: str | None, attempt: int, at_ms: int, ok: bool,
         status: int | None, error: str | None, ms: int | None, nxt: int | None) -> None:
    with db(url).begin() as c:
        c.execute(sa.insert(deliveries).values(event_id=event_id, endpoint_id=endpoint_id, job_id=job_id,
                                               attempt=attempt, attempted_at_ms=at_ms, succeeded=ok,
                                               status_code=status, error=error, duration_ms=ms,
                                               next_attempt_at_ms=nxt))


@DBOS.workflow(name=DELIVERY_WORKFLOW)
async def deliver(event_id: str, endpoint_id: str) -> dict[str, Any]:
    settings = _settings()
    attempts = settings.webhook_max_attempts
    result: dict[str, Any] = {}
    for n in range(1, attempts + 1):
        result = await DBOS.run_step_async({"name": f"attempt-{n}"}, _attempt, event_id, endpoint_id, n, n == attempts)
        if result["final"]:
            break
        await DBOS.sleep_async(pause(settings.webhook_retry_base_seconds, n))
    return {**result, "attempts": n}


def log_for(store_url: str, *, job_id: str | None = None, endpoint_id: str | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    """Delivery attempts, oldest first, with the event type."""
    q = sa.select(deliveries, events.c.type.label("event_type")).join(
        events, events.c.id == deliveries.c.event_id, isouter=True)
    if job_id is not None:
        q = q.where(deliveries.c.job_id == job_id)
    if endpoint_id is not None:
        q = q.where(deliveries.c.endpoint_id == endpoint_id)
    q = q.order_by(deliveries.c.id).limit(limit)
    with db(store_url).connect() as c:
        return [dict(r) for r in c.execute(q).mappings().all()]
