"""The mock Jobber SPA in a real Chromium (pytest-playwright `page`) against the real mock site:
sign-in through the identity host's pages, then what a person sees on every app page, checked
again through the admin API where money moves."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from fixtures.jobber_site.server import MockJobber
from tests.plugin_mock_jobber import (
    DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, PAGE_EMAIL, PAGE_PASSWORD,
    mock_now, totp_code,
)

TIMEOUT = 10_000  # generous: the test machines are shared
FRANCHISE_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
PAGE_SECRET = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
HUMAN_DATE = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}$")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], mock_jobber: MockJobber) -> dict[str, Any]:
    return {**browser_context_args, "base_url": mock_jobber.url, "viewport": {"width": 1280, "height": 860}}


@pytest.fixture(autouse=True)
def _timeouts(page: Page) -> None:
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


# -- helpers -----------------------------------------------------------------------------------
def human(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.strftime('%b')} {d.day}, {d.year}"


def sign_in(page: Page, site: MockJobber, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD,
            secret: str = DEMO_TOTP_SECRET, account: str | None = None, path: str = "/invoices") -> None:
    """Sign the browser in through the identity host's pages: e-mail + password, the one-time
    code (a code already used in this 30 s step is retried with a neighbour), the account chooser."""
    page.goto(path)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert urlsplit(page.url).hostname == urlsplit(site.identity_url).hostname
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", name="Verify Your Identity")).to_be_visible()
    now = mock_now(site)
    for offset in (0, 30, -30):
        page.get_by_label("Enter your one-time code").fill(totp_code(secret, now + timedelta(seconds=offset)))
        page.get_by_role("button", name="Continue", exact=True).click()
        page.wait_for_load_state("domcontentloaded")
        if urlsplit(page.url).hostname == urlsplit(site.url).hostname:
            break
    else:
        raise AssertionError("one-time code refused")
    if account:
        expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
        page.get_by_role("button", name=account, exact=True).click()
    expect(page.get_by_label("Current account")).to_be_visible()


def invoices_table(page: Page) -> Locator:
    table = page.get_by_role("table", name="Invoices", exact=True)
    expect(table).to_have_attribute("aria-busy", "false")
    return table


def column(table: Locator, header: str) -> list[str]:
    """The texts of one column, found by its header's name."""
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    i = headers.index(header)
    return [t.strip() for t in table.locator(f"tbody tr td:nth-child({i + 1})").all_inner_texts()]


def search(page: Page, text: str) -> Locator:
    box = page.get_by_label("Search invoices")
    if box.input_value() == text:
        return invoices_table(page)
    with page.expect_response(lambda r: "/api/graphql" in r.url and (r.request.post_data_json or {}).get(
            "operationName") == "InvoicesList"):
        box.fill(text)
    return invoices_table(page)


def open_invoice(page: Page, number: int, client: str | None = None) -> None:
    table = search(page, str(number))
    row = table.locator("tbody tr")
    if client:
        row = row.filter(has_text=client)
    row.get_by_role("link", name=str(number), exact=True).click()
    expect(page.get_by_label("Invoice #", exact=True)).to_have_text(str(number))


def fact(page: Page, label: str) -> Locator:
    """A fact's `<dd>` by its `<dt>` (on a quote "Deposits" also names the deposits table)."""
    return page.get_by_label(label, exact=True).and_(page.get_by_role("definition"))


def graphql_op(name: str):  # noqa: ANN201 (a predicate)
    return lambda r: "/api/graphql" in r.url and (r.request.post_data_json or {}).get("operationName") == name


# -- the invoice list --------------------------------------------------------------------------
def test_invoice_list_loads_with_headers_and_searches_by_number_and_client(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()
    expect(page).to_have_title("Invoices | Jobber")
    table = invoices_table(page)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert headers == ["Client", "Invoice #", "Subject", "Due", "Status", "Total", "Balance"]
    assert sorted(column(table, "Invoice #")) == ["1042", "1043", "1050", "1051", "1060", "1061", "1070"]
    assert all(HUMAN_DATE.match(d) for d in column(table, "Due"))

    table = search(page, "1042")
    expect(table.locator("tbody tr")).to_have_count(1)
    assert column(table, "Client") == ["Margaret Chen"]
    assert column(table, "Subject") == ["Lawn mowing"]
    assert column(table, "Balance") == ["$150.00"]
    href = table.get_by_role("link", name="1042").get_attribute("href")
    assert href == f"/invoices/{jobber.admin.invoice(1042)['id']}"

    table = search(page, "Okafor")
    assert sorted(column(table, "Invoice #")) == ["1050", "1051"]
    table = search(page, "no such client")
    expect(table.locator("tbody tr")).to_have_text(["No invoices"])


def test_the_list_is_busy_from_the_keystroke_until_its_rows_are_shown(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    table = invoices_table(page)
    jobber.admin.faults(latency_ms=800)
    page.get_by_label("Search invoices").fill("1042")
    assert table.get_attribute("aria-busy") == "true"  # at once: never a stale list marked loaded
    expect(table).to_have_attribute("aria-busy", "false")
    assert column(table, "Invoice #") == ["1042"]
    table.get_by_role("link", name="1042").click()
    expect(page.locator("section.page")).to_have_attribute("aria-busy", "true")
    expect(page.get_by_label("Invoice #", exact=True)).to_have_count(0)
    expect(fact(page, "Invoice #")).to_have_text("1042")
    expect(page.locator("section.page")).to_have_attribute("aria-busy", "false")


def test_status_chips_filter_the_list(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    chips = page.get_by_role("group", name="Status", exact=True)
    expect(chips.get_by_role("button")).to_have_text(
        ["All", "Draft", "Awaiting Payment", "Past Due", "Paid", "Bad Debt", "Voided"])
    expect(chips.get_by_role("button", name="All")).to_have_attribute("aria-pressed", "true")
    invoices_table(page)

    for chip, numbers in [("Past Due", ["1051"]), ("Paid", ["1060"]), ("Draft", ["1043"]), ("Bad Debt", ["1061"]),
                          ("Awaiting Payment", ["1042", "1050", "1070"])]:
        with page.expect_response(graphql_op("InvoicesList")):
            chips.get_by_role("button", name=chip, exact=True).click()
        expect(chips.get_by_role("button", name=chip, exact=True)).to_have_attribute("aria-pressed", "true")
        expect(chips.get_by_role("button", name="All")).to_have_attribute("aria-pressed", "false")
        table = invoices_table(page)
        assert sorted(column(table, "Invoice #")) == numbers, chip
        assert set(column(table, "Status")) == {chip}

    with page.expect_response(graphql_op("InvoicesList")):
        chips.get_by_role("button", name="Voided").click()
    expect(invoices_table(page).locator("tbody tr")).to_have_text(["No invoices"])
    chips.get_by_role("button", name="All").click()
    expect(invoices_table(page).locator("tbody tr")).to_have_count(7)


def test_duplicate_invoice_numbers_are_both_listed(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, FRANCHISE_SECRET, account="Delta Lawn North")
    expect(page.get_by_label("Current account")).to_have_text("Delta Lawn North")
    expect(page.get_by_role("link", name="Switch account")).to_have_attribute("href", "/accounts/select")

    table = search(page, "3005")
    expect(table.locator("tbody tr")).to_have_count(2)
    assert sorted(column(table, "Subject")) == ["Leaf blowing", "Leaf blowing (second visit)"]
    table = search(page, "3001")
    assert sorted(column(table, "Client")) == ["Hannah Brooks", "Omar Haddad"]

    # each row opens its own invoice
    open_invoice(page, 3001, client="Omar Haddad")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hedge trimming")
    expect(page.get_by_label("Client", exact=True)).to_have_text("Omar Haddad")


# -- the invoice page --------------------------------------------------------------------------
def test_invoice_page_shows_subject_facts_human_dates_and_balance(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    api = jobber.client()
    inv = jobber.admin.invoice(1070)
    open_invoice(page, 1070)
    expect(page).to_have_url(re.compile(rf"/invoices/{inv['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Irrigation system")
    expect(page.get_by_role("group", name="Invoice status")).to_have_text("Awaiting Payment")
    client = page.get_by_label("Client", exact=True).get_by_role("link")
    expect(client).to_have_text("Luis Garcia")
    assert re.fullmatch(r"/clients/\d+", client.get_attribute("href") or "")
    expect(fact(page, "Invoice #")).to_have_text("1070")
    issued, due = fact(page, "Issued").inner_text(), fact(page, "Due").inner_text()
    assert HUMAN_DATE.match(issued) and HUMAN_DATE.match(due)
    # the same days the server holds (no time-zone shift): today-8d and today+22d of the mock clock
    today = date.fromisoformat(jobber.admin.clock()[:10])
    assert issued == human((today - timedelta(days=8)).isoformat())
    assert due == human((today + timedelta(days=22)).isoformat())
    expect(fact(page, "Total")).to_have_text("$1,250.00")
    expect(fact(page, "Balance")).to_have_text("$1,000.00")

    payments = page.get_by_role("table", name="Payments")
    expect(payments.locator("thead th")).to_have_text(["Date", "Method", "Amount", "Details"])
    row = payments.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name="Check")).to_have_attribute(
        "href", f"/payments/{inv['payments'][0]['id']}")
    expect(row.locator("td")).to_have_text([human(inv["payments"][0]["date"]), "Check", "$250.00", "Check #2231"])

    expect(page.get_by_role("button", name="Collect Payment")).to_be_visible()
    page.get_by_role("button", name="More", exact=True).click()
    expect(page.get_by_role("menu").get_by_role("menuitem")).to_have_text(["Mark as Bad Debt", "Create Similar"])
    api.close()


def test_draft_invoice_has_mark_as_sent_and_no_collect_payment(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1043)
    expect(page.get_by_role("group", name="Invoice status")).to_have_text("Draft")
    expect(page.get_by_role("button", name="Collect Payment")).to_have_count(0)
    page.get_by_role("button", name="More", exact=True).click()
    with page.expect_response(graphql_op("InvoiceMarkSent")):
        page.get_by_role("menuitem", name="Mark as Sent").click()
    expect(page.get_by_role("group", name="Invoice status")).to_have_text("Awaiting Payment")
    expect(page.get_by_role("button", name="Collect Payment")).to_be_visible()
    assert jobber.admin.invoice(1043)["status"] == "awaiting_payment"


def test_collect_payment_dialog_records_and_the_page_shows_it_when_the_dialog_closes(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1070)
    page.get_by_role("button", name="Collect Payment").click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    expect(dialog).to_be_visible()
    method = dialog.get_by_label("Payment method")
    expect(method.locator("option")).to_have_text(
        ["Credit card", "Bank transfer", "Cash", "Check", "Money order", "PayPal", "Other"])
    expect(method).to_have_value("CREDIT_CARD")
    expect(dialog.get_by_label("Amount")).to_have_value("1000.00")
    expect(dialog.get_by_label("Transaction date")).to_have_value(jobber.admin.clock()[:10])

    dialog.get_by_label("Amount").fill("400.00")
    dialog.get_by_label("Details", exact=True).fill("Card ending 4242 (ch_test_1)")
    with page.expect_response(graphql_op("PaymentCreate")):
        dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    # the moment the dialog is gone the page already shows the saved result (no waiting)
    assert fact(page, "Balance").inner_text() == "$600.00"
    rows = page.get_by_role("table", name="Payments").locator("tbody tr")
    assert rows.count() == 2
    new = rows.filter(has_text="ch_test_1")
    expect(new.locator("td")).to_have_text([human(jobber.admin.clock()[:10]), "Credit card", "$400.00",
                                            "Card ending 4242 (ch_test_1)"])

    inv = jobber.admin.invoice(1070)
    assert inv["balance"] == "600.00"
    assert [(p["method"], p["amount"]) for p in inv["payments"]][-1] == ("credit_card", "400.00")


def test_a_user_error_keeps_the_dialog_open_with_the_message(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1042)
    page.get_by_role("button", name="Collect Payment").click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    dialog.get_by_label("Amount").fill("2000.00")
    with page.expect_response(graphql_op("PaymentCreate")):
        dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Amount can't be more than the invoice balance ($150.00).")
    expect(dialog).to_be_visible()
    expect(fact(page, "Balance")).to_have_text("$150.00")
    assert jobber.admin.invoice(1042)["payments"] == []

    # fixed in place, the same dialog saves
    dialog.get_by_label("Amount").fill("150.00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    assert fact(page, "Balance").inner_text() == "$0.00"
    expect(page.get_by_role("group", name="Invoice status")).to_have_text("Paid")
    expect(page.get_by_role("button", name="Collect Payment")).to_have_count(0)


def test_a_server_error_shows_something_went_wrong_in_the_dialog(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1042)
    page.get_by_role("button", name="Collect Payment").click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    jobber.admin.faults(error_rate=1.0)
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("Something went wrong")
    expect(dialog).to_be_visible()
    jobber.admin.clear_faults()
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(fact(page, "Balance")).to_have_text("$0.00")

    # a page whose data answers 5xx shows the error state, and "Try Again" loads it
    jobber.admin.faults(error_rate=1.0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("alert")).to_contain_text("Something went wrong")
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    jobber.admin.clear_faults()
    page.get_by_role("button", name="Try Again").click()
    expect(invoices_table(page).locator("tbody tr")).to_have_count(7)


# -- the New Payment page (PAGE accounts) ------------------------------------------------------
def test_page_account_records_on_the_new_payment_page(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber, PAGE_EMAIL, PAGE_PASSWORD, PAGE_SECRET)
    inv = jobber.admin.invoice(5042, PAGE_EMAIL)
    open_invoice(page, 5042)
    page.get_by_role("button", name="Collect Payment").click()
    expect(page.get_by_role("heading", name="New Payment", level=1)).to_be_visible()
    q = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/payments/new" and q["invoice_id"] == [str(inv["id"])] and "client_id" in q
    expect(page.get_by_role("link", name="Nora Lindqvist")).to_be_visible()
    expect(page.get_by_label("Payment method").locator("option")).to_have_text(
        ["Credit/debit card", "Bank transfer", "Cash", "Check", "Money order", "PayPal", "Other"])
    table = page.get_by_role("table", name="Invoices")
    expect(table.locator("thead th")).to_have_text(["Invoice #", "Due", "Balance", "Enter Payment"])
    amount = page.get_by_label("Payment for invoice #5042")
    expect(amount).to_have_value("150.00")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    expect(page.get_by_role("button", name="Save and Email Receipt")).to_be_visible()

    # a user error stays on the page, at the top of the form
    amount.fill("999.00")
    with page.expect_response(graphql_op("PaymentCreate")):
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Amount can't be more than the invoice balance ($150.00).")
    expect(page.get_by_role("heading", name="New Payment")).to_be_visible()

    page.get_by_label("Payment method").select_option(label="Credit/debit card")
    page.get_by_label("Reference #").fill("ch_page_1")
    page.get_by_label("Details", exact=True).fill("Card ending 4242")
    amount.fill("100.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/invoices/{inv['id']}$"))
    expect(fact(page, "Balance")).to_have_text("$50.00")
    row = page.get_by_role("table", name="Payments").locator("tbody tr")
    expect(row.locator("td")).to_have_text([re.compile(HUMAN_DATE.pattern), "Credit/debit card", "$100.00",
                                            "Card ending 4242"])
    paid = jobber.admin.invoice(5042, PAGE_EMAIL)["payments"]
    assert [(p["method"], p["amount"], p["reference"]) for p in paid] == [("credit_card", "100.00", "ch_page_1")]


# -- the payment page: edit down (refund), delete ----------------------------------------------
def test_payment_page_edit_down_and_delete_restore_the_balance(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    inv = jobber.admin.invoice(1070)
    open_invoice(page, 1070)
    page.get_by_role("table", name="Payments").get_by_role("link", name="Check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    expect(fact(page, "Amount")).to_have_text("$250.00")
    expect(fact(page, "Method")).to_have_text("Check")
    expect(fact(page, "Client")).to_have_text("Luis Garcia")
    expect(fact(page, "Details")).to_have_text("Check #2231")
    assert HUMAN_DATE.match(fact(page, "Transaction date").inner_text())
    expect(fact(page, "Applied to").get_by_role("link")).to_have_text("Invoice #1070")

    page.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit Payment")
    expect(dialog.get_by_label("Payment method")).to_have_value("CHECK")
    expect(dialog.get_by_label("Amount")).to_have_value("250.00")
    dialog.get_by_label("Amount").fill("100.00")
    dialog.get_by_label("Details", exact=True).fill("Check #2231\nRefund re_test_9: $150.00")
    with page.expect_response(graphql_op("PaymentEdit")):
        dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    assert fact(page, "Amount").inner_text() == "$100.00"
    expect(fact(page, "Details")).to_have_text("Check #2231\nRefund re_test_9: $150.00")

    fact(page, "Applied to").get_by_role("link").click()
    expect(fact(page, "Balance")).to_have_text("$1,150.00")
    page.get_by_role("table", name="Payments").get_by_role("link", name="Check").click()
    expect(fact(page, "Amount")).to_have_text("$100.00")

    page.get_by_role("button", name="More", exact=True).click()
    page.get_by_role("menuitem", name="Delete").click()
    confirm = page.get_by_role("alertdialog", name="Delete payment?")
    expect(confirm).to_contain_text(
        "Deleting this Payment will permanently remove it and the invoice balance will be updated.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    page.get_by_role("button", name="More", exact=True).click()
    page.get_by_role("menuitem", name="Delete").click()
    with page.expect_response(graphql_op("PaymentDelete")):
        confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/invoices/{inv['id']}$"))
    expect(fact(page, "Balance")).to_have_text("$1,250.00")
    expect(page.get_by_role("table", name="Payments").locator("tbody tr")).to_have_text(["No payments yet"])
    assert jobber.admin.invoice(1070)["payments"] == []


def test_a_payment_edited_down_to_zero_stays_listed(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1070)
    page.get_by_role("table", name="Payments").get_by_role("link", name="Check").click()
    page.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit Payment")
    dialog.get_by_label("Amount").fill("0.00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(fact(page, "Amount")).to_have_text("$0.00")
    page.go_back()
    expect(fact(page, "Balance")).to_have_text("$1,250.00")
    expect(page.get_by_role("table", name="Payments").locator("tbody tr td:nth-child(3)")).to_have_text(["$0.00"])


# -- quotes and deposits -----------------------------------------------------------------------
def open_quote(page: Page, number: int) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quotes").click()
    table = page.get_by_role("table", name="Quotes")
    expect(table).to_have_attribute("aria-busy", "false")
    expect(table.locator("thead th")).to_have_text(["Client", "Quote #", "Title", "Status", "Total"])
    table.get_by_role("link", name=str(number), exact=True).click()
    expect(fact(page, "Quote #")).to_have_text(str(number))


def test_quote_deposit_in_the_dialog_then_convert_carries_it_to_the_invoice(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_quote(page, 12)
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring cleanup")
    expect(page.get_by_role("group", name="Quote status")).to_have_text("Approved")
    expect(fact(page, "Total")).to_have_text("$400.00")
    expect(fact(page, "Deposits")).to_have_text("$0.00")
    deposits = page.get_by_role("table", name="Deposits")
    expect(deposits.locator("thead th")).to_have_text(["Date", "Method", "Amount", "Details"])

    page.get_by_role("button", name="Collect Deposit").click()
    dialog = page.get_by_role("dialog", name="Collect Deposit")
    dialog.get_by_label("Amount").fill("500.00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Amount").fill("100.00")
    dialog.get_by_label("Details", exact=True).fill("Deposit ch_dep_1")
    with page.expect_response(graphql_op("PaymentCreate")):
        dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    assert fact(page, "Deposits").inner_text() == "$100.00"
    expect(deposits.locator("tbody tr td")).to_have_text(
        [re.compile(HUMAN_DATE.pattern), "Credit card", "$100.00", "Deposit ch_dep_1"])

    with page.expect_response(graphql_op("QuoteConvert")):
        page.get_by_role("button", name="Convert to Invoice").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    expect(page.get_by_role("group", name="Invoice status")).to_have_text("Draft")
    payments = page.get_by_role("table", name="Payments")
    expect(payments.get_by_role("link", name="Credit card (deposit)")).to_be_visible()
    expect(fact(page, "Balance")).to_have_text("$300.00")
    assert jobber.admin.quote(12)["status"] == "converted"
    payments.get_by_role("link", name="Credit card (deposit)").click()
    expect(fact(page, "Method")).to_have_text("Credit card (deposit)")
    expect(fact(page, "Amount")).to_have_text("$100.00")


def test_quote_deposit_on_the_new_payment_page(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber, PAGE_EMAIL, PAGE_PASSWORD, PAGE_SECRET)
    quote = jobber.admin.quote(52, PAGE_EMAIL)
    open_quote(page, 52)
    page.get_by_role("button", name="Collect Deposit").click()
    expect(page.get_by_role("heading", name="New Payment")).to_be_visible()
    q = parse_qs(urlsplit(page.url).query)
    assert q["quote_id"] == [str(quote["id"])] and "client_id" in q
    expect(page.get_by_role("row").filter(has_text="Deposit for quote #52")).to_have_count(1)
    page.get_by_label("Deposit for quote #52").fill("50.00")
    page.get_by_label("Details", exact=True).fill("Deposit by card")
    page.get_by_role("button", name="Save and Email Receipt").click()
    expect(page).to_have_url(re.compile(rf"/quotes/{quote['id']}$"))
    expect(fact(page, "Deposits")).to_have_text("$50.00")
    expect(page.get_by_role("table", name="Deposits").get_by_role("link", name="Credit/debit card", exact=True)).to_be_visible()
    assert [d["amount"] for d in jobber.admin.quote(52, PAGE_EMAIL)["deposits"]] == ["50.00"]


# -- layout variants ---------------------------------------------------------------------------
def test_layout_variant_more_actions(page: Page, jobber: MockJobber) -> None:
    jobber.admin.faults(layout_variant="more_actions")
    sign_in(page, jobber)
    open_invoice(page, 1042)
    expect(page.get_by_role("button", name="More", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Collect Payment")).to_be_visible()
    page.get_by_role("button", name="More Actions", exact=True).click()
    expect(page.get_by_role("menuitem", name="Create Similar")).to_be_visible()


def test_layout_variant_redesign_receives_payment_from_the_menu(page: Page, jobber: MockJobber) -> None:
    jobber.admin.faults(layout_variant="redesign")
    sign_in(page, jobber)
    open_invoice(page, 1042)
    expect(page.get_by_role("heading", level=1)).to_have_text("Lawn mowing")
    expect(page.get_by_role("button", name="Collect Payment")).to_have_count(0)
    page.get_by_role("button", name="More", exact=True).click()
    page.get_by_role("menuitem", name="Receive Payment").click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    dialog.get_by_label("Amount").fill("50.00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    assert fact(page, "Balance").inner_text() == "$100.00"


# -- the shell: top bar, banners, sign-out, a session that ends ---------------------------------
def test_top_bar_banners_and_log_out(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    expect(page.get_by_label("Current account")).to_have_text("Acme Lawn Care")
    expect(page.get_by_role("link", name="Switch account")).to_have_count(0)
    banner = page.get_by_role("region", name="New login")
    expect(banner).to_contain_text("We noticed a new login to your account from a new device.")
    expect(page.get_by_role("region", name="Safe mode")).to_have_count(0)
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)

    jobber.admin.faults(safe_mode=True)
    page.reload()
    expect(page.get_by_role("region", name="Safe mode")).to_contain_text("Your account is in safe mode.")
    open_invoice(page, 1042)  # payments still work in safe mode
    page.get_by_role("button", name="Collect Payment").click()
    page.get_by_role("dialog", name="Collect Payment").get_by_role("button", name="Save", exact=True).click()
    expect(fact(page, "Balance")).to_have_text("$0.00")

    page.get_by_role("button", name="Log Out").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert urlsplit(page.url).hostname == urlsplit(jobber.identity_url).hostname


def test_a_session_ended_mid_way_sends_the_page_to_sign_in_and_back(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    invoices_table(page)
    jobber.admin.faults(force_logout=True)
    page.get_by_label("Search invoices").fill("1050")  # InvoicesList → 401 → /login?next=...
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert urlsplit(page.url).hostname == urlsplit(jobber.identity_url).hostname
    sign_in_again = page.get_by_label("Email address")
    sign_in_again.fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue", exact=True).click()
    if page.get_by_role("heading", name="Verify Your Identity").is_visible():
        now = mock_now(jobber)
        for offset in (0, 30, -30):
            page.get_by_label("Enter your one-time code").fill(totp_code(DEMO_TOTP_SECRET, now + timedelta(seconds=offset)))
            page.get_by_role("button", name="Continue", exact=True).click()
            page.wait_for_load_state("domcontentloaded")
            if urlsplit(page.url).hostname == urlsplit(jobber.url).hostname:
                break
    # back where the person was: the list searched for 1050
    expect(page).to_have_url(re.compile(r"/invoices\?q=1050$"))
    expect(page.get_by_label("Search invoices")).to_have_value("1050")
    assert column(invoices_table(page), "Invoice #") == ["1050"]


def test_an_app_session_ended_signs_in_silently(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1042)
    jobber.admin.faults(end_app_sessions=True)
    with page.expect_response(graphql_op("InvoicesList")) as resp:
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Invoices").click()
    assert resp.value.status == 401
    # /login → /authorize (identity session alive) → callback → back on the list, no form
    expect(page).to_have_url(re.compile(r"/invoices$"))
    expect(invoices_table(page).locator("tbody tr")).to_have_count(7)


# -- clients -----------------------------------------------------------------------------------
def test_client_page_tables_and_billing_history(page: Page, jobber: MockJobber) -> None:
    sign_in(page, jobber)
    open_invoice(page, 1070)
    page.get_by_label("Client", exact=True).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Luis Garcia")
    invoices = page.get_by_role("table", name="Invoices")
    expect(invoices.get_by_role("link", name="1070")).to_be_visible()
    expect(page.get_by_role("table", name="Quotes")).to_be_visible()
    billing = page.get_by_role("table", name="Billing history")
    expect(billing.locator("thead th")).to_have_text(["Type", "Number", "Applied to", "Date", "Amount", "Balance"])
    amounts = column(billing, "Amount")
    assert "-$250.00" in amounts and "$1,250.00" in amounts
    assert all(HUMAN_DATE.match(d) for d in column(billing, "Date"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    clients = page.get_by_role("table", name="Clients")
    expect(clients).to_have_attribute("aria-busy", "false")
    expect(clients.get_by_role("link", name="Margaret Chen")).to_be_visible()
