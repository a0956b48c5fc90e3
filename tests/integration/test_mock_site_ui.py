"""The mock Jobber site in a real Chromium (pytest-playwright `page`): sign-in, 2FA, payments,
quotes and every admin fault, observed from the browser and checked again via the admin API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fixtures.jobber_site.server import MockJobber
from tests.plugin_mock_jobber import (
    DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, SMS_EMAIL, SMS_PASSWORD, mock_now, sign_in, totp_code,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
TIMEOUT = 10_000  # generous: the test machines are shared


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], mock_jobber: MockJobber) -> dict[str, Any]:
    return {**browser_context_args, "base_url": mock_jobber.url, "viewport": {"width": 1280, "height": 860}}


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


# -- helpers -----------------------------------------------------------------------------------
def state_account(site: MockJobber, email: str = DEMO_EMAIL) -> dict[str, Any]:
    assert site.admin is not None
    return next(a for a in site.admin.state()["accounts"] if a["email"] == email)


def state_invoice(site: MockJobber, number: int, email: str = DEMO_EMAIL) -> dict[str, Any]:
    return next(i for i in state_account(site, email)["invoices"] if i["number"] == number)


def state_quote(site: MockJobber, number: int) -> dict[str, Any]:
    return next(q for q in state_account(site)["quotes"] if q["number"] == number)


def signed_in(page: Page, site: MockJobber) -> None:
    """Put a live session (signed in over HTTP, 2FA done) into the browser context."""
    client = sign_in(site)
    try:
        token = client.cookies.get("_jobber_session")
    finally:
        client.close()
    assert token
    page.context.add_cookies([{"name": "_jobber_session", "value": token, "url": site.url}])


def password_step(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log In", exact=True).click()


def totp_step(page: Page, site: MockJobber, remember: bool = False) -> None:
    """Enter the authenticator code (the next step's if this step's was already used)."""
    expect(page.get_by_role("heading", name="Two-Step Verification")).to_be_visible()
    now = mock_now(site)
    for step in (0, 30):
        if remember:
            page.get_by_role("checkbox", name=re.compile("Remember this device")).check()
        page.get_by_label("Verification code").fill(
            totp_code(DEMO_TOTP_SECRET, now.fromtimestamp(now.timestamp() + step, now.tzinfo)))
        page.get_by_role("button", name="Verify", exact=True).click()
        page.wait_for_load_state("domcontentloaded")
        if not page.url.split("?")[0].endswith("/login/verify"):
            return
    raise AssertionError("verification refused")


def expect_invoice_list_loaded(page: Page) -> None:
    expect(page.locator("[data-testid=invoice-list][aria-busy=false]")).to_be_visible()


def open_invoice(page: Page, site: MockJobber, number: int) -> dict[str, Any]:
    inv = state_invoice(site, number)
    page.goto(f"/invoices/{inv['id']}")
    expect(page.get_by_role("heading", name=f"Invoice #{number}")).to_be_visible()
    return inv


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log Out", exact=True).click()
    page.wait_for_url("**/login")


# -- sign-in and two-step verification ----------------------------------------------------------
def test_log_in_with_totp(page: Page, jobber: MockJobber) -> None:
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.get_by_text("Enter the 6-digit code from your authenticator app.")).to_be_visible()
    totp_step(page, jobber)
    page.wait_for_url("**/invoices")
    expect(page.get_by_role("heading", name="Invoices", exact=True)).to_be_visible()
    expect(page.get_by_test_id("company-name")).to_have_text("Acme Lawn Care")
    expect_invoice_list_loaded(page)
    expect(page.get_by_test_id("invoice-row")).to_have_count(len(state_account(jobber)["invoices"]))
    st = jobber.admin.state()  # type: ignore[union-attr]
    assert st["logins"] == 1 and st["verifications"] == 1 and st["sessions"] == 1


def test_log_in_with_sms_code_from_outbox(page: Page, jobber: MockJobber) -> None:
    password_step(page, SMS_EMAIL, SMS_PASSWORD)
    expect(page.get_by_text(re.compile(r"We sent a code to .*0199"))).to_be_visible()
    sms = [m for m in jobber.admin.outbox() if m["channel"] == "sms"]  # type: ignore[union-attr]
    assert len(sms) == 1
    page.get_by_label("Verification code").fill(sms[-1]["code"])
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_url("**/invoices")
    expect_invoice_list_loaded(page)
    expect(page.get_by_test_id("company-name")).to_have_text("Bravo Pools")
    expect(page.get_by_role("link", name="Invoice #2001")).to_be_visible()
    assert jobber.admin.state()["verifications"] == 1  # type: ignore[union-attr]


def test_remembered_device_skips_2fa_next_time(page: Page, jobber: MockJobber) -> None:
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    totp_step(page, jobber, remember=True)
    page.wait_for_url("**/invoices")
    log_out(page)
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.wait_for_url("**/invoices")  # no verification page this time
    expect_invoice_list_loaded(page)
    st = jobber.admin.state()  # type: ignore[union-attr]
    assert st["logins"] == 2 and st["verifications"] == 1


def test_lockout_is_shown_after_five_failures(page: Page, jobber: MockJobber) -> None:
    for _ in range(4):
        password_step(page, DEMO_EMAIL, "wrong-password")
        expect(page.get_by_test_id("login-error")).to_have_text("Incorrect email or password.")
    password_step(page, DEMO_EMAIL, "wrong-password")
    error = page.get_by_test_id("login-error")
    expect(error).to_contain_text("Too many failed attempts. Your account is locked until")
    until = error.locator("time[datetime]").get_attribute("datetime")
    assert until and state_account(jobber)["locked_until"]
    # the right password is refused while locked
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.get_by_test_id("login-error")).to_contain_text("Too many failed attempts")
    assert page.url.split("?")[0].endswith("/login")
    assert jobber.admin.state()["sessions"] == 0  # type: ignore[union-attr]


# -- payments ------------------------------------------------------------------------------------
def test_record_and_edit_a_payment(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    open_invoice(page, jobber, 1042)
    expect(page.get_by_test_id("invoice-status")).to_have_text("Awaiting Payment")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$150.00")
    expect(page.get_by_test_id("payments-list")).to_contain_text("No payments yet")

    page.get_by_role("button", name="Collect Payment", exact=True).click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    expect(dialog.get_by_label("Amount", exact=True)).to_have_value("150.00")  # prefilled with the balance
    expect(dialog.get_by_label("Transaction date")).to_have_value(mock_now(jobber).date().isoformat())
    dialog.get_by_label("Method").select_option("credit_card")
    dialog.get_by_label("Amount", exact=True).fill("50.00")
    dialog.get_by_label("Details").fill("txn_ui_1 Visa 4242")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "collect-payment-dialog.png"))
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()

    expect(page.get_by_test_id("invoice-balance")).to_have_text("$100.00")
    rows = page.get_by_test_id("payment-row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("payment-method")).to_have_text("Credit Card")
    expect(rows.get_by_test_id("payment-amount")).to_have_text("$50.00")
    expect(rows.get_by_test_id("payment-details")).to_have_text("txn_ui_1 Visa 4242")
    inv = state_invoice(jobber, 1042)
    assert inv["balance"] == "100.00" and inv["status"] == "awaiting_payment"
    assert [(p["method"], p["amount"], p["details"]) for p in inv["payments"]] == [
        ("credit_card", "50.00", "txn_ui_1 Visa 4242")]
    page.screenshot(path=str(SCREENSHOTS / "invoice-page.png"))

    # edit it up to the full amount: Paid, and no Collect Payment any more
    rows.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_role("dialog", name="Edit Payment")
    expect(edit.get_by_label("Amount", exact=True)).to_have_value("50.00")
    edit.get_by_label("Amount", exact=True).fill("150.00")
    edit.get_by_role("button", name="Save", exact=True).click()
    expect(edit).to_be_hidden()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$0.00")
    expect(rows.get_by_test_id("payment-amount")).to_have_text("$150.00")
    expect(page.get_by_role("button", name="Collect Payment", exact=True)).to_have_count(0)
    inv = state_invoice(jobber, 1042)
    assert inv["status"] == "paid" and inv["balance"] == "0.00" and inv["payments"][0]["amount"] == "150.00"


def test_refund_then_delete_a_payment(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    open_invoice(page, jobber, 1070)  # $1,250.00 with a $250.00 check payment
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$1,000.00")
    row = page.get_by_test_id("payment-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("payment-refunded")).to_have_count(0)

    row.get_by_role("button", name="Refund", exact=True).click()
    refund = page.get_by_role("dialog", name="Refund Payment")
    expect(refund.get_by_label("Refund amount")).to_have_value("250.00")
    refund.get_by_label("Refund amount").fill("300.00")  # more than the payment: refused, dialog stays
    refund.get_by_role("button", name="Save", exact=True).click()
    expect(refund.get_by_role("alert")).to_be_visible()
    expect(refund).to_be_visible()
    refund.get_by_label("Refund amount").fill("40.00")
    refund.get_by_label("Details").fill("partial refund")
    refund.get_by_role("button", name="Save", exact=True).click()
    expect(refund).to_be_hidden()
    expect(row.get_by_test_id("payment-refunded")).to_have_text("Refunded $40.00")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$1,040.00")
    inv = state_invoice(jobber, 1070)
    assert inv["balance"] == "1040.00" and inv["payments"][0]["refunded"] == "40.00"

    row.get_by_role("button", name="Delete", exact=True).click()
    confirm = page.get_by_role("alertdialog", name="Delete payment?")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_test_id("payment-row")).to_have_count(0)
    expect(page.get_by_test_id("payments-list")).to_contain_text("No payments yet")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$1,250.00")
    inv = state_invoice(jobber, 1070)
    assert inv["payments"] == [] and inv["balance"] == "1250.00"


def test_over_payment_is_refused_and_nothing_changes(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    open_invoice(page, jobber, 1042)
    page.get_by_role("button", name="Collect Payment", exact=True).click()
    dialog = page.get_by_role("dialog", name="Collect Payment")
    dialog.get_by_label("Amount", exact=True).fill("150.01")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Amount can't be more than the invoice balance ($150.00).")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("payment-row")).to_have_count(0)
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$150.00")
    inv = state_invoice(jobber, 1042)
    assert inv["payments"] == [] and inv["balance"] == "150.00"


def test_draft_has_no_collect_payment_until_marked_as_sent(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    open_invoice(page, jobber, 1043)
    expect(page.get_by_test_id("invoice-status")).to_have_text("Draft")
    expect(page.get_by_role("button", name="Collect Payment", exact=True)).to_have_count(0)
    page.get_by_role("button", name="More Actions", exact=True).click()
    page.get_by_role("menu").get_by_role("menuitem", name="Mark as Sent").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Awaiting Payment")
    expect(page.get_by_role("button", name="Collect Payment", exact=True)).to_be_visible()
    assert state_invoice(jobber, 1043)["status"] == "awaiting_payment"


def test_quote_deposit_carries_to_the_converted_invoice(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    q = state_quote(jobber, 12)
    page.goto(f"/quotes/{q['id']}")
    expect(page.get_by_role("heading", name="Quote #12")).to_be_visible()
    expect(page.get_by_test_id("quote-status")).to_have_text("Approved")
    expect(page.get_by_test_id("quote-total")).to_have_text("$400.00")
    page.get_by_role("button", name="Collect Deposit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Collect Deposit")
    dialog.get_by_label("Amount", exact=True).fill("100.00")
    dialog.get_by_label("Details").fill("deposit txn_q12")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    deposit = page.get_by_test_id("deposit-row")
    expect(deposit).to_have_count(1)
    expect(deposit.get_by_test_id("payment-amount")).to_have_text("$100.00")
    assert [d["amount"] for d in state_quote(jobber, 12)["deposits"]] == ["100.00"]

    page.get_by_role("button", name="Convert to Invoice").click()
    page.wait_for_url(re.compile(r"/invoices/\d+$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice #\d+"))).to_be_visible()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Draft")
    expect(page.get_by_test_id("invoice-total")).to_have_text("$400.00")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$300.00")
    expect(page.get_by_test_id("payment-row").get_by_test_id("payment-method")).to_have_text("Credit Card (deposit)")
    quote = state_quote(jobber, 12)
    assert quote["status"] == "converted" and quote["invoice_id"]
    inv = next(i for i in state_account(jobber)["invoices"] if i["id"] == quote["invoice_id"])
    assert inv["balance"] == "300.00" and [p["kind"] for p in inv["payments"]] == ["deposit"]


# -- faults from the admin API, seen from the browser ----------------------------------------------
def test_latency_shows_a_busy_list_then_the_rows(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    jobber.admin.faults(latency_ms=400)  # type: ignore[union-attr]
    page.goto("/invoices", wait_until="domcontentloaded")
    expect(page.locator("[data-testid=invoice-list][aria-busy=true]")).to_be_attached()
    expect(page.get_by_test_id("invoice-row")).to_have_count(0)
    expect_invoice_list_loaded(page)
    expect(page.get_by_test_id("invoice-row")).to_have_count(len(state_account(jobber)["invoices"]))


def test_server_errors_show_something_went_wrong(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    page.goto("/invoices")
    expect_invoice_list_loaded(page)
    jobber.admin.faults(error_rate=1)  # type: ignore[union-attr]
    page.get_by_label("Search invoices").fill("1042")  # the SPA's API call fails
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Something went wrong")
    resp = page.goto("/invoices/1")  # a full page load gets Jobber's error page
    assert resp is not None and resp.status == 500
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    jobber.admin.clear_faults()  # type: ignore[union-attr]
    page.goto("/invoices")
    expect_invoice_list_loaded(page)


def test_force_logout_sends_the_next_navigation_to_login(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    page.goto("/invoices")
    expect_invoice_list_loaded(page)
    jobber.admin.faults(force_logout=True)  # type: ignore[union-attr]
    inv = state_invoice(jobber, 1042)
    page.get_by_role("link", name="Invoice #1042").click()  # client-side: the API answers 401
    page.wait_for_url(re.compile(r"/login\?next="))
    assert f"next=%2Finvoices%2F{inv['id']}" in page.url
    expect(page.get_by_role("button", name="Log In", exact=True)).to_be_visible()
    page.goto("/clients")  # a full navigation is redirected too
    assert "/login?next=%2Fclients" in page.url
    assert jobber.admin.state()["sessions"] == 0  # type: ignore[union-attr]


def test_require_2fa_asks_again_despite_remembered_device(page: Page, jobber: MockJobber) -> None:
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    totp_step(page, jobber, remember=True)
    page.wait_for_url("**/invoices")
    log_out(page)
    jobber.admin.faults(require_2fa=True)  # type: ignore[union-attr]
    password_step(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.wait_for_url("**/login/verify")
    expect(page.get_by_role("heading", name="Two-Step Verification")).to_be_visible()


def test_redesign_layout_moves_collect_payment_into_the_menu(page: Page, jobber: MockJobber) -> None:
    signed_in(page, jobber)
    jobber.admin.faults(layout_variant="redesign")  # type: ignore[union-attr]
    open_invoice(page, jobber, 1042)
    expect(page.get_by_test_id("balance-due")).to_have_text("$150.00")
    expect(page.get_by_test_id("invoice-balance")).to_have_count(0)
    expect(page.get_by_role("button", name="Collect Payment", exact=True)).to_have_count(0)
    page.get_by_role("button", name="More Actions", exact=True).click()
    item = page.get_by_role("menuitem", name="Receive Payment")
    expect(item).to_have_attribute("data-testid", "receive-payment")
    item.click()
    dialog = page.get_by_role("dialog", name="Receive Payment")
    amount = dialog.get_by_label("Payment amount")
    expect(amount).to_have_attribute("name", "amount")
    expect(dialog.get_by_label("Amount", exact=True)).to_have_count(0)
    amount.fill("25.00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("balance-due")).to_have_text("$125.00")
    assert state_invoice(jobber, 1042)["balance"] == "125.00"


def test_a_401_in_flight_does_not_hijack_the_next_navigation(page: Page, jobber: MockJobber) -> None:
    """The session dies while the SPA's data calls are in flight and the browser is sent elsewhere:
    the SPA's own redirect to sign-in must not interrupt that navigation."""
    signed_in(page, jobber)
    jobber.admin.faults(latency_ms=300)  # type: ignore[union-attr]
    page.goto("/invoices", wait_until="domcontentloaded")
    expect(page.locator("[data-testid=invoice-list][aria-busy=true]")).to_be_attached()
    jobber.admin.faults(force_logout=True)  # type: ignore[union-attr]
    resp = page.goto("/clients", wait_until="domcontentloaded")
    assert resp is not None and resp.ok
    assert "/login?next=%2Fclients" in page.url
