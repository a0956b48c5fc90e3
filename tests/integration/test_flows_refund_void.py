"""Refunds (full, partial, split) and voids, end to end; both sides checked through the admin APIs.

In Jobber a refund is the payment edited down with a Details line "Refund <refund id> $<amount>
(<note>)": a payment's `amount` is what is left of it, `refunded(payment)` what its lines add up to.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from robot.jobs.models import JobResult, Outcome
from tests.plugin_world import FlowWorld, refund_lines, refunded

pytestmark = pytest.mark.asyncio(loop_scope="session")

GARCIA = {"type": "card_on_file", "customer_id": "cus_garcia"}


async def _charge(world: FlowWorld, amount: str = "65.00") -> JobResult:
    r = await world.run({"kind": "charge", "invoice": 1070, "amount": amount, "tender": GARCIA})
    assert r.outcome is Outcome.succeeded, r.message
    return r


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_split_refunds_up_to_the_capture_then_one_more_is_refused(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world)
    txn_id = charge.gateway_transaction_id or ""
    first = await flow_world.run({"kind": "refund", "transaction_id": txn_id, "amount": "40.00"})
    assert first.outcome is Outcome.succeeded, first.message
    assert first.invoice == 1070 and first.jobber_payment_id == charge.jobber_payment_id
    assert first.balance_before == Decimal("935.00") and first.balance_after == Decimal("975.00")
    second = await flow_world.run({"kind": "refund", "transaction_id": txn_id, "amount": "25.00"})
    assert second.outcome is Outcome.succeeded, second.message
    assert second.balance_after == Decimal("1000.00")

    [_, payment] = flow_world.payments(1070)
    assert refunded(payment) == "65.00" and payment["amount"] == "0.00"  # refunded in full, still listed
    txn = flow_world.txn(txn_id)
    assert txn["refunded"] == "65.00" and txn["refundable"] == "0.00"
    lines = refund_lines(payment)
    assert [amount for _, amount, _ in lines] == ["40.00", "25.00"]
    assert [refund_id for refund_id, _, _ in lines] == [r["id"] for r in txn["refunds"]]
    assert all(txn_id in note for _, _, note in lines)

    more = await flow_world.run({"kind": "refund", "transaction_id": txn_id, "amount": "0.01"})
    assert more.outcome is Outcome.refused and more.error_code == "not_refundable"
    assert flow_world.txn(txn_id)["refunded"] == "65.00"
    after = flow_world.payments(1070)[1]
    assert refunded(after) == "65.00" and after["amount"] == "0.00" and len(refund_lines(after)) == 2


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
@pytest.mark.parametrize("amount", ["20.00", None])  # partial, and everything (nothing is left afterwards)
async def test_the_same_refund_job_run_again_neither_refunds_nor_records_twice(flow_world: FlowWorld,
                                                                               amount: str | None) -> None:
    charge = await _charge(flow_world)
    txn_id = charge.gateway_transaction_id or ""
    job = {"kind": "refund", "transaction_id": txn_id, "amount": amount}
    first = await flow_world.run(job, job_id="same-refund")
    # the process died after the record; the queue replays every stage
    again = await flow_world.run(job, job_id="same-refund")
    assert first.outcome is Outcome.succeeded, first.message
    assert again.outcome is Outcome.succeeded, again.message
    assert "already recorded" in again.message
    assert again.balance_before == first.balance_before and again.balance_after == first.balance_after
    refunded_amount = amount or "65.00"
    assert flow_world.txn(txn_id)["refunded"] == refunded_amount and len(flow_world.txn(txn_id)["refunds"]) == 1
    payment = flow_world.payments(1070)[1]
    assert refunded(payment) == refunded_amount and len(refund_lines(payment)) == 1
    assert Decimal(payment["amount"]) == Decimal("65.00") - Decimal(refunded_amount)


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_refund_recorded_by_the_run_again_after_jobber_failed(flow_world: FlowWorld) -> None:
    """The refund moved but Jobber went down before the record: running the job again records it once."""
    assert flow_world.site.admin is not None
    admin = flow_world.site.admin
    charge = await _charge(flow_world)
    txn_id = charge.gateway_transaction_id or ""

    async def jobber_down_before_record(name: str, fn):  # a StepRunner
        if name == "record":
            admin.faults(error_rate=1)
        return await fn()

    job = {"kind": "refund", "transaction_id": txn_id}
    broken = await flow_world.run(job, job_id="refund-resume", runner=jobber_down_before_record)
    assert broken.outcome is not Outcome.succeeded and "NOT recorded" in broken.message, broken.message
    unrecorded = flow_world.payments(1070)[1]
    assert flow_world.txn(txn_id)["refunded"] == "65.00"
    assert refunded(unrecorded) == "0.00" and unrecorded["amount"] == "65.00"
    admin.clear_faults()
    again = await flow_world.run(job, job_id="refund-resume")
    assert again.outcome is Outcome.succeeded, again.message
    recorded = flow_world.payments(1070)[1]
    assert refunded(recorded) == "65.00" and recorded["amount"] == "0.00" and len(refund_lines(recorded)) == 1
    assert len(flow_world.txn(txn_id)["refunds"]) == 1
    assert flow_world.invoice(1070)["balance"] == "1000.00"


async def test_refund_above_what_is_left_is_refused(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world)
    r = await flow_world.run({"kind": "refund", "transaction_id": charge.gateway_transaction_id, "amount": "65.01"})
    assert r.outcome is Outcome.refused and r.error_code == "amount_mismatch"
    assert flow_world.txn(charge.gateway_transaction_id or "")["refunded"] == "0.00"
    payment = flow_world.payments(1070)[1]
    assert refunded(payment) == "0.00" and payment["amount"] == "65.00"


async def test_full_refund_by_default(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world, "100.00")
    r = await flow_world.run({"kind": "refund", "transaction_id": charge.gateway_transaction_id})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.amount_captured == Decimal("100.00")
    assert flow_world.txn(charge.gateway_transaction_id or "")["status"] == "refunded"
    assert flow_world.invoice(1070)["balance"] == "1000.00"
    payment = flow_world.payments(1070)[1]
    assert refunded(payment) == "100.00" and payment["amount"] == "0.00"


async def test_void_before_settlement_voids_and_deletes_the_jobber_payment(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world)
    r = await flow_world.run({"kind": "void", "transaction_id": charge.gateway_transaction_id})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.balance_after == Decimal("1000.00")
    assert flow_world.txn(charge.gateway_transaction_id or "")["status"] == "voided"
    assert [p["details"] for p in flow_world.payments(1070)] == ["Check #2231"]
    assert flow_world.invoice(1070)["balance"] == "1000.00"


async def test_void_after_settlement_is_refused_and_says_refund(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world)
    flow_world.sandbox.admin.close_batch("acme")
    r = await flow_world.run({"kind": "void", "transaction_id": charge.gateway_transaction_id})
    assert r.outcome is Outcome.refused and r.error_code == "not_voidable"
    assert "refund" in r.message.lower()
    txn = flow_world.txn(charge.gateway_transaction_id or "")
    assert txn["status"] in ("captured", "settled") and txn["settled"] is True
    assert len(flow_world.payments(1070)) == 2 and flow_world.invoice(1070)["balance"] == "935.00"


async def test_refund_dry_run_moves_nothing(flow_world: FlowWorld) -> None:
    charge = await _charge(flow_world)
    r = await flow_world.run({"kind": "refund", "transaction_id": charge.gateway_transaction_id,
                              "amount": "10.00", "dry_run": True})
    assert r.outcome is Outcome.dry_run, r.message
    assert flow_world.txn(charge.gateway_transaction_id or "")["refunded"] == "0.00"
    payment = flow_world.payments(1070)[1]
    assert refunded(payment) == "0.00" and payment["amount"] == "65.00"
