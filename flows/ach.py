"""ACH return checks: every ACH debit the gateway reports returned (R-code) has its Jobber payment
reversed, and the job that took it is flagged (report["flags"]; the job queue records them on
that job: robot/jobs/flags.py).

Reversal = a Refund recorded on the Jobber payment for what is left of it, with Details
"ACH return <R-code> (<reason>) · <txn id> · job <job id>". The mock (like Jobber) supports both
delete and refund; a refund keeps the payment and its history visible on the invoice, restores
the balance, and is found again by the next check, so it is never done twice.

Stages: gateway (list ACH debits) → record (per returned debit: refund in Jobber, read back).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.draft import Draft
from flows.invoice_stages import open_invoice
from flows.pages.details import details_match, details_text
from flows.tender import invoice_id_of, invoice_of, job_of
from robot.faultpoints import crash_point
from robot.gateway.errors import ACH_RETURN_CODES
from robot.gateway.models import TransactionKind
from robot.jobs.models import AchCheckJob, JobResult
from robot.money import fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["gateway", "record"]


class AchItem(BaseModel):
    txn_id: str
    status: str
    amount: str
    return_code: str | None = None
    invoice: int | None = None
    invoice_id: int | None = None
    origin_job: str | None = None


async def _debits(ctx: "FlowContext") -> list[AchItem]:
    out = []
    for txn in await ctx.gateway.list_transactions():
        if txn.kind is not TransactionKind.ach_debit:
            continue
        out.append(AchItem(txn_id=txn.id, status=txn.status.value, amount=f"{txn.amount:.2f}",
                           return_code=txn.return_code, invoice=invoice_of(txn.description),
                           invoice_id=invoice_id_of(txn.description),
                           origin_job=job_of(txn.reference)))
    return out


async def reverse_return(ctx: "FlowContext", item: AchItem) -> dict[str, Any]:
    """Refund in Jobber what is left of a returned debit's payment (looked at first, so never twice);
    also how `reconcile --repair` finishes a return an ACH check job did not get to."""
    base = {"transaction": item.txn_id, "invoice": item.invoice, "return_code": item.return_code,
            "origin_job": item.origin_job, "amount": item.amount}
    if item.invoice is None:
        return {**base, "result": "problem", "message": "the transaction names no Jobber invoice"}
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, item.invoice, item.invoice_id)
        for payment in await inv.payments():
            if not details_match(payment.details, item.txn_id):
                continue
            left = payment.amount  # what is still recorded (refunds edit the payment down)
            if left <= 0:
                return {**base, "result": "already_reversed", "payment_id": payment.id}
            reason = ACH_RETURN_CODES.get(item.return_code or "", "returned")
            page = await inv.payment_page(payment.id)
            await page.record_refund(f"return-{item.return_code or 'R'}", left,
                                     details_text(f"ACH return {item.return_code} ({reason})", item.txn_id,
                                                  item.origin_job or ctx.job_id), before_save=ctx.fence)
            crash_point("jobber:after_save")
            view = await (await open_invoice(ctx, tab, item.invoice, inv.invoice_id)).read()
            return {**base, "result": "reversed", "payment_id": payment.id, "reversed_amount": f"{left:.2f}",
                    "balance_after": f"{view.balance:.2f}", "status_after": view.status}
    return {**base, "result": "not_in_jobber"}


def flag_for(ctx: "FlowContext", r: dict[str, Any]) -> dict[str, str]:
    """The flag the job queue puts on the job that took a returned debit (robot/jobs/flags.py)."""
    reason = ACH_RETURN_CODES.get(r.get("return_code") or "", "returned")
    done = ("Jobber payment reversed by job" if r["result"] == "reversed"
            else "Jobber payment found already reversed by job")
    return {"job": r["origin_job"], "key": r["transaction"],
            "flag": f"ach_returned {r['return_code']} ({reason}) — {done} {ctx.job_id}"}


async def run(ctx: "FlowContext", job: AchCheckJob, draft: Draft) -> JobResult:
    debits = await ctx.step("gateway", lambda: _debits(ctx))
    returned = [d for d in debits if d.status == "returned"]
    report: dict[str, list[Any]] = {"reversed": [], "already_reversed": [], "not_in_jobber": [], "problems": [],
                                    "pending": [d.model_dump() for d in debits if d.status == "pending"],
                                    "settled": [d.model_dump() for d in debits if d.status == "settled"]}
    for item in returned:
        if job.dry_run:
            report["reversed"].append({"transaction": item.txn_id, "invoice": item.invoice, "result": "would_check"})
            continue
        done = await ctx.step("record", functools.partial(reverse_return, ctx, item))
        report[{"reversed": "reversed", "already_reversed": "already_reversed",
                "not_in_jobber": "not_in_jobber"}.get(done["result"], "problems")].append(done)
    draft.report.update(report)
    draft.report["flagged_jobs"] = sorted({r["origin_job"] for r in report["reversed"] + report["already_reversed"]
                                           if r.get("origin_job")})
    draft.report["flags"] = [flag_for(ctx, r) for r in report["reversed"] + report["already_reversed"]
                             if r.get("origin_job")]
    total = sum((Decimal(r["reversed_amount"]) for r in report["reversed"] if "reversed_amount" in r), Decimal("0.00"))
    summary = (f"{len(debits)} ACH debit(s): {len(report['pending'])} pending, {len(report['settled'])} settled, "
               f"{len(returned)} returned ({len(report['reversed'])} reversed now for {fmt(total)}, "
               f"{len(report['already_reversed'])} already reversed, "
               f"{len(report['not_in_jobber']) + len(report['problems'])} need a person)")
    if job.dry_run:
        return draft.result(Outcome.dry_run, "dry run: " + summary + "; nothing changed")
    if report["reversed"]:
        codes = ", ".join(f"{r['transaction']} {r['return_code']} (job {r['origin_job']})" for r in report["reversed"])
        return draft.result(Outcome.reversed, f"{summary}. Returned: {codes}; their Jobber payments were refunded "
                                              "and those jobs are flagged")
    return draft.result(Outcome.succeeded, summary)
