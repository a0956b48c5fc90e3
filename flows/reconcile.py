"""Reconcile a merchant: gateway transactions vs Jobber payments for a period.

Matched by the transaction id at the start of a payment's Details. Categories:
- matched: both sides, same net amount (captured − refunded vs what is left of the payment, refunds
  being recorded by editing it down);
- missing_in_jobber: money moved at the gateway, no Jobber payment carries its id;
- unknown_in_jobber: a Jobber payment carries a gateway-style id the gateway does not know
  (for the period);
- amount_mismatch: both sides, different net amounts.
`repair` finishes what a job left half done, each fix a stage "record", looking before it writes:
records a missing one on the invoice named in the transaction's description; deletes the payment
of a voided transaction; records refunds the payment does not show; reverses the payment of a
returned ACH debit as the ACH check does (and flags the job that took it).

Stages: gateway (list transactions) → jobber (list payments) → record (per repair).
Jobber's side is read from every invoice that has had money applied (balance below total, or
Paid); a payment netting to $0 on an otherwise unpaid invoice is not read (it matters to
neither side of the comparison). Deposits are read on the quotes the gateway's deposits name,
and a missing one is recorded on its quote.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.ach import AchItem, flag_for, reverse_return
from flows.draft import Draft
from flows.invoice_stages import OPEN_STATUSES, Target, open_invoice, record_payment
from flows.pages.details import details_match, details_text, transaction_of
from flows.pages.invoice import InvoicePage
from flows.pages.invoices import InvoicesPage
from flows.pages.quote import QuotePage
from flows.pages.quotes import QuotesPage
from flows.tender import invoice_of, job_of, quote_of
from robot.faultpoints import crash_point
from robot.gateway.models import TransactionKind, TransactionStatus
from robot.jobs.models import JobResult, ReconcileJob
from robot.money import Money, fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["gateway", "jobber", "record"]
_NO_MONEY = (TransactionStatus.declined, TransactionStatus.authorized, TransactionStatus.voided)


class GwTxn(BaseModel):
    id: str
    kind: str
    status: str
    net: Money
    captured: Money
    refunded: Money
    tender: str
    created: date
    invoice: int | None = None
    quote: int | None = None
    origin_job: str | None = None


class JbPayment(BaseModel):
    invoice: int | None  # None: a deposit on `quote`
    invoice_id: int | None
    payment_id: int
    txn_id: str | None
    method: str
    amount: Money
    refunded: Money
    net: Money
    date: date | None
    details: str
    quote: int | None = None


def _in_period(d: date | None, since: date | None, until: date | None) -> bool:
    if d is None:
        return True
    return (since is None or d >= since) and (until is None or d <= until)


async def _gateway_side(ctx: "FlowContext", since: date | None, until: date | None) -> list[GwTxn]:
    start = datetime.combine(since, time.min, UTC) if since else None
    end = datetime.combine(until, time.max, UTC) if until else None
    out = []
    for t in await ctx.gateway.list_transactions(since=start, until=end):
        if t.status is TransactionStatus.declined or (t.kind is TransactionKind.authorization and t.status is TransactionStatus.authorized):
            continue
        money_kept = t.status not in _NO_MONEY and t.status is not TransactionStatus.returned
        captured = t.amount if t.status is TransactionStatus.pending else t.captured
        net = (captured - t.refunded) if money_kept else Decimal("0.00")
        label = f"terminal {t.tender.terminal_id}" if t.kind is TransactionKind.terminal_sale else t.tender.describe()
        out.append(GwTxn(id=t.id, kind=t.kind.value, status=t.status.value, net=max(net, Decimal("0.00")),
                         captured=captured, refunded=t.refunded, tender=label, created=t.created_at.date(),
                         invoice=invoice_of(t.description), quote=quote_of(t.description),
                         origin_job=job_of(t.reference)))
    return out


async def _jobber_side(ctx: "FlowContext", since: date | None, until: date | None,
                       quotes: list[int] | None = None) -> list[JbPayment]:
    out = []
    async with ctx.jobber.page() as tab:
        listed = await QuotesPage(tab).open() if quotes else None
        ids = {number: await listed.find_id(number) for number in quotes or []} if listed else {}
        for number, quote_id in ids.items():  # the list read once, then each quote
            for d in await (await QuotePage(tab).open(quote_id)).deposits():
                if _in_period(d.date, since, until):
                    out.append(JbPayment(invoice=None, invoice_id=None, quote=number, payment_id=d.id,
                                         txn_id=transaction_of(d.details), method=d.method, amount=d.amount,
                                         refunded=d.refunded, net=d.amount, date=d.date, details=d.details))
        rows = await (await InvoicesPage(tab).open()).rows()
        for row in rows:
            if row.status == "draft" or (row.balance == row.total and row.status != "paid"):
                continue  # nothing paid on it (a payment netting to $0 matters to neither side)
            view = await (await InvoicePage(tab).open(row.id)).read()
            for p in view.payments:
                if not _in_period(p.date, since, until):
                    continue
                out.append(JbPayment(invoice=view.number, invoice_id=view.id, payment_id=p.id,
                                     txn_id=transaction_of(p.details), method=p.method, amount=p.amount,
                                     refunded=p.refunded, net=p.amount, date=p.date, details=p.details))
    return out


def compare(txns: list[GwTxn], payments: list[JbPayment]) -> dict[str, list[dict[str, Any]]]:
    by_txn: dict[str, list[JbPayment]] = {}
    for p in payments:
        if p.txn_id:
            by_txn.setdefault(p.txn_id, []).append(p)
    known = {t.id for t in txns}
    report: dict[str, list[dict[str, Any]]] = {"matched": [], "missing_in_jobber": [], "unknown_in_jobber": [],
                                               "amount_mismatch": []}
    for t in txns:
        found = by_txn.get(t.id, [])
        row: dict[str, Any] = {"transaction": t.id, "status": t.status, "tender": t.tender, "invoice": t.invoice,
               "quote": t.quote, "gateway_net": f"{t.net:.2f}", "origin_job": t.origin_job, "date": t.created.isoformat()}
        if not found:
            if t.net > 0:
                report["missing_in_jobber"].append(row)
            continue
        jobber_net = sum((p.net for p in found), Decimal("0.00"))
        row.update({"jobber_net": f"{jobber_net:.2f}", "jobber_invoice": found[0].invoice,
                    "payment_ids": [p.payment_id for p in found]})
        report["matched" if jobber_net == t.net and len(found) == 1 else "amount_mismatch"].append(row)
    for p in payments:
        if p.txn_id and p.txn_id not in known:
            report["unknown_in_jobber"].append({"transaction": p.txn_id, "invoice": p.invoice,
                                                "payment_id": p.payment_id, "jobber_net": f"{p.net:.2f}",
                                                "date": p.date.isoformat() if p.date else None})
    return report


def _method_of(row: dict[str, Any]) -> str:
    """Jobber's payment method for a gateway transaction's tender."""
    return "bank_transfer" if row["tender"].lower().startswith("bank") else "credit_card"


async def _record_deposit(ctx: "FlowContext", row: dict[str, Any]) -> dict[str, Any]:
    """A deposit taken at the gateway and never recorded on its quote: recorded as the quote
    deposit flow records it, looking at the quote's deposits first."""
    amount = Decimal(row["gateway_net"])
    method = _method_of(row)
    async with ctx.jobber.page() as tab:
        qp = await (await QuotesPage(tab).open()).open_quote(row["quote"])
        for d in await qp.deposits():
            if details_match(d.details, row["transaction"]):
                return {**row, "repair": "recorded", "payment_id": d.id}  # an earlier run did it
        deposit_id = await qp.collect_deposit(method, amount, date.fromisoformat(row["date"]), details_text(
            row["transaction"], row["tender"], row.get("origin_job") or ctx.job_id, "recorded by reconcile"),
            before_save=ctx.fence)
        crash_point("jobber:after_save")
    return {**row, "repair": "recorded", "payment_id": deposit_id}


async def _repair_one(ctx: "FlowContext", row: dict[str, Any]) -> dict[str, Any]:
    inv_number = row.get("invoice")
    if inv_number is None and row.get("quote") is not None:
        return await _record_deposit(ctx, row)
    if inv_number is None:
        return {**row, "repair": "no invoice named in the transaction's description; record it by hand"}
    async with ctx.jobber.page() as tab:
        view = await (await open_invoice(ctx, tab, inv_number)).read()
    amount = Decimal(row["gateway_net"])
    if view.status not in OPEN_STATUSES or amount > view.balance:
        return {**row, "repair": f"invoice #{inv_number} is {view.status_label} with balance {fmt(view.balance)}; "
                                 "not recorded, a person must look"}
    target = Target(invoice=view.number, invoice_id=view.id, status=view.status, balance=view.balance, amount=amount)
    method = _method_of(row)
    rec = await record_payment(ctx, target, txn_id=row["transaction"], method=method, amount=amount,
                               details=details_text(row["transaction"], row["tender"], row.get("origin_job") or ctx.job_id,
                                                    "recorded by reconcile"),
                               date_=date.fromisoformat(row["date"]))
    return {**row, "repair": "recorded", "payment_id": rec.payment_id}


async def _finish_void(ctx: "FlowContext", row: dict[str, Any]) -> dict[str, Any]:
    """A transaction voided at the gateway whose Jobber payment is still there (the void job lost
    Jobber after the void): delete that payment, as the void flow does, looking first."""
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, row["jobber_invoice"])
        for payment in await inv.payments():
            if details_match(payment.details, row["transaction"]):
                await (await inv.payment_page(payment.id)).delete(before_save=ctx.fence)
                crash_point("jobber:after_save")
                return {**row, "repair": "deleted", "payment_id": payment.id}
    return {**row, "repair": "deleted"}  # an earlier run did it


async def _finish_refunds(ctx: "FlowContext", row: dict[str, Any]) -> dict[str, Any]:
    """A transaction refunded at the gateway whose Jobber payment does not show every refund (the
    refund job lost Jobber after the refund): each refund not named in the payment's Details is
    recorded as the refund flow records it (the payment edited down, the refund's id in Details)."""
    txn = await ctx.gateway.get_transaction(row["transaction"])
    recorded = []
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, row["jobber_invoice"])
        for payment in await inv.payments():
            if not details_match(payment.details, row["transaction"]):
                continue
            page = await inv.payment_page(payment.id)
            for refund in txn.refunds:
                if await page.record_refund(refund.id, refund.amount, details_text(
                        f"refund of {txn.id}", "gateway refund", ctx.job_id, "recorded by reconcile"),
                        before_save=ctx.fence):
                    crash_point("jobber:after_save")
                    recorded.append(refund.id)
            return {**row, "repair": "refunds recorded", "payment_id": payment.id, "refunds": recorded}
    return {**row, "repair": "no Jobber payment names the transaction; a person must look"}


async def _finish_return(ctx: "FlowContext", row: dict[str, Any]) -> dict[str, Any]:
    """A returned ACH debit whose Jobber payment still shows money (the ACH check job that should
    have reversed it failed): reversed as that job would have, by the same code."""
    item = AchItem(txn_id=row["transaction"], status=row["status"], amount=row["jobber_net"],
                   invoice=row["jobber_invoice"], origin_job=row.get("origin_job"),
                   return_code=(await ctx.gateway.get_transaction(row["transaction"])).return_code)
    done = await reverse_return(ctx, item)
    if done["result"] in ("reversed", "already_reversed"):
        return {**row, "repair": "reversed", "return_code": done["return_code"], "payment_id": done["payment_id"],
                "reversed_amount": done.get("reversed_amount", "0.00"), "result": done["result"]}
    return {**row, "repair": f"a returned debit whose Jobber payment was not found ({done['result']}); "
                             "a person must look"}


async def run(ctx: "FlowContext", job: ReconcileJob, draft: Draft) -> JobResult:
    txns = await ctx.step("gateway", lambda: _gateway_side(ctx, job.since, job.until))
    quotes = sorted({t.quote for t in txns if t.quote is not None and t.invoice is None})
    payments = await ctx.step("jobber", lambda: _jobber_side(ctx, job.since, job.until, quotes))
    report = compare(txns, payments)
    if job.repair and not job.dry_run:
        repaired = []
        for row in report["missing_in_jobber"]:
            repaired.append(await ctx.step("record", functools.partial(_repair_one, ctx, row)))
        on_invoice = [r for r in report["amount_mismatch"] if r.get("jobber_invoice") is not None]  # not a deposit
        voided = [r for r in on_invoice
                  if r["status"] == TransactionStatus.voided.value and len(r.get("payment_ids", [])) == 1]
        finished = [await ctx.step("record", functools.partial(_finish_void, ctx, row)) for row in voided]
        refunded = [r for r in on_invoice if r not in voided and len(r.get("payment_ids", [])) == 1
                    and Decimal(r["jobber_net"]) > Decimal(r["gateway_net"])
                    and r["status"] in (TransactionStatus.partially_refunded.value, TransactionStatus.refunded.value)]
        finished += [await ctx.step("record", functools.partial(_finish_refunds, ctx, row)) for row in refunded]
        returned = [r for r in on_invoice if r["status"] == TransactionStatus.returned.value
                    and len(r.get("payment_ids", [])) == 1 and Decimal(r["jobber_net"]) > 0]
        reversed_ = [await ctx.step("record", functools.partial(_finish_return, ctx, row)) for row in returned]
        finished += reversed_
        draft.report["flags"] = [flag_for(ctx, r) for r in reversed_
                                 if r.get("repair") == "reversed" and r.get("origin_job")]
        done = [r for r in finished if r.get("repair") in ("deleted", "refunds recorded", "reversed")]
        report["repaired"] = [r for r in repaired if r.get("repair") == "recorded"] + done
        report["missing_in_jobber"] = [r for r in repaired if r.get("repair") != "recorded"]
        report["amount_mismatch"] = [r for r in report["amount_mismatch"] if r not in voided and r not in refunded
                                    and r not in returned] + [
            r for r in finished if r not in done]
    draft.report.update(report)
    draft.report["period"] = {"since": job.since.isoformat() if job.since else None,
                              "until": job.until.isoformat() if job.until else None}
    counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in report.items())
    drift = report["missing_in_jobber"] or report["unknown_in_jobber"] or report["amount_mismatch"]
    if job.dry_run:
        return draft.result(Outcome.dry_run, f"dry run: {counts}; nothing recorded")
    if drift:
        return draft.result(Outcome.succeeded,
                            f"drift found: {counts}" + ("" if job.repair else "; run with --repair to record "
                                                        "the missing ones"), error_code="reconcile_drift")
    return draft.result(Outcome.succeeded, f"gateway and Jobber agree: {counts}")
