"""Void a transaction before its batch settles, and delete its payment in Jobber.

Stages: verify → gateway → record → verify_after.
After settlement the gateway can no longer void: the job is refused and says to refund instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flows.draft import Draft
from flows.invoice_stages import open_invoice
from flows.pages.details import details_match
from flows.refund import PaymentTarget, find_payment
from robot.errors import NotVoidable, VoidRefused
from robot.faultpoints import crash_point
from robot.gateway.models import TransactionStatus
from robot.jobs.models import JobResult, VoidJob
from robot.money import fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "record", "verify_after"]

_VOIDABLE = (TransactionStatus.authorized, TransactionStatus.captured, TransactionStatus.pending)


def _refuse_settled(txn_id: str, status: str) -> VoidRefused:
    return VoidRefused(f"transaction {txn_id} is {status}: its batch has settled, so it can no longer be voided. "
                       f"Refund it instead: jobber-robot refund --merchant <merchant> --transaction {txn_id}")


async def run(ctx: "FlowContext", job: VoidJob, draft: Draft) -> JobResult:
    async def _verify() -> PaymentTarget:
        txn = await ctx.gateway.get_transaction(job.transaction_id)
        target = await find_payment(ctx, txn)
        if txn.status is TransactionStatus.voided:
            return target  # an earlier run voided it; the Jobber side is finished below
        if txn.settled or txn.status not in _VOIDABLE:
            raise _refuse_settled(txn.id, "settled" if txn.settled else txn.status.value)
        return target

    target = await ctx.step("verify", _verify)
    draft.set(invoice=target.invoice, gateway_transaction_id=target.txn_id, tender=target.tender,
              amount_requested=target.captured, jobber_payment_id=target.payment_id,
              balance_before=target.balance, status_before=target.status)
    if job.dry_run:
        where = (f"delete Jobber payment {target.payment_id} on invoice #{target.invoice}"
                 if target.payment_id else "find no Jobber payment to delete")
        return draft.result(Outcome.dry_run, f"dry run: would void {target.txn_id} ({fmt(target.captured)}) and "
                                             f"{where}; nothing moved")

    async def _void() -> Any:
        await ctx.fence()
        try:
            voided = await ctx.gateway.void(target.txn_id, idempotency_key=ctx.key("gateway"))
        except NotVoidable:
            raise _refuse_settled(target.txn_id, "settled") from None
        crash_point("gateway:after_call")
        return voided

    txn = await ctx.step("gateway", _void)
    draft.money_moved = True
    draft.set(gateway_status=txn.status.value, amount_captured=target.captured)

    async def _delete() -> bool:
        if target.invoice is None:
            return False
        async with ctx.jobber.page() as tab:
            inv = await open_invoice(ctx, tab, target.invoice, target.invoice_id)
            for payment in await inv.payments():
                if details_match(payment.details, target.txn_id):  # the same look every flow uses
                    await (await inv.payment_page(payment.id)).delete(before_save=ctx.fence)
                    crash_point("jobber:after_save")
                    return True
        return False  # nothing to delete (an earlier run did it, or it was never recorded)

    await ctx.step("record", _delete)
    draft.recorded = True

    async def _after() -> PaymentTarget:
        return await find_payment(ctx, await ctx.gateway.get_transaction(target.txn_id))

    after = await ctx.step("verify_after", _after)
    draft.set(balance_after=after.balance, status_after=after.status, gateway_status=after.txn_status)
    if target.payment_id is None:
        return draft.result(Outcome.succeeded, f"voided {target.txn_id} ({fmt(target.captured)}); no Jobber payment "
                                               "carried its id, so nothing was deleted in Jobber")
    paid_back = target.payment_amount or Decimal(0)
    exp_balance = (target.balance or Decimal(0)) + paid_back  # what is left of it (refunds edited it down)
    if after.payment_id is not None or after.balance != exp_balance:
        return draft.result(Outcome.recorded_with_mismatch,
                            f"voided {target.txn_id}; Jobber shows balance {fmt(after.balance)}"
                            f"{' and the payment still listed' if after.payment_id else ''}, expected "
                            f"{fmt(exp_balance)} with the payment deleted", error_code="amount_mismatch")
    return draft.result(Outcome.succeeded, f"voided {target.txn_id} ({fmt(target.captured)}) and deleted its payment "
                                           f"on invoice #{target.invoice}; balance {fmt(target.balance)} → "
                                           f"{fmt(after.balance)}")
