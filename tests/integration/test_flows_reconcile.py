"""Reconcile: gateway transactions vs Jobber payments, matched by the transaction id in Details."""

from __future__ import annotations

from decimal import Decimal

import pytest

from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld, refund_lines, refunded

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_reconcile_reports_each_kind_of_drift_and_repair_records_the_missing(flow_world: FlowWorld) -> None:
    matched = await flow_world.run({"kind": "charge", "invoice": 1042,
                                    "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    skewed = await flow_world.run({"kind": "charge", "invoice": 1051,
                                   "tender": {"type": "card_on_file", "customer_id": "cus_okafor"}})
    assert matched.ok and skewed.ok
    # money moved at the gateway that never reached Jobber (e.g. recorded by hand elsewhere, or lost)
    gw = flow_world.gateway()
    try:
        lost = await gw.charge_card_on_file("cus_garcia", Decimal("80.00"), idempotency_key="manual-1",
                                            description="Jobber invoice #1070 · job manual-1")
    finally:
        await gw.aclose()
    # a person edits a payment and types an unknown transaction id in another
    flow_world.edit_by_hand(skewed.jobber_payment_id or 0, amount="90.00")
    flow_world.record_by_hand(1050, "CREDIT_CARD", "10.00", "txn_0000000000000000 · Visa •••• 1111 · job x")

    r = await flow_world.run({"kind": "reconcile"})
    assert r.outcome is Outcome.succeeded and r.error_code == "reconcile_drift", r.message
    rep = r.report
    assert [m["transaction"] for m in rep["matched"]] == [matched.gateway_transaction_id]
    assert [m["transaction"] for m in rep["missing_in_jobber"]] == [lost.id]
    assert [m["transaction"] for m in rep["unknown_in_jobber"]] == ["txn_0000000000000000"]
    [mis] = rep["amount_mismatch"]
    assert mis["transaction"] == skewed.gateway_transaction_id
    assert (mis["gateway_net"], mis["jobber_net"]) == ("95.50", "90.00")
    assert len(flow_world.payments(1070)) == 1  # a report changes nothing

    fixed = await flow_world.run({"kind": "reconcile", "repair": True})
    assert [x["transaction"] for x in fixed.report["repaired"]] == [lost.id]
    [_, repaired] = flow_world.payments(1070)
    assert repaired["amount"] == "80.00" and repaired["details"].startswith(f"{lost.id} · Visa •••• 1111")
    assert flow_world.invoice(1070)["balance"] == "920.00"

    again = await flow_world.run({"kind": "reconcile", "repair": True})
    assert again.report["missing_in_jobber"] == [] and again.report.get("repaired") == []
    assert len(flow_world.payments(1070)) == 2
    assert len(flow_world.txns()) == 3  # reconcile never moves money


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_repair_deletes_the_jobber_payment_of_a_transaction_voided_after_it_was_recorded(
        flow_world: FlowWorld) -> None:
    """Found by the 200-job soak: a void job that voided at the gateway and then lost Jobber left the
    payment in Jobber, and `reconcile --repair` (the runbook's end of a bad day) did not fix it."""
    charged = await flow_world.run({"kind": "charge", "invoice": 1042,
                                    "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    assert charged.ok and len(flow_world.payments(1042)) == 1
    gw = flow_world.gateway()
    try:
        await gw.void(charged.gateway_transaction_id or "", idempotency_key="void-by-hand")
    finally:
        await gw.aclose()
    report = (await flow_world.run({"kind": "reconcile"})).report
    assert [m["transaction"] for m in report["amount_mismatch"]] == [charged.gateway_transaction_id]

    fixed = await flow_world.run({"kind": "reconcile", "repair": True})
    assert [(x["transaction"], x["repair"]) for x in fixed.report["repaired"]] == [
        (charged.gateway_transaction_id, "deleted")]
    assert flow_world.payments(1042) == [] and fixed.report["amount_mismatch"] == []
    assert flow_world.invoice(1042)["balance"] == flow_world.invoice(1042)["total"]

    again = await flow_world.run({"kind": "reconcile", "repair": True})
    assert again.report["repaired"] == [] and again.report["amount_mismatch"] == []


async def test_repair_records_a_refund_the_gateway_made_and_jobber_does_not_show(flow_world: FlowWorld) -> None:
    """Found by the 200-job soak: a refund job that refunded at the gateway and then lost Jobber left
    the payment at its full amount, and `reconcile --repair` did not fix it."""
    charged = await flow_world.run({"kind": "charge", "invoice": 1042,
                                    "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    assert charged.ok
    gw = flow_world.gateway()
    try:
        refund = await gw.refund(charged.gateway_transaction_id or "", Decimal("1.00"), idempotency_key="by-hand")
    finally:
        await gw.aclose()
    [payment] = flow_world.payments(1042)
    fixed = await flow_world.run({"kind": "reconcile", "repair": True})
    [row] = fixed.report["repaired"]
    assert (row["transaction"], row["repair"], row["refunds"]) == (charged.gateway_transaction_id, "refunds recorded",
                                                                   [refund.id])
    [after] = flow_world.payments(1042)
    assert Decimal(after["amount"]) == Decimal(payment["amount"]) - Decimal("1.00") and refund.id in after["details"]
    again = await flow_world.run({"kind": "reconcile", "repair": True})
    assert again.report["repaired"] == [] and again.report["amount_mismatch"] == []


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_repair_reverses_a_returned_ach_debit_whose_jobber_payment_still_shows_the_money(
        flow_world: FlowWorld) -> None:
    """Found by the short soak: an ACH check job that failed under faults left a returned debit's
    payment in Jobber at its full amount, and `reconcile --repair` (the runbook) did not reverse it;
    the invoice showed money the merchant never got."""
    token = await flow_world.bank_token()
    debit = await flow_world.run({"kind": "charge", "invoice": 1070, "amount": "300.00",
                                  "tender": {"type": "ach_token", "token": token}})
    assert debit.outcome is Outcome.pending, debit.message
    flow_world.sandbox.admin.ach_return(debit.gateway_transaction_id, "R01")
    seen = await flow_world.run({"kind": "reconcile"})
    assert [m["transaction"] for m in seen.report["amount_mismatch"]] == [debit.gateway_transaction_id]
    assert flow_world.invoice(1070)["balance"] == "700.00"  # a look changes nothing

    fixed = await flow_world.run({"kind": "reconcile", "repair": True})
    [row] = fixed.report["repaired"]
    assert (row["transaction"], row["repair"], row["reversed_amount"]) == (
        debit.gateway_transaction_id, "reversed", "300.00")
    assert fixed.report["amount_mismatch"] == []
    [_, payment] = flow_world.payments(1070)
    assert payment["amount"] == "0.00" and refunded(payment) == "300.00"
    [(_, _, note)] = refund_lines(payment)
    assert "ACH return R01" in note and debit.gateway_transaction_id in note
    assert flow_world.invoice(1070)["balance"] == "1000.00"
    assert [f["job"] for f in fixed.report["flags"]] == [debit.job_id]  # the job that took it is flagged

    again = await flow_world.run({"kind": "reconcile", "repair": True})
    assert again.report["repaired"] == [] and again.report["amount_mismatch"] == []
    check = await flow_world.run({"kind": "ach_check"})  # the ACH check agrees: nothing left to do
    assert check.outcome is Outcome.succeeded and len(check.report["already_reversed"]) == 1


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_repair_records_a_quote_deposit_taken_at_the_gateway_and_lost_on_the_way_to_jobber(
        flow_world: FlowWorld) -> None:
    """Found by the 200-job soak in CI: a quote deposit taken at the gateway whose job then lost
    Jobber (session ended during the record step) stayed unrecorded: reconcile read invoices only,
    so it listed the deposit as missing and `--repair` could not record it (no invoice named)."""
    taken = await flow_world.run({"kind": "quote_deposit", "quote": 12, "amount": "25.00",
                                  "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    assert taken.ok, taken.message
    gw = flow_world.gateway()
    try:  # the deposit a job took and never recorded (its job ended unavailable)
        lost = await gw.charge_card_on_file("cus_chen", Decimal("10.00"), idempotency_key="qd-lost:gateway",
                                            description="Jobber quote #12 · job qd-lost")
    finally:
        await gw.aclose()
    seen = await flow_world.run({"kind": "reconcile"})
    assert [m["transaction"] for m in seen.report["matched"]] == [taken.gateway_transaction_id]  # read on the quote
    assert [m["transaction"] for m in seen.report["missing_in_jobber"]] == [lost.id]
    assert len(flow_world.quote(12)["deposits"]) == 1

    fixed = await flow_world.run({"kind": "reconcile", "repair": True})
    assert [(x["transaction"], x["repair"]) for x in fixed.report["repaired"]] == [(lost.id, "recorded")]
    deposits = flow_world.quote(12)["deposits"]
    assert sorted(d["amount"] for d in deposits) == ["10.00", "25.00"]
    assert any(d["details"].startswith(lost.id) for d in deposits)

    again = await flow_world.run({"kind": "reconcile", "repair": True})
    assert again.report["repaired"] == [] and again.report["missing_in_jobber"] == []
    assert len(flow_world.quote(12)["deposits"]) == 2
