"""The job as the POS back end sees it: one shape for `GET /jobs/{id}`, `POST /jobs`, the job
list and the webhook events' `data.object`.

Why a second model beside `JobResult` (what a flow returns, stored by DBOS): the flows keep a
free-form `report` for what only one kind has; the POS gets typed fields per kind instead
(`ChargeResult`, `LinkResult`, `RefundResult`, `VoidResult`, `ReconcileResult`,
`LinkReconcileResult`, `AchCheckResult`, discriminated by `kind`), amounts as decimal strings,
the steps once (on the job, never again inside the result), artifacts as names with their URL
under `/jobs/{id}/artifacts/` (never a path on the worker's disk), and the retry links.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from robot.jobs.models import Candidate, JobResult
from robot.jobs.store import JobView
from robot.outcomes import Outcome

#: how an amount is written everywhere in the API: a decimal string, two places, never a float
AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
Amount = Annotated[
    Decimal,
    PlainSerializer(lambda v: f"{Decimal(v).quantize(Decimal('0.01')):.2f}", return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["150.00"],
                    "description": "an amount in dollars as a decimal string with two places"}),
]


class JobKind(str, Enum):
    charge = "charge"
    deposit = "deposit"
    quote_deposit = "quote_deposit"
    link = "link"
    link_reconcile = "link_reconcile"
    refund = "refund"
    void = "void"
    reconcile = "reconcile"
    ach_check = "ach_check"


class JobState(str, Enum):
    queued = "queued"
    running = "running"
    waiting_for_2fa = "waiting_for_2fa"
    waiting_for_confirmation = "waiting_for_confirmation"
    finished = "finished"
    failed = "failed"
    cancelled = "cancelled"


FINAL_STATES = frozenset({JobState.finished, JobState.failed, JobState.cancelled})
MONEY_KINDS = frozenset({"charge", "deposit", "quote_deposit", "link", "refund", "void"})


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Tender(_Out):
    type: Literal["card", "bank", "terminal", "link", "other"]
    brand: str | None = Field(default=None, examples=["Visa"])
    last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$", examples=["1111"])
    label: str = Field(description="as written in Jobber's payment Details", examples=["Visa •••• 1111"])


_LAST4 = re.compile(r"^(?P<brand>.+?) •••• (?P<last4>[0-9]{4})\b")


def tender_of(label: str | None) -> Tender | None:
    if not label:
        return None
    if label.startswith("terminal"):
        return Tender(type="terminal", label=label)
    if label.startswith("link"):
        inner = re.search(r"\((?P<brand>[^()]+?) •••• (?P<last4>[0-9]{4})\)", label)
        return Tender(type="link", brand=inner.group("brand") if inner else None,
                      last4=inner.group("last4") if inner else None, label=label)
    m = _LAST4.match(label)
    if m:
        if m.group("brand") == "Bank":
            return Tender(type="bank", last4=m.group("last4"), label=label)
        return Tender(type="card", brand=m.group("brand"), last4=m.group("last4"), label=label)
    return Tender(type="other", label=label)


class CandidateInvoice(_Out):
    invoice: int
    invoice_id: int | None = None
    issued_date: date | None = None
    due_date: date | None = None
    total: Amount
    balance: Amount
    status: str


class _ResultBase(_Out):
    error_code: str | None = Field(default=None, description="why it stopped, when it did (e.g. invoice_in_draft)")
    candidates: list[CandidateInvoice] = Field(default_factory=list,
                                               description="the invoices a person may pick (needs_confirmation)")


class ChargeResult(_ResultBase):
    """charge, deposit, quote_deposit: money taken and recorded in Jobber."""

    kind: Literal["charge", "deposit", "quote_deposit"]
    invoice: int | None = None
    quote: int | None = None
    client: str | None = None
    amount_requested: Amount | None = None
    amount_captured: Amount | None = None
    transaction_id: str | None = Field(default=None, description="the gateway transaction", examples=["txn_8f2c"])
    gateway_status: str | None = None
    tender: Tender | None = None
    jobber_payment_id: int | None = None
    balance_before: Amount | None = None
    balance_after: Amount | None = None
    status_before: str | None = None
    status_after: str | None = None


class LinkResult(_ResultBase):
    kind: Literal["link"]
    invoice: int | None = None
    amount_requested: Amount | None = None
    link_id: str | None = None
    url: str | None = Field(default=None, description="the payment page the customer opens")
    expires_at: datetime | None = None
    sent_via: Literal["sms", "email"] | None = None
    gateway_status: str | None = None


class RefundResult(_ResultBase):
    kind: Literal["refund"]
    transaction_id: str | None = None
    refund_id: str | None = None
    invoice: int | None = None
    amount_requested: Amount | None = None
    amount_refunded: Amount | None = None
    refundable_before: Amount | None = None
    refundable_after: Amount | None = None
    tender: Tender | None = None
    balance_after: Amount | None = None
    status_after: str | None = None


class VoidResult(_ResultBase):
    kind: Literal["void"]
    transaction_id: str | None = None
    invoice: int | None = None
    amount_voided: Amount | None = None
    tender: Tender | None = None
    gateway_status: str | None = None
    balance_after: Amount | None = None
    status_after: str | None = None


class ReconcileRow(_Out):
    transaction: str | None = None
    status: str | None = None
    tender: str | None = None
    invoice: int | None = None
    quote: int | None = Field(None, description="the quote a deposit was taken on (no invoice then)")
    gateway_net: Amount | None = None
    jobber_net: Amount | None = None
    jobber_invoice: int | None = None
    payment_id: int | None = None
    payment_ids: list[int] = Field(default_factory=list)
    origin_job: str | None = None
    date: str | None = None
    repair: str | None = None


class Period(_Out):
    since: date | None = None
    until: date | None = None


class ReconcileResult(_ResultBase):
    kind: Literal["reconcile"]
    period: Period = Field(default_factory=Period)
    matched: list[ReconcileRow] = Field(default_factory=list)
    missing_in_jobber: list[ReconcileRow] = Field(default_factory=list)
    unknown_in_jobber: list[ReconcileRow] = Field(default_factory=list)
    amount_mismatch: list[ReconcileRow] = Field(default_factory=list)
    repaired: list[ReconcileRow] = Field(default_factory=list)


class LinkRow(_Out):
    link: str | None = None
    invoice: int | None = None
    result: str | None = None
    payment_id: int | None = None
    amount: Amount | None = None
    balance_before: Amount | None = None
    balance_after: Amount | None = None
    mismatch: bool | None = None
    status: str | None = None
    error: str | None = None


class LinkReconcileResult(_ResultBase):
    kind: Literal["link_reconcile"]
    recorded: list[LinkRow] = Field(default_factory=list)
    already_recorded: list[LinkRow] = Field(default_factory=list)
    problems: list[LinkRow] = Field(default_factory=list)
    expired: list[LinkRow] = Field(default_factory=list)
    open: list[LinkRow] = Field(default_factory=list)


class AchRow(_Out):
    transaction: str | None = None
    txn_id: str | None = None
    invoice: int | None = None
    result: str | None = None
    status: str | None = None
    return_code: str | None = None
    payment_id: int | None = None
    reversed_amount: Amount | None = None
    balance_after: Amount | None = None
    status_after: str | None = None
    origin_job: str | None = None
    error: str | None = None


class AchCheckResult(_ResultBase):
    kind: Literal["ach_check"]
    reversed: list[AchRow] = Field(default_factory=list)
    already_reversed: list[AchRow] = Field(default_factory=list)
    not_in_jobber: list[AchRow] = Field(default_factory=list)
    problems: list[AchRow] = Field(default_factory=list)
    pending: list[AchRow] = Field(default_factory=list)
    settled: list[AchRow] = Field(default_factory=list)
    flagged_jobs: list[str] = Field(default_factory=list)


TypedResult = Annotated[
    Union[ChargeResult, LinkResult, RefundResult, VoidResult, ReconcileResult, LinkReconcileResult, AchCheckResult],
    Field(discriminator="kind"),
]


def _rows(items: Any) -> list[Any]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def typed_result(r: JobResult) -> Any:
    """A flow's JobResult as the typed result of its kind."""
    rep = r.report or {}
    base: dict[str, Any] = {"error_code": r.error_code,
                            "candidates": [c.model_dump() for c in r.candidates if isinstance(c, Candidate)]}
    k = r.kind
    if k in ("charge", "deposit", "quote_deposit"):
        return ChargeResult(kind=k, invoice=r.invoice, quote=r.quote, client=r.client,
                            amount_requested=r.amount_requested, amount_captured=r.amount_captured,
                            transaction_id=r.gateway_transaction_id, gateway_status=r.gateway_status,
                            tender=tender_of(r.tender), jobber_payment_id=r.jobber_payment_id,
                            balance_before=r.balance_before, balance_after=r.balance_after,
                            status_before=r.status_before, status_after=r.status_after, **base)
    if k == "link":
        return LinkResult(kind=k, invoice=r.invoice, amount_requested=r.amount_requested,
                          link_id=rep.get("link_id"), url=rep.get("url"), expires_at=rep.get("expires_at"),
                          sent_via=rep.get("sent_via"), gateway_status=r.gateway_status, **base)
    if k == "refund":
        return RefundResult(kind=k, transaction_id=r.gateway_transaction_id, refund_id=rep.get("refund_id"),
                            invoice=r.invoice, amount_requested=r.amount_requested,
                            amount_refunded=r.amount_captured if rep.get("refund_id") else None,
                            refundable_before=rep.get("refundable_before"), refundable_after=rep.get("refundable_after"),
                            tender=tender_of(r.tender), balance_after=r.balance_after, status_after=r.status_after,
                            **base)
    if k == "void":
        return VoidResult(kind=k, transaction_id=r.gateway_transaction_id, invoice=r.invoice,
                          amount_voided=r.amount_captured if r.outcome is Outcome.succeeded else None,
                          tender=tender_of(r.tender), gateway_status=r.gateway_status,
                          balance_after=r.balance_after, status_after=r.status_after, **base)
    if k == "reconcile":
        return ReconcileResult(kind=k, period=rep.get("period") or {},
                               **{s: _rows(rep.get(s)) for s in ("matched", "missing_in_jobber", "unknown_in_jobber",
                                                                 "amount_mismatch", "repaired")}, **base)
    if k == "link_reconcile":
        return LinkReconcileResult(kind=k, **{s: _rows(rep.get(s)) for s in (
            "recorded", "already_recorded", "problems", "expired", "open")}, **base)
    return AchCheckResult(kind="ach_check", flagged_jobs=[str(j) for j in rep.get("flagged_jobs", [])],
                          **{s: _rows(rep.get(s)) for s in ("reversed", "already_reversed", "not_in_jobber",
                                                            "problems", "pending", "settled")}, **base)


class Step(_Out):
    name: str = Field(examples=["gateway"])
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    error: str | None = Field(default=None, description="the exception type, when the step raised")


class WaitingFor(_Out):
    kind: Literal["2fa", "confirm"]
    hint: str | None = Field(default=None, description="where the code went, e.g. SMS to •••• 42")
    deadline: str | None = None
    candidates: list[CandidateInvoice] = Field(default_factory=list)
    answer_with: str = Field(description="the request that answers it")


class Artifact(_Out):
    name: str = Field(examples=["screenshot.png"])
    url: str = Field(examples=["/jobs/job-0123/artifacts/screenshot.png"])


_JOB_EXAMPLE: dict[str, Any] = {
    "id": "job-7f3a0c1d2e4b5a6f7980", "object": "job", "kind": "charge", "merchant": "acme", "status": "finished",
    "outcome": "succeeded", "message": "charged $150.00 to Visa •••• 1111 and recorded it on invoice #1042",
    "created_at": "2026-12-01T15:04:05Z", "updated_at": "2026-12-01T15:04:41Z", "step": "verify_after",
    "steps": [{"name": "verify", "started_at": "2026-12-01T15:04:06Z", "finished_at": "2026-12-01T15:04:15Z",
               "seconds": 9.1, "error": None}],
    "waiting_for": None, "flags": [], "error": None,
    "result": {"kind": "charge", "invoice": 1042, "amount_requested": "150.00", "amount_captured": "150.00",
               "transaction_id": "txn_8f2c", "gateway_status": "captured",
               "tender": {"type": "card", "brand": "Visa", "last4": "1111", "label": "Visa •••• 1111"},
               "jobber_payment_id": 5512, "balance_before": "150.00", "balance_after": "0.00",
               "status_before": "awaiting_payment", "status_after": "paid", "error_code": None, "candidates": []},
    "artifacts": [], "retry_of": None, "retried_as": [], "settled_by": "job-7f3a0c1d2e4b5a6f7980",
}


class JobResource(_Out):
    """A job: what it is, where it stands, what it did."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [_JOB_EXAMPLE]})

    id: str = Field(examples=["job-7f3a0c1d2e4b5a6f7980"])
    object: Literal["job"] = "job"
    kind: JobKind | None = None
    merchant: str | None = Field(default=None, examples=["acme"])
    status: JobState
    outcome: Outcome | None = Field(default=None, description="set once the job finished")
    message: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    step: str | None = Field(default=None, description="the stage reached")
    steps: list[Step] = Field(default_factory=list, description="the stages run, in order, with times")
    waiting_for: WaitingFor | None = None
    flags: list[str] = Field(default_factory=list, description="notes other jobs left on this one "
                                                               "(e.g. ach_returned R01 ...)")
    error: str | None = Field(default=None, description="the error the job's run raised (status failed)")
    result: TypedResult | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    retry_of: str | None = Field(default=None, description="the job this one retries")
    retried_as: list[str] = Field(default_factory=list, description="the jobs that retry this one, oldest first")
    settled_by: str | None = Field(default=None, description="the job of this retry chain where the money moved "
                                                             "(this job, or its latest retry); null while none did")


def artifact_name(path: str) -> str:
    return PurePath(path).name


def resource(view: JobView, *, retry_of: str | None = None, retried_as: list[str] | None = None,
             settled_by: str | None = None) -> JobResource:
    """A store JobView (robot/jobs/store.py) as the public job."""
    assert isinstance(view, JobView)
    steps = [Step(name=s.name, started_at=s.started_at, finished_at=s.finished_at, error=s.error,
                  seconds=round((s.finished_at - s.started_at).total_seconds(), 3)
                  if s.started_at and s.finished_at else None) for s in view.steps]
    if not steps and view.result is not None:  # a list view: the steps the flow timed
        steps = [Step(name=s.step, started_at=s.started_at, finished_at=s.finished_at, seconds=round(s.seconds, 3))
                 for s in view.result.steps]
    waiting = None
    if view.waiting_for:
        w = view.waiting_for
        kind = "2fa" if w.get("kind") == "2fa" else "confirm"
        waiting = WaitingFor(kind=kind, hint=w.get("hint"), deadline=w.get("deadline"),
                             candidates=w.get("candidates") or [],
                             answer_with=f"POST /jobs/{view.job_id}/handoff " +
                                         ('{"code": "123456"}' if kind == "2fa" else '{"invoice": N}'))
    return JobResource(
        id=view.job_id, kind=view.kind, merchant=view.merchant, status=view.status,
        outcome=view.outcome, message=view.message, created_at=view.created_at, updated_at=view.updated_at,
        step=view.step, steps=steps, waiting_for=waiting, flags=view.flags, error=view.error,
        result=typed_result(view.result) if view.result is not None else None,
        artifacts=[Artifact(name=artifact_name(a), url=f"/jobs/{view.job_id}/artifacts/{artifact_name(a)}")
                   for a in view.artifacts],
        retry_of=retry_of, retried_as=retried_as or [], settled_by=settled_by,
    )
