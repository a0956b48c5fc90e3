"""Scheduled work (DBOS schedules): every `link_reconcile_minutes`, per merchant in the vault with
gateway credentials, a `link_reconcile` job (record paid payment links in Jobber) and an
`ach_check` job (reverse the Jobber payments of returned ACH debits).

The tick is a DBOS workflow; the jobs it makes go onto the "jobs" queue like any other (one per
merchant at a time), with ids derived from the tick time so a tick fired twice enqueues once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowAttributes, SetWorkflowID

from robot.jobs.models import AchCheckJob, LinkReconcileJob
from robot.jobs.queue import QUEUE, next_priority
from robot.jobs.runtime import runtime
from robot.jobs.workflows import job_workflow

if TYPE_CHECKING:
    from robot.config import Settings

SCHEDULE = "jobber-robot.reconcile"


def cron_for(minutes: int) -> str:
    """Six-field cron (seconds first): every N minutes (N ≥ 60: every N//60 hours)."""
    if minutes < 60:
        return f"0 */{minutes} * * * *"
    return f"0 0 */{max(1, minutes // 60)} * * *"


def _merchants_with_gateway() -> list[str]:
    return sorted(c.merchant for c in runtime().vault.list() if c.gateway is not None)


@DBOS.workflow(name="jobber.scheduled_reconcile")
async def scheduled_reconcile(scheduled_at: datetime, context: Any) -> list[str]:
    merchants = await DBOS.run_step_async({"name": "merchants"}, _merchants_with_gateway)
    url = runtime().settings.system_database_url
    queue = await DBOS.retrieve_queue_async(QUEUE)
    assert queue is not None
    stamp = scheduled_at.strftime("%Y%m%dT%H%M%S")
    ids = []
    for merchant in merchants:
        for job in (LinkReconcileJob(merchant=merchant), AchCheckJob(merchant=merchant)):
            job_id = f"sched-{job.kind}-{merchant}-{stamp}"
            # its place in the merchant's queue order, taken once (a step: a replay reuses it)
            priority = await DBOS.run_step_async({"name": f"priority-{job_id}"}, asyncio.to_thread, next_priority, url)
            with SetWorkflowID(job_id), SetEnqueueOptions(queue_partition_key=merchant, priority=priority), \
                    SetWorkflowAttributes({"merchant": merchant, "kind": job.kind}):
                await queue.enqueue_async(job_workflow, job)
            ids.append(job_id)
    return ids


async def apply(settings: "Settings") -> None:
    await DBOS.apply_schedules_async([{
        "schedule_name": SCHEDULE,
        "workflow_fn": scheduled_reconcile,  # type: ignore[typeddict-item]  # DBOS types it as returning None; it may return
        "schedule": cron_for(settings.link_reconcile_minutes),
    }])
