"""The direct commands (`charge`, `refund`, ..., `demo`) through the queue, in this process.

`execute_queued` launches DBOS here (an in-process worker with executor id cli-<host>-<pid>),
enqueues the job on the same "jobs" queue a `worker` serves (so one merchant's jobs still run one
at a time, whoever runs them), runs it here and waits for its result. With `wait=False`
(`--no-wait`, `jobber-robot enqueue ...`) it only enqueues and prints the job id; a worker runs it.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import typer
from dbos import DBOS

from robot.cli.console import err, out
from robot.config import get_settings
from robot.jobs import dbos_app
from robot.jobs.models import JobResult, Outcome
from robot.jobs.queue import enqueue
from robot.jobs.worker import Worker
from robot.logging import configure_logging, redact_text
from robot.twofactor import PromptCodeProvider

if TYPE_CHECKING:
    from robot.config import Settings

#: set by `--no-wait` and by the `enqueue` command group
NO_WAIT: ContextVar[bool] = ContextVar("jobber_robot_no_wait", default=False)

#: how long a finished direct command waits for other jobs its in-process worker picked up
DRAIN_SECONDS = 60.0


def enqueue_only(job: Any, settings: "Settings", *, job_id: str | None = None, json_output: bool = False,
                 idempotency_key: str | None = None) -> str:
    client = dbos_app.client(settings)
    try:
        jid, created = enqueue(job, client=client, job_id=job_id, idempotency_key=idempotency_key)
    finally:
        client.destroy()
    if json_output:
        print(json.dumps({"job_id": jid, "created": created, "merchant": job.merchant, "kind": job.kind}))
    else:
        out.print(jid)
        if not created:
            err.print(f"[dim]job {jid} was already there; nothing new enqueued[/dim]")
    return jid


async def run_here(job: Any, settings: "Settings", *, job_id: str | None = None, quiet: bool = False) -> JobResult:
    """Enqueue the job and run it with an in-process worker; returns its JobResult."""
    worker = Worker(settings, executor_id=dbos_app.cli_executor_id(), schedules=False,
                    code_fallback=PromptCodeProvider(timeout_seconds=settings.handoff_timeout_seconds),
                    recover_dead=False)
    await worker.start()
    try:
        client = await asyncio.to_thread(dbos_app.client, settings)
        try:
            jid, _ = await asyncio.to_thread(enqueue, job, client=client, job_id=job_id)
        finally:
            await asyncio.to_thread(client.destroy)
        if not quiet:
            err.print(f"[dim]job {jid} queued; running it here[/dim]")
        handle = await DBOS.retrieve_workflow_async(jid)
        try:
            result = await handle.get_result()
        except Exception as exc:  # noqa: BLE001 - the workflow raised (a bug) or was cancelled

            # an unexpected error's text may quote a page, a password or a card number: masked
            result = JobResult(job_id=jid, kind=job.kind, merchant=job.merchant, outcome=Outcome.failed,
                               message=f"the job ended with {type(exc).__name__}: {redact_text(str(exc)[:300])}",
                               error_code=type(exc).__name__)
        return result
    finally:
        await worker.stop(grace=DRAIN_SECONDS)


def execute_queued(job: Any, *, json_output: bool, wait: bool = True, job_id: str | None = None) -> JobResult:
    settings = get_settings()
    settings.ensure_dirs()
    configure_logging(settings, console=not json_output)
    if not wait or NO_WAIT.get():
        enqueue_only(job, settings, job_id=job_id, json_output=json_output)
        raise typer.Exit(0)
    return asyncio.run(run_here(job, settings, job_id=job_id, quiet=json_output))
