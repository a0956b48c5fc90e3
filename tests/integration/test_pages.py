"""The page objects (flows/pages) against the real mock site (its app host, GraphQL behind it),
checked via the admin API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from fixtures.jobber_site.server import MockJobber
from flows.pages.client import ClientPage
from flows.pages.invoice import InvoicePage
from flows.pages.invoices import InvoicesPage
from flows.pages.quote import QuotePage
from flows.pages.quotes import QuotesPage
from flows.pages.tab import JobberTab
from robot.errors import InputError, InvoiceInDraft, PaymentRejected, QuoteNotFound
from tests.plugin_mock_jobber import DEMO_EMAIL, PAGE_EMAIL, PAGE_PASSWORD, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

TIMEOUT_MS = 10_000  # generous: the test machines are shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def async_browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    from robot.browser import launch_options

    async with async_playwright() as p:
        b = await p.chromium.launch(**launch_options(headless=True, host_resolver_rules="MAP *.jobber.test 127.0.0.1"))
        yield b
        await b.close()


async def _signed_in_tab(browser: Any, site: MockJobber, **sign_in_kw: Any) -> tuple[Any, JobberTab]:
    """A tab on the app host carrying an app session made over HTTP through the identity host."""
    client = sign_in(site, **sign_in_kw)
    token = next(c.value for c in client.cookies.jar if c.name == "_jobber_session")
    client.close()
    ctx = await browser.new_context()
    await ctx.add_cookies([{"name": "_jobber_session", "value": token, "url": site.url}])
    return ctx, JobberTab(await ctx.new_page(), site.url, TIMEOUT_MS)


@pytest_asyncio.fixture(loop_scope="module")
async def apage(async_browser: Any, jobber: MockJobber) -> AsyncIterator[JobberTab]:
    """Acme Lawn Care (records payments in the Collect Payment pop-up)."""
    ctx, tab = await _signed_in_tab(async_browser, jobber)
    yield tab
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="module")
async def echo(async_browser: Any, jobber: MockJobber) -> AsyncIterator[JobberTab]:
    """Echo Gardens (records payments on the New Payment page)."""
    ctx, tab = await _signed_in_tab(async_browser, jobber, email=PAGE_EMAIL, password=PAGE_PASSWORD)
    yield tab
    await ctx.close()


def account(site: MockJobber, email: str = DEMO_EMAIL) -> dict[str, Any]:
    assert site.admin is not None
    return next(a for a in site.admin.state()["accounts"] if a["email"] == email)


def invoice_state(site: MockJobber, number: int, email: str = DEMO_EMAIL) -> dict[str, Any]:
    return next(i for i in account(site, email)["invoices"] if i["number"] == number)


def quote_state(site: MockJobber, number: int, email: str = DEMO_EMAIL) -> dict[str, Any]:
    return next(q for q in account(site, email)["quotes"] if q["number"] == number)


async def test_invoices_search_filter_and_open(apage: Any, jobber: MockJobber) -> None:
    invoices = await InvoicesPage(apage).open()
    rows = await invoices.rows()
    assert len(rows) == len(account(jobber)["invoices"])
    r1070 = next(r for r in rows if r.number == 1070)
    assert r1070.client == "Luis Garcia" and r1070.status == "awaiting_payment"
    assert r1070.total == Decimal("1250.00") and r1070.balance == Decimal("1000.00")
    assert r1070.due_date is not None

    found = await invoices.search("Okafor")
    assert sorted(r.number for r in found) == [1050, 1051]
    assert {r.status for r in found} == {"awaiting_payment", "past_due"}
    await invoices.search("")
    drafts = await invoices.filter_status("Draft")
    assert [r.number for r in drafts] == [1043]
    await invoices.filter_status("All")

    inv = await invoices.open_invoice(1042)
    assert isinstance(inv, InvoicePage)
    assert inv.invoice_id == invoice_state(jobber, 1042)["id"]
    assert await inv.number() == 1042


async def test_invoice_read_and_collect_payment(apage: Any, jobber: MockJobber) -> None:
    inv_id = invoice_state(jobber, 1070)["id"]
    inv = await InvoicePage(apage).open(inv_id)
    view = await inv.read()
    assert (view.number, view.status, view.client) == (1070, "awaiting_payment", "Luis Garcia")
    assert view.total == Decimal("1250.00") and view.balance == Decimal("1000.00")
    assert view.can_collect_payment
    assert [(p.method, p.amount, p.details) for p in view.payments] == [("Check", Decimal("250.00"), "Check #2231")]

    pid = await inv.collect_payment("credit_card", Decimal("100.00"), date(2026, 11, 20), "txn_po_1 Visa 4242")
    assert await inv.balance() == Decimal("900.00")
    found = await inv.find_payment_by_details("TXN_PO_1")
    assert found is not None and found.id == pid and found.amount == Decimal("100.00")
    assert found.date == date(2026, 11, 20) and found.method == "Credit card"
    assert await inv.find_payment_by_details("txn_nope") is None
    st = invoice_state(jobber, 1070)
    assert st["balance"] == "900.00"
    assert any(p["id"] == pid and p["method"] == "credit_card" and p["amount"] == "100.00" for p in st["payments"])


async def test_collect_payment_refusals(apage: Any, jobber: MockJobber) -> None:
    inv = await InvoicePage(apage).open(invoice_state(jobber, 1042)["id"])
    with pytest.raises((InputError, PaymentRejected)) as info:
        await inv.collect_payment("cash", Decimal("150.01"))
    assert "can't be more than the invoice balance" in str(info.value)
    assert invoice_state(jobber, 1042)["payments"] == []
    assert await inv.balance() == Decimal("150.00")

    draft = await InvoicePage(apage).open(invoice_state(jobber, 1043)["id"])
    assert await draft.status() == "draft" and not await draft.can_collect_payment()
    with pytest.raises(InvoiceInDraft):
        await draft.collect_payment("cash", Decimal("10.00"))
    await draft.mark_as_sent()
    assert await draft.status() == "awaiting_payment"
    assert invoice_state(jobber, 1043)["status"] == "awaiting_payment"


async def test_payment_page_edit_refund_by_editing_down_and_delete(apage: Any, jobber: MockJobber) -> None:
    inv = await InvoicePage(apage).open(invoice_state(jobber, 1070)["id"])
    (listed,) = await inv.payments()
    payment = await inv.payment_page(listed.id)
    await payment.edit(amount=Decimal("300.00"), details="Check #2231 (corrected)")
    read = await payment.read()
    assert read.amount == Decimal("300.00") and read.details == "Check #2231 (corrected)"
    assert invoice_state(jobber, 1070)["balance"] == "950.00"

    # a refund has no button: the payment is edited down and its Details name the refund
    assert await payment.record_refund("rf_1", Decimal("50.00"), "partial") is True
    read = await payment.read()
    assert read.amount == Decimal("250.00") and read.refunded == Decimal("50.00") and "rf_1" in read.details
    assert await payment.record_refund("rf_1", Decimal("50.00"), "partial") is False  # found by its id: once
    st = invoice_state(jobber, 1070)
    assert st["balance"] == "1000.00" and st["payments"][0]["amount"] == "250.00"

    await payment.delete()
    inv = await InvoicePage(apage).open(invoice_state(jobber, 1070)["id"])
    assert await inv.payments() == []
    assert await inv.balance() == Decimal("1250.00")
    assert invoice_state(jobber, 1070)["payments"] == []


async def test_new_payment_page_records_on_the_one_invoice(echo: JobberTab, jobber: MockJobber) -> None:
    st = invoice_state(jobber, 5042, PAGE_EMAIL)
    inv = await InvoicePage(echo).open(st["id"])
    pid = await inv.collect_payment("credit_card", Decimal("40.00"), None, "txn_page_1 · Visa 4242")
    assert await inv.balance() == Decimal("110.00")  # back on the invoice, showing the payment
    found = await inv.find_payment_by_details("txn_page_1")
    assert found is not None and found.id == pid and found.method == "Credit/debit card"
    others = [i for i in account(jobber, PAGE_EMAIL)["invoices"] if i["number"] != 5042]
    assert all(not i["payments"] for i in others)  # nothing spread onto the client's other invoices


async def test_invoice_heading_is_the_subject_and_the_number_sits_in_the_facts(apage: Any, jobber: MockJobber) -> None:
    view = await (await InvoicePage(apage).open(invoice_state(jobber, 1042)["id"])).read()
    assert view.subject == "Lawn mowing" and view.number == 1042


async def test_quote_deposit_and_convert(apage: Any, jobber: MockJobber) -> None:
    quote = await QuotePage(apage).open(quote_state(jobber, 12)["id"])
    view = await quote.read()
    assert (view.number, view.status, view.total) == (12, "approved", Decimal("400.00"))
    dep_id = await quote.collect_deposit("bank_transfer", Decimal("120.00"), details="ach_dep_1")
    assert quote_state(jobber, 12)["deposits"][0]["amount"] == "120.00"
    deposits = await quote.deposits()
    assert [(d.id, d.kind, d.amount) for d in deposits] == [(dep_id, "deposit", Decimal("120.00"))]
    await quote.open(quote.quote_id)
    invoice_id = await quote.convert()
    qs = quote_state(jobber, 12)
    assert qs["status"] == "converted" and qs["invoice_id"] == invoice_id
    inv = await InvoicePage(apage).open(invoice_id)
    view = await inv.read()
    assert view.status == "draft" and view.balance == Decimal("280.00")
    assert [(p.kind, p.amount) for p in view.payments] == [("deposit", Decimal("120.00"))]

    draft_quote = await QuotePage(apage).open(quote_state(jobber, 13)["id"])
    from robot.errors import FlowRefused

    with pytest.raises(FlowRefused):
        await draft_quote.collect_deposit("cash", Decimal("10.00"))


async def test_quotes_list_finds_each_quote_by_its_number(apage: Any, jobber: MockJobber) -> None:
    listing = await QuotesPage(apage).open()
    quotes = account(jobber)["quotes"]
    assert len(quotes) >= 3
    for q in quotes:
        assert await listing.find_id(q["number"]) == q["id"], q["number"]
    with pytest.raises(QuoteNotFound, match="quote #999 is not in this Jobber account"):
        await listing.find_id(999)
    quote = await listing.open_quote(12)
    view = await quote.read()
    assert (view.id, view.number, view.status) == (quote_state(jobber, 12)["id"], 12, "approved")


async def test_client_open_invoices(apage: Any, jobber: MockJobber) -> None:
    acc = account(jobber)
    okafor = next(c for c in acc["clients"] if c["name"] == "Jonas Okafor")
    client = await ClientPage(apage).open(okafor["id"])
    assert await client.name() == "Jonas Okafor"
    open_ = await client.open_invoices()
    assert sorted((i.number, i.status) for i in open_) == [(1050, "awaiting_payment"), (1051, "past_due")]
    assert all(i.issued_date is not None for i in open_)
    i1050 = next(i for i in open_ if i.number == 1050)
    assert i1050.total == Decimal("220.00") and i1050.balance == Decimal("220.00")
    patel = next(c for c in acc["clients"] if c["name"] == "Priya Patel")
    client = await ClientPage(apage).open(patel["id"])
    assert await client.open_invoices() == []
    assert {i.status for i in await client.invoices()} == {"paid", "bad_debt"}


async def test_save_after_the_session_ended_is_session_expired(apage: Any, jobber: MockJobber) -> None:
    from robot.errors import SessionExpired

    inv = await InvoicePage(apage).open(invoice_state(jobber, 1042)["id"])
    jobber.admin.faults(force_logout=True)  # type: ignore[union-attr]
    with pytest.raises(SessionExpired):
        await inv.collect_payment("cash", Decimal("10.00"))
    assert invoice_state(jobber, 1042)["payments"] == []


async def test_save_during_an_outage_is_jobber_unavailable(apage: Any, jobber: MockJobber) -> None:
    from robot.errors import JobberUnavailable

    inv = await InvoicePage(apage).open(invoice_state(jobber, 1042)["id"])
    jobber.admin.faults(error_rate=1)  # type: ignore[union-attr]
    with pytest.raises(JobberUnavailable):
        await inv.collect_payment("cash", Decimal("10.00"))
    jobber.admin.clear_faults()  # type: ignore[union-attr]
    assert invoice_state(jobber, 1042)["payments"] == []
    assert not await apage.page.get_by_role("dialog").count()  # the dialog was cancelled


async def test_goto_survives_the_page_sending_itself_elsewhere(apage: Any, jobber: MockJobber) -> None:
    """A navigation interrupted by the app's own (e.g. a redirect to sign-in on a 401) is not an outage."""
    listing = await InvoicesPage(apage).open()
    jobber.admin.faults(latency_ms=400)  # type: ignore[union-attr]
    await apage.page.evaluate("setTimeout(() => window.location.assign('/quotes'), 100)")
    await listing.goto("/clients")
    assert apage.page.url.endswith("/clients")


async def test_quote_deposit_on_the_new_payment_page(echo: JobberTab, jobber: MockJobber) -> None:
    quote = await QuotePage(echo).open(quote_state(jobber, 52, PAGE_EMAIL)["id"])
    dep_id = await quote.collect_deposit("credit_card", Decimal("25.00"), details="txn_qd_page")
    deposits = await quote.deposits()
    assert [(d.id, d.amount) for d in deposits] == [(dep_id, Decimal("25.00"))]
    assert quote_state(jobber, 52, PAGE_EMAIL)["deposits"][0]["details"] == "txn_qd_page"


async def test_duplicate_invoice_numbers_are_all_found(async_browser: Any, jobber: MockJobber) -> None:
    from tests.plugin_mock_jobber import FRANCHISE_EMAIL, FRANCHISE_PASSWORD

    ctx, tab = await _signed_in_tab(async_browser, jobber, email=FRANCHISE_EMAIL, password=FRANCHISE_PASSWORD,
                                    account="Delta Lawn North")
    try:
        listing = await InvoicesPage(tab).open()
        both = await listing.matching(3001)
        assert sorted(r.client for r in both) == ["Hannah Brooks", "Omar Haddad"]
        assert [r.client for r in await listing.matching(3001, client="Omar Haddad")] == ["Omar Haddad"]
        same_client = await listing.matching(3005, client="Omar Haddad")
        assert len(same_client) == 2 and len({r.id for r in same_client}) == 2
    finally:
        await ctx.close()


async def test_a_client_name_that_looks_like_other_cells_is_read_by_its_column(apage: Any, jobber: MockJobber) -> None:
    """Names with "$", "#", a date or a status word stay names (the list is read by column)."""
    assert jobber.admin is not None
    doc = {"accounts": [{"email": DEMO_EMAIL, "password": "correct-horse-42", "name": "Dana", "company": "Acme Lawn Care",
                         "two_factor": None, "clients": [{"name": "Paid $5 #7 Dec 1, 2026 Ltd", "invoices": [
                             {"number": 77, "subject": "Awaiting Payment", "status": "awaiting_payment",
                              "issued_date": "today-1d", "due_date": "today+9d",
                              "line_items": [{"name": "x", "description": "", "quantity": "1", "unit_price": "12.34"}]}]}]}]}
    jobber.admin.reset(doc)
    ctx, tab = await _signed_in_tab(apage.page.context.browser, jobber)
    try:
        (row,) = await (await InvoicesPage(tab).open()).rows()
        assert (row.client, row.number, row.status, row.balance) == (
            "Paid $5 #7 Dec 1, 2026 Ltd", 77, "awaiting_payment", Decimal("12.34"))
        assert row.subject == "Awaiting Payment"
    finally:
        await ctx.close()
