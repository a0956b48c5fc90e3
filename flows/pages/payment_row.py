"""One payment row on an invoice: read it, Edit, Delete, Refund."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from flows.pages.base import raise_for_session_or_outage
from flows.pages.collect_payment import CollectPaymentDialog
from flows.pages.models import PaymentRow
from flows.pages.parsing import iso_date, money, money_or_zero
from robot.locators import DEFAULT_TIMEOUT_MS, PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page


class PaymentRowActions:
    def __init__(self, page: "Page", row: "Locator", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.row = row
        self.timeout_ms = timeout_ms
        self.loc = PageLocators(page, "payment_row", timeout_ms, {"row": row})

    async def _text(self, key: str, required: bool = True) -> str | None:
        el = await (self.loc.require(key) if required else self.loc.resolve(key, timeout_ms=0))
        return None if el is None else (await el.inner_text()).strip()

    async def read(self) -> PaymentRow:
        pid = await self.row.get_attribute("data-payment-id")
        method = await self._text("method") or ""
        details = await self._text("details") or ""
        return PaymentRow(
            id=int(pid or 0),
            kind="deposit" if "(deposit)" in method.lower() else "payment",
            method=method,
            amount=money(await self._text("amount") or ""),
            date=iso_date(await self._text("date") or ""),
            details=details,
            refunded=money_or_zero(await self._text("refunded", required=False)),
        )

    async def edit(self, *, method: str | None = None, amount: Decimal | None = None,
                   date_: date | None = None, details: str | None = None) -> None:
        """Edit → change the fields given → Save."""
        await (await self.loc.require("edit")).click()
        dialog = await self.loc.require("edit_dialog")
        form = CollectPaymentDialog(self.page, dialog, self.timeout_ms)
        await form.fill(method, amount, date_, details)
        await form.save("/api/payments/")

    async def delete(self) -> None:
        """Delete → confirm "Delete" in "Delete payment?"; waits for Jobber to answer."""
        from playwright.async_api import expect

        await (await self.loc.require("delete")).click()
        confirm_dialog = await self.loc.require("delete_dialog")
        confirm = await self.loc.require("confirm_delete")
        async with self.page.expect_response(lambda r: r.request.method == "DELETE" and "/api/payments/" in r.url,
                                             timeout=self.timeout_ms * 2) as info:
            await confirm.click()
        resp = await info.value
        raise_for_session_or_outage(resp, "deleting the payment")
        if resp.status >= 400:
            from robot.errors import FlowRefused

            raise FlowRefused(f"Jobber refused to delete the payment ({resp.status})")
        await expect(confirm_dialog).to_be_hidden(timeout=self.timeout_ms)

    async def refund(self, amount: Decimal, date_: date | None = None, details: str = "") -> None:
        """Refund → Refund amount, date, details → Save."""
        await (await self.loc.require("refund")).click()
        dialog = await self.loc.require("refund_dialog")
        await (await self.loc.require("refund_amount")).fill(f"{amount:.2f}")
        form = CollectPaymentDialog(self.page, dialog, self.timeout_ms)
        if date_ is not None:
            await (await form.loc.require("date")).fill(date_.isoformat())
        if details:
            await (await self.loc.require("refund_details")).fill(details)
        await form.save("/refunds")


def details_match(details: str, text: str) -> bool:
    """Whether Details carry `text` (a transaction id) as a whole word: the look before every write
    must not take "txn_12" for "txn_1", or a payment would go unrecorded after the money moved."""
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(text)}(?![A-Za-z0-9_])"
    return re.search(pattern, details, re.IGNORECASE) is not None
