"""Estimate (quote) deposit: "Collect Deposit" on an Approved quote; refused on any other status.

Stages: verify → gateway → record → verify_after. The deposit may not exceed the quote total
minus the deposits already taken; Jobber carries it onto the invoice when the quote is converted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.draft import Draft
from flows.invoice_stages import check_amount
from flows.pages.details import details_match
from flows.pages.quote import QuotePage
from flows.pages.quotes import QuotesPage
from flows.tender import check_tender, earlier_charge, gateway_description, jobber_method, move_money, what_moved
from robot.errors import QuoteNotApproved
from robot.faultpoints import crash_point
from robot.jobs.models import JobResult, QuoteDepositJob
from robot.money import Money, fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "record", "verify_after"]


class QuoteTarget(BaseModel):
    quote: int
    quote_id: int
    status: str
    total: Money
    deposited: Money
    amount: Money


class DepositRead(BaseModel):
    deposited: Money
    payment_id: int | None = None


async def _open(ctx: "FlowContext", tab: Any, number: int, quote_id: int | None = None) -> QuotePage:
    if quote_id is not None:
        return await QuotePage(tab).open(quote_id)
    return await (await QuotesPage(tab).open()).open_quote(number)


async def run(ctx: "FlowContext", job: QuoteDepositJob, draft: Draft) -> JobResult:
    async def _verify() -> QuoteTarget:
        earlier = None if job.dry_run else await earlier_charge(ctx)  # this job took it already: runs again
        async with ctx.jobber.page() as tab:
            qp = await _open(ctx, tab, job.quote)
            view = await qp.read()
            if view.status != "approved":
                raise QuoteNotApproved(f"quote #{job.quote} is {view.status_label}: Jobber takes a deposit only on an "
                                       "Approved quote; the client must approve it first")
            await qp.require_collect_deposit()
        deposited = sum((d.amount for d in view.deposits), Decimal("0.00"))
        if earlier is not None:  # as before this job's deposit, which is recorded as it was taken
            mine = next((d for d in view.deposits if details_match(d.details, earlier.txn_id)), None)
            if mine is not None:
                deposited -= mine.amount
            return QuoteTarget(quote=view.number, quote_id=view.id, status=view.status, total=view.total,
                               deposited=deposited, amount=earlier.amount)
        left = view.total - deposited
        check_amount(job.amount, left, what=f"what is left of the quote total ({fmt(view.total)} less deposits)")
        return QuoteTarget(quote=view.number, quote_id=view.id, status=view.status, total=view.total,
                           deposited=deposited, amount=job.amount)

    target = await ctx.step("verify", _verify)
    draft.set(quote=target.quote, amount_requested=target.amount, status_before=target.status,
              balance_before=target.total - target.deposited)
    tender = job.tender
    if job.dry_run:
        how = await ctx.step("gateway_check", lambda: check_tender(ctx, tender))
        return draft.result(Outcome.dry_run, f"dry run: would take a {fmt(target.amount)} deposit on quote "
                                             f"#{target.quote} from {how}; nothing moved, nothing recorded")
    txn = await ctx.step("gateway", lambda: move_money(ctx, tender, target.amount,
                                                       gateway_description(ctx, quote=target.quote)))
    label, moved, details = what_moved(ctx, tender, txn)
    draft.money_moved = True
    draft.set(gateway_transaction_id=txn.id, gateway_status=txn.status.value, tender=label, amount_captured=moved)

    async def _record() -> int:
        async with ctx.jobber.page() as tab:
            qp = await _open(ctx, tab, target.quote, target.quote_id)
            for d in await qp.deposits():
                if details_match(d.details, txn.id):
                    return d.id
            deposit_id = await qp.collect_deposit(jobber_method(tender), moved, None, details, before_save=ctx.fence)
            crash_point("jobber:after_save")
            return deposit_id

    payment_id = await ctx.step("record", _record)
    draft.recorded = True
    draft.set(jobber_payment_id=payment_id)

    async def _after() -> DepositRead:
        async with ctx.jobber.page() as tab:
            view = await (await _open(ctx, tab, target.quote, target.quote_id)).read()
        mine = next((d for d in view.deposits if details_match(d.details, txn.id)), None)
        return DepositRead(deposited=sum((d.amount for d in view.deposits), Decimal("0.00")),
                           payment_id=mine.id if mine else None)

    after = await ctx.step("verify_after", _after)
    draft.set(balance_after=target.total - after.deposited, status_after=target.status)
    if after.payment_id is None or after.deposited != target.deposited + moved:
        return draft.result(Outcome.recorded_with_mismatch,
                            f"deposit {fmt(moved)} taken; Jobber shows {fmt(after.deposited)} deposited on quote "
                            f"#{target.quote}, expected {fmt(target.deposited + moved)}", error_code="amount_mismatch")
    outcome = Outcome.pending if tender.type == "ach_token" else Outcome.succeeded
    return draft.result(outcome, f"deposit of {fmt(moved)} taken and recorded on quote #{target.quote}; "
                                 f"{fmt(after.deposited)} deposited of {fmt(target.total)}")
