"""Capturing an event: one row with the exact payload, and one delivery workflow per endpoint.

Events are captured where they happen:
- a job's final state, in the job's own workflow (workflows.py), as a checkpointed step followed
  by checkpointed enqueues: a worker killed between the capture and the delivery leaves both in
  the job store, and the resumed workflow or the queued delivery carries on;
- "needs a person", where the job starts waiting for a 2FA code or an invoice choice (handoff.py);
- a cancellation, by whoever cancels (`jobs cancel`), through a DBOSClient.

The payload is frozen at capture (`data.object` is the job as it was then), so every attempt
sends the same bytes; event ids are derived from what they are about, so a step that runs again
after a crash captures the same event, never a second one.

    {"id": "evt_…", "object": "event", "type": "job.finished", "created": 1767225600,
     "job_id": "job-…", "data": {"object": { …the job, as GET /jobs/{id}… }}}
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from dbos import DBOS

from robot.faultpoints import crash_point
from robot.jobs import links
from robot.jobs.dbos_private import store_url_here
from robot.jobs.queue import DELIVERY_WORKFLOW, WEBHOOK_QUEUE
from robot.jobs.queue import store_url as client_store_url
from robot.jobs.resource import resource
from robot.jobs.store import JobView
from robot.webhooks.endpoints import subscribed
from robot.webhooks.store import db, events

if TYPE_CHECKING:
    from dbos import DBOSClient

    from robot.jobs.models import JobResult

CAPTURE_STEP = "jobber.webhook_capture"


def event_id_for(job_id: str, event_type: str, discriminator: str = "") -> str:
    return "evt_" + hashlib.sha256(f"{job_id}\x00{event_type}\x00{discriminator}".encode()).hexdigest()[:24]


def delivery_id(event_id: str, endpoint_id: str) -> str:
    return f"{event_id}.{endpoint_id}"


def record(store_url: str, event_id: str, event_type: str, job_id: str | None, obj: dict[str, Any],
           only_endpoint: str | None = None) -> list[str]:
    """Store the event once (the first payload stays); return the endpoints it goes to."""
    now = int(time.time() * 1000)
    payload = json.dumps({"id": event_id, "object": "event", "type": event_type, "created": now // 1000,
                          "job_id": job_id, "data": {"object": obj}}, separators=(",", ":"), sort_keys=True)
    eng = db(store_url)
    try:
        with eng.begin() as c:
            c.execute(sa.insert(events).values(id=event_id, type=event_type, job_id=job_id, created_at_ms=now,
                                               payload=payload))
    except sa.exc.IntegrityError:
        pass  # captured before this run (a step run again after a crash)
    return [only_endpoint] if only_endpoint else subscribed(store_url, event_type)


def payload_of(store_url: str, event_id: str) -> tuple[str, str | None, str] | None:
    """(type, job id, payload) of a captured event."""
    with db(store_url).connect() as c:
        r = c.execute(sa.select(events.c.type, events.c.job_id, events.c.payload)
                      .where(events.c.id == event_id)).first()
    return (r[0], r[1], r[2]) if r else None


def _options(event_id: str, endpoint_id: str) -> dict[str, Any]:
    return {"workflow_name": DELIVERY_WORKFLOW, "queue_name": WEBHOOK_QUEUE,
            "workflow_id": delivery_id(event_id, endpoint_id), "workflow_id_reuse_policy": "return-existing"}


def _store_url_here() -> str:
    return store_url_here()


def job_snapshot(job_id: str, status: str, result: "JobResult | None" = None, *, job: Any = None,
                 waiting_for: dict[str, Any] | None = None, error: str | None = None,
                 store_url: str | None = None) -> dict[str, Any]:
    """The job as GET /jobs/{id} shows it, built where no job-store client is at hand."""
    v = JobView(job_id=job_id, status=status, merchant=getattr(job, "merchant", None) or (result and result.merchant),
                kind=getattr(job, "kind", None) or (result and result.kind), waiting_for=waiting_for, error=error)
    if result is not None:
        v.result, v.outcome, v.message, v.artifacts = result, result.outcome.value, result.message, list(result.artifacts)
    retry_of = retried = None
    if store_url:
        retry_of, retried = links.retry_of(store_url, job_id), links.retried_as(store_url, job_id)
    return resource(v, retry_of=retry_of, retried_as=retried).model_dump(mode="json")


async def publish_in_workflow(event_type: str, job_id: str, build: Any, discriminator: str = "") -> None:
    """Workflow code: capture as a checkpointed step, then enqueue each delivery (checkpointed too)."""
    eid = event_id_for(job_id, event_type, discriminator)

    async def capture() -> list[str]:
        url = _store_url_here()
        return record(url, eid, event_type, job_id, build(url))

    targets = await DBOS.run_step_async({"name": CAPTURE_STEP}, capture)
    crash_point("webhooks:after_capture")  # captured, no delivery queued yet (the reliability tests)
    for ep in targets:
        await DBOS.enqueue_workflow_with_options_async(_options(eid, ep), eid, ep)  # type: ignore[arg-type]


async def publish_outside_workflow(event_type: str, job_id: str, build: Any, discriminator: str) -> None:
    """From a step (a login waiting for a code runs inside one), where DBOS lets no workflow start:
    capture and enqueue in a fresh context. Idempotent by ids, not by checkpoint."""
    eid = event_id_for(job_id, event_type, discriminator)

    async def go() -> None:
        url = _store_url_here()
        targets = await asyncio.to_thread(record, url, eid, event_type, job_id, build(url))
        for ep in targets:
            await DBOS.enqueue_workflow_with_options_async(_options(eid, ep), eid, ep)  # type: ignore[arg-type]

    await asyncio.create_task(go(), context=contextvars.Context())


def publish_with_client(client: "DBOSClient", event_type: str, job_id: str | None, obj: dict[str, Any],
                        discriminator: str = "", only_endpoint: str | None = None) -> str:
    """From a process that only holds a client (serve, `jobs cancel`)."""
    eid = event_id_for(job_id or "", event_type, discriminator)
    for ep in record(client_store_url(client), eid, event_type, job_id, obj, only_endpoint=only_endpoint):
        client.enqueue(_options(eid, ep), eid, ep)  # type: ignore[arg-type]
    return eid
