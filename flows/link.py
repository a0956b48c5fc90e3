"""Payment links: create one for an invoice's balance (or an amount) and send it; reconcile paid
links into Jobber exactly once and report expired ones.

Create (kind "link"): verify → gateway (create the link) → send.
Reconcile (kind "link_reconcile"): gateway (list links) → for each paid link not yet in
Jobber: record (look-before-write by the link's transaction id, then read back).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flows.draft import Draft
from flows.invoice_stages import (
    Target,
    check_amount,
    expected_after,
    open_invoice,
    read_back,
    record_payment,
    resolve_and_verify,
)
from flows.pages.details import details_match, details_text
from flows.tender import gateway_description, invoice_of, job_of
from robot.errors import FlowRefused, InvoiceNotOpen
from robot.faultpoints import crash_point
from robot.jobs.models import JobResult, LinkJob, LinkReconcileJob
from robot.money import fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "send"]
RECONCILE_STAGES = ["gateway", "record"]


async def run(ctx: "FlowContext", job: LinkJob, draft: Draft) -> JobResult:
    target = await resolve_and_verify(ctx, draft, job.invoice, job.client, job.amount)
    assert target.amount is not None
    amount = target.amount
    if job.dry_run:
        return draft.result(Outcome.dry_run, f"dry run: would create a {fmt(amount)} payment link for invoice "
                                             f"#{target.invoice} and send it by {job.send_via} to {job.to}")
    description = gateway_description(ctx, invoice=target.invoice, invoice_id=target.invoice_id)

    async def _create() -> Any:
        created = await ctx.gateway.create_link(amount, idempotency_key=ctx.key("gateway"), description=description)
        crash_point("gateway:after_call")
        return created

    link = await ctx.step("gateway", _create)
    draft.set(tender=f"link {link.id}", gateway_status=link.status.value)
    draft.report.update({"link_id": link.id, "url": link.url, "expires_at": link.expires_at.isoformat()})

    async def _send() -> Any:
        sent = await ctx.gateway.send_link(link.id, job.send_via, job.to)
        crash_point("gateway:after_send")
        return sent

    delivery = await ctx.step("send", _send)
    draft.report.update({"sent_via": delivery.channel, "sent_to": delivery.to})
    return draft.result(Outcome.pending, f"payment link {link.id} for {fmt(amount)} (invoice #{target.invoice}) "
                                         f"sent by {job.send_via} to {job.to}; it is recorded in Jobber when paid "
                                         "(link reconcile)")


class LinkItem(BaseModel):
    link_id: str
    status: str
    amount: str
    invoice: int | None = None
    transaction_id: str | None = None
    origin_job: str | None = None
    tender: str | None = None
    paid_on: date | None = None


async def _links(ctx: "FlowContext") -> list[LinkItem]:
    out = []
    for link in await ctx.gateway.list_links():
        inv = invoice_of(link.description)
        if inv is None:
            continue  # not made by the robot for a Jobber invoice
        tender = None
        if link.transaction_id:
            txn = await ctx.gateway.get_transaction(link.transaction_id)
            tender = txn.tender.describe() if txn.tender.last4 else None
        out.append(LinkItem(link_id=link.id, status=link.status.value, amount=f"{link.amount:.2f}", invoice=inv,
                            transaction_id=link.transaction_id, origin_job=job_of(link.reference), tender=tender,
                            paid_on=link.paid_at.date() if link.paid_at else None))
    return out


async def _record_link(ctx: "FlowContext", item: LinkItem) -> dict[str, Any]:
    """Record one paid link (or find it recorded); never twice: Details carry its transaction id."""
    assert item.invoice is not None and item.transaction_id is not None
    amount = Decimal(item.amount)
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, item.invoice)
        view = await inv.read()
    if any(details_match(p.details, item.transaction_id) for p in view.payments):
        return {"link": item.link_id, "invoice": item.invoice, "result": "already_recorded"}
    target = Target(invoice=view.number, invoice_id=view.id, client=view.client, status=view.status,
                    total=view.total, balance=view.balance, amount=amount)
    if view.status not in ("awaiting_payment", "past_due"):
        raise InvoiceNotOpen(f"invoice #{item.invoice} is {view.status_label}: the paid link {item.link_id} "
                             "cannot be recorded on it; a person must look")
    check_amount(amount, view.balance)
    label = f"link {item.link_id}" + (f" ({item.tender})" if item.tender else "")
    details = details_text(item.transaction_id, label, item.origin_job or ctx.job_id)
    rec = await record_payment(ctx, target, txn_id=item.transaction_id, method="credit_card", amount=amount,
                               details=details, date_=item.paid_on)
    after = await read_back(ctx, target, item.transaction_id)
    exp_balance, _ = expected_after(target, amount)
    return {"link": item.link_id, "invoice": item.invoice, "result": "recorded", "payment_id": rec.payment_id,
            "amount": item.amount, "balance_before": f"{view.balance:.2f}", "balance_after": f"{after.balance:.2f}",
            "mismatch": after.balance != exp_balance}


async def reconcile(ctx: "FlowContext", job: LinkReconcileJob, draft: Draft) -> JobResult:
    items = await ctx.step("gateway", lambda: _links(ctx))
    paid = [i for i in items if i.status == "paid" and i.transaction_id]
    report: dict[str, list[Any]] = {"recorded": [], "already_recorded": [], "problems": [],
                                    "expired": [i.model_dump() for i in items if i.status == "expired"],
                                    "open": [i.model_dump() for i in items if i.status == "open"]}
    for item in paid:
        if job.dry_run:
            report["recorded"].append({"link": item.link_id, "invoice": item.invoice, "result": "would_check"})
            continue

        async def _rec(item: LinkItem = item) -> dict[str, Any]:
            try:
                return await _record_link(ctx, item)
            except FlowRefused as exc:
                return {"link": item.link_id, "invoice": item.invoice, "result": "problem", "message": exc.message}

        done = await ctx.step("record", _rec)
        bucket = {"recorded": "recorded", "already_recorded": "already_recorded"}.get(done["result"], "problems")
        report[bucket].append(done)
    draft.report.update(report)
    mismatches = [r for r in report["recorded"] if r.get("mismatch")]
    summary = (f"{len(paid)} paid link(s): {len(report['recorded'])} recorded now, "
               f"{len(report['already_recorded'])} already in Jobber, {len(report['problems'])} need a person; "
               f"{len(report['expired'])} expired, {len(report['open'])} still open")
    if job.dry_run:
        return draft.result(Outcome.dry_run, "dry run: " + summary + "; nothing recorded")
    if mismatches:
        return draft.result(Outcome.recorded_with_mismatch, summary + "; balance mismatch after recording "
                            + ", ".join(f"#{m['invoice']}" for m in mismatches), error_code="amount_mismatch")
    return draft.result(Outcome.succeeded, summary)
