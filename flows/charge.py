"""Charge an invoice by any tender: card on file, keyed card token, keyed ACH token, terminal.

Stages: verify → gateway → record → verify_after.
- ACH: the debit starts pending; it is recorded at once as Bank Transfer with a note and the job
  ends `pending`. A later return (R-code) is handled by flows/ach.py (`ach-check`).
- Terminal: the gateway long-polls until the customer answers; only an approval is recorded.
  Decline / cancel / timeout / offline / busy raise the gateway's typed errors, which the
  service turns into that outcome: nothing is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.draft import Draft
from flows.invoice_stages import record_and_verify, resolve_and_verify
from flows.tender import check_tender, gateway_description, jobber_method, move_money, what_moved
from robot.jobs.models import ChargeJob, DepositJob, JobResult
from robot.money import fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "record", "verify_after"]


async def run(ctx: "FlowContext", job: ChargeJob | DepositJob, draft: Draft, *, what: str = "charge") -> JobResult:
    target = await resolve_and_verify(ctx, draft, job.invoice, job.client, job.amount, moves_money=not job.dry_run)
    assert target.amount is not None
    amount = target.amount
    tender = job.tender
    is_ach = tender.type == "ach_token"
    if job.dry_run:
        how = await ctx.step("gateway_check", lambda: check_tender(ctx, tender))
        draft.set(tender=how)
        draft.report["would"] = {"charge": f"{amount:.2f}", "tender": how, "invoice": target.invoice,
                                 "record_method": jobber_method(tender)}
        return draft.result(Outcome.dry_run,
                            f"dry run: every check passed. Would {what} {fmt(amount)} to {how} and record it on "
                            f"invoice #{target.invoice} (balance {fmt(target.balance)} → "
                            f"{fmt(target.balance - amount if target.balance is not None else None)}); "
                            "no money moved, nothing recorded")
    description = gateway_description(ctx, invoice=target.invoice, invoice_id=target.invoice_id)
    txn = await ctx.step("gateway", lambda: move_money(ctx, tender, amount, description))
    label, moved, details = what_moved(ctx, tender, txn)
    draft.money_moved = True
    draft.set(gateway_transaction_id=txn.id, gateway_status=txn.status.value, tender=label,
              amount_captured=moved, currency=txn.currency)
    if is_ach:
        return await record_and_verify(
            ctx, draft, target, txn_id=txn.id, method="bank_transfer", amount=moved, details=details,
            success=Outcome.pending,
            success_message=(f"ACH debit of {fmt(moved)} accepted (pending settlement) and recorded on invoice "
                             f"#{target.invoice} as Bank Transfer; a return will reverse it (ach-check)"))
    return await record_and_verify(ctx, draft, target, txn_id=txn.id, method="credit_card", amount=moved,
                                   details=details)
