"""Job inputs and results: the boundary between the POS back end, the CLI, the queue and the flows.

Inputs carry tokens only, never card or bank numbers (those are tokenized at intake): every
text field of every input model (tokens, ids, client names, phone numbers, the merchant) refuses
anything that looks like a card number (robot.cards, any separators), because whatever passes
here is written to the job store, and errors say so without repeating the value.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from robot.cards import CARD_NUMBER_RULE, looks_like_card_number
from robot.money import Money, PositiveMoney
from robot.outcomes import Outcome

#: Jobber's invoice and quote numbers are GraphQL `Int`s (32-bit signed): a larger number can name
#: no document, and a 30-digit one must not reach the job store or a page's search box.
MAX_DOCUMENT_NUMBER = 2**31 - 1


def _whole_number(v: Any) -> Any:
    """A document number as a JSON integer or a string of digits, nothing read into it: the lax
    int of pydantic took "1.0", "1_042", "+7" and true as numbers, and a POS that sent any of
    them would have been charged against an invoice nobody named."""
    if isinstance(v, (bool, float)):
        raise ValueError("must be a whole number")
    if isinstance(v, str):
        if not (v.isascii() and v.isdigit() and len(v) <= 10):
            raise ValueError("must be a whole number (digits only)")
        return int(v)
    return v


DocumentNumber = Annotated[int, Field(ge=1, le=MAX_DOCUMENT_NUMBER), BeforeValidator(_whole_number)]

MerchantId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$", description="merchant slug, e.g. acme")]


def _not_a_card_number(v: str) -> str:
    # a bare long digit run is a bank account number as often as a card number: refused too
    if (v.isdigit() and len(v) >= 12) or looks_like_card_number(v):
        raise ValueError(CARD_NUMBER_RULE)
    return v


# Tokens are opaque ids from the gateway; anything that looks like a PAN is refused.
Token = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{4,128}$"), AfterValidator(_not_a_card_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_card_numbers(cls, v: Any) -> Any:
        """Every text field, after its own rules (a field whose pattern refuses the value has
        refused it already, without echoing it): a card number is refused wherever it passed."""
        if isinstance(v, str) and looks_like_card_number(v):
            raise ValueError(CARD_NUMBER_RULE)
        return v


# --- tenders ------------------------------------------------------------------------


class CardOnFile(_Strict):
    type: Literal["card_on_file"] = "card_on_file"
    customer_id: Token
    payment_method_id: Token | None = None  # default method of the customer when absent


class CardToken(_Strict):
    type: Literal["card_token"] = "card_token"
    token: Token


class AchToken(_Strict):
    type: Literal["ach_token"] = "ach_token"
    token: Token


class TerminalTender(_Strict):
    type: Literal["terminal"] = "terminal"
    terminal_id: Token


Tender = Annotated[Union[CardOnFile, CardToken, AchToken, TerminalTender], Field(discriminator="type")]


# --- jobs -----------------------------------------------------------------------------


class JobBase(_Strict):
    merchant: MerchantId
    dry_run: bool = False


class _InvoiceTarget(JobBase):
    invoice: DocumentNumber | None = Field(default=None, description="Jobber invoice number")
    client: str | None = Field(default=None, min_length=1, max_length=200, description="client name, when no invoice is pinned")

    @model_validator(mode="after")
    def _needs_target(self) -> "_InvoiceTarget":
        if self.invoice is None and self.client is None:
            raise ValueError("give an invoice number or a client")
        return self


class ChargeJob(_InvoiceTarget):
    kind: Literal["charge"] = "charge"
    amount: PositiveMoney | None = Field(default=None, description="default: the invoice balance")
    tender: Tender


class DepositJob(_InvoiceTarget):
    kind: Literal["deposit"] = "deposit"
    amount: PositiveMoney
    tender: Tender


class QuoteDepositJob(JobBase):
    kind: Literal["quote_deposit"] = "quote_deposit"
    quote: DocumentNumber = Field(description="Jobber quote number")
    amount: PositiveMoney
    tender: Tender


class LinkJob(_InvoiceTarget):
    kind: Literal["link"] = "link"
    amount: PositiveMoney | None = None
    send_via: Literal["sms", "email"]
    to: str = Field(min_length=3, max_length=200)


class LinkReconcileJob(JobBase):
    kind: Literal["link_reconcile"] = "link_reconcile"


class RefundJob(JobBase):
    kind: Literal["refund"] = "refund"
    transaction_id: Token
    amount: PositiveMoney | None = Field(default=None, description="default: all that is left to refund")


class VoidJob(JobBase):
    kind: Literal["void"] = "void"
    transaction_id: Token


class ReconcileJob(JobBase):
    kind: Literal["reconcile"] = "reconcile"
    since: date | None = None
    until: date | None = None
    repair: bool = False


class AchCheckJob(JobBase):
    kind: Literal["ach_check"] = "ach_check"


Job = Annotated[
    Union[
        ChargeJob, DepositJob, QuoteDepositJob, LinkJob, LinkReconcileJob,
        RefundJob, VoidJob, ReconcileJob, AchCheckJob,
    ],
    Field(discriminator="kind"),
]
JOB_ADAPTER: TypeAdapter[Any] = TypeAdapter(Job, config=ConfigDict(hide_input_in_errors=True))


def parse_job(data: dict[str, Any]) -> Any:
    """Validate a job payload (raises pydantic.ValidationError naming the field)."""
    return JOB_ADAPTER.validate_python(data)


# --- results -------------------------------------------------------------------------


class Candidate(BaseModel):
    invoice: int
    invoice_id: int | None = None      # Jobber's own id: numbers need not be unique
    client: str | None = None          # whose invoice it is (duplicate numbers can belong to two clients)
    issued_date: date | None = None
    due_date: date | None = None
    total: Money
    balance: Money
    status: str


class StepTiming(BaseModel):
    step: str
    started_at: datetime
    finished_at: datetime

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class JobResult(BaseModel):
    job_id: str
    kind: str
    merchant: str
    outcome: Outcome
    message: str = ""
    error_code: str | None = None
    invoice: int | None = None
    quote: int | None = None
    client: str | None = None
    currency: str = "USD"
    amount_requested: Money | None = None
    amount_captured: Money | None = None
    gateway_transaction_id: str | None = None
    gateway_status: str | None = None
    tender: str | None = None                # "Visa •••• 1111", "Bank •••• 6789", "terminal T1", "link lnk_…"
    jobber_payment_id: int | None = None
    balance_before: Money | None = None
    balance_after: Money | None = None
    status_before: str | None = None
    status_after: str | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    steps: list[StepTiming] = Field(default_factory=list)
    report: dict[str, Any] = Field(default_factory=dict)  # flow-specific (reconcile report, link url, refunds)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.succeeded, Outcome.pending, Outcome.dry_run)


def idempotency_key(job_id: str, step: str) -> str:
    """Gateway idempotency key for one money-moving step of one job."""
    return f"{job_id}:{step}"


ZERO = Decimal("0.00")


def validation_problems(exc: Exception) -> list[dict[str, str]]:
    """A pydantic error as [{field, rule}] with no input values (they may be secrets)."""
    if not isinstance(exc, ValidationError):
        return [{"field": "", "rule": str(exc)}]
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(p) for p in err["loc"]]
        # drop the union tag ("charge", "card_token") pydantic puts in the path
        field = ".".join(p for p in loc if p not in _UNION_TAGS) or "body"
        out.append({"field": field, "rule": err["msg"].removeprefix("Value error, ")})
    return out


_UNION_TAGS = {
    "charge", "deposit", "quote_deposit", "link", "link_reconcile", "refund", "void", "reconcile",
    "ach_check", "card_on_file", "card_token", "ach_token", "terminal",
}
