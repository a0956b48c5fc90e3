"""Deposits on invoices (several until Paid) and deposits on quotes (Approved only)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld

pytestmark = pytest.mark.asyncio(loop_scope="session")

OKAFOR = {"type": "card_on_file", "customer_id": "cus_okafor"}
CHEN = {"type": "card_on_file", "customer_id": "cus_chen"}


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_partial_deposits_until_the_invoice_is_paid(flow_world: FlowWorld) -> None:
    first = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "100.00", "tender": OKAFOR})
    assert first.outcome is Outcome.succeeded, first.message
    assert first.balance_after == Decimal("120.00") and "$120.00 left" in first.message
    assert flow_world.invoice(1050)["status"] == "awaiting_payment"
    too_much = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "120.01", "tender": OKAFOR})
    assert too_much.outcome is Outcome.refused and too_much.error_code == "amount_mismatch"
    last = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "120.00", "tender": OKAFOR})
    assert last.outcome is Outcome.succeeded, last.message
    assert last.status_after == "paid" and "now Paid" in last.message
    inv = flow_world.invoice(1050)
    assert inv["status"] == "paid" and [p["amount"] for p in inv["payments"]] == ["100.00", "120.00"]
    assert [t["captured"] for t in flow_world.txns()] == ["100.00", "120.00"]


async def test_quote_deposit_on_an_approved_quote(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "quote_deposit", "quote": 12, "amount": "100.00", "tender": CHEN})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.quote == 12 and r.balance_after == Decimal("300.00")
    [deposit] = flow_world.quote(12)["deposits"]
    assert deposit["amount"] == "100.00" and r.gateway_transaction_id in deposit["details"]
    assert flow_world.txn(r.gateway_transaction_id or "")["captured"] == "100.00"


async def test_quote_deposit_run_again_takes_and_records_it_once(flow_world: FlowWorld) -> None:
    job = {"kind": "quote_deposit", "quote": 12, "amount": "150.00", "tender": CHEN}
    first = await flow_world.run(job, job_id="deposit-again")
    again = await flow_world.run(job, job_id="deposit-again")  # as the queue resumes it
    assert first.outcome is Outcome.succeeded, first.message
    assert again.outcome is Outcome.succeeded, again.message
    assert again.gateway_transaction_id == first.gateway_transaction_id
    assert again.balance_after == first.balance_after == Decimal("250.00")
    assert [d["amount"] for d in flow_world.quote(12)["deposits"]] == ["150.00"]
    assert [t["captured"] for t in flow_world.txns()] == ["150.00"]


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
@pytest.mark.parametrize("quote", [13, 14])  # Draft, Awaiting Response
async def test_quote_deposit_refused_unless_approved(flow_world: FlowWorld, quote: int) -> None:
    r = await flow_world.run({"kind": "quote_deposit", "quote": quote, "amount": "50.00", "tender": CHEN})
    assert r.outcome is Outcome.refused and r.error_code == "quote_not_approved"
    assert "Approved" in r.message
    assert flow_world.quote(quote)["deposits"] == [] and flow_world.txns() == []
