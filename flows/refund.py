"""Refund all or part of a gateway transaction and record the refund on its Jobber payment.

Stages: verify → gateway → record → verify_after.
verify: the transaction exists and has something left to refund (never more than captured
minus earlier refunds), and its Jobber payment is found by the transaction id in Details
(the invoice comes from the transaction's description).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.draft import Draft
from flows.invoice_stages import check_amount, open_invoice
from flows.pages.details import details_match, details_text
from flows.tender import invoice_id_of, invoice_of
from robot.errors import NothingToRefund, PaymentNotFound
from robot.faultpoints import crash_point
from robot.jobs.models import JobResult, RefundJob
from robot.money import Money, fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "record", "verify_after"]


class PaymentTarget(BaseModel):
    """A gateway transaction and the Jobber payment that carries its id."""

    txn_id: str
    txn_status: str
    tender: str
    captured: Money
    refundable: Money
    settled: bool = False
    amount: Money | None = None
    invoice: int | None = None
    invoice_id: int | None = None
    payment_id: int | None = None
    payment_amount: Money | None = None
    jobber_refunded: Money = Decimal("0.00")
    balance: Money | None = None
    status: str | None = None


async def find_payment(ctx: "FlowContext", txn: Any) -> PaymentTarget:
    target = PaymentTarget(txn_id=txn.id, txn_status=txn.status.value, tender=txn.tender.describe(),
                           captured=txn.captured, refundable=txn.refundable, settled=txn.settled,
                           invoice=invoice_of(txn.description), invoice_id=invoice_id_of(txn.description))
    if target.invoice is None:
        return target
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, target.invoice, target.invoice_id)
        view = await inv.read()
    target = target.model_copy(update={"invoice_id": view.id, "balance": view.balance, "status": view.status})
    for p in view.payments:
        if details_match(p.details, txn.id):
            return target.model_copy(update={"payment_id": p.id, "payment_amount": p.amount,
                                             "jobber_refunded": p.refunded})
    return target


def _refunded_through(txn: Any, refund_id: str) -> Decimal:
    """What the gateway had refunded on the transaction up to and including `refund_id` (its order)."""
    total = Decimal("0.00")
    for r in txn.refunds:
        total += r.amount
        if r.id == refund_id:
            break
    return total


def _before_own_refund(target: PaymentTarget, txn: Any, own: Any) -> PaymentTarget:
    """This job already refunded at the gateway (it runs again): refund nothing more, and take Jobber's
    figures as they were before that refund, so the record step's look (refunded so far + this
    refund) finds it when an earlier run recorded it, and records it once when none did."""
    if target.payment_id is None:
        raise PaymentNotFound(f"no Jobber payment carries {txn.id} in its Details"
                              + (f" on invoice #{target.invoice}" if target.invoice else "")
                              + f"; the gateway refunded {fmt(own.amount)} ({own.id}): record it by hand")
    recorded = target.jobber_refunded >= _refunded_through(txn, own.id)
    undo = own.amount if recorded else Decimal("0.00")
    return target.model_copy(update={
        "amount": own.amount, "jobber_refunded": target.jobber_refunded - undo,
        "balance": target.balance - undo if target.balance is not None else None})


async def run(ctx: "FlowContext", job: RefundJob, draft: Draft) -> JobResult:
    async def _verify() -> PaymentTarget:
        txn = await ctx.gateway.get_transaction(job.transaction_id)
        target = await find_payment(ctx, txn)
        own = next((r for r in txn.refunds if r.reference == ctx.key("gateway")), None)
        if own is not None:
            return _before_own_refund(target, txn, own)
        if target.refundable <= 0:
            raise NothingToRefund(f"transaction {txn.id} ({txn.status.value}) has nothing left to refund: "
                                  f"captured {fmt(txn.captured)}, refunded {fmt(txn.refunded)}")
        amount = target.refundable if job.amount is None else job.amount
        check_amount(amount, target.refundable, what="what is left to refund on this transaction")
        if target.payment_id is None:
            raise PaymentNotFound(f"no Jobber payment carries {txn.id} in its Details"
                                  + (f" on invoice #{target.invoice}" if target.invoice else "")
                                  + "; record the payment first (reconcile --repair), then refund")
        return target.model_copy(update={"amount": amount})

    target = await ctx.step("verify", _verify)
    assert target.amount is not None
    amount = target.amount
    draft.set(invoice=target.invoice, gateway_transaction_id=target.txn_id, tender=target.tender,
              amount_requested=amount, jobber_payment_id=target.payment_id, balance_before=target.balance,
              status_before=target.status)
    draft.report["refundable_before"] = f"{target.refundable:.2f}"
    if job.dry_run:
        return draft.result(Outcome.dry_run, f"dry run: would refund {fmt(amount)} of {target.txn_id} "
                                             f"({fmt(target.refundable)} refundable) and record it on Jobber payment "
                                             f"{target.payment_id} of invoice #{target.invoice}; nothing moved")

    async def _refund() -> Any:
        await ctx.fence()
        refund = await ctx.gateway.refund(target.txn_id, amount, idempotency_key=ctx.key("gateway"))
        crash_point("gateway:after_call")
        return refund

    refund = await ctx.step("gateway", _refund)
    draft.money_moved = True
    draft.set(amount_captured=refund.amount, gateway_status="refunded")
    draft.report["refund_id"] = refund.id

    async def _record() -> bool:
        async with ctx.jobber.page() as tab:
            inv = await open_invoice(ctx, tab, target.invoice or 0, target.invoice_id)
            payment = await inv.payment_page(target.payment_id or 0)
            # Jobber has no refund button: the payment is edited down and its Details name the
            # refund's id, which the look before the write searches for
            recorded = await payment.record_refund(
                refund.id, refund.amount, details_text(f"refund of {target.txn_id}", "gateway refund", ctx.job_id),
                before_save=ctx.fence)
            if recorded:
                crash_point("jobber:after_save")
            return not recorded

    existed = await ctx.step("record", _record)
    draft.recorded = True

    async def _after() -> PaymentTarget:
        txn = await ctx.gateway.get_transaction(target.txn_id)
        return await find_payment(ctx, txn)

    after = await ctx.step("verify_after", _after)
    draft.set(balance_after=after.balance, status_after=after.status)
    draft.report["refundable_after"] = f"{after.refundable:.2f}"
    draft.report["jobber_refunded"] = f"{after.jobber_refunded:.2f}"
    exp_balance = (target.balance or Decimal(0)) + refund.amount
    exp_refunded = target.jobber_refunded + refund.amount
    if after.balance != exp_balance or after.jobber_refunded != exp_refunded:
        return draft.result(Outcome.recorded_with_mismatch,
                            f"refunded {fmt(refund.amount)} at the gateway; Jobber shows refunded "
                            f"{fmt(after.jobber_refunded)} and balance {fmt(after.balance)}, expected "
                            f"{fmt(exp_refunded)} and {fmt(exp_balance)}", error_code="amount_mismatch")
    note = " (already recorded by an earlier run)" if existed else ""
    return draft.result(Outcome.succeeded,
                        f"refunded {fmt(refund.amount)} of {target.txn_id} and recorded it on invoice "
                        f"#{target.invoice}{note}; {fmt(after.refundable)} left to refund")


__all__ = ["PaymentTarget", "find_payment", "run"]
