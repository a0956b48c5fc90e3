"""Gateway data models (pydantic). Money is Decimal with two places plus a currency; never float.

Nothing here ever holds a full card number, CVV or bank account number: tokens and masked
forms only (brand, first six, last four).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from robot.money import Money as MoneyAmount
from robot.money import fmt


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class Money(_Model):
    """An amount with its currency."""

    amount: MoneyAmount
    currency: str = "USD"

    def __str__(self) -> str:
        return f"{fmt(self.amount)} {self.currency}"


class TransactionKind(str, Enum):
    sale = "sale"
    authorization = "authorization"
    ach_debit = "ach_debit"
    terminal_sale = "terminal_sale"
    link_payment = "link_payment"


class TransactionStatus(str, Enum):
    authorized = "authorized"
    captured = "captured"
    pending = "pending"            # ACH debit not yet settled
    settled = "settled"
    voided = "voided"
    refunded = "refunded"
    partially_refunded = "partially_refunded"
    returned = "returned"          # ACH return (R-code)
    declined = "declined"


class MaskedTender(_Model):
    """How the customer paid, masked: enough for Jobber's Details field and support, no card data."""

    type: Literal["card", "bank", "terminal", "link"]
    brand: str | None = None
    first6: str | None = None
    last4: str | None = None
    bank_last4: str | None = None
    terminal_id: str | None = None
    link_id: str | None = None

    def describe(self) -> str:
        """"Visa •••• 1111", "Bank •••• 6789"."""
        if self.last4:
            return f"{self.brand or 'Card'} •••• {self.last4}"
        if self.bank_last4:
            return f"Bank •••• {self.bank_last4}"
        return self.type


class Refund(_Model):
    id: str
    transaction_id: str
    amount: MoneyAmount
    currency: str = "USD"
    reference: str | None = None
    status: Literal["succeeded"] = "succeeded"
    created_at: datetime


class Transaction(_Model):
    id: str
    merchant_id: str
    kind: TransactionKind
    status: TransactionStatus
    amount: MoneyAmount             # asked for (authorized / charged)
    captured: MoneyAmount           # money that moved to the merchant
    refunded: MoneyAmount           # sum of refunds (a void or ACH return is shown by status, not here)
    refundable: MoneyAmount         # captured - refunded, 0 when voided/returned/declined
    currency: str = "USD"
    tender: MaskedTender
    reference: str | None = None    # = the idempotency key of the call that made it (our job reference)
    description: str = ""
    customer_id: str | None = None
    payment_method_id: str | None = None
    created_at: datetime
    batch_id: str | None = None
    settled: bool = False
    settled_at: datetime | None = None
    return_code: str | None = None  # ACH R-code
    decline_reason: str | None = None
    refunds: list[Refund] = Field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.status is not TransactionStatus.declined

    def money(self) -> Money:
        return Money(amount=self.captured, currency=self.currency)

    def details(self) -> str:
        """Text for Jobber's payment Details field: transaction id, brand and last four."""
        return f"{self.id} {self.tender.describe()}"


class CardToken(_Model):
    id: str                         # tok_...
    brand: str
    first6: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str | None = None
    created_at: datetime | None = None

    def masked(self) -> MaskedTender:
        return MaskedTender(type="card", brand=self.brand, first6=self.first6, last4=self.last4)


class BankToken(_Model):
    id: str                         # btok_...
    bank_last4: str
    routing_last4: str | None = None
    holder: str
    account_type: Literal["checking", "savings"] = "checking"
    created_at: datetime | None = None

    def masked(self) -> MaskedTender:
        return MaskedTender(type="bank", bank_last4=self.bank_last4)


class TerminalStatus(str, Enum):
    pending = "pending"             # on the terminal, waiting for the customer
    approved = "approved"
    declined = "declined"
    timed_out = "timed_out"
    cancelled = "cancelled"

    @property
    def final(self) -> bool:
        return self is not TerminalStatus.pending


class TerminalRequest(_Model):
    id: str                         # treq_...
    terminal_id: str
    amount: MoneyAmount
    currency: str = "USD"
    status: TerminalStatus
    reference: str | None = None
    transaction_id: str | None = None
    decline_reason: str | None = None
    cancelled_by: Literal["customer", "merchant"] | None = None
    timeout_seconds: int
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None = None


class LinkStatus(str, Enum):
    open = "open"
    paid = "paid"
    expired = "expired"
    deactivated = "deactivated"


class PaymentLink(_Model):
    id: str                         # plink_...
    merchant_id: str
    amount: MoneyAmount
    currency: str = "USD"
    description: str = ""
    status: LinkStatus
    url: str
    reference: str | None = None
    transaction_id: str | None = None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None = None


class LinkDelivery(_Model):
    id: str
    link_id: str
    channel: Literal["sms", "email"]
    to: str
    sent_at: datetime


class Batch(_Model):
    id: str
    merchant_id: str
    status: Literal["open", "closed"]
    opened_at: datetime
    closed_at: datetime | None = None
    transaction_count: int = 0
    total: MoneyAmount = Decimal("0.00")   # captured in the batch, net of refunds/voids
    currency: str = "USD"


class PaymentMethod(_Model):
    id: str                         # pm_...
    customer_id: str
    type: Literal["card", "bank"] = "card"
    brand: str | None = None
    first6: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    bank_last4: str | None = None
    is_default: bool = False


class Customer(_Model):
    id: str                         # cus_...
    merchant_id: str
    name: str
    email: str | None = None
    payment_methods: list[PaymentMethod] = Field(default_factory=list)

    def default_method(self) -> PaymentMethod | None:
        for pm in self.payment_methods:
            if pm.is_default:
                return pm
        return self.payment_methods[0] if self.payment_methods else None
