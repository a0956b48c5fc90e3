"""`jobber-robot selectors list|check`: the locator data, and which of it still resolves live.

`check` signs in as a merchant and walks the pages the robot uses (the identity host's sign-in,
the app's frame, invoices, an open invoice, whichever way it records a payment, a payment's own
page with its Edit and Delete dialogs, the client, a quote), probing every selector and saving
nothing. A control that resolves by none of its locators is drift, reported in words ("Collect
Payment button not found on invoice page"), exit status 1; one found only by a fallback locator
is named as drift too (the robot still works).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from robot.cli.console import err, out
from robot.errors import RobotError
from robot.locators import PageLocators, Resolution, registry

if TYPE_CHECKING:
    from playwright.async_api import Page

    from flows.pages.tab import JobberTab

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


async def _check_sign_in(tab: "JobberTab") -> list[Resolution]:
    """The identity host's sign-in page, reached as the robot reaches it (the app's /login)."""
    from flows.pages.places import Place, where

    await tab.page.goto(tab.app_link("/login"), wait_until="domcontentloaded")
    seen = await where(tab, tab.timeout_ms * 2)
    if seen.place is not Place.sign_in:
        return [*_skipped("sign_in", why=f"the sign-in page did not show ({seen.describe()})")]
    return await _probe_page(PageLocators(tab.page, "sign_in", tab.timeout_ms),
                             skip={"captcha": "shown only on a risky sign-in", "error": "shown only on a refusal"})


async def _check_app(tab: "JobberTab") -> list[Resolution]:
    from flows.pages.invoice import InvoicePage
    from flows.pages.invoices import InvoicesPage

    results: list[Resolution] = []
    invoices = InvoicesPage(tab)
    await invoices.goto("/invoices")
    results += await _probe_page(PageLocators(tab.page, "app_shell", tab.timeout_ms),
                                 skip={"error_page": "shown only on an error"})
    results += await _probe_page(invoices.loc)
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
            results += _skipped(name, why="no open invoice listed")
        return results

    invoice = InvoicePage(tab)
    await invoice.open(target.id)
    results += await _probe_page(invoice.loc, expected={"collect_payment"},
                                 skip={"mark_as_sent": "only in a Draft invoice's menu"})
    results += await _check_payment_shapes(tab, invoice)
    await invoice.open(target.id)
    payments = await invoice.payments()
    if payments:
        results += await _check_payment_page(tab, payments[0].id)
    else:
        results += _skipped("payment", why="no payment on the checked invoice")
    await invoice.open(target.id)
    results += await _check_client_and_quote(tab, invoice)
    return results


async def _check_payment_shapes(tab: "JobberTab", invoice: object) -> list[Resolution]:
    """Press Collect Payment, probe whichever of Jobber's two shapes opens, and leave it unsaved."""
    from flows.pages.collect_payment import CollectPaymentDialog, NewPaymentPage
    from flows.pages.invoice import InvoicePage

    assert isinstance(invoice, InvoicePage)
    button = await invoice.loc.resolve("collect_payment", timeout_ms=0)
    if button is None:
        return _skipped("collect_payment", why="Collect Payment button missing") + _skipped(
            "new_payment", why="Collect Payment button missing")
    await button.click()
    try:
        shape = await invoice._payment_shape()
    except RobotError:
        return _skipped("collect_payment", why="nothing opened") + _skipped("new_payment", why="nothing opened")
    if shape == "dialog":
        dialog = CollectPaymentDialog(tab.page, timeout_ms=tab.timeout_ms)
        found = await _probe_page(dialog.loc, expected={"dialog"}, skip={"error": "shown only on a refusal"})
        try:
            await dialog.cancel()
        except RobotError:
            await tab.page.keyboard.press("Escape")
        return found + _skipped("new_payment", why="this account records payments in the pop-up")
    form = NewPaymentPage(tab.page, tab.timeout_ms)
    found = await _probe_page(form.loc, skip={"error": "shown only on a refusal"})
    return found + _skipped("collect_payment", why="this account records payments on the New Payment page")


async def _check_payment_page(tab: "JobberTab", payment_id: int) -> list[Resolution]:
    """The payment's own page, its Edit dialog and its Delete confirmation (both cancelled)."""
    from flows.pages.payment import PaymentPage

    page = await PaymentPage(tab).open(payment_id)
    found = await _probe_page(page.loc, skip={k: "in a menu or dialog" for k in
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


async def _check_client_and_quote(tab: "JobberTab", invoice: object) -> list[Resolution]:
    """The invoice's client, then the Quotes list, then a quote (the first listed)."""
    from flows.pages.client import ClientPage
    from flows.pages.invoice import InvoicePage
    from flows.pages.quote import QuotePage
    from flows.pages.quotes import QuotesPage
    from flows.pages.table import id_from_link, read_table

    assert isinstance(invoice, InvoicePage)
    results: list[Resolution] = []
    client_box = await invoice.loc.resolve("client", timeout_ms=0)
    link = client_box.get_by_role("link").first if client_box is not None else None
    if link is None or not await link.count():
        results += _skipped("client", why="no client link")
    else:
        await link.click()
        await tab.page.wait_for_url("**/clients/**", timeout=tab.timeout_ms)
        client = ClientPage(tab)
        await client.wait_ready()
        results += await _probe_page(client.loc)
    listing = QuotesPage(tab)
    await listing.open()
    results += await _probe_page(listing.loc)
    table = await read_table(await listing._el("table"))
    quote_id = next((id_from_link(r.link()) for r in table.rows if r.link()), None)
    if not quote_id:
        return results + _skipped("quote", why="no quote listed")
    quote = await QuotePage(tab).open(quote_id)
    found = await _probe_page(quote.loc, skip={"deposit_dialog": "opened by Collect Deposit"})
    return results + found


async def run_check(settings: "Settings", vault: "Vault", merchant: str, url: str | None = None,
                    code_provider: "CodeProvider | None" = None) -> list[Resolution]:
    """Sign in as `merchant` and probe every page's selectors; returns one row per selector.

    The sign-in goes through the session pool, so a refused password or authenticator seed is
    never submitted again by a check (each try spends one of Jobber's few before a lock-out)."""
    from flows.pages.tab import JobberTab
    from robot.sessions import SessionPool

    timeout = settings.action_timeout_ms
    async with SessionPool(settings, vault, code_provider=code_provider, jobber_url=url) as pool:
        assert pool.browser is not None
        creds = vault.get(merchant)
        base = (url or creds.jobber_url or settings.jobber_url).rstrip("/")
        anon = await pool.browser.new_context()
        try:
            results = await _check_sign_in(JobberTab(await anon.new_page(), base, timeout))
        finally:
            await anon.close()
        results += _skipped("identity_notice", why="shown only when Jobber blocks a sign-in")
        async with pool.job(merchant, "selectors-check") as sess:
            login = sess.last_login
            mfa = registry()["mfa"].selectors
            if login is not None and login.verified_2fa:
                results += [Resolution(page="mfa", selector=k, description=s.description, optional=s.optional,
                                       found=not s.optional, via="passed during sign-in" if not s.optional
                                       else "not needed on this sign-in", status="ok" if not s.optional else "skipped")
                            for k, s in mfa.items()]
            else:
                results += _skipped("mfa", why="asked only on a new device")
            results += _skipped("account_chooser", why="passed during sign-in" if login is not None and login.ok
                                else "not shown")
            assert sess.tab is not None
            results += await _check_app(sess.tab)
    return results


def fallbacks(results: list[Resolution]) -> list[Resolution]:
    """Controls found only by a later locator: Jobber changed them (the robot still works)."""
    return [r for r in results if r.status == "fallback"]


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
    for r in fallbacks(results):
        out.print(f"[yellow]drift: {escape(r.description)} on the {r.page} page was found only by a fallback "
                  f"({escape(r.via or '')})[/yellow] (selector {r.page}.{r.selector}): Jobber changed this control")
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
