"""The Details text contract: how a Jobber payment's Details name the money behind it.

Jobber keeps no reference of ours on a payment; its free-text Details field is the one place the
robot can leave one. Everything that writes a payment (record, refund, void, ACH reversal,
reconcile's repair) writes it here, and every look before a write reads it back here, so the two
never drift apart:

    <txn id> · <tender> · job <job id>[ · <note>]        the payment
    Refund <refund id> $<amount> (<note>)                one line per refund (the payment is edited down)

A payment is found by its transaction (or refund) id as a whole word, case-insensitively.
"""

from __future__ import annotations

import re
from decimal import Decimal

SEP = " · "
ACH_PENDING_NOTE = "ACH debit pending settlement"

#: The line a refund adds to the payment's Details; its amount is read back from it.
REFUND_LINE = "Refund {refund_id} {amount} ({note})"
_REFUND_AMOUNT = re.compile(r"^Refund \S+ \$?(\d[\d,]*\.\d{2})\b", re.M)
#: a gateway-style id ("txn_…") at the start of Details: the transaction a payment records
_TXN_AT_START = re.compile(r"^\s*([A-Za-z]+_[A-Za-z0-9]+)\b")


def details_text(txn_id: str, tender: str, job_id: str, note: str | None = None) -> str:
    """Details = "<txn id> · <tender> · job <job id>" (+ " · <note>")."""
    parts = [txn_id, tender, f"job {job_id}"]
    if note:
        parts.append(note)
    return SEP.join(parts)


def refund_line(refund_id: str, amount: Decimal, note: str) -> str:
    """The line a refund of `amount` adds to its payment's Details."""
    return REFUND_LINE.format(refund_id=refund_id, amount=f"${amount:,.2f}", note=note)


def details_match(details: str, text: str) -> bool:
    """Whether Details carry `text` (a transaction or refund id) as a whole word: the look before
    every write must not take "txn_12" for "txn_1", or a payment would go unrecorded after the
    money moved."""
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(text)}(?![A-Za-z0-9_])"
    return re.search(pattern, details, re.IGNORECASE) is not None


def transaction_of(details: str | None) -> str | None:
    """The gateway transaction id a payment's Details start with (None for a payment a person
    recorded without one)."""
    m = _TXN_AT_START.match(details or "")
    return m.group(1) if m else None


def refunded_in(details: str) -> Decimal:
    """The sum of the refunds recorded in a payment's Details."""
    return sum((Decimal(m.group(1).replace(",", "")) for m in _REFUND_AMOUNT.finditer(details)), Decimal("0.00"))
