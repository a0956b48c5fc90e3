"""One invoice: status, total, balance, payments; Collect Payment; More Actions > Mark as Sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from flows.pages.base import BasePage, raise_for_session_or_outage
from flows.pages.collect_payment import CollectPaymentDialog
from flows.pages.models import InvoiceView, PaymentRow
from flows.pages.parsing import money, number, status_key
from flows.pages.payment_row import PaymentRowActions, details_match
from robot.errors import FlowRefused, InvoiceInDraft

if TYPE_CHECKING:
    from playwright.async_api import Locator


class InvoicePage(BasePage):
    page_key = "invoice"

    async def open(self, invoice_id: int) -> "InvoicePage":
        """Open /invoices/<id> and wait until its data has loaded."""
        await self.open_path(f"/invoices/{invoice_id}")
        return self

    @property
    def invoice_id(self) -> int:
        return int(self.page.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0])

    async def number(self) -> int:
        n = number(await self._text("title"))
        if n is None:
            raise FlowRefused("the invoice heading carries no number")
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

    async def _rows(self) -> "Locator":
        await self._el("payments")  # the list is always there once loaded (maybe empty)
        found = await self.loc.resolve("payment_row", timeout_ms=0)
        return found if found is not None else self.loc.candidates("payment_row")[0]

    async def payment_rows(self) -> list[PaymentRowActions]:
        rows = await self._rows()
        return [PaymentRowActions(self.page, r, self.timeout_ms) for r in await rows.all()]

    async def payments(self) -> list[PaymentRow]:
        return [await r.read() for r in await self.payment_rows()]

    async def read(self) -> InvoiceView:
        label = await self.status_label()
        return InvoiceView(
            id=self.invoice_id, number=await self.number(), status=status_key(label), status_label=label,
            client=await self.client(), total=await self.total(), balance=await self.balance(),
            can_collect_payment=await self.can_collect_payment(), payments=await self.payments(),
        )

    async def payment_row(self, payment_id: int) -> PaymentRowActions:
        for row in await self.payment_rows():
            if await row.row.get_attribute("data-payment-id") == str(payment_id):
                return row
        raise FlowRefused(f"payment {payment_id} is not listed on invoice {self.invoice_id}")

    async def find_payment_by_details(self, text: str) -> PaymentRow | None:
        """The payment whose Details carry `text` (e.g. the gateway transaction id)."""
        for payment in await self.payments():
            if details_match(payment.details, text):
                return payment
        return None

    async def collect_payment(self, method: str, amount: Decimal, date_: date | None = None,
                              details: str = "") -> int:
        """Collect Payment → method, amount, transaction date, details → Save.

        Returns the new payment's id once its row is listed. Draft invoices are refused
        (the robot never marks an invoice sent on its own).
        """
        from playwright.async_api import expect

        if await self.status() == "draft":
            raise InvoiceInDraft("the invoice is a Draft: Jobber records no payment on it; "
                                 "it must be sent to the client or marked as sent by a person first")
        button = await self._el("collect_payment")
        rows = await self._rows()
        before = await rows.count()
        await button.click()
        dialog = CollectPaymentDialog(self.page, timeout_ms=self.timeout_ms)
        await dialog.fill(method, amount, date_, details)
        saved = await dialog.save("/payments")
        await expect(rows).to_have_count(before + 1, timeout=self.timeout_ms)
        return int(saved["id"])

    async def mark_as_sent(self) -> None:
        """More Actions > Mark as Sent. For support use: the robot's flows never call it."""
        await (await self._el("more_actions")).click()
        item = await self._el("mark_as_sent")
        async with self.page.expect_response(lambda r: r.request.method == "POST" and "/mark_sent" in r.url,
                                             timeout=self.timeout_ms * 2) as info:
            await item.click()
        resp = await info.value
        raise_for_session_or_outage(resp, "Mark as Sent")
        if resp.status >= 400:
            raise FlowRefused(f"Jobber refused Mark as Sent ({resp.status})")
        from playwright.async_api import expect

        await expect(await self._el("status")).not_to_have_text("Draft", timeout=self.timeout_ms)
