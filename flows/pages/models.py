"""What the page objects read off Jobber's pages, as typed models with Decimal money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel

from robot.money import Money


class PaymentRow(BaseModel):
    id: int
    kind: str = "payment"           # "payment" | "deposit"
    method: str                     # Jobber's label: "Credit card", "Bank transfer (deposit)", ...
    amount: Money
    date: dt.date | None = None
    details: str = ""
    refunded: Money = Decimal("0.00")   # refunds recorded by editing the payment down (read from Details)


class InvoiceView(BaseModel):
    id: int
    number: int
    subject: str = ""
    status: str                     # key: awaiting_payment, past_due, draft, paid, bad_debt, voided
    status_label: str
    client: str
    total: Money
    balance: Money
    can_collect_payment: bool
    payments: list[PaymentRow] = []


class InvoiceListRow(BaseModel):
    id: int
    number: int
    client: str
    subject: str = ""
    status: str
    status_label: str
    due_date: dt.date | None = None
    total: Money
    balance: Money


class ClientInvoice(BaseModel):
    id: int
    number: int
    issued_date: dt.date | None = None
    status: str
    status_label: str
    total: Money
    balance: Money

    @property
    def is_open(self) -> bool:
        return self.status in ("awaiting_payment", "past_due")


class QuoteView(BaseModel):
    id: int
    number: int
    status: str
    status_label: str
    total: Money
    deposits: list[PaymentRow] = []
