"""A person in the loop, through the queue: 2FA codes and invoice choices.

The waiting job
- sets its "status" event to waiting_for_2fa / waiting_for_confirmation and its "handoff" event
  to what it asks for and where to answer ({"kind", "to", "topic", "hint" | "candidates"});
- waits with `DBOS.recv_async(topic, timeout_seconds=settings.handoff_timeout_seconds)`.
  DBOS allows recv only in workflow code, and a login runs inside a stage (a step), so a wait
  from inside a step runs recv in a small "waiter" workflow (`<job>.wait-<n>`) started beside the
  job and awaits its result; a wait in workflow code (between stages) receives on the job itself.
- A timeout gives None: the login ends needs_2fa, the flow needs_confirmation, with a message
  saying how to hand the answer over.

The person (`jobber-robot handoff`, `POST /jobs/{id}/handoff`) calls `submit_code` /
`submit_choice`: they read the job's "handoff" event and `send` the answer to it.

Codes are secret: a code is encrypted with the vault key (Fernet) before it is sent, so the job
store only ever holds the ciphertext (in the message table and the waiter's recorded result);
the worker decrypts it in memory, registers it for log redaction and types it into Jobber.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dbos import DBOS, SetWorkflowID

from robot import vault
from robot.errors import HandoffError, InputError
from robot.jobs import runtime
from robot.jobs.models import Candidate
from robot.logging import get_logger, register_secret
from robot.webhooks.events import job_snapshot, publish_outside_workflow

if TYPE_CHECKING:
    from dbos import DBOSClient

    from robot.config import Settings

TOPIC_2FA = "2fa"
TOPIC_CONFIRM = "confirm"
WAITER = "jobber.handoff_wait"

#: sent instead of an answer when the job is cancelled while it waits
CANCELLED = {"cancelled": True}

STATUS_WAITING_2FA = "waiting_for_2fa"
STATUS_WAITING_CONFIRM = "waiting_for_confirmation"





@DBOS.workflow(name=WAITER)
async def handoff_wait(topic: str, timeout_seconds: float) -> Any:
    """Receives one answer for the job that started it (None on timeout)."""
    return await DBOS.recv_async(topic, timeout_seconds=timeout_seconds)


def _in_step() -> bool:
    return DBOS.step_id is not None


async def _ask(kind: str, topic: str, status: str, timeout: float, details: dict[str, Any]) -> Any:
    """Publish the question, wait for the answer (None on timeout). Works in workflow code and
    inside a step."""
    job_id = DBOS.workflow_id
    assert job_id is not None
    rt = runtime.current()
    if _in_step():
        waiter_id = f"{job_id}.wait-{uuid.uuid4().hex[:8]}"

        async def start() -> Any:
            with SetWorkflowID(waiter_id):
                return await DBOS.start_workflow_async(handoff_wait, topic, timeout)

        # started outside the step's DBOS context: a step may not start workflows itself
        handle = await asyncio.create_task(start(), context=contextvars.Context())
        question = {"kind": kind, "to": waiter_id, "topic": topic, **details}
        await DBOS.set_event_async("handoff", question)
        await DBOS.set_event_async("status", status)
        await _needs_person(job_id, status, question, waiter_id)
        if rt is not None:
            rt.progress(job_id, "handoff", question)
        answer = await handle.get_result()
    else:
        question = {"kind": kind, "to": job_id, "topic": topic, **details}
        await DBOS.set_event_async("handoff", question)
        await DBOS.set_event_async("status", status)
        await _needs_person(job_id, status, question, uuid.uuid4().hex[:8])
        if rt is not None:
            rt.progress(job_id, "handoff", question)
        answer = await DBOS.recv_async(topic, timeout_seconds=timeout)
    await DBOS.set_event_async("handoff", None)
    await DBOS.set_event_async("status", "running")
    if rt is not None:
        rt.progress(job_id, "handoff", None)
    if answer == CANCELLED:
        return None
    return answer


async def _needs_person(job_id: str, status: str, question: dict[str, Any], ask_id: str) -> None:
    """The `job.needs_person` webhook (robot/webhooks): the POS can ask its user for the code or
    the invoice. A failure to capture it is logged, never a reason to stop the job's wait."""
    try:
        await publish_outside_workflow("job.needs_person", job_id, lambda url: job_snapshot(
            job_id, status, waiting_for=question, store_url=url), ask_id)
    except Exception as exc:  # noqa: BLE001 - the job goes on waiting; the POS can still poll
        get_logger("handoff", job=job_id).warning("the needs_person webhook was not captured",
                                                  error=type(exc).__name__)


class QueueCodeProvider:
    """robot.twofactor.CodeProvider for jobs: asks support through the queue.

    Outside a job (no DBOS workflow), or in a direct command at a terminal, it asks `fallback`
    (the terminal prompt) instead.
    """

    def __init__(self, settings: "Settings", fallback: Any = None) -> None:
        self.settings = settings
        self.fallback = fallback
        #: job → when its wait for a code ends: a code asked for again (Jobber refused a mistyped
        #: one) is waited for within the same deadline, not a new one
        self._deadlines: dict[str, datetime] = {}

    def deadline(self, job_id: str) -> datetime:
        now = datetime.now(UTC)
        if job_id not in self._deadlines:  # forget the waits that ended long ago (a worker runs for days)
            self._deadlines = {j: d for j, d in self._deadlines.items() if d > now - timedelta(hours=1)}
        return self._deadlines.setdefault(job_id, now + timedelta(seconds=self.settings.handoff_timeout_seconds))

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        if DBOS.workflow_id is None:
            return await self.fallback.get_code(merchant, channel, hint) if self.fallback else None
        if self.fallback is not None and sys.stdin is not None and sys.stdin.isatty():
            # a direct command at a terminal: the person is right here, ask them
            code: str | None = await self.fallback.get_code(merchant, channel, hint)
            return code
        job_id = DBOS.workflow_id
        log = get_logger("handoff", merchant=merchant, job=job_id)
        deadline = self.deadline(job_id)
        timeout = (deadline - datetime.now(UTC)).total_seconds()
        if timeout <= 0:
            log.warning("the wait for a verification code is over", deadline=deadline.isoformat())
            return None
        log.info("waiting for a verification code", channel=channel, timeout_seconds=round(timeout),
                 answer_with=f"jobber-robot handoff {job_id} CODE")
        sealed = await _ask("2fa", TOPIC_2FA, STATUS_WAITING_2FA, timeout,
                            {"merchant": merchant, "channel": channel, "hint": hint,
                             "deadline": deadline.isoformat(timespec="seconds")})
        if sealed is None:
            log.warning("no verification code handed over in time", timeout_seconds=timeout)
            if (rt := runtime.current()) is not None:
                rt.handoff_timed_out.add(job_id)
            return None
        code = vault.unseal(self.settings, sealed)
        register_secret(code)
        log.info("verification code handed over")
        return code


class QueueConfirmer:
    """flows.runtime.Confirmer for jobs: a person picks the invoice through the queue."""

    def __init__(self, settings: "Settings") -> None:
        self.settings = settings

    async def choose_invoice(self, candidates: list[Candidate]) -> int | None:
        if DBOS.workflow_id is None:
            return None
        job_id = DBOS.workflow_id
        timeout = self.settings.handoff_timeout_seconds
        numbers = [c.invoice for c in candidates]
        get_logger("handoff", job=job_id).info("waiting for a person to pick the invoice", candidates=numbers)
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        answer = await _ask("confirm", TOPIC_CONFIRM, STATUS_WAITING_CONFIRM, timeout,
                            {"candidates": [c.model_dump(mode="json") for c in candidates],
                             "deadline": deadline.isoformat(timespec="seconds")})
        if answer is None:
            if (rt := runtime.current()) is not None:
                rt.handoff_timed_out.add(job_id)
            return None
        choice = int(answer)
        # a number, or Jobber's own id when numbers repeat among the candidates (flows pick by id first)
        ids = [c.invoice_id for c in candidates if c.invoice_id is not None]
        return choice if choice in numbers or choice in ids else None


# --- the person's side ----------------------------------------------------------------------


def waiting_for(client: "DBOSClient", job_id: str) -> dict[str, Any] | None:
    """What the job asks for now, or None when it does not wait for anyone."""
    question: dict[str, Any] | None = client.get_event(job_id, "handoff", timeout_seconds=0)
    return question


def _question(client: "DBOSClient", job_id: str, kind: str) -> dict[str, Any]:
    if not client.list_workflows(workflow_ids=[job_id], load_input=False, load_output=False):
        raise HandoffError(f"no job {job_id}", job=job_id)
    q = waiting_for(client, job_id)
    if not q:
        raise HandoffError(f"job {job_id} is not waiting for a code or a confirmation now", job=job_id)
    if q.get("kind") != kind:
        wants = "a verification code" if q.get("kind") == "2fa" else "an invoice number (--invoice N)"
        raise HandoffError(f"job {job_id} waits for {wants}", job=job_id)
    return q


def clean_code(code: str) -> str:
    """The code without spaces; InputError naming the field "code" (never echoing it)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or not 4 <= len(code) <= 10:
        raise InputError("code", "a verification code is 4 to 10 digits")
    return code


def submit_code(client: "DBOSClient", settings: "Settings", job_id: str, code: str) -> None:
    code = clean_code(code)
    q = _question(client, job_id, "2fa")
    client.send(q["to"], vault.seal(settings, code), q["topic"])


def submit_choice(client: "DBOSClient", job_id: str, invoice: int) -> None:
    """`invoice`: a candidate's number, or its Jobber id (the only way to name one of two invoices
    that carry the same number: Jobber's numbers need not be unique)."""
    q = _question(client, job_id, "confirm")
    candidates = q.get("candidates", [])
    numbers = [c["invoice"] for c in candidates]
    ids = [c.get("invoice_id") for c in candidates if c.get("invoice_id") is not None]
    if invoice not in ids:
        if invoice not in numbers:
            raise HandoffError(f"invoice {invoice} is not one of the candidates {numbers}", job=job_id)
        if numbers.count(invoice) > 1:
            raise HandoffError(f"{numbers.count(invoice)} candidates are numbered {invoice}: give the Jobber id of "
                               f"the one to use (one of {ids})", job=job_id)
    client.send(q["to"], invoice, q["topic"])
