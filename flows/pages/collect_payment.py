"""The Collect Payment dialog (also Edit Payment and Collect Deposit: same fields, another dialog)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flows.pages.base import raise_for_session_or_outage
from robot.errors import FlowRefused, InputError
from robot.locators import DEFAULT_TIMEOUT_MS, PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response

#: Jobber's method labels by the robot's keys (the select's option values).
METHODS = {
    "credit_card": "Credit Card",
    "bank_transfer": "Bank Transfer",
    "cash": "Cash",
    "check": "Check",
    "money_order": "Money Order",
    "other": "Other",
}


class PaymentRejected(FlowRefused):
    """Jobber refused to save the payment; its message says why. Nothing was recorded."""

    code = "payment_rejected"


def method_value(method: str) -> str:
    key = method.strip().lower().replace(" ", "_")
    if key in METHODS:
        return key
    raise InputError("method", f"must be one of {', '.join(METHODS)}")


class CollectPaymentDialog:
    def __init__(self, page: "Page", dialog: "Locator | None" = None, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        self.loc = PageLocators(page, "collect_payment", timeout_ms, {"dialog": dialog} if dialog is not None else None)

    async def wait_open(self) -> "Locator":
        return await self.loc.require("dialog")

    async def fill(self, method: str | None = None, amount: Decimal | None = None,
                   date_: date | None = None, details: str | None = None) -> None:
        """Set the fields given (others keep what Jobber pre-filled)."""
        await self.wait_open()
        if method is not None:
            await (await self.loc.require("method")).select_option(value=method_value(method))
        if amount is not None:
            await (await self.loc.require("amount")).fill(f"{amount:.2f}")
        if date_ is not None:
            await (await self.loc.require("date")).fill(date_.isoformat())
        if details is not None:
            await (await self.loc.require("details")).fill(details)

    async def save(self, api_path_part: str = "/payments") -> dict[str, Any]:
        """Press Save; returns Jobber's saved record. A refusal is PaymentRejected/InputError
        with Jobber's own message (the dialog is cancelled, nothing was recorded)."""
        dialog = await self.wait_open()  # resolved now: the SPA closes it as soon as Jobber answers
        save = await self.loc.require("save")

        def is_save(resp: "Response") -> bool:
            return resp.request.method in ("POST", "PATCH") and api_path_part in resp.url

        async with self.page.expect_response(is_save, timeout=self.timeout_ms * 2) as info:
            await save.click()
        resp = await info.value
        if resp.status == 401 or resp.status >= 500:
            await self._close_if_open()
            raise_for_session_or_outage(resp, "the payment")
        body: dict[str, Any] = {}
        try:
            body = json.loads(await resp.text() or "{}")
        except ValueError:
            body = {}
        if resp.status >= 400:
            message = await self.error_text() or str(body.get("error") or f"Jobber answered {resp.status}")
            await self.cancel()
            if resp.status == 422:
                raise InputError(str(body.get("field") or "payment"), message)
            raise PaymentRejected(f"Jobber refused the payment: {message}")
        from playwright.async_api import expect

        await expect(dialog).to_be_hidden(timeout=self.timeout_ms)
        return body

    async def _close_if_open(self) -> None:
        """Best effort: cancel the dialog if it is still shown (the SPA may have left the page)."""
        from playwright.async_api import Error as PlaywrightError

        from robot.errors import RobotError

        try:
            await self.cancel()
        except (PlaywrightError, RobotError):
            pass

    async def cancel(self) -> None:
        from playwright.async_api import expect

        dialog = await self.loc.resolve("dialog", timeout_ms=0)
        if dialog is None:
            return
        await (await self.loc.require("cancel")).click()
        await expect(dialog).to_be_hidden(timeout=self.timeout_ms)

    async def error_text(self) -> str | None:
        el = await self.loc.resolve("error", timeout_ms=self.timeout_ms // 4)
        if el is None:
            return None
        return (await el.first.inner_text()).strip() or None
