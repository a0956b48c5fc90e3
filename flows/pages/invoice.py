"""One invoice: subject, number (facts column), status chip, total, balance, payments table;
Collect Payment in either of Jobber's shapes; More > Mark as Sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from flows.pages.base import BasePage
from flows.pages.collect_payment import BeforeSave, CollectPaymentDialog, NewPaymentPage, saved_payment_id
from flows.pages.details import details_match, refunded_in
from flows.pages.graphql import press_and_wait, user_errors
from flows.pages.models import InvoiceView, PaymentRow
from flows.pages.parsing import integer, money, money_or_zero, page_date, status_key
from flows.pages.payment import PaymentPage
from flows.pages.places import current_app_page
from flows.pages.table import id_from_link, read_table
from robot.errors import FlowRefused, InvoiceInDraft, PageDriftError


class InvoicePage(BasePage):
    page_key = "invoice"

    async def open(self, invoice_id: int) -> "InvoicePage":
        """Open /invoices/<id> and wait until its data has loaded."""
        await self.open_path(f"/invoices/{invoice_id}")
        self._id = invoice_id
        return self

    async def shown(self, invoice_id: int) -> "InvoicePage":
        """The invoice the browser already shows (no navigation), once its data is there."""
        self._id = invoice_id
        await self.wait_ready()
        return self

    @property
    def invoice_id(self) -> int:
        return getattr(self, "_id", 0)

    async def number(self) -> int:
        n = integer(await self._text("number"))
        if n is None:
            raise FlowRefused("the invoice's facts carry no invoice number")
        return n

    async def status_label(self) -> str:
        return await self._text("status")

    async def status(self) -> str:
        return status_key(await self.status_label())

    async def total(self) -> Decimal:
        return money(await self._text("total"))

    async def balance(self) -> Decimal:
        return money(await self._text("balance"))

    async def client(self) -> str:
        return await self._text("client")

    async def can_collect_payment(self) -> bool:
        return await self.loc.present("collect_payment")

    async def require_collect_payment(self) -> None:
        """Raises PageDriftError naming Collect Payment when the invoice does not offer it."""
        await self._el("collect_payment")

    async def payments(self) -> list[PaymentRow]:
        table = await read_table(await self._el("payments"))
        out = []
        for row in table.rows:
            method = row.cell("Method")
            details = row.cell("Details")
            out.append(PaymentRow(
                id=id_from_link(row.link("Method")) or id_from_link(row.link()) or 0,
                kind="deposit" if "deposit" in method.lower() else "payment", method=method,
                amount=money_or_zero(row.cell("Amount")), date=page_date(row.cell("Date")),
                details=details, refunded=refunded_in(details)))
        return out

    async def read(self) -> InvoiceView:
        label = await self.status_label()
        return InvoiceView(
            id=self.invoice_id, number=await self.number(), subject=await self._text("subject"),
            status=status_key(label), status_label=label, client=await self.client(),
            total=await self.total(), balance=await self.balance(),
            can_collect_payment=await self.can_collect_payment(), payments=await self.payments(),
        )

    async def find_payment_by_details(self, text: str) -> PaymentRow | None:
        """The payment whose Details carry `text` (e.g. the gateway transaction id)."""
        for payment in await self.payments():
            if details_match(payment.details, text):
                return payment
        return None

    async def payment_page(self, payment_id: int) -> PaymentPage:
        """The payment's own page (edit, delete, refunds)."""
        if not any(p.id == payment_id for p in await self.payments()):
            raise FlowRefused(f"payment {payment_id} is not listed on invoice {self.invoice_id}")
        return await PaymentPage(self.tab).open(payment_id)

    async def collect_payment(self, method: str, amount: Decimal, date_: date | None = None,
                              details: str = "", before_save: BeforeSave | None = None) -> int:
        """Collect Payment → (pop-up or New Payment page) → method, amount, date, details → Save.

        Returns the new payment's id once the invoice shows it. Draft invoices are refused (the
        robot never marks an invoice sent on its own). `before_save` runs with the form filled,
        right before Save (the job's fence)."""
        if await self.status() == "draft":
            raise InvoiceInDraft("the invoice is a Draft: Jobber records no payment on it; "
                                 "it must be sent to the client or marked as sent by a person first")
        number = await self.number()
        await (await self._el("collect_payment")).click()
        shape = await self._payment_shape()
        if shape == "dialog":
            dialog = CollectPaymentDialog(self.page, timeout_ms=self.timeout_ms)
            await dialog.fill(method, amount, date_, details)
            data = await dialog.save("PaymentCreate", before_save)
        else:
            form = NewPaymentPage(self.page, self.timeout_ms)
            await form.fill(row_label=f"Payment for invoice #{number}", method=method, amount=amount,
                            date_=date_, details=details)
            data = await form.save(before_save)
        pid = saved_payment_id(data)
        if current_app_page(self.tab) != "invoice":
            await self.page.wait_for_url(f"**/invoices/{self.invoice_id}", timeout=self.timeout_ms)
        await self.wait_ready()
        if pid is None:
            saved = await self.find_payment_by_details(details) if details else None
            if saved is None:
                raise FlowRefused("Jobber answered the save without the payment; check the invoice")
            pid = saved.id
        return pid

    async def _payment_shape(self) -> str:
        """Which of Jobber's two ways of recording a payment opened: "dialog" or "page"."""
        dialog = CollectPaymentDialog(self.page, timeout_ms=self.timeout_ms)
        form = NewPaymentPage(self.page, self.timeout_ms)
        either = dialog.loc.candidates("dialog")[0].or_(form.loc.candidates("heading")[0])
        try:
            await either.first.wait_for(state="visible", timeout=self.timeout_ms)
        except PlaywrightError:
            await self._raise_if_signed_out()
            raise PageDriftError("invoice", "collect_payment",
                                 "Collect Payment pop-up or New Payment page (after Collect Payment)") from None
        return "dialog" if await dialog.loc.present("dialog") else "page"

    async def mark_as_sent(self) -> None:
        """More > Mark as Sent. For support use: the robot's flows never call it."""
        await (await self._el("more")).click()
        data = await press_and_wait(self.page, await self._el("mark_as_sent"), "InvoiceMarkSent",
                                    what="Mark as Sent", timeout_ms=self.timeout_ms * 2)
        if user_errors(data):
            raise FlowRefused(f"Jobber refused Mark as Sent: {user_errors(data)[0].get('message')}")
        await expect(await self._el("status")).not_to_have_text("Draft", timeout=self.timeout_ms)


__all__ = ["InvoicePage", "page_date"]
