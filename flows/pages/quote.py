"""A quote: title, number (facts), status chip, total, deposits; Collect Deposit in either of
Jobber's shapes (Approved only); Convert to Invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.async_api import Error as PlaywrightError

from flows.pages.base import BasePage
from flows.pages.collect_payment import BeforeSave, CollectPaymentDialog, NewPaymentPage, saved_payment_id
from flows.pages.details import refunded_in
from flows.pages.graphql import press_and_wait, user_errors
from flows.pages.models import PaymentRow, QuoteView
from flows.pages.parsing import integer, money, money_or_zero, page_date, status_key
from flows.pages.places import current_app_page
from flows.pages.table import id_from_link, read_table
from robot.errors import FlowRefused, PageDriftError


class QuotePage(BasePage):
    page_key = "quote"

    async def open(self, quote_id: int) -> "QuotePage":
        await self.open_path(f"/quotes/{quote_id}")
        self._id = quote_id
        return self

    @property
    def quote_id(self) -> int:
        return getattr(self, "_id", 0)

    async def number(self) -> int:
        return integer(await self._text("number")) or 0

    async def status(self) -> str:
        return status_key(await self._text("status"))

    async def total(self) -> Decimal:
        return money(await self._text("total"))

    async def deposits(self) -> list[PaymentRow]:
        table = await read_table(await self._el("deposits"))
        return [PaymentRow(id=id_from_link(r.link("Method")) or id_from_link(r.link()) or 0, kind="deposit",
                           method=r.cell("Method"), amount=money_or_zero(r.cell("Amount")),
                           date=page_date(r.cell("Date")), details=r.cell("Details"),
                           refunded=refunded_in(r.cell("Details")))
                for r in table.rows]

    async def read(self) -> QuoteView:
        label = await self._text("status")
        return QuoteView(id=self.quote_id, number=await self.number(), status=status_key(label),
                         status_label=label, total=await self.total(), deposits=await self.deposits())

    async def require_collect_deposit(self) -> None:
        """Raises PageDriftError naming Collect Deposit when the quote does not offer it."""
        await self._el("collect_deposit")

    async def collect_deposit(self, method: str, amount: Decimal, date_: date | None = None,
                              details: str = "", before_save: BeforeSave | None = None) -> int:
        """Collect Deposit → (pop-up or New Payment page) → fields → Save; returns the deposit id
        once the quote shows it. Only on an Approved quote."""
        if await self.status() != "approved":
            raise FlowRefused("the quote is not Approved: Jobber takes a deposit only on an approved quote")
        number = await self.number()
        await (await self._el("collect_deposit")).click()
        dialog_loc = self.loc.candidates("deposit_dialog")[0]
        form = NewPaymentPage(self.page, self.timeout_ms)
        try:
            await dialog_loc.or_(form.loc.candidates("heading")[0]).first.wait_for(
                state="visible", timeout=self.timeout_ms)
        except PlaywrightError:
            await self._raise_if_signed_out()
            raise PageDriftError("quote", "deposit_dialog", "Collect Deposit pop-up or New Payment page") from None
        if await dialog_loc.count() > 0:
            dialog = CollectPaymentDialog(self.page, dialog_loc, self.timeout_ms)
            await dialog.fill(method, amount, date_, details)
            data = await dialog.save("PaymentCreate", before_save)
        else:
            await form.fill(row_label=f"Deposit for quote #{number}", method=method, amount=amount,
                            date_=date_, details=details)
            data = await form.save(before_save)
            if current_app_page(self.tab) != "quote":
                await self.page.wait_for_url(f"**/quotes/{self.quote_id}", timeout=self.timeout_ms)
        await self.wait_ready()
        pid = saved_payment_id(data)
        if pid is None:
            raise FlowRefused("Jobber answered the deposit without its record; check the quote")
        return pid

    async def convert(self) -> int:
        """Convert to Invoice; returns the new invoice's id (the browser lands on it)."""
        data = await press_and_wait(self.page, await self._el("convert"), "QuoteConvert",
                                    what="converting the quote", timeout_ms=self.timeout_ms * 2)
        if user_errors(data):
            raise FlowRefused(f"Jobber refused to convert the quote: {user_errors(data)[0].get('message')}")
        invoice = (data.get("quoteConvert") or {}).get("invoice") or {}
        return int(invoice.get("id") or 0)
