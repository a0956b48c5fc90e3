"""The job queue "jobs": one partition per merchant (concurrency 1, FIFO), a global limit.

A job is one DBOS workflow whose id is the job id. `enqueue` works from any process (it writes
the job row through a DBOSClient); workers dequeue. The caller's idempotency key maps to the
job id (a hash of merchant + key), so the same key always names the same job: enqueueing it
again returns the job already there, whatever its state. (DBOS's own deduplication ids are
not available on partitioned queues; the workflow id is the dedup key.)

The key is claimed atomically: the job row is inserted with DBOS's workflow-id reuse policy
"reject", i.e. the workflow id's primary key decides. Of two callers racing with one key exactly
one inserts the row; the other is told the id is in use, reads the winner's input and gets the
replay (same payload) or a JobConflict (another payload). A look first, insert after, would let
both see "no such job" and both report "created" while only one payload was queued.

Queue order: every job gets the next number of the job store's counter as its DBOS priority
(robot/jobs/robot_tables.py), so one merchant's jobs run in the order they were queued. DBOS
takes a partition's head by priority, then `created_at`, and SQLite stamps `created_at` in whole
seconds: without the number, a burst of jobs queued within one second ran in an arbitrary order.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from dbos import DBOS

from robot.errors import JobConflict
from robot.jobs.dbos_private import DBOSWorkflowIDInUseError, client_store_url
from robot.jobs.robot_tables import queue_priority

if TYPE_CHECKING:
    from dbos import DBOSClient

    from robot.config import Settings

QUEUE = "jobs"
WORKFLOW = "jobber.job"
#: the webhook deliveries' queue and workflow (robot/webhooks/delivery.py)
WEBHOOK_QUEUE = "webhooks"
DELIVERY_WORKFLOW = "jobber.webhook_delivery"
POLL_SECONDS = 0.1  # a queued job waits for the next poll: at 0.5 s that was a sixth of a warm job



def _limits(settings: "Settings") -> dict[str, Any]:
    return {"global_concurrency": settings.queue_concurrency, "partition_concurrency": 1,
            "polling_interval_sec": POLL_SECONDS}


#: webhook deliveries (robot/webhooks/delivery.py): any worker sends them, a few at once
WEBHOOK_LIMITS: dict[str, Any] = {"global_concurrency": 8, "polling_interval_sec": POLL_SECONDS}


async def register(settings: "Settings") -> None:
    await DBOS.register_queue_async(QUEUE, on_conflict="always_update", **_limits(settings))
    await DBOS.register_queue_async(WEBHOOK_QUEUE, on_conflict="always_update", **WEBHOOK_LIMITS)


def register_with_client(client: "DBOSClient", settings: "Settings") -> None:
    client.register_queue(QUEUE, on_conflict="always_update", **_limits(settings))
    client.register_queue(WEBHOOK_QUEUE, on_conflict="always_update", **WEBHOOK_LIMITS)


def new_job_id() -> str:
    return "job-" + uuid.uuid4().hex[:20]


def job_id_for_key(merchant: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{merchant}\x00{idempotency_key}".encode()).hexdigest()[:24]
    return f"job-k{digest}"


def enqueue_options(job: Any, job_id: str, priority: int | None = None) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "workflow_name": WORKFLOW,
        "queue_name": QUEUE,
        "workflow_id": job_id,
        "queue_partition_key": job.merchant,
        "attributes": {"merchant": job.merchant, "kind": job.kind},
    }
    if priority is not None:
        opts["priority"] = priority
    return opts


def store_url(client: "DBOSClient") -> str:
    """The job store a client writes to (its system database), for the robot's own tables there."""
    return client_store_url(client)


def next_priority(url: str) -> int:
    """The queue priority of a job enqueued now: its place in the queue order (FIFO)."""
    return queue_priority(url)


def enqueue(job: Any, *, client: "DBOSClient", idempotency_key: str | None = None,
            job_id: str | None = None) -> tuple[str, bool]:
    """Put a validated job on the queue. Returns (job id, created); created is False when the
    idempotency key (or job id) named a job already there (then nothing new is enqueued).

    The job carries tokens only: the models refuse anything that looks like a card number.
    """
    if job_id is None:
        job_id = job_id_for_key(job.merchant, idempotency_key) if idempotency_key else new_job_id()
    priority = next_priority(store_url(client))
    try:
        client.enqueue({**enqueue_options(job, job_id, priority), "workflow_id_reuse_policy": "reject"},  # type: ignore[typeddict-item]
                       job)
    except DBOSWorkflowIDInUseError:
        # the row was committed by the winner before our insert saw it: its input is readable
        existing = client.list_workflows(workflow_ids=[job_id], load_output=False)
        if existing:
            _check_same(existing[0], job)
        return job_id, False
    return job_id, True


def _check_same(status: Any, job: Any) -> None:
    args = (status.input or {}).get("args") if isinstance(status.input, dict) else None
    prior = args[0] if args else None
    if prior is not None and hasattr(prior, "model_dump") and prior.model_dump() != job.model_dump():
        raise JobConflict(
            f"the idempotency key was already used for job {status.workflow_id} with a different "
            "payload; use a new key for a new job", job=status.workflow_id)
