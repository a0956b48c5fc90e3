"""The invoice stages every invoice payment flow shares: find the invoice, verify it takes the
payment, record the payment in Jobber, read it back.

Each stage function here runs inside `ctx.step(name, fn)`: it is idempotent (look-before-write
in Jobber) and returns a picklable pydantic model.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from flows.draft import Draft
from flows.pages.details import details_match
from flows.pages.invoice import InvoicePage
from flows.pages.invoices import InvoicesPage
from flows.pages.places import current_app_page
from flows.tender import EarlierCharge, earlier_charge
from robot.errors import (
    AmountMismatch,
    ClientMismatch,
    InvoiceInDraft,
    InvoiceNotFound,
    InvoiceNotOpen,
    NeedsConfirmation,
    PageDriftError,
)
from robot.faultpoints import crash_point
from robot.jobs.models import Candidate, JobResult
from robot.money import CENT, Money, fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.pages.tab import JobberTab
    from flows.runtime import FlowContext

OPEN_STATUSES = ("awaiting_payment", "past_due")


# --- stage values ------------------------------------------------------------------------------


class Target(BaseModel):
    """The verified invoice (or the candidates when the client has several open ones)."""

    invoice: int | None = None
    invoice_id: int | None = None
    client: str | None = None
    status: str | None = None
    total: Money | None = None
    balance: Money | None = None
    amount: Money | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    duplicate_number: bool = False   # the candidates share the job's invoice number


class Recorded(BaseModel):
    payment_id: int
    existed: bool = False


class ReadBack(BaseModel):
    balance: Money
    status: str
    payment_found: bool = True


# --- rules ----------------------------------------------------------------------------------------


def check_amount(amount: Decimal, balance: Decimal | None = None, *, what: str = "the invoice balance") -> None:
    if amount <= 0:
        raise AmountMismatch(f"the amount {fmt(amount)} must be greater than $0.00")
    if amount != amount.quantize(CENT):
        raise AmountMismatch(f"the amount {amount} has more than 2 decimal places")
    if balance is not None and amount > balance:
        raise AmountMismatch(f"the amount {fmt(amount)} is more than {what} ({fmt(balance)}); "
                             "the robot never charges more than is owed")


def _same_client(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# --- find and verify ----------------------------------------------------------------------------


def _candidates(rows: list[Any]) -> list[Candidate]:
    return [Candidate(invoice=r.number, invoice_id=r.id, client=r.client, due_date=r.due_date, total=r.total, balance=r.balance,
                      status=r.status_label or r.status) for r in rows]


async def find_target(ctx: "FlowContext", invoice: int | None, client: str | None,
                      amount: Decimal | None = None) -> Target:
    """Resolve the job's target: the pinned invoice, or the client's only open invoice, or
    the candidates when several match (no guessing). Jobber's invoice numbers need not be
    unique, so a number is matched with the client (and the amount) too."""
    if invoice is not None:
        known = _known_ids(ctx).get(invoice)
        if known is not None:
            async with ctx.jobber.page() as tab:
                if await _opens_as(ctx, tab, known, invoice):
                    return Target(invoice=invoice, invoice_id=known, client=client)
            _known_ids(ctx).pop(invoice, None)  # another invoice now, or none: search the number
        async with ctx.jobber.page() as tab:
            listing = await invoices_list(ctx, tab)
            rows = await listing.matching(invoice, client, amount)
            same_number = rows if client is None and amount is None else await listing.matching(invoice)
            if not rows and client is not None and await listing.matching(invoice):
                theirs = (await listing.matching(invoice))[0].client
                raise ClientMismatch(f"invoice #{invoice} belongs to {theirs}, not to {client}")
        if not rows:
            raise InvoiceNotFound(f"invoice #{invoice} is not in this Jobber account")
        if len(rows) == 1:
            if len(same_number) == 1:  # the only invoice with that number: remembered for later jobs
                _known_ids(ctx)[invoice] = rows[0].id
            return Target(invoice=invoice, invoice_id=rows[0].id, client=client)
        return Target(client=client or rows[0].client, candidates=_candidates(rows), duplicate_number=True)
    assert client is not None
    async with ctx.jobber.page() as tab:
        rows = await (await invoices_list(ctx, tab)).search(client)
    mine = [r for r in rows if _same_client(r.client, client)]
    if not mine:
        names = sorted({r.client for r in rows if client.casefold() in r.client.casefold()})
        if len(names) == 1:
            mine = [r for r in rows if r.client == names[0]]
        elif len(names) > 1:
            raise InvoiceNotFound(f"several clients match {client!r} ({', '.join(names)}); give the invoice number")
    if not mine:
        raise InvoiceNotFound(f"no client named {client!r} with invoices in this Jobber account")
    open_rows = [r for r in mine if r.status in OPEN_STATUSES]
    if not open_rows:
        raise InvoiceNotOpen(f"{mine[0].client} has no invoice awaiting payment")
    if len(open_rows) == 1:
        return Target(invoice=open_rows[0].number, invoice_id=open_rows[0].id, client=mine[0].client)
    return Target(client=mine[0].client, candidates=_candidates(open_rows))


async def invoices_list(ctx: "FlowContext", tab: "JobberTab") -> InvoicesPage:
    """The Invoices list, without a second navigation when the browser is already on it."""
    listing = InvoicesPage(tab)
    if current_app_page(tab) == "invoices":
        await listing.wait_ready()
        return listing
    return await listing.open()


def _known_ids(ctx: "FlowContext") -> dict[int, int]:
    """The merchant's invoice number → Jobber id (see HeldJobber); an empty one when none is kept."""
    ids = getattr(ctx.jobber, "invoice_ids", None)
    return ids if isinstance(ids, dict) else {}


def _mark_loaded(ctx: "FlowContext", inv: InvoicePage) -> InvoicePage:
    loaded = getattr(ctx.jobber, "loaded", None)
    if isinstance(loaded, set):
        loaded.add(inv.invoice_id)
    return inv


def _shows_invoice(tab: "JobberTab", invoice_id: int) -> bool:
    return (current_app_page(tab) == "invoice"
            and urlparse(tab.page.url).path.rstrip("/").rsplit("/", 1)[-1] == str(invoice_id))


async def _opens_as(ctx: "FlowContext", tab: "JobberTab", invoice_id: int, number: int) -> bool:
    """Open a remembered id and check it, not trust it: the invoice must carry that number."""
    try:
        inv = await InvoicePage(tab).open(invoice_id)
        if await inv.number() != number:
            return False
    except PageDriftError:
        return False  # no such invoice any more (or not readable): search the number instead
    _mark_loaded(ctx, inv)
    return True


def _loaded_here(ctx: "FlowContext", tab: "JobberTab", invoice_id: int) -> bool:
    """The tab shows that invoice as this execution loaded it (no other page since)."""
    loaded = getattr(ctx.jobber, "loaded", None)
    return isinstance(loaded, set) and invoice_id in loaded and _shows_invoice(tab, invoice_id)


async def open_invoice(ctx: "FlowContext", tab: "JobberTab", number: int, invoice_id: int | None = None,
                       *, reuse: bool = False) -> InvoicePage:
    """Open an invoice by its Jobber id when known (given, or remembered for its number and
    checked), else search its number. With `reuse`, an invoice this execution loaded, has not
    written to since, and the tab still shows is not loaded again."""
    if invoice_id is not None:
        if reuse and _loaded_here(ctx, tab, invoice_id):
            return await InvoicePage(tab).shown(invoice_id)
        return _mark_loaded(ctx, await InvoicePage(tab).open(invoice_id))
    known = _known_ids(ctx).get(number)
    if known is not None and await _opens_as(ctx, tab, known, number):
        return await InvoicePage(tab).shown(known)
    return _mark_loaded(ctx, await (await invoices_list(ctx, tab)).open_invoice(number))


async def verify_invoice(ctx: "FlowContext", number: int, *, client: str | None, amount: Decimal | None,
                         invoice_id: int | None = None, need_collect: bool = True,
                         earlier: EarlierCharge | None = None) -> Target:
    """The invoice exists, belongs to the client given, is not Draft, takes a payment, and the
    amount (default: the balance) is > 0, at most 2 decimals and not above the balance.

    `earlier`: this job already moved that money. Its amount is the job's; when Jobber already
    shows the payment, the invoice is taken as it was before it (it may be Paid by now), so the
    record step finds the payment and the read-back expects what this job did."""
    async with ctx.jobber.page() as tab:
        inv = await open_invoice(ctx, tab, number, invoice_id, reuse=True)  # checked just now (remembered id)
        view = await inv.read()
        if earlier is not None and any(details_match(p.details, earlier.txn_id) for p in view.payments):
            if client is not None and not _same_client(view.client, client):
                raise ClientMismatch(f"invoice #{number} belongs to {view.client}, not to {client}")
            before = view.balance + earlier.amount
            return Target(invoice=view.number, invoice_id=view.id, client=view.client,
                          status="awaiting_payment" if view.status == "paid" else view.status,
                          total=view.total, balance=before, amount=earlier.amount)
        if client is not None and not _same_client(view.client, client):
            raise ClientMismatch(f"invoice #{number} belongs to {view.client}, not to {client}")
        if view.status == "draft":
            raise InvoiceInDraft(f"invoice #{number} is a Draft: Jobber records no payment on it. "
                                 "A person must send it to the client or mark it as sent first; "
                                 "the robot never does that on its own")
        if view.status not in OPEN_STATUSES:
            raise InvoiceNotOpen(f"invoice #{number} is {view.status_label} (balance {fmt(view.balance)}): "
                                 "it takes no payment")
        if need_collect and not view.can_collect_payment:
            await inv.require_collect_payment()
    amt = view.balance if amount is None else amount
    if earlier is not None:
        amt = earlier.amount  # moved already: recorded as it is (Jobber refuses more than is owed)
    else:
        check_amount(amt, view.balance)
    return Target(invoice=view.number, invoice_id=view.id, client=view.client, status=view.status,
                  total=view.total, balance=view.balance, amount=amt)


async def resolve_and_verify(ctx: "FlowContext", draft: Draft, invoice: int | None, client: str | None,
                             amount: Decimal | None, *, moves_money: bool = False) -> Target:
    """Stage "verify" (plus "verify_confirmed" when a person picks among candidates).

    `moves_money`: when this job already moved the money (it runs again), verify the invoice it
    moved it for as of before that payment, instead of refusing an invoice that it paid itself."""

    async def _verify() -> Target:
        earlier = await earlier_charge(ctx) if moves_money else None
        if earlier is not None and (earlier.invoice or invoice) is not None:
            # a refusal now is not "nothing moved": the result must say the money moved unrecorded
            draft.money_moved = True
            draft.set(gateway_transaction_id=earlier.txn_id)
            return await verify_invoice(ctx, earlier.invoice or invoice or 0, client=client, amount=amount,
                                        invoice_id=earlier.invoice_id, earlier=earlier)
        target = await find_target(ctx, invoice, client, amount)
        if target.candidates:
            return target
        assert target.invoice is not None
        return await verify_invoice(ctx, target.invoice, client=client, amount=amount, invoice_id=target.invoice_id)

    target = await ctx.step("verify", _verify)
    if target.candidates:
        draft.set(client=target.client, candidates=target.candidates, amount_requested=amount)
        release = getattr(ctx.jobber, "release", None)
        if release is not None:
            await release()  # do not hold the merchant's session while a person decides
        answer = await ctx.confirmer.choose_invoice(target.candidates)
        picked = _pick(target.candidates, answer)
        if picked is None:
            suggestion = ""
            if amount is not None:
                exact = [c.invoice for c in target.candidates if c.balance == amount]
                if len(exact) == 1:
                    suggestion = f" (#{exact[0]} has exactly that balance: a suggestion only)"
            listing = "; ".join(f"#{c.invoice} (Jobber id {c.invoice_id}) balance {fmt(c.balance)}"
                                + (f", due {c.due_date}" if c.due_date else "") for c in target.candidates)
            what = (f"{len(target.candidates)} invoices numbered #{invoice} match" if target.duplicate_number
                    else f"{target.client} has {len(target.candidates)} open invoices")
            raise NeedsConfirmation(f"{what} ({listing}); a person must pick one (by number, or by Jobber id "
                                    f"when numbers repeat){suggestion}", target.candidates)

        async def _verify_chosen() -> Target:
            return await verify_invoice(ctx, picked.invoice, client=client, amount=amount, invoice_id=picked.invoice_id)

        target = await ctx.step("verify_confirmed", _verify_chosen)
        draft.fields.pop("candidates", None)
    draft.set(invoice=target.invoice, client=target.client, amount_requested=target.amount,
              balance_before=target.balance, status_before=target.status)
    return target


def _pick(candidates: list[Candidate], answer: int | None) -> Candidate | None:
    """The candidate a person named: by Jobber id, or by number when that number is unique."""
    if answer is None:
        return None
    by_id = [c for c in candidates if c.invoice_id == answer]
    if by_id:
        return by_id[0]
    by_number = [c for c in candidates if c.invoice == answer]
    return by_number[0] if len(by_number) == 1 else None


# --- record and read back -------------------------------------------------------------------------


async def record_payment(ctx: "FlowContext", target: Target, *, txn_id: str, method: str, amount: Decimal,
                         details: str, date_: date | None = None) -> Recorded:
    """Look for a payment whose Details carry the txn id; record one only when there is none."""
    async with ctx.jobber.page() as tab:
        # the look before the write reads what Jobber has now: the page this execution loaded in
        # its verify stage (only the gateway ran since, and the fence right before Save stops
        # another execution), else a fresh load (a resumed job, another page shown)
        inv = await open_invoice(ctx, tab, target.invoice or 0, target.invoice_id, reuse=True)
        existing = await inv.find_payment_by_details(txn_id)
        if existing is not None:
            return Recorded(payment_id=existing.id, existed=True)
        if date_ is not None and date_ > datetime.now(UTC).date():
            date_ = None  # never a future transaction date: Jobber's own "today" then
        async def fence() -> None:
            # the form is filled and the look is done: a worker that freezes here and wakes after
            # the job was cancelled or taken over must not press Save
            crash_point("jobber:before_save")
            await ctx.fence()

        pid = await inv.collect_payment(method, amount, date_, details, before_save=fence)
        loaded = getattr(ctx.jobber, "loaded", None)
        if isinstance(loaded, set):
            loaded.discard(inv.invoice_id)  # written to: a later look loads it afresh
        crash_point("jobber:after_save")
        return Recorded(payment_id=pid)


async def read_back(ctx: "FlowContext", target: Target, txn_id: str | None = None) -> ReadBack:
    """The invoice after the save. The page the save left the browser on is read as it is when
    it shows the payment just recorded (Jobber's answer to the save re-rendered it: balance and
    payments come from that one answer); otherwise the invoice is loaded afresh."""
    async with ctx.jobber.page() as tab:
        view = None
        if txn_id is not None and target.invoice_id is not None and _shows_invoice(tab, target.invoice_id):
            shown = await (await InvoicePage(tab).shown(target.invoice_id)).read()
            if any(details_match(p.details, txn_id) for p in shown.payments):
                view = shown
        if view is None:
            inv = await open_invoice(ctx, tab, target.invoice or 0, target.invoice_id)
            view = await inv.read()
    found = True
    if txn_id is not None:
        found = any(details_match(p.details, txn_id) for p in view.payments)
    return ReadBack(balance=view.balance, status=view.status, payment_found=found)


def expected_after(target: Target, amount: Decimal) -> tuple[Decimal, str]:
    assert target.balance is not None
    balance = target.balance - amount
    return balance, ("paid" if balance == 0 else (target.status or "awaiting_payment"))


async def record_and_verify(ctx: "FlowContext", draft: Draft, target: Target, *, txn_id: str, method: str,
                            amount: Decimal, details: str, success: Outcome = Outcome.succeeded,
                            success_message: str = "") -> JobResult:
    """Stages "record" and "verify_after"; ends `recorded_with_mismatch` with both figures."""
    rec = await ctx.step("record", lambda: record_payment(ctx, target, txn_id=txn_id, method=method,
                                                           amount=amount, details=details))
    draft.recorded = True
    draft.set(jobber_payment_id=rec.payment_id)
    after = await ctx.step("verify_after", lambda: read_back(ctx, target, txn_id))
    draft.set(balance_after=after.balance, status_after=after.status)
    exp_balance, exp_status = expected_after(target, amount)
    if not after.payment_found or after.balance != exp_balance or (
            exp_status == "paid") != (after.status == "paid"):
        return draft.result(
            Outcome.recorded_with_mismatch,
            f"recorded {fmt(amount)} on invoice #{target.invoice} but Jobber shows balance {fmt(after.balance)} "
            f"({after.status}); expected {fmt(exp_balance)} ({exp_status}) from the gateway's {fmt(amount)}. "
            "Check the invoice's payments",
            error_code="amount_mismatch")
    note = " (already recorded by an earlier run)" if rec.existed else ""
    return draft.result(success, success_message or (
        f"{fmt(amount)} captured and recorded on invoice #{target.invoice}{note}; "
        f"balance {fmt(target.balance)} → {fmt(after.balance)}"))
