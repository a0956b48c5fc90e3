"""`jobber-robot selectors list|check`: the locator data, and which of it still resolves live.

`check` signs in as a merchant and walks the pages the robot uses (sign-in, invoices, an open
invoice, its Collect Payment dialog, a payment row, the client, a quote), probing every
selector. A control that resolves by none of its locators is drift, reported in words
("Collect Payment button not found on invoice page"); exit status 1 when there is any.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from robot.cli.console import err, out
from robot.errors import RobotError
from robot.locators import PageLocators, Resolution, registry

if TYPE_CHECKING:
    from playwright.async_api import Page

    from robot.config import Settings
    from robot.twofactor import CodeProvider
    from robot.vault import Vault

app = typer.Typer(help="Selectors (Jobber's pages as data): list them, check them on a live site.",
                  no_args_is_help=True)

PROBE_MS = 1_500  # per selector, once the page's data has loaded


def _skipped(page: str, keys: list[str] | None = None, why: str = "") -> list[Resolution]:
    spec = registry()[page]
    return [Resolution(page=page, selector=k, description=s.description, optional=s.optional,
                       found=False, via=why or None, status="skipped")
            for k, s in spec.selectors.items() if keys is None or k in keys]


async def _probe_page(loc: PageLocators, expected: set[str] = frozenset(),  # type: ignore[assignment]
                      skip: dict[str, str] | None = None) -> list[Resolution]:
    """Probe every selector of the page; `expected` optional ones count as required here."""
    skip = skip or {}
    results = []
    for key, sel in loc.spec.selectors.items():
        if key in skip:
            results.extend(_skipped(loc.spec.page, [key], skip[key]))
            continue
        res = await loc.probe(key, timeout_ms=PROBE_MS if (not sel.optional or key in expected) else 0)
        if key in expected:
            res.optional = False
        results.append(res)
    return results


async def _check_login(page: "Page", timeout_ms: int) -> list[Resolution]:
    from flows.pages.login import LoginPage

    login = LoginPage(page, timeout_ms)
    await login.open()
    return await _probe_page(login.loc)


async def _check_app(page: "Page", timeout_ms: int) -> list[Resolution]:
    from flows.pages.invoice import InvoicePage
    from flows.pages.invoices import InvoicesPage

    results: list[Resolution] = []
    invoices = InvoicesPage(page, timeout_ms)
    await invoices.goto("/invoices")
    results += await _probe_page(invoices.loc, expected={"row"})
    rows = []
    try:
        rows = await invoices.rows()
    except RobotError:
        pass
    open_rows = [r for r in rows if r.status in ("awaiting_payment", "past_due")]
    # prefer an open invoice that already has a payment: its row and dialogs get checked too
    target = next((r for r in open_rows if r.balance < r.total), open_rows[0] if open_rows else None)
    if target is None:
        for name in ("invoice", "collect_payment", "payment_row", "client", "quotes", "quote"):
            results += _skipped(name, why="no open invoice listed")
        return results

    invoice = InvoicePage(page, timeout_ms)
    await invoice.goto(f"/invoices/{target.id}")
    inv = await _probe_page(invoice.loc, expected={"collect_payment"},
                            skip={"mark_as_sent": "only on a Draft invoice's menu"})
    results += inv
    # Collect Payment dialog: open it, probe, cancel (nothing is saved)
    button = await invoice.loc.resolve("collect_payment", timeout_ms=0)
    if button is not None:
        from flows.pages.collect_payment import CollectPaymentDialog

        await button.click()
        dialog = CollectPaymentDialog(page, timeout_ms=timeout_ms)
        results += await _probe_page(dialog.loc, expected={"dialog"}, skip={"error": "shown only on a refusal"})
        try:
            await dialog.cancel()
        except RobotError:
            await page.keyboard.press("Escape")
    else:
        results += _skipped("collect_payment", why="Collect Payment button missing")
    # a payment row, if the invoice has one
    row = await invoice.loc.resolve("payment_row", timeout_ms=0)
    if row is not None:
        rl = PageLocators(page, "payment_row", timeout_ms, {"row": row.first})
        in_dialogs = [k for _, keys in ROW_DIALOGS for k in keys]
        found = await _probe_page(rl, skip={k: "in a dialog" for k in in_dialogs})
        by_key = {r.selector: r for r in await _probe_row_dialogs(page, rl)}
        results += [by_key.get(r.selector, r) for r in found]
    else:
        results += _skipped("payment_row", why="no payment on the checked invoice")
    results += await _check_client_and_quote(page, invoice, timeout_ms)
    return results


#: payment row buttons and what their dialog shows (opened, probed, cancelled: nothing is saved)
ROW_DIALOGS = (
    ("edit", ("edit_dialog",)),
    ("refund", ("refund_dialog", "refund_amount", "refund_details")),
    ("delete", ("delete_dialog", "confirm_delete")),
)


async def _cancel_dialog(page: "Page", dialog: object) -> None:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import Locator

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


async def _probe_row_dialogs(page: "Page", rl: PageLocators) -> list[Resolution]:
    results: list[Resolution] = []
    for button, keys in ROW_DIALOGS:
        opener = await rl.resolve(button, timeout_ms=0)
        if opener is None:
            results += _skipped("payment_row", list(keys), f"no {button} button on the row")
            continue
        await opener.first.click()
        for key in keys:
            res = await rl.probe(key, timeout_ms=PROBE_MS)
            res.optional = False  # the dialog was opened: its controls must be there
            results.append(res)
        await _cancel_dialog(page, await rl.resolve(keys[0], timeout_ms=0))
    return results


async def _check_client_and_quote(page: "Page", invoice: object, timeout_ms: int) -> list[Resolution]:
    """The invoice's client, then the Quotes list, then a quote (the client's, else the first listed)."""
    from playwright.async_api import Error as PlaywrightError

    from flows.pages.client import ClientPage
    from flows.pages.invoice import InvoicePage
    from flows.pages.quote import QuotePage
    from flows.pages.quotes import QuotesPage

    assert isinstance(invoice, InvoicePage)
    results: list[Resolution] = []
    link = await invoice.loc.resolve("client", timeout_ms=0)
    client_quote: str | None = None
    if link is None:
        results += _skipped("client", why="no client link")
    else:
        await link.first.click()
        client = ClientPage(page, timeout_ms)
        await page.wait_for_url("**/clients/**", timeout=timeout_ms)
        results += await _probe_page(client.loc)
        quotes = await client.loc.resolve("quotes", timeout_ms=0)
        if quotes is not None and await quotes.get_by_role("link").count():
            client_quote = await quotes.get_by_role("link").first.get_attribute("href")
    listing = QuotesPage(page, timeout_ms)
    await listing.goto("/quotes")
    results += await _probe_page(listing.loc, expected={"row"})
    if not client_quote:
        first = page.get_by_role("link", name=re.compile(r"^Quote #\d+")).first
        try:
            await first.wait_for(state="attached", timeout=PROBE_MS)
            client_quote = await first.get_attribute("href")
        except PlaywrightError:
            client_quote = None
    if not client_quote:
        return results + _skipped("quote", why="no quote listed")
    quote = QuotePage(page, timeout_ms)
    await quote.goto(client_quote)
    found = await _probe_page(quote.loc)
    opener = await quote.loc.resolve("collect_deposit", timeout_ms=0)
    if opener is not None:  # an Approved quote: open Collect Deposit, probe it, cancel
        await opener.first.click()
        res = await quote.loc.probe("deposit_dialog", timeout_ms=PROBE_MS)
        res.optional = False
        found = [res if r.selector == "deposit_dialog" else r for r in found]
        await _cancel_dialog(page, await quote.loc.resolve("deposit_dialog", timeout_ms=0))
    return results + found


async def run_check(settings: "Settings", vault: "Vault", merchant: str, url: str | None = None,
                    code_provider: "CodeProvider | None" = None) -> list[Resolution]:
    """Sign in as `merchant` and probe every page's selectors; returns one row per selector."""
    from robot.sessions import SessionPool

    timeout = settings.action_timeout_ms
    async with SessionPool(settings, vault, code_provider=code_provider, jobber_url=url) as pool:
        assert pool.browser is not None
        creds = vault.get(merchant)
        base = (url or creds.jobber_url or settings.jobber_url).rstrip("/")
        anon = await pool.browser.new_context(base_url=base)
        try:
            results = await _check_login(await anon.new_page(), timeout)
        finally:
            await anon.close()
        results += _skipped("two_factor", why="asked only on a new device")
        async with pool.job(merchant, "selectors-check") as sess:
            if sess.last_login is not None and sess.last_login.verified_2fa:
                results = [r for r in results if r.page != "two_factor"]
                results += [Resolution(page="two_factor", selector=k, description=s.description,
                                       optional=s.optional, found=True, via="passed during sign-in", status="ok")
                            if not s.optional else
                            Resolution(page="two_factor", selector=k, description=s.description,
                                       optional=True, found=False, via="not shown on this sign-in",
                                       status="skipped")
                            for k, s in registry()["two_factor"].selectors.items()]
            results += await _check_app(sess.page, timeout)
    return results


def drifted(results: list[Resolution]) -> list[Resolution]:
    return [r for r in results if r.status == "missing" and not r.optional]


def drift_message(r: Resolution) -> str:
    return f"{r.description} not found on {r.page} page"


def _table(results: list[Resolution]) -> Table:
    table = Table(title="Selectors on the live site")
    for col in ("page", "selector", "control", "result", "resolved by"):
        table.add_column(col)
    style = {"ok": "green", "fallback": "yellow", "missing": "red", "skipped": "dim"}
    for r in results:
        status = r.status if not (r.status == "missing" and r.optional) else "absent (optional)"
        table.add_row(r.page, r.selector, escape(r.description),
                      f"[{style.get(r.status, 'white')}]{status}[/]", escape(r.via or ""))
    return table


@app.command("check")
def check(
    url: str = typer.Option(None, "--url", help="Jobber base URL (default: the merchant's or the settings')"),
    merchant: str = typer.Option(None, "--merchant", "-m", help="Merchant to sign in as (default: the only one)"),
) -> None:
    """Sign in and report, per page and per selector, which still resolve."""
    from robot.config import load_settings
    from robot.logging import configure_logging
    from robot.twofactor import PromptCodeProvider
    from robot.vault import Vault

    try:
        settings = load_settings()
        configure_logging(settings, console=False)
        vault = Vault.from_settings(settings)
        if merchant is None:
            names = [c.merchant for c in vault.list()]
            if len(names) != 1:
                err.print("[red]give --merchant (the vault holds "
                          f"{', '.join(names) or 'no merchant'})[/red]")
                raise typer.Exit(2)
            merchant = names[0]
        results = asyncio.run(run_check(settings, vault, merchant, url, PromptCodeProvider()))
    except RobotError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    out.print(_table(results))
    bad = drifted(results)
    for r in bad:
        out.print(f"[red]{drift_message(r)}[/red] (selector {r.page}.{r.selector})")
    if bad:
        raise typer.Exit(1)
    out.print("[green]every required selector resolves[/green]")


@app.command("list")
def list_() -> None:
    """Print every page's selectors and their locators, in order."""
    table = Table(title="Selectors (selectors/*.toml)")
    for col in ("page", "selector", "control", "optional", "locators (first wins)"):
        table.add_column(col)
    for page, spec in registry().items():
        for key, sel in spec.selectors.items():
            scope = f" [dim](in {sel.scope})[/dim]" if sel.scope else ""
            table.add_row(page, key + scope, sel.description, "yes" if sel.optional else "",
                          escape(" | ".join(loc.describe() for loc in sel.locators)))
    out.print(table)
