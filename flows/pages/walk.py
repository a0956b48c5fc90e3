"""Walking Jobber's pages to probe every selector, saving nothing (`selectors check`, the doctor).

The walk goes the way the robot goes: the identity host's sign-in (from the app's /login), the
app's frame, invoices, an open invoice, whichever way the account records a payment (opened and
left unsaved), a payment's own page with its Edit and Delete dialogs (both cancelled), the
client, a quote. A control that resolves by none of its locators is drift; one found only by a
fallback locator is drift too (the robot still works).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator

from flows.pages.client import ClientPage
from flows.pages.collect_payment import CollectPaymentDialog, NewPaymentPage
from flows.pages.invoice import InvoicePage
from flows.pages.invoices import InvoicesPage
from flows.pages.payment import PaymentPage
from flows.pages.places import Place, where
from flows.pages.quote import QuotePage
from flows.pages.quotes import QuotesPage
from flows.pages.table import id_from_link, read_table
from robot.errors import RobotError
from robot.locators import PageLocators, Resolution, registry

if TYPE_CHECKING:
    from playwright.async_api import Page

    from flows.pages.tab import JobberTab

PROBE_MS = 1_500  # per selector, once the page's data has loaded


def skipped(page: str, keys: list[str] | None = None, why: str = "") -> list[Resolution]:
    spec = registry()[page]
    return [Resolution(page=page, selector=k, description=s.description, optional=s.optional,
                       found=False, via=why or None, status="skipped")
            for k, s in spec.selectors.items() if keys is None or k in keys]


async def probe_page(loc: PageLocators, expected: set[str] = frozenset(),  # type: ignore[assignment]
                      skip: dict[str, str] | None = None) -> list[Resolution]:
    """Probe every selector of the page; `expected` optional ones count as required here."""
    skip = skip or {}
    results = []
    for key, sel in loc.spec.selectors.items():
        if key in skip:
            results.extend(skipped(loc.spec.page, [key], skip[key]))
            continue
        res = await loc.probe(key, timeout_ms=PROBE_MS if (not sel.optional or key in expected) else 0)
        if key in expected:
            res.optional = False
        results.append(res)
    return results


async def check_sign_in(tab: "JobberTab") -> list[Resolution]:
    """The identity host's sign-in page, reached as the robot reaches it (the app's /login)."""
    await tab.page.goto(tab.app_link("/login"), wait_until="domcontentloaded")
    seen = await where(tab, tab.timeout_ms * 2)
    if seen.place is not Place.sign_in:
        return [*skipped("sign_in", why=f"the sign-in page did not show ({seen.describe()})")]
    return await probe_page(PageLocators(tab.page, "sign_in", tab.timeout_ms),
                             skip={"captcha": "shown only on a risky sign-in", "error": "shown only on a refusal"})


async def check_app(tab: "JobberTab") -> list[Resolution]:
    results: list[Resolution] = []
    invoices = InvoicesPage(tab)
    await invoices.goto("/invoices")
    results += await probe_page(PageLocators(tab.page, "app_shell", tab.timeout_ms),
                                 skip={"error_page": "shown only on an error"})
    results += await probe_page(invoices.loc)
    rows = []
    try:
        rows = await invoices.rows()
    except RobotError:
        pass
    open_rows = [r for r in rows if r.status in ("awaiting_payment", "past_due")]
    # prefer an open invoice that already has a payment: its payment page gets checked too
    target = next((r for r in open_rows if r.balance < r.total), open_rows[0] if open_rows else None)
    if target is None:
        for name in ("invoice", "collect_payment", "new_payment", "payment", "client", "quotes", "quote"):
            results += skipped(name, why="no open invoice listed")
        return results

    invoice = InvoicePage(tab)
    await invoice.open(target.id)
    results += await probe_page(invoice.loc, expected={"collect_payment"},
                                 skip={"mark_as_sent": "only in a Draft invoice's menu"})
    results += await _check_payment_shapes(tab, invoice)
    await invoice.open(target.id)
    payments = await invoice.payments()
    if payments:
        results += await _check_payment_page(tab, payments[0].id)
    else:
        results += skipped("payment", why="no payment on the checked invoice")
    await invoice.open(target.id)
    results += await _check_client_and_quote(tab, invoice)
    return results


async def _check_payment_shapes(tab: "JobberTab", invoice: object) -> list[Resolution]:
    """Press Collect Payment, probe whichever of Jobber's two shapes opens, and leave it unsaved."""
    assert isinstance(invoice, InvoicePage)
    button = await invoice.loc.resolve("collect_payment", timeout_ms=0)
    if button is None:
        return skipped("collect_payment", why="Collect Payment button missing") + skipped(
            "new_payment", why="Collect Payment button missing")
    await button.click()
    try:
        shape = await invoice._payment_shape()
    except RobotError:
        return skipped("collect_payment", why="nothing opened") + skipped("new_payment", why="nothing opened")
    if shape == "dialog":
        dialog = CollectPaymentDialog(tab.page, timeout_ms=tab.timeout_ms)
        found = await probe_page(dialog.loc, expected={"dialog"}, skip={"error": "shown only on a refusal"})
        try:
            await dialog.cancel()
        except RobotError:
            await tab.page.keyboard.press("Escape")
        return found + skipped("new_payment", why="this account records payments in the pop-up")
    form = NewPaymentPage(tab.page, tab.timeout_ms)
    found = await probe_page(form.loc, skip={"error": "shown only on a refusal"})
    return found + skipped("collect_payment", why="this account records payments on the New Payment page")


async def _check_payment_page(tab: "JobberTab", payment_id: int) -> list[Resolution]:
    """The payment's own page, its Edit dialog and its Delete confirmation (both cancelled)."""
    page = await PaymentPage(tab).open(payment_id)
    found = await probe_page(page.loc, skip={k: "in a menu or dialog" for k in
                                              ("delete", "edit_dialog", "delete_dialog", "confirm_delete")})
    by_key = {r.selector: r for r in found}
    for opener, keys in (("edit", ("edit_dialog",)), ("more", ("delete",)), ("delete", ("delete_dialog", "confirm_delete"))):
        el = await page.loc.resolve(opener, timeout_ms=0)
        if el is None:
            continue
        await el.first.click()
        for key in keys:
            res = await page.loc.probe(key, timeout_ms=PROBE_MS)
            res.optional = False  # it was opened: its controls must be there
            by_key[key] = res
        if opener != "more":
            await _cancel_dialog(tab.page, await page.loc.resolve(keys[0], timeout_ms=0))
    return [by_key.get(r.selector, r) for r in found]


async def _cancel_dialog(page: "Page", dialog: object) -> None:
    if not isinstance(dialog, Locator):
        await page.keyboard.press("Escape")
        return
    try:
        cancel = dialog.get_by_role("button", name="Cancel", exact=True)
        if await cancel.count():
            await cancel.first.click()
        else:
            await page.keyboard.press("Escape")
        await dialog.first.wait_for(state="hidden", timeout=PROBE_MS * 2)
    except PlaywrightError:
        await page.keyboard.press("Escape")


async def _check_client_and_quote(tab: "JobberTab", invoice: object) -> list[Resolution]:
    """The invoice's client, then the Quotes list, then a quote (the first listed)."""
    assert isinstance(invoice, InvoicePage)
    results: list[Resolution] = []
    client_box = await invoice.loc.resolve("client", timeout_ms=0)
    link = client_box.get_by_role("link").first if client_box is not None else None
    if link is None or not await link.count():
        results += skipped("client", why="no client link")
    else:
        await link.click()
        await tab.page.wait_for_url("**/clients/**", timeout=tab.timeout_ms)
        client = ClientPage(tab)
        await client.wait_ready()
        results += await probe_page(client.loc)
    listing = QuotesPage(tab)
    await listing.open()
    results += await probe_page(listing.loc)
    table = await read_table(await listing._el("table"))
    quote_id = next((id_from_link(r.link()) for r in table.rows if r.link()), None)
    if not quote_id:
        return results + skipped("quote", why="no quote listed")
    quote = await QuotePage(tab).open(quote_id)
    found = await probe_page(quote.loc, skip={"deposit_dialog": "opened by Collect Deposit"})
    return results + found


def fallbacks(results: list[Resolution]) -> list[Resolution]:
    """Controls found only by a later locator: Jobber changed them (the robot still works)."""
    return [r for r in results if r.status == "fallback"]


def drifted(results: list[Resolution]) -> list[Resolution]:
    return [r for r in results if r.status == "missing" and not r.optional]


def drift_message(r: Resolution) -> str:
    return f"{r.description} not found on {r.page} page"
