"""The direct commands (`charge`, `refund`, ..., `demo`) through the queue, in this process.

`execute_queued` launches DBOS here (an in-process worker with executor id cli-<host>-<pid>),
enqueues the job on the same "jobs" queue a `worker` serves (so one merchant's jobs still run one
at a time, whoever runs them), runs it here and waits for its result. With `wait=False`
(`--no-wait`, `jobber-robot enqueue ...`) it only enqueues and prints the job id; a worker runs it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

import typer
from dbos import DBOS

from robot.cli.console import err, out
from robot.config import get_settings
from robot.errors import RobotError
from robot.jobs import dbos_app
from robot.jobs.models import JobResult, Outcome
from robot.jobs.queue import enqueue
from robot.jobs.steering import cancel
from robot.jobs.store import get_job
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


class JobWatch(Protocol):
    """What a direct command shows while its job runs (robot/cli/progress.py: a spinner)."""

    def starting(self) -> None: ...
    def queued(self, job_id: str) -> None: ...
    def draining(self, job_ids: list[str]) -> None: ...
    def progress(self, job_id: str, what: str, value: Any) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...


class JobInterrupted(KeyboardInterrupt):
    """Ctrl-C in a direct command. `job_id` is None when nothing was queued yet; else the job was
    cancelled in the job store (`status` says what it is now: cancelled, or finished when it
    ended just before the cancel)."""

    def __init__(self, job_id: str | None, status: str | None = None) -> None:
        super().__init__(job_id)
        self.job_id = job_id
        self.status = status


#: how long an interrupted command lets its cancelled job end by itself, then waits for it to stop
SETTLE_SECONDS = 2.0
STOP_SECONDS = 10.0


def _cancel_in_store(settings: "Settings", job_id: str) -> str:
    """Cancel the job (wakes a wait for a person too); its status afterwards."""
    client = dbos_app.client(settings)
    _quiet_console()  # (making a client sets DBOS's own level again)
    try:
        try:
            return cancel(client, job_id).status
        except RobotError:  # it finished (or failed) just before: nothing to cancel
            return get_job(client, job_id).status
    finally:
        client.destroy()


def _quiet_console() -> None:
    """After Ctrl-C the person reads one line: what DBOS and the flows say while the cancelled
    job winds down (a task cancelled, a run superseded, an awaited workflow cancelled) is what
    they asked for, kept in the log file only."""
    logging.getLogger("dbos").setLevel(logging.CRITICAL)
    for h in logging.getLogger().handlers:
        if getattr(h, "_jobber_robot", False) and type(h) is logging.StreamHandler:
            h.setLevel(logging.ERROR)


async def _stop_cancelled(worker: Any, job_id: str) -> None:
    """End the cancelled job's run here now instead of at its next stage (its browser call is
    dropped): the job store already says cancelled, so DBOS records nothing more for it."""
    rt = worker.runtime
    task = rt.tasks.get(job_id) if rt is not None else None
    if task is None or task.done():
        return
    # a job waiting for a person was woken by the cancel and ends by itself at once (its wait's
    # own workflow too); one inside a browser call is stopped where it is
    await asyncio.wait([task], timeout=SETTLE_SECONDS)
    if not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=STOP_SECONDS)


async def _drain(rt: Any, interrupted: asyncio.Event, watch: JobWatch | None) -> None:
    """Other jobs this process's worker took from the queue meanwhile may finish here (for up to
    DRAIN_SECONDS); Ctrl-C ends the wait, and they are handed back to the queue."""
    if interrupted.is_set() or not rt.active:
        return
    if watch is not None:
        watch.draining(sorted(rt.active))
    idle = asyncio.ensure_future(rt.wait_idle(DRAIN_SECONDS))
    stop = asyncio.ensure_future(interrupted.wait())
    await asyncio.wait({idle, stop}, return_when=asyncio.FIRST_COMPLETED)
    idle.cancel()
    stop.cancel()
    if interrupted.is_set():
        _quiet_console()


async def run_here(job: Any, settings: "Settings", *, job_id: str | None = None,
                   watch: JobWatch | None = None) -> JobResult:
    """Enqueue the job and run it with an in-process worker; returns its JobResult.

    Ctrl-C (SIGINT) cancels the job in the job store, stops its run here and raises
    JobInterrupted: nothing is left `running`, and a later `jobs retry` resumes it."""
    if watch is not None:
        watch.starting()
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    try:
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        handles_sigint = True
    except (ValueError, RuntimeError):  # not the main thread (a test's, an embedding's): Ctrl-C is theirs
        handles_sigint = False
    fallback = PromptCodeProvider(timeout_seconds=settings.handoff_timeout_seconds,
                                  pause=watch.pause if watch else None, resume=watch.resume if watch else None)
    worker = Worker(settings, executor_id=dbos_app.cli_executor_id(), schedules=False,
                    code_fallback=fallback, recover_dead=False)
    try:
        await worker.start()
        if interrupted.is_set():
            raise JobInterrupted(None)
        if watch is not None:
            worker.runtime.on_progress = watch.progress
        client = await asyncio.to_thread(dbos_app.client, settings)
        try:
            jid, _ = await asyncio.to_thread(enqueue, job, client=client, job_id=job_id)
        finally:
            await asyncio.to_thread(client.destroy)
        if watch is not None:
            watch.queued(jid)
        handle = await DBOS.retrieve_workflow_async(jid)
        result_task = asyncio.ensure_future(handle.get_result())
        stop_task = asyncio.ensure_future(interrupted.wait())
        await asyncio.wait({result_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        stop_task.cancel()
        if not result_task.done():
            if watch is not None:
                watch.stop()
            _quiet_console()
            status = await asyncio.to_thread(_cancel_in_store, settings, jid)
            await _stop_cancelled(worker, jid)
            result_task.cancel()
            await asyncio.wait([result_task], timeout=STOP_SECONDS)
            raise JobInterrupted(jid, status)
        try:
            result = result_task.result()
        except Exception as exc:  # noqa: BLE001 - the workflow raised (a bug) or was cancelled
            # an unexpected error's text may quote a page, a password or a card number: masked
            result = JobResult(job_id=jid, kind=job.kind, merchant=job.merchant, outcome=Outcome.failed,
                               message=f"the job ended with {type(exc).__name__}: {redact_text(str(exc)[:300])}",
                               error_code=type(exc).__name__)
        return result
    finally:
        if worker.runtime is not None:
            worker.runtime.on_progress = None
            await _drain(worker.runtime, interrupted, watch)
        if watch is not None:
            watch.stop()
        # interrupted: other jobs this worker picked up are handed back at once (resumed later)
        await worker.stop(grace=0 if interrupted.is_set() else DRAIN_SECONDS)
        if handles_sigint:
            loop.remove_signal_handler(signal.SIGINT)


def execute_queued(job: Any, *, json_output: bool, wait: bool = True, job_id: str | None = None,
                   watch: JobWatch | None = None) -> JobResult:
    settings = get_settings()
    settings.ensure_dirs()
    configure_logging(settings, console=not json_output)
    if not wait or NO_WAIT.get():
        enqueue_only(job, settings, job_id=job_id, json_output=json_output)
        raise typer.Exit(0)
    return asyncio.run(run_here(job, settings, job_id=job_id, watch=watch))
