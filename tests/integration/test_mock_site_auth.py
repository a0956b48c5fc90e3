"""Sign-in, two-step verification, remembered devices, lockout, sessions and auth faults of the mock site."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from fixtures.jobber_site.server import MockJobber
from tests.plugin_mock_jobber import (
    DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, SMS_EMAIL, SMS_PASSWORD, csrf_meta, form_token, mock_now, sign_in, totp_code,
)


def _client(site: MockJobber) -> httpx.Client:
    return httpx.Client(base_url=site.url, timeout=10)


def _password(c: httpx.Client, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD, next: str = "") -> httpx.Response:
    token = form_token(c.get("/login").text)
    return c.post("/login", data={"email": email, "password": password, "authenticity_token": token, "next": next})


def _verify(c: httpx.Client, code: str, remember: bool = False) -> httpx.Response:
    token = form_token(c.get("/login/verify").text)
    data = {"code": code, "authenticity_token": token}
    if remember:
        data["remember_device"] = "1"
    return c.post("/login/verify", data=data)


def _code_at(site: MockJobber, offset_s: int = 0) -> str:
    return totp_code(DEMO_TOTP_SECRET, mock_now(site) + timedelta(seconds=offset_s))


# -- browser: the pages as a person (and the robot) sees them ----------------------------------
def test_totp_sign_in_in_browser(jobber: MockJobber, page: Page) -> None:
    page.goto(jobber.url + "/invoices/1")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log In", exact=True).click()
    expect(page.get_by_role("heading", name="Two-Step Verification")).to_be_visible()
    expect(page.get_by_text("Enter the 6-digit code from your authenticator app.")).to_be_visible()
    page.get_by_label("Verification code").fill(_code_at(jobber))
    page.get_by_role("checkbox", name=re.compile("Remember this device")).check()
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(re.compile(r"/invoices/1$"))
    assert page.locator('meta[name="csrf-token"]').get_attribute("content")
    state = jobber.admin.state()
    assert (state["sessions"], state["logins"], state["verifications"]) == (1, 1, 1)
    assert any(c["name"] == "_jobber_device" for c in page.context.cookies())


def test_wrong_password_and_lockout_in_browser(jobber: MockJobber, page: Page) -> None:
    page.goto(jobber.url + "/login")
    for _ in range(4):
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log In", exact=True).click()
        expect(page.get_by_test_id("login-error")).to_have_text("Incorrect email or password.")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log In", exact=True).click()
    err = page.get_by_test_id("login-error")
    expect(err).to_contain_text("Too many failed attempts. Your account is locked until")
    when = err.locator("time[datetime]").get_attribute("datetime")
    assert when == jobber.admin.account()["locked_until"]


def test_sms_sign_in_with_resend_in_browser(jobber: MockJobber, page: Page) -> None:
    page.goto(jobber.url + "/login")
    page.get_by_label("Email").fill(SMS_EMAIL)
    page.get_by_label("Password").fill(SMS_PASSWORD)
    page.get_by_role("button", name="Log In", exact=True).click()
    expect(page.get_by_text("We sent a code to •••-•••-0199.")).to_be_visible()
    assert len(jobber.admin.outbox()) == 1
    page.get_by_role("button", name="Resend code").click()
    expect(page.get_by_role("heading", name="Two-Step Verification")).to_be_visible()
    msgs = jobber.admin.outbox()
    assert len(msgs) == 2 and msgs[-1]["to"] == "+15555550199" and msgs[-1]["channel"] == "sms"
    page.get_by_label("Verification code").fill(msgs[-1]["code"])
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(re.compile(r"/invoices$"))


# -- HTTP: the rules -------------------------------------------------------------------------
def test_signed_out_redirects_and_401(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        assert c.get("/").headers["location"] == "/invoices"
        r = c.get("/quotes/12?x=1")
        assert r.status_code == 302 and r.headers["location"] == "/login?next=%2Fquotes%2F12%3Fx%3D1"
        r = c.get("/api/invoices")
        assert r.status_code == 401 and r.json() == {"error": "unauthorized"}


def test_login_form_without_token_is_refused(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        c.get("/login")
        r = c.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "authenticity_token": "nope"})
        assert r.status_code == 422 and "Invalid authenticity token" in r.text
    assert jobber.admin.state()["logins"] == 0


def test_sms_code_from_outbox(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        assert _password(c, SMS_EMAIL, SMS_PASSWORD).headers["location"] == "/login/verify"
        page = c.get("/login/verify").text
        assert "We sent a code to •••-•••-0199." in page and "Resend code" in page
        code = jobber.admin.outbox()[-1]["code"]
        r = _verify(c, code)
        assert r.status_code == 302 and r.headers["location"] == "/invoices"
        assert c.get("/api/me").json()["account"]["company"] == "Bravo Pools"


def test_sms_code_expires_and_is_single_use(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        _password(c, SMS_EMAIL, SMS_PASSWORD)
        c.get("/login/verify")
        code = jobber.admin.outbox()[-1]["code"]
        jobber.admin.clock(advance_seconds=601)
        assert "That code has expired." in _verify(c, code).text
        c.post("/login/verify/resend", data={"authenticity_token": form_token(c.get("/login/verify").text)})
        fresh = jobber.admin.outbox()[-1]["code"]
        wrong = "000000" if fresh != "000000" else "111111"
        assert "That code is incorrect." in _verify(c, wrong).text
        assert _verify(c, fresh).status_code == 302
    with _client(jobber) as c2:
        _password(c2, SMS_EMAIL, SMS_PASSWORD)
        c2.get("/login/verify")
        assert "That code is incorrect." in _verify(c2, fresh).text


def test_totp_code_accepted_once(jobber: MockJobber) -> None:
    code = _code_at(jobber)
    with _client(jobber) as c:
        _password(c)
        assert _verify(c, code).status_code == 302
    with _client(jobber) as c2:
        _password(c2)
        r = _verify(c2, code)
        assert r.status_code == 200 and "That code has already been used." in r.text
        assert _verify(c2, _code_at(jobber, 30)).status_code == 302  # next step is within the ±1 window
    assert jobber.admin.state()["verifications"] == 2


def test_totp_window_and_wrong_code(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        _password(c)
        assert "That code is incorrect." in _verify(c, _code_at(jobber, -90)).text
        assert "That code is incorrect." in _verify(c, "12345").text
        assert _verify(c, _code_at(jobber, -30)).status_code == 302
    assert jobber.admin.account()["failed_codes"] == 0


def test_remembered_device_skips_2fa_until_it_expires(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        _password(c)
        assert _verify(c, _code_at(jobber), remember=True).status_code == 302
        c.post("/logout", headers={"X-CSRF-Token": csrf_meta(c.get("/invoices").text)})
        assert c.get("/api/me").status_code == 401
        r = _password(c, next="/clients")
        assert r.status_code == 302 and r.headers["location"] == "/clients"
        assert c.get("/api/me").status_code == 200
        jobber.admin.clock(advance_seconds=30 * 86400 + 60)
        assert _password(c).headers["location"] == "/login/verify"
    state = jobber.admin.state()
    assert state["logins"] == 3 and state["verifications"] == 1


def test_require_2fa_fault_ignores_remembered_device(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        sign_in(jobber, client=c, remember_device=True)
        c.cookies.delete("_jobber_session")
        jobber.admin.faults(require_2fa=True)
        assert _password(c).headers["location"] == "/login/verify"
        jobber.admin.clear_faults()
        assert _password(c).headers["location"] == "/invoices"


def test_lockout_blocks_right_password_and_lifts_with_clock(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        for _ in range(5):
            r = _password(c, password="wrong")
        assert "Your account is locked until <time datetime=" in r.text
        locked_until = jobber.admin.account()["locked_until"]
        assert locked_until and datetime.fromisoformat(locked_until.replace("Z", "+00:00")) > mock_now(jobber)
        r = _password(c)
        assert r.status_code == 200 and "Too many failed attempts" in r.text
        jobber.admin.clock(advance_seconds=15 * 60 + 1)
        assert _password(c).headers["location"] == "/login/verify"
    assert jobber.admin.account()["locked_until"] is None


def test_success_resets_failure_counter(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        for _ in range(4):
            _password(c, password="wrong")
        assert _password(c).status_code == 302
        for _ in range(4):
            r = _password(c, password="wrong")
        assert "Incorrect email or password." in r.text
    assert jobber.admin.account()["locked_until"] is None


def test_too_many_wrong_codes_lock_and_drop_pending(jobber: MockJobber) -> None:
    with _client(jobber) as c:
        _password(c)
        for _ in range(4):
            assert "That code is incorrect." in _verify(c, "000000").text
        r = _verify(c, "000000")
        assert 'data-testid="verify-error"' in r.text and "Too many failed attempts" in r.text
        assert c.get("/login/verify").headers["location"] == "/login"
        assert "Too many failed attempts" in _password(c).text
    assert jobber.admin.account()["locked_until"] is not None
    assert jobber.admin.state()["verifications"] == 0


def test_session_expires_after_12h_idle(jobber: MockJobber) -> None:
    c = sign_in(jobber)
    jobber.admin.clock(advance_seconds=11 * 3600)
    assert c.get("/api/me").status_code == 200  # activity keeps it alive
    jobber.admin.clock(advance_seconds=11 * 3600)
    assert c.get("/api/me").status_code == 200
    jobber.admin.clock(advance_seconds=12 * 3600 + 1)
    assert c.get("/api/me").status_code == 401
    assert c.get("/invoices").headers["location"] == "/login?next=%2Finvoices"
    assert jobber.admin.state()["sessions"] == 0
    c.close()


def test_force_logout_fault_ends_sessions(jobber: MockJobber) -> None:
    c = sign_in(jobber)
    assert jobber.admin.state()["sessions"] == 1
    jobber.admin.faults(force_logout=True)
    assert c.get("/api/invoices").status_code == 401
    assert jobber.admin.state()["sessions"] == 0
    c.close()


def test_logout_needs_token(jobber: MockJobber) -> None:
    c = sign_in(jobber)
    r = c.post("/logout", headers={"X-CSRF-Token": "bad"})
    assert r.status_code == 422 and c.get("/api/me").status_code == 200
    r = c.post("/logout")  # the client's default header carries the session's token
    assert r.status_code == 302 and r.headers["location"] == "/login"
    assert c.get("/api/me").status_code == 401
    c.close()


@pytest.mark.parametrize("path", ["/invoices", "/clients/1", "/quotes/12"])
def test_spa_shell(jobber_api: httpx.Client, path: str) -> None:
    html = jobber_api.get(path).text
    for needle in ('<meta name="csrf-token"', '<div id="root"></div>', 'href="/static/dist/app.css"',
                   '<script type="module" src="/static/dist/app.js"></script>'):
        assert needle in html
