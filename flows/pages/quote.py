"""A quote: status, total, deposits; Collect Deposit (Approved only); Convert to Invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flows.pages.base import BasePage, raise_for_session_or_outage
from flows.pages.collect_payment import CollectPaymentDialog
from flows.pages.models import PaymentRow, QuoteView
from flows.pages.parsing import money, number, status_key
from flows.pages.payment_row import PaymentRowActions
from robot.errors import FlowRefused


class QuotePage(BasePage):
    page_key = "quote"

    async def open(self, quote_id: int) -> "QuotePage":
        await self.open_path(f"/quotes/{quote_id}")
        return self

    @property
    def quote_id(self) -> int:
        return int(self.page.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0])

    async def number(self) -> int:
        return number(await self._text("title")) or 0

    async def status(self) -> str:
        return status_key(await self._text("status"))

    async def total(self) -> Decimal:
        return money(await self._text("total"))

    async def deposits(self) -> list[PaymentRow]:
        await self._el("deposits")
        found = await self.loc.resolve("deposit_row", timeout_ms=0)
        if found is None:
            return []
        return [await PaymentRowActions(self.page, r, self.timeout_ms).read() for r in await found.all()]

    async def read(self) -> QuoteView:
        label = await self._text("status")
        return QuoteView(id=self.quote_id, number=await self.number(), status=status_key(label),
                         status_label=label, total=await self.total(), deposits=await self.deposits())

    async def collect_deposit(self, method: str, amount: Decimal, date_: date | None = None,
                              details: str = "") -> int:
        """Collect Deposit → fields → Save; returns the deposit id. Only on an Approved quote."""
        if await self.status() != "approved":
            raise FlowRefused("the quote is not Approved: Jobber takes a deposit only on an approved quote")
        await (await self._el("collect_deposit")).click()
        dialog_el = await self._el("deposit_dialog")
        dialog = CollectPaymentDialog(self.page, dialog_el, self.timeout_ms)
        await dialog.fill(method, amount, date_, details)
        saved = await dialog.save("/deposits")
        return int(saved["id"])

    async def convert(self) -> int:
        """Convert to Invoice; returns the new invoice's id (the browser lands on it)."""
        button = await self._el("convert")
        async with self.page.expect_response(lambda r: r.request.method == "POST" and "/convert" in r.url,
                                             timeout=self.timeout_ms * 2) as info:
            await button.click()
        resp = await info.value
        raise_for_session_or_outage(resp, "converting the quote")
        if resp.status >= 400:
            raise FlowRefused(f"Jobber refused to convert the quote ({resp.status})")
        return int((await resp.json())["invoice_id"])
