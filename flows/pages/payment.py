"""A payment's own page (/payments/:id): read it, Edit, More → Delete, and refunds.

Jobber has no refund button for a payment taken outside it (notes: "Editing and deleting"): a
refund is recorded by editing the payment's amount down and adding a line to its Details that
names the refund's gateway id, so the look before every write finds each refund by that id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.async_api import expect

from flows.pages.base import BasePage
from flows.pages.collect_payment import BeforeSave, CollectPaymentDialog
from flows.pages.details import details_match, refund_line, refunded_in
from flows.pages.graphql import press_and_wait, user_errors
from flows.pages.models import PaymentRow
from flows.pages.parsing import money, page_date
from robot.errors import FlowRefused


class PaymentPage(BasePage):
    page_key = "payment"

    async def open(self, payment_id: int) -> "PaymentPage":
        await self.open_path(f"/payments/{payment_id}")
        self._id = payment_id
        return self

    @property
    def payment_id(self) -> int:
        return getattr(self, "_id", 0)

    async def read(self) -> PaymentRow:
        method = await self._text("method")
        details = await self._text("details")
        return PaymentRow(
            id=self.payment_id, kind="deposit" if "deposit" in method.lower() else "payment", method=method,
            amount=money(await self._text("amount")), date=page_date(await self._text("date")),
            details=details, refunded=refunded_in(details))

    async def edit(self, *, method: str | None = None, amount: Decimal | None = None,
                   date_: date | None = None, details: str | None = None,
                   before_save: BeforeSave | None = None) -> None:
        """Edit → change the fields given → Save; returns once the page shows the saved payment."""
        await (await self._el("edit")).click()
        dialog = await self._el("edit_dialog")
        form = CollectPaymentDialog(self.page, dialog, self.timeout_ms)
        await form.fill(method, amount, date_, details)
        await form.save("PaymentEdit", before_save)

    async def record_refund(self, refund_id: str, amount: Decimal, note: str,
                            before_save: BeforeSave | None = None) -> bool:
        """Edit the payment down by `amount` and name the refund in Details. False when Details
        already name it (recorded by an earlier run): nothing is changed then."""
        current = await self.read()
        if details_match(current.details, refund_id):
            return False
        if amount > current.amount:
            raise FlowRefused(f"the refund {amount} is more than the payment's {current.amount} left in Jobber")
        line = refund_line(refund_id, amount, note)
        details = f"{current.details}\n{line}" if current.details else line

        async def look_again() -> None:
            if before_save is not None:
                await before_save()

        await self.edit(amount=current.amount - amount, details=details, before_save=look_again)
        return True

    async def delete(self, before_save: BeforeSave | None = None) -> None:
        """More → Delete → confirm; waits for Jobber's answer and for the page it goes to."""
        await (await self._el("more")).click()
        await (await self._el("delete")).click()
        confirm_dialog = await self._el("delete_dialog")
        data = await press_and_wait(self.page, await self._el("confirm_delete"), "PaymentDelete",
                                    what="deleting the payment", timeout_ms=self.timeout_ms * 2,
                                    before_save=before_save)
        errors = user_errors(data)
        if errors:
            raise FlowRefused(f"Jobber refused to delete the payment: {errors[0].get('message') or 'no reason'}")
        await expect(confirm_dialog).to_be_hidden(timeout=self.timeout_ms)
