"""Reading and steering jobs: DBOS's workflow list, step list and events, as job views.

status: queued · running · waiting_for_2fa · waiting_for_confirmation · finished (see outcome) ·
failed (the workflow raised; see error) · cancelled.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, Field

from robot.errors import InputError, JobNotFound
from robot.jobs.flags import all_flags, flags_of
from robot.jobs.models import JobResult
from robot.jobs.queue import WORKFLOW
from robot.logging import redact_text
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from dbos import DBOSClient

JobStatus = Literal["queued", "running", "waiting_for_2fa", "waiting_for_confirmation", "finished", "failed",
                   "cancelled"]
STATUSES: tuple[str, ...] = get_args(JobStatus)

#: outcomes of a finished job that count as a failure (the robot could not do the job)
FAILED_OUTCOMES = {"failed", "access_failed", "recorded_with_mismatch"}


class StepView(BaseModel):
    name: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class JobView(BaseModel):
    job_id: str
    status: str
    merchant: str | None = None
    kind: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    age_seconds: float | None = None
    outcome: str | None = None
    message: str = ""
    step: str | None = None
    steps: list[StepView] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    waiting_for: dict[str, Any] | None = None
    flags: list[str] = Field(default_factory=list, description="notes other jobs left on this one, e.g. "
                             "ach_returned R01 (...) — Jobber payment reversed by job ...")
    error: str | None = None
    executor: str | None = None
    invoice: int | None = None              # the invoice it is for (as asked, or as found)
    amount: Decimal | None = None           # what it moved (or was asked to move)
    result: JobResult | None = None

    @property
    def failed(self) -> bool:
        """The job failed: its workflow raised, or it finished with a failure outcome (what
        `jobs list --status failed` lists)."""
        return self.status == "failed" or (self.status == "finished" and self.outcome in FAILED_OUTCOMES)

    @property
    def needs_person(self) -> bool:
        return self.status in ("waiting_for_2fa", "waiting_for_confirmation")



def _dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _status(wf_status: str, event: str | None) -> str:
    if wf_status in ("ENQUEUED", "DELAYED"):
        return "queued"
    if wf_status == "PENDING":
        return event if event in ("waiting_for_2fa", "waiting_for_confirmation") else "running"
    if wf_status == "SUCCESS":
        return "finished"
    if wf_status == "CANCELLED":
        return "cancelled"
    return "failed"


def view(client: "DBOSClient", st: Any, *, detail: bool = True, flags: list[str] | None = None) -> JobView:
    attrs = st.attributes or {}
    merchant, kind = attrs.get("merchant"), attrs.get("kind")
    if (merchant is None or kind is None) and isinstance(st.input, dict) and st.input.get("args"):
        job = st.input["args"][0]
        merchant, kind = getattr(job, "merchant", None), getattr(job, "kind", None)
    status_event = handoff = None
    step_event = client.get_event(st.workflow_id, "step", timeout_seconds=0)
    if st.status == "PENDING" or detail:
        status_event = client.get_event(st.workflow_id, "status", timeout_seconds=0)
        handoff = client.get_event(st.workflow_id, "handoff", timeout_seconds=0) if st.status == "PENDING" else None
    result = st.output if isinstance(st.output, JobResult) else None
    v = JobView(
        job_id=st.workflow_id, status=_status(st.status, status_event), merchant=merchant, kind=kind,
        created_at=_dt(st.created_at), updated_at=_dt(st.updated_at),
        age_seconds=round(time.time() - st.created_at / 1000, 1) if st.created_at else None,
        step=step_event, waiting_for=handoff, executor=st.executor_id,
        flags=flags if flags is not None else flags_of(client, st.workflow_id),
        error=(f"{type(st.error).__name__}: {redact_text(str(st.error))}" if st.error is not None else None),
    )
    job = st.input["args"][0] if isinstance(st.input, dict) and st.input.get("args") else None
    v.invoice = getattr(job, "invoice", None)
    v.amount = getattr(job, "amount", None)
    if result is not None:
        v.invoice = getattr(result, "invoice", None) or v.invoice
        moved = getattr(result, "amount_captured", None)
        v.amount = moved if moved is not None else (getattr(result, "amount_requested", None) or v.amount)
        v.result = result
        v.outcome = result.outcome.value
        v.message = result.message
        v.artifacts = list(result.artifacts)
    elif st.status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        v.message = "the job crashed its worker too many times; inspect it, then `jobs retry`"
    if detail:
        steps = client.list_workflow_steps(st.workflow_id)
        v.steps = [StepView(name=s["function_name"], started_at=_dt(s["started_at_epoch_ms"]),
                            finished_at=_dt(s["completed_at_epoch_ms"]),
                            error=type(s["error"]).__name__ if s["error"] is not None else None)
                   for s in steps if not s["function_name"].startswith(("DBOS.", "jobber."))]
    return v


def find_workflow(client: "DBOSClient", job_id: str) -> Any:
    found = client.list_workflows(workflow_ids=[job_id])
    if not found or found[0].name != WORKFLOW:
        raise JobNotFound(f"no job {job_id}", job=job_id)
    return found[0]


def get_job(client: "DBOSClient", job_id: str) -> JobView:
    return view(client, find_workflow(client, job_id))


def list_jobs(client: "DBOSClient", *, status: str | None = None, merchant: str | None = None,
              limit: int = 50, outcome: str | None = None, needs_person: bool = False) -> list[JobView]:
    """Newest first. `status="failed"` also lists the jobs that finished with a failure outcome
    (FAILED_OUTCOMES); `needs_person`: the jobs waiting for a 2FA code or an invoice choice."""
    if status is not None and status not in STATUSES:
        raise InputError("status", f"one of {', '.join(STATUSES)}")
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise InputError("outcome", f"one of {', '.join(o.value for o in Outcome)}")
    if limit < 1:
        raise InputError("limit", "at least 1")
    filtered = bool(status or merchant or outcome or needs_person)
    # (attribute filters are Postgres-only in DBOS: merchant and status are filtered here)
    rows = client.list_workflows(name=WORKFLOW, sort_desc=True, limit=None if filtered else limit,
                                 status=["PENDING"] if needs_person else None)
    flagged = all_flags(client)
    out = []
    for st in rows:
        if merchant and (st.attributes or {}).get("merchant") != merchant:
            continue
        v = view(client, st, detail=False, flags=flagged.get(st.workflow_id, []))
        if status == "failed" and not v.failed:
            continue
        if status and status != "failed" and v.status != status:
            continue
        if outcome and v.outcome != outcome:
            continue
        if needs_person and not v.needs_person:
            continue
        out.append(v)
        if len(out) >= limit:
            break
    return out


def deadline_of(v: JobView) -> datetime | None:
    """When a waiting job stops waiting for its person (the handoff's deadline)."""
    raw = (v.waiting_for or {}).get("deadline")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
