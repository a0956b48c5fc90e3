"""Request and response models the API adds around the job (robot/jobs/resource.py holds the job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from robot.jobs.models import DocumentNumber
from robot.jobs.resource import JobResource


class JobList(BaseModel):
    """One page of jobs, newest first. Pass `next_cursor` as `cursor` for the next page."""

    object: Literal["list"] = "list"
    data: list[JobResource]
    has_more: bool
    next_cursor: str | None = Field(default=None, description="the cursor of the next page; null on the last")


class Handoff(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True,
                              json_schema_extra={"examples": [{"code": "123456"}, {"invoice": 1042}]})

    code: str | None = Field(default=None, min_length=1, max_length=20,
                             description="2FA code for a job waiting_for_2fa")
    invoice: DocumentNumber | None = Field(default=None, description="invoice number for a job waiting_for_confirmation")


class HandoffAccepted(BaseModel):
    job_id: str
    accepted: Literal[True] = True


class Health(BaseModel):
    status: Literal["ok"] = "ok"


EXAMPLE_JOBS: dict[str, dict[str, Any]] = {
    "charge": {"summary": "Charge a card on file for invoice #1042's balance",
               "value": {"kind": "charge", "merchant": "acme", "invoice": 1042,
                         "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}},
    "deposit": {"summary": "Take a $50.00 deposit with a tokenized card",
                "value": {"kind": "deposit", "merchant": "acme", "invoice": 1042, "amount": "50.00",
                          "tender": {"type": "card_token", "token": "tok_visa_4f2a"}}},
    "link": {"summary": "Text the customer a payment link",
             "value": {"kind": "link", "merchant": "acme", "invoice": 1042, "send_via": "sms", "to": "+15555550142"}},
    "refund": {"summary": "Refund $20.00 of a transaction",
               "value": {"kind": "refund", "merchant": "acme", "transaction_id": "txn_8f2c", "amount": "20.00"}},
    "reconcile": {"summary": "Compare the gateway with Jobber for a week",
                  "value": {"kind": "reconcile", "merchant": "acme", "since": "2026-11-01", "until": "2026-11-07"}},
}


class DeliveryAttempt(BaseModel):
    """One attempt to deliver one event to one endpoint."""

    event_id: str
    event_type: str
    endpoint_id: str
    job_id: str | None = None
    attempt: int
    attempted_at: datetime
    succeeded: bool
    status_code: int | None = Field(default=None, description="the receiver's HTTP status; null when none came")
    error: str | None = Field(default=None, description="why it failed (timeout, connection refused, ...)")
    duration_ms: int | None = None
    next_attempt_at: datetime | None = Field(default=None, description="when it is tried again; null when done")


class DeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryAttempt]
