"""Recording a payment: the Collect Payment pop-up, the New Payment page, and what they share.

Jobber shows one of two shapes (notes: "Recording a payment"): the help centre's pop-up
(method, amount, date, details) or the live app's New Payment page (method, reference, date,
details, and an amount per outstanding invoice). Which one is shown is read off the page after
pressing Collect Payment, never configured. Both end with one GraphQL mutation, waited on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from flows.pages.graphql import press_and_wait, user_errors
from robot.errors import InputError, PageDriftError, PaymentRejected, RobotError
from robot.locators import DEFAULT_TIMEOUT_MS, PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

#: Called with the form filled, right before Save: the job's fence and last look (may raise).
BeforeSave = Callable[[], Awaitable[None]]

#: The robot's method keys → Jobber's labels as seen in either shape ("Credit card",
#: "Credit/debit card", "Bank transfer", ...).
METHODS: dict[str, re.Pattern[str]] = {
    "credit_card": re.compile(r"^credit\s*(/\s*debit)?\s*card$", re.I),
    "bank_transfer": re.compile(r"^(bank transfer|ach|bank account)$", re.I),
    "cash": re.compile(r"^cash$", re.I),
    "check": re.compile(r"^(check|cheque)$", re.I),
    "money_order": re.compile(r"^money order$", re.I),
    "paypal": re.compile(r"^paypal$", re.I),
    "other": re.compile(r"^other$", re.I),
}


def method_key(method: str) -> str:
    key = method.strip().lower().replace(" ", "_").replace("/", "_")
    if key in METHODS:
        return key
    for known, rx in METHODS.items():
        if rx.match(method.strip()):
            return known
    raise InputError("method", f"must be one of {', '.join(METHODS)}")


async def choose_method(select: "Locator", method: str) -> None:
    """Pick the option whose label is Jobber's name for `method`, whatever its wording."""
    rx = METHODS[method_key(method)]
    labels: list[str] = await select.evaluate("s => [...s.options].map(o => o.textContent.trim())")
    label = next((lbl for lbl in labels if rx.match(lbl)), None)
    if label is None:
        raise PageDriftError("collect_payment", "method", f"payment method {method_key(method)!r} option")
    await select.select_option(label=label)


def saved_payment_id(data: dict[str, Any]) -> int | None:
    payload = data.get("paymentCreate") or {}
    payments = payload.get("payments") or []
    return int(payments[0]["id"]) if payments else None


def _refusal(errors: list[dict[str, Any]], shown: str | None) -> Exception:
    message = shown or "; ".join(str(e.get("message") or "") for e in errors) or "no reason given"
    path = [str(p) for p in (errors[0].get("path") or [])] if errors else []
    if "amount" in path or "date" in path or "method" in path:
        field = next(p for p in reversed(path) if p in ("amount", "date", "method"))
        return InputError(field, message)
    return PaymentRejected(f"Jobber refused the payment: {message}")


class CollectPaymentDialog:
    """The pop-up (also Edit Payment and Collect Deposit: same fields, another dialog)."""

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
            await choose_method(await self.loc.require("method"), method)
        if amount is not None:
            await (await self.loc.require("amount")).fill(f"{amount:.2f}")
        if date_ is not None:
            await (await self.loc.require("date")).fill(date_.isoformat())
        if details is not None:
            await (await self.loc.require("details")).fill(details)

    async def save(self, operation: str, before_save: BeforeSave | None = None) -> dict[str, Any]:
        """Press Save and wait for Jobber's answer to `operation`; returns the mutation's data.
        A refusal is PaymentRejected / InputError with Jobber's own message (the dialog is
        cancelled: nothing was recorded)."""
        dialog = await self.wait_open()  # resolved now: the SPA closes it as soon as Jobber answers
        save = await self.loc.require("save")
        try:
            data = await press_and_wait(self.page, save, operation, what="the payment",
                                        timeout_ms=self.timeout_ms * 2, before_save=before_save)
        except BaseException:
            await self._close_if_open()  # fenced, session ended, Jobber down: nothing was saved
            raise
        errors = user_errors(data)
        if errors:
            shown = await self.error_text()
            await self.cancel()
            raise _refusal(errors, shown)
        await expect(dialog).to_be_hidden(timeout=self.timeout_ms)
        return data

    async def _close_if_open(self) -> None:
        """Best effort: cancel the dialog if it is still shown (the SPA may have left the page)."""
        try:
            await self.cancel()
        except (PlaywrightError, RobotError):
            pass

    async def cancel(self) -> None:
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


class NewPaymentPage:
    """The New Payment page: one payment spread over the client's outstanding invoices (or a
    quote's deposit); the robot fills only the row of the invoice it was sent for."""

    def __init__(self, page: "Page", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        self.loc = PageLocators(page, "new_payment", timeout_ms)

    async def wait_open(self) -> None:
        await self.loc.expect_ready()

    async def fill(self, *, row_label: str, method: str, amount: Decimal, date_: date | None = None,
                   details: str = "") -> None:
        """`row_label`: the amount field's label ("Payment for invoice #1042" / "Deposit for quote
        #12"); every other row is emptied so the money goes to that invoice only."""
        await self.wait_open()
        await choose_method(await self.loc.require("method"), method)
        if date_ is not None:
            await (await self.loc.require("date")).fill(date_.isoformat())
        await (await self.loc.require("details")).fill(details)
        table = await self.loc.require("allocations")
        target = table.get_by_label(row_label, exact=True)
        if await target.count() != 1:
            raise PageDriftError("new_payment", "allocations", f"amount field {row_label!r}")
        for field in await table.get_by_role("textbox").all() + await table.get_by_role("spinbutton").all():
            if await field.input_value() and await field.get_attribute("aria-label") != row_label:
                await field.fill("")
        await target.fill(f"{amount:.2f}")

    async def save(self, before_save: BeforeSave | None = None) -> dict[str, Any]:
        """Save (not "Save and Email Receipt": the robot sends no e-mail); waits for Jobber's
        answer and for the page it goes back to."""
        data = await press_and_wait(self.page, await self.loc.require("save"), "PaymentCreate", what="the payment",
                                    timeout_ms=self.timeout_ms * 2, before_save=before_save)
        errors = user_errors(data)
        if errors:
            shown = None
            el = await self.loc.resolve("error", timeout_ms=self.timeout_ms // 4)
            if el is not None:
                shown = (await el.first.inner_text()).strip() or None
            raise _refusal(errors, shown)
        return data
