"""The gateway side of a payment: move the money by the job's tender, check a tender in a dry
run, say what moved, and the description that ties a gateway transaction back to its Jobber
invoice and its job (refund, void, reconcile and the ACH check read it back).

`move_money` runs inside `ctx.step("gateway", ...)`: the idempotency key is the job's, so a
stage that runs twice moves the money once.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.pages.details import ACH_PENDING_NOTE, details_text
from robot.errors import FlowRefused
from robot.faultpoints import crash_point
from robot.gateway.models import TransactionKind, TransactionStatus
from robot.money import Money

if TYPE_CHECKING:
    from flows.runtime import FlowContext

_INVOICE_IN_DESC = re.compile(r"invoice #(\d+)")
_INVOICE_ID_IN_DESC = re.compile(r"invoice #\d+ \(id (\d+)\)")
_QUOTE_IN_DESC = re.compile(r"Jobber quote #(\d+)")


# --- the gateway's description and reference ------------------------------------------------


def gateway_description(ctx: "FlowContext", *, invoice: int | None = None, invoice_id: int | None = None,
                        quote: int | None = None) -> str:
    """What the gateway keeps with the transaction so refund/void/reconcile find the Jobber side.
    Jobber's invoice numbers need not be unique: its own id goes along with the number."""
    if invoice is not None:
        what = f"Jobber invoice #{invoice}" + (f" (id {invoice_id})" if invoice_id is not None else "")
    else:
        what = f"Jobber quote #{quote}"
    return f"{what} · job {ctx.job_id}"


def invoice_of(description: str) -> int | None:
    m = _INVOICE_IN_DESC.search(description or "")
    return int(m.group(1)) if m else None


def quote_of(description: str) -> int | None:
    """The quote a deposit was taken on (reconcile finds its Jobber side there)."""
    m = _QUOTE_IN_DESC.search(description or "")
    return int(m.group(1)) if m else None


def invoice_id_of(description: str) -> int | None:
    """The Jobber id of the invoice a transaction was for (None for older transactions)."""
    m = _INVOICE_ID_IN_DESC.search(description or "")
    return int(m.group(1)) if m else None


def job_of(reference: str | None) -> str | None:
    """The job id in a gateway reference (our idempotency key "<job id>:<step>")."""
    if not reference or ":" not in reference:
        return None
    return reference.rsplit(":", 1)[0]


# --- what moved -------------------------------------------------------------------------------


class EarlierCharge(BaseModel):
    """Money this job already moved at the gateway (found by its reference): the job runs again."""

    txn_id: str
    amount: Money
    invoice: int | None = None
    invoice_id: int | None = None


async def earlier_charge(ctx: "FlowContext") -> EarlierCharge | None:
    """The money this job's "gateway" stage already moved, if it did (a decline moved nothing)."""
    txn = await ctx.gateway.find_by_reference(ctx.key("gateway"))
    if txn is None or txn.status is TransactionStatus.declined:
        return None
    moved = txn.amount if txn.kind is TransactionKind.ach_debit else txn.captured
    return EarlierCharge(txn_id=txn.id, amount=moved, invoice=invoice_of(txn.description),
                         invoice_id=invoice_id_of(txn.description))


def tender_label(tender: Any, txn: Any | None = None, *, link_id: str | None = None) -> str:
    """Details' tender part: "Visa •••• 1111", "Bank •••• 6789", "terminal <id>", "link <id>"."""
    if link_id is not None:
        return f"link {link_id}"
    kind = getattr(tender, "type", None)
    if kind == "terminal":
        return f"terminal {tender.terminal_id}"
    if txn is not None:
        return str(txn.tender.describe())
    if kind == "ach_token":
        return "Bank"
    return "Card"


def what_moved(ctx: "FlowContext", tender: Any, txn: Any) -> tuple[str, Decimal, str]:
    """(tender label, amount moved, Details text) of a gateway money movement. An ACH debit has
    captured nothing yet (pending): its amount is what moves, and Details say it is pending."""
    label = tender_label(tender, txn)
    is_ach = getattr(tender, "type", None) == "ach_token"
    moved = txn.amount if is_ach else txn.captured
    return label, moved, details_text(txn.id, label, ctx.job_id, ACH_PENDING_NOTE if is_ach else None)


def jobber_method(tender: Any) -> str:
    return "bank_transfer" if getattr(tender, "type", None) == "ach_token" else "credit_card"


# --- moving it ----------------------------------------------------------------------------------


async def move_money(ctx: "FlowContext", tender: Any, amount: Decimal, description: str) -> Any:
    """Stage "gateway": one money movement by the job's tender, keyed by the job (idempotent)."""
    gw = ctx.gateway
    key = ctx.key("gateway")
    kind = tender.type
    await ctx.fence()  # a cancelled or taken-over run moves no money (the new owner uses the same key)
    if kind == "card_on_file":
        txn = await gw.charge_card_on_file(tender.customer_id, amount, idempotency_key=key,
                                           payment_method_id=tender.payment_method_id, description=description)
    elif kind == "card_token":
        txn = await gw.charge(tender.token, amount, idempotency_key=key, description=description)
    elif kind == "ach_token":
        txn = await gw.ach_debit(tender.token, amount, idempotency_key=key, description=description)
    elif kind == "terminal":
        request = await gw.terminal_push(tender.terminal_id, amount, idempotency_key=key)
        txn = await gw.terminal_result(request.id)
    else:  # pragma: no cover - the job model allows no other tender
        raise FlowRefused(f"unknown tender {kind!r}")
    crash_point("gateway:after_call")
    return txn


async def check_tender(ctx: "FlowContext", tender: Any) -> str:
    """Dry run: read-only checks of the tender at the gateway; returns how it would be charged."""
    kind = tender.type
    if kind == "card_on_file":
        customer = await ctx.gateway.get_customer(tender.customer_id)
        methods = customer.payment_methods
        pm = (next((m for m in methods if m.id == tender.payment_method_id), None)
              if tender.payment_method_id else customer.default_method())
        if pm is None:
            raise FlowRefused(f"customer {tender.customer_id} has no saved payment method"
                              + (f" {tender.payment_method_id}" if tender.payment_method_id else ""))
        return f"{pm.brand or 'Card'} •••• {pm.last4 or pm.bank_last4} on file for {customer.name}"
    if kind == "terminal":
        return f"terminal {tender.terminal_id}"
    if kind == "ach_token":
        return "bank account token (ACH debit)"
    return "card token"
