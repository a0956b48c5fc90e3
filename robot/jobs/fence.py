"""The fence of a queued job: does this execution still own its workflow? Checked right before
every write into Jobber (flows call `ctx.fence()`).

Why: cancelling a workflow does not stop a step that is already running, and a worker that is
frozen (a VM pause, SIGSTOP, a long GC) keeps running its step when it wakes up, after support
cancelled and retried the job and another worker finished it. Without a fence it then records
the payment a second time. DBOS's own checkpoints are already fenced (a step's result from a
superseded execution is refused); a browser click in Jobber is not, so the robot checks the same
fact itself, immediately before the click.

The fact is DBOS's ownership token (`workflow_status.owner_xid`): DBOS writes a new one each time
an execution takes a workflow (dequeue, recovery of a dead executor), clears it on cancel and
resume, and the execution keeps its own in its context. This execution owns the job while the
row is PENDING, carries this execution's token and names this worker as executor. Nothing else
(a lease, a counter of our own) could be as exact: it is the very token DBOS fences itself with.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dbos import DBOS
from pydantic import BaseModel

from robot.errors import JobFenced
from robot.jobs import dbos_private
from robot.logging import get_logger


class Ownership(BaseModel):
    """The job's row in DBOS's system database, as read by the fence."""

    status: str | None = None
    executor_id: str | None = None
    owner_xid: str | None = None


def read_ownership(job_id: str) -> Ownership:
    """One read (one row, one statement) of the job's status, executor and ownership token, straight
    from the system database: never DBOS.get_workflow_status, which inside a workflow is a
    checkpointed step whose replay would answer with an old value. Blocking: run it in a thread."""
    row = dbos_private.workflow_row(job_id)
    if row is None:
        return Ownership()
    return Ownership(status=row[0], executor_id=row[1], owner_xid=row[2])


def current_token(job_id: str) -> str | None:
    """This execution's ownership token (inside the job's workflow), None outside one."""
    return dbos_private.owner_token(job_id)


@dataclass(frozen=True)
class WorkflowFence:
    """FlowContext.fence for one execution of a queued job; raises JobFenced when it lost the job."""

    job_id: str
    executor_id: str
    token: str | None

    @classmethod
    def here(cls, job_id: str) -> "WorkflowFence":
        """The fence of the execution running now (call inside the job's workflow)."""
        return cls(job_id=job_id, executor_id=DBOS.executor_id, token=current_token(job_id))

    def check(self, now: Ownership) -> None:
        """Raise JobFenced unless `now` says this execution still owns the job."""
        if now.status == "CANCELLED":
            self._fenced("cancelled", "the job was cancelled")
        if now.status != "PENDING":
            self._fenced("superseded", f"the job is {now.status or 'gone'} now")
        if now.executor_id != self.executor_id:
            self._fenced("superseded", f"worker {now.executor_id} runs it now")
        if self.token is not None and now.owner_xid != self.token:
            self._fenced("superseded", "another execution took it over")

    async def __call__(self) -> None:
        self.check(await asyncio.to_thread(read_ownership, self.job_id))

    def _fenced(self, outcome: str, detail: str) -> None:
        assert outcome in ("superseded", "cancelled")
        get_logger("jobs", job=self.job_id, worker=self.executor_id).warning(
            "job fenced: no write into Jobber", outcome=outcome, detail=detail)
        raise JobFenced(self.job_id, outcome, detail)  # type: ignore[arg-type]
