"""One DBOS workflow per job: the flow's stages are its durable steps.

    job_workflow(job) ── run_job(job, runner=DurableSteps(), confirmer=QueueConfirmer())
                           ├─ step "verify"         (DBOS.run_step_async, checkpointed)
                           ├─ step "gateway"        (idempotency key = job id + step)
                           ├─ step "record"         (look-before-write in Jobber)
                           └─ step "verify_after"   (balance and status read back)
                         (each kind's stages: flows.registry.stages(kind))

The workflow id is the job id; the input is the validated pydantic job (tokens only); the
stored output is the JobResult. A crash resumes at the first stage whose result was not
checkpointed. Events on the workflow: "status" (running, waiting_for_2fa,
waiting_for_confirmation, done), "step" (the stage reached), "handoff" (what a person is asked
for, while a job waits).

Each execution gets a fence (robot/jobs/fence.py) that the flows check immediately before every
write into Jobber: an execution that was cancelled or taken over writes nothing more there, and
its result is not recorded (DBOS keeps the owner's).

The process that runs workflows (worker or in-process worker) installs a `Runtime` first
(robot/jobs/runtime.py): settings, vault and the shared SessionPool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from dbos import DBOS

from flows.service import run_job
from robot import health
from robot.errors import JobFenced
from robot.jobs import flags
from robot.jobs.fence import WorkflowFence
from robot.jobs.handoff import QueueConfirmer
from robot.jobs.models import JobResult
from robot.jobs.queue import WORKFLOW
from robot.jobs.runtime import current, runtime
from robot.logging import redact_text
from robot.outcomes import Outcome
from robot.webhooks.events import job_snapshot, publish_in_workflow

if TYPE_CHECKING:
    from robot.config import Settings

T = TypeVar("T")


class DurableSteps:
    """flows.runtime.StepRunner over DBOS: each stage is a checkpointed step."""

    async def __call__(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        async def stage() -> T:  # fn may be a lambda returning a coroutine: await it inside the step
            return await fn()

        await DBOS.set_event_async("step", name)
        if (rt := current()) is not None and DBOS.workflow_id is not None:
            rt.progress(DBOS.workflow_id, "step", name)
        return await DBOS.run_step_async({"name": name}, stage)


async def _record_health(settings: "Settings", result: JobResult) -> None:
    """The merchant's latest access result (`merchants list`, the dashboard): did this job get in?"""
    entry = health.from_job(result)
    if entry is not None:
        await asyncio.to_thread(health.record, settings, entry)


@DBOS.workflow(name=WORKFLOW)
async def job_workflow(job: Any) -> JobResult:
    job_id = DBOS.workflow_id
    assert job_id is not None
    rt = runtime()
    rt.started(job_id)
    try:
        await DBOS.set_event_async("status", "running")
        try:
            result: JobResult = await run_job(
                job, job_id=job_id, settings=rt.settings, pool=rt.pool, runner=DurableSteps(),
                confirmer=QueueConfirmer(rt.settings), vault=rt.vault,
                fence=WorkflowFence.here(job_id),  # no write into Jobber once this run lost the job
            )
        except JobFenced:
            raise  # the job's owner tells the outcome, not this run
        except Exception as exc:
            error = f"{type(exc).__name__}: {redact_text(str(exc))}"
            await publish_in_workflow("job.failed", job_id, lambda url: job_snapshot(
                job_id, "failed", job=job, error=error, store_url=url))
            raise
        if job_id in rt.handoff_timed_out and result.outcome in (Outcome.needs_2fa, Outcome.needs_confirmation):
            what = "verification code" if result.outcome is Outcome.needs_2fa else "invoice choice"
            result = result.model_copy(update={"message": (
                f"no {what} was handed over within {rt.settings.handoff_timeout_seconds} s "
                f"(`jobber-robot handoff {job_id} ...` or POST /jobs/{job_id}/handoff); "
                f"retry the job when someone can answer. {result.message}").strip()})
        await flags.record(result)
        await _record_health(rt.settings, result)
        # the final state's webhook: captured here (checkpointed), delivered by the "webhooks" queue
        await publish_in_workflow("job.finished", job_id, lambda url: job_snapshot(
            job_id, "finished", result, job=job, store_url=url))
        await DBOS.set_event_async("status", "done")
        return result
    finally:
        rt.handoff_timed_out.discard(job_id)
        rt.finished(job_id)
