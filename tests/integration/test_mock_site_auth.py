"""Sign-in across the mock's two hosts, over real HTTP: the identity host (password, blocking,
CAPTCHA, TOTP/SMS challenges, remembered devices, MFA lockout) and the app host's glue (callback,
account chooser, 12 h idle sessions, silent re-sign-in, log-out, forced log-out)."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from fixtures.jobber_site.clock import parse_iso
from fixtures.jobber_site.server import MockJobber
from tests.plugin_mock_jobber import (
    DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, SMS_EMAIL, SMS_PASSWORD,
    csrf_meta, follow, form_state, gql, mock_now, sign_in, totp_code,
)

ACCOUNT_QUERY = "query CurrentAccount { account { name switchable newLogin } }"


def _path(resp: httpx.Response) -> str:
    return urlsplit(str(resp.url)).path


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _login_page(c: httpx.Client, next_path: str = "/invoices") -> httpx.Response:
    """App /login → identity /authorize → the /u/login form."""
    page = follow(c, c.get("/login", params={"next": next_path}))
    assert page.status_code == 200 and _path(page) == "/u/login", page.url
    return page


def _password(c: httpx.Client, page: httpx.Response, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD,
              **extra: str) -> httpx.Response:
    return c.post(str(page.url), data={"state": form_state(page.text), "username": email, "password": password,
                                       "action": "default", **extra})


def _challenge(c: httpx.Client, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> httpx.Response:
    r = _password(c, _login_page(c), email, password)
    assert r.status_code == 302, r.text[:300]
    return follow(c, r)


def _code(c: httpx.Client, page: httpx.Response, code: str, remember: bool = False,
          action: str = "default") -> httpx.Response:
    data = {"state": form_state(page.text), "code": code, "action": action}
    if remember:
        data["rememberBrowser"] = "true"
    return c.post(str(page.url), data=data)


def _totp(site: MockJobber, offset_s: int = 0) -> str:
    return totp_code(DEMO_TOTP_SECRET, mock_now(site) + timedelta(seconds=offset_s))


def _alert(html: str, element: str) -> str:
    m = re.search(rf'<div role="alert" id="{element}"[^>]*>(.*?)</div>', html, re.S)
    assert m, f"no #{element} in page"
    return unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()


def _state(site: MockJobber) -> dict:
    assert site.admin is not None
    return site.admin.state()


# -- the hosts and the redirects between them ---------------------------------------------------
def test_signed_out_page_goes_to_identity_host_and_back(jobber: MockJobber) -> None:
    with jobber.client() as c:
        r = c.get("/quotes/12?x=1")
        assert r.status_code == 302 and r.headers["location"] == "/login?next=%2Fquotes%2F12%3Fx%3D1"
        r = c.get(r.headers["location"])
        assert r.status_code == 302
        auth = urlsplit(r.headers["location"])
        assert f"{auth.scheme}://{auth.netloc}" == jobber.identity_url and auth.path == "/authorize"
        q = parse_qs(auth.query)
        assert q["response_type"] == ["code"] and q["client_id"] == ["jobber-web"]
        assert q["redirect_uri"] == [jobber.url + "/auth/callback"]
        assert [(k.name, k.domain) for k in c.cookies.jar] == [("_jobber_auth", _host(jobber.url))]
        assert c.cookies.get("_jobber_auth") == q["state"][0]

        r = c.get(r.headers["location"])
        assert r.status_code == 302 and r.headers["location"].startswith("/u/login?state=")
        page = c.get(urljoin(str(r.url), r.headers["location"]))
        assert page.status_code == 200
        html = page.text
        assert "<title>Log in | Jobber</title>" in html and "<h1" in html and ">Welcome</h1>" in html
        assert "Log in to Jobber to continue." in html
        assert 'name="username"' in html and 'type="email"' in html and 'name="password"' in html
        assert 'for="username">Email address</label>' in html and 'for="password">Password</label>' in html
        assert 'name="action" value="default"' in html and ">Continue</button>" in html
        assert "Forgot your password?" in html and 'role="group" aria-label="CAPTCHA"' not in html

        challenge = follow(c, _password(c, page))
        assert _path(challenge) == "/u/mfa-otp-challenge" and _host(str(challenge.url)) == _host(jobber.identity_url)
        done = _code(c, challenge, _totp(jobber))
        assert done.status_code == 302
        back = urlsplit(done.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == jobber.url + "/auth/callback"
        assert parse_qs(back.query)["state"] == q["state"] and parse_qs(back.query)["code"]
        r = c.get(done.headers["location"])
        assert r.status_code == 302 and r.headers["location"] == "/quotes/12?x=1"
        shell = c.get(r.headers["location"])
        assert shell.status_code == 200 and csrf_meta(shell.text)

    by_host = {(k.name, k.domain) for k in c.cookies.jar}
    app, identity = _host(jobber.url), _host(jobber.identity_url)
    assert by_host == {("_jobber_session", app), ("auth0", identity), ("did", identity)}
    state = _state(jobber)
    assert (state["sessions"], state["identity_sessions"], state["logins"], state["verifications"]) == (1, 1, 1, 1)
    assert (state["password_posts"], state["code_posts"]) == (1, 1)


def test_cookies_are_host_only_and_http_only(jobber: MockJobber) -> None:
    seen: list[tuple[str, str]] = []

    def record(resp: httpx.Response) -> None:
        seen.extend((resp.request.url.host, v) for v in resp.headers.get_list("set-cookie"))

    with jobber.client(event_hooks={"response": [record]}) as c:
        sign_in(jobber, client=c, remember_device=True)
    names = {(host, v.split("=", 1)[0]) for host, v in seen}
    app, identity = _host(jobber.url), _host(jobber.identity_url)
    assert {(app, "_jobber_auth"), (app, "_jobber_session"), (identity, "auth0"), (identity, "auth0-mf"),
            (identity, "did")} <= names
    for _, header in seen:
        low = header.lower()
        assert "httponly" in low and "samesite=lax" in low and "domain=" not in low, header


def test_each_host_serves_only_its_routes(jobber: MockJobber) -> None:
    with jobber.client() as c:
        assert c.get(jobber.url + "/u/login?state=x").status_code == 404
        assert c.get(jobber.url + "/authorize").status_code == 404
        assert c.get(jobber.identity_url + "/login").status_code == 404
        assert c.get(jobber.identity_url + "/invoices").status_code == 404
        assert c.post(jobber.identity_url + "/api/graphql", json={"query": "{ account { name } }"}).status_code == 404
        for base in (jobber.url, jobber.identity_url):
            assert c.get(base + "/_health").json() == {"ok": True}
            assert c.get(base + "/_mock/clock").status_code == 200


def test_bad_authorize_requests_and_unknown_transactions_are_refused(jobber: MockJobber) -> None:
    with jobber.client() as c:
        good = {"response_type": "code", "client_id": "jobber-web", "redirect_uri": jobber.url + "/auth/callback",
                "state": "s"}
        for bad in ({"client_id": "evil"}, {"redirect_uri": "http://evil.test/auth/callback"},
                    {"redirect_uri": jobber.identity_url + "/auth/callback"}, {"response_type": "token"}):
            r = c.get(jobber.identity_url + "/authorize", params={**good, **bad})
            assert r.status_code == 400 and "Oops!, something went wrong" in r.text, bad
        r = c.get(jobber.identity_url + "/u/login", params={"state": "no-such-transaction"})
        assert r.status_code == 400 and "Oops!, something went wrong" in r.text
        r = c.post(jobber.identity_url + "/u/login?state=nope",
                   data={"state": "nope", "username": DEMO_EMAIL, "password": DEMO_PASSWORD})
        assert r.status_code == 400
        assert c.get(jobber.identity_url + "/u/mfa-otp-challenge", params={"state": "nope"}).status_code == 400
        # a transaction that has not passed the password has no challenge yet
        page = _login_page(c)
        r = c.get(jobber.identity_url + "/u/mfa-otp-challenge", params={"state": form_state(page.text)})
        assert r.status_code == 400
    assert _state(jobber)["logins"] == 0


def test_callback_checks_state_and_single_use_code(jobber: MockJobber) -> None:
    with jobber.client() as c:
        r = c.get("/auth/callback", params={"code": "x", "state": "y"})
        assert r.status_code == 400 and "Invalid state" in r.text
        challenge = _challenge(c)
        done = _code(c, challenge, _totp(jobber))
        callback = done.headers["location"]
        assert c.get(callback).status_code == 302
        again = c.get(callback)  # the state went with the first use
        assert again.status_code == 400 and "Invalid state" in again.text
    assert _state(jobber)["sessions"] == 1


def test_code_older_than_60_seconds_is_refused(jobber: MockJobber) -> None:
    with jobber.client() as c:
        done = _code(c, _challenge(c), _totp(jobber))
        jobber.admin.clock(advance_seconds=61)
        r = c.get(done.headers["location"])
        assert r.status_code == 400 and "Invalid authorization code" in r.text
    assert _state(jobber)["sessions"] == 0


# -- password, blocking, CAPTCHA --------------------------------------------------------------
def test_wrong_password_and_unknown_email(jobber: MockJobber) -> None:
    with jobber.client() as c:
        page = _login_page(c)
        r = _password(c, page, password="wrong")
        assert r.status_code == 400 and _alert(r.text, "error-element-password") == "Wrong email or password."
        assert 'value="owner@acme.test"' in r.text  # the e-mail stays in the form
        r = _password(c, r, email="nobody@acme.test")
        assert r.status_code == 400 and _alert(r.text, "error-element-password") == "Wrong email or password."
    assert jobber.admin.user()["failed_logins"] == 1
    assert _state(jobber)["password_posts"] == 2 and _state(jobber)["logins"] == 0


def test_tenth_failure_blocks_until_the_emailed_link(jobber: MockJobber) -> None:
    with jobber.client() as c:
        page = _login_page(c)
        for _ in range(9):
            page = _password(c, page, password="wrong")
            assert page.status_code == 400 and _alert(page.text, "error-element-password") == "Wrong email or password."
        assert jobber.admin.outbox() == []
        page = _password(c, page, password="wrong")
        blocked = ("Your account has been blocked after multiple consecutive login attempts. "
                   "We've sent you an email with instructions on how to unblock it.")
        assert page.status_code == 400 and _alert(page.text, "error-element-password") == blocked
        page = _password(c, page)  # the right password too
        assert page.status_code == 400 and _alert(page.text, "error-element-password") == blocked
        assert 'name="password"' in page.text  # still the form
        user = jobber.admin.user()
        assert user["blocked"] is True and user["failed_logins"] == 10
        assert _state(jobber)["password_posts"] == 11 and _state(jobber)["logins"] == 0
        jobber.admin.clock(advance_seconds=7 * 86400)  # no timed unlock
        assert _password(c, page).status_code == 400

        [mail] = jobber.admin.outbox()
        assert mail["channel"] == "email" and mail["to"] == DEMO_EMAIL and mail["code"] is None
        assert mail["link"].startswith(jobber.identity_url + "/unblock?ticket=") and mail["link"] in mail["body"]
        r = c.get(mail["link"])
        assert r.status_code == 200 and "Your account has been unblocked." in r.text
        assert jobber.admin.user()["blocked"] is False and jobber.admin.user()["failed_logins"] == 0
        assert c.get(mail["link"]).status_code == 400  # single use
        r = _password(c, _login_page(c))
        assert r.status_code == 302 and "/u/mfa-otp-challenge" in r.headers["location"]


def test_captcha_fault(jobber: MockJobber) -> None:
    jobber.admin.faults(captcha=True)
    with jobber.client() as c:
        page = _login_page(c)
        assert 'role="group" aria-label="CAPTCHA"' in page.text
        assert "Solve the challenge question to verify you are not a robot." in page.text
        assert 'name="captcha" type="checkbox" value="solved"' in page.text and "I'm not a robot" in unescape(page.text)
        r = _password(c, page)
        assert r.status_code == 400 and _alert(r.text, "error-element-password") == "Please complete the challenge."
        assert jobber.admin.user()["failed_logins"] == 0 and _state(jobber)["logins"] == 0
        r = _password(c, r, captcha="solved")
        assert r.status_code == 302 and "/u/mfa-otp-challenge" in r.headers["location"]


# -- MFA challenges -----------------------------------------------------------------------------
def test_otp_challenge_page_and_wrong_codes_until_locked(jobber: MockJobber) -> None:
    with jobber.client() as c:
        page = _challenge(c)
        html = page.text
        assert "Verify Your Identity</h1>" in html
        assert "Check your preferred one-time password application for a code." in html
        assert 'for="code">Enter your one-time code</label>' in html and 'name="code"' in html
        assert 'name="rememberBrowser" type="checkbox" value="true"' in html
        assert "Remember this device for 30 days" in html and ">Continue</button>" in html
        assert 'value="resend"' not in html

        wrong = f"{(int(_totp(jobber)) + 1) % 1_000_000:06d}"
        texts = []
        for _ in range(4):
            page = _code(c, page, wrong)
            assert page.status_code == 400
            texts.append(_alert(page.text, "error-element-code"))
        assert texts == ["The code you entered is invalid",
                         "The code you entered is invalid You have 3 attempts left.",
                         "The code you entered is invalid You have 2 attempts left.",
                         "The code you entered is invalid You have 1 attempts left."]
        r = _code(c, page, wrong)
        assert r.status_code == 429 and "Too many failed codes. Wait for some minutes before retrying." in r.text
        until = re.search(r'<time datetime="([^"]+)"', r.text)
        assert until and until.group(1) == jobber.admin.user()["mfa_locked_until"]
        assert abs(parse_iso(until.group(1)) - (mock_now(jobber) + timedelta(minutes=15))) < timedelta(seconds=3)
        # the transaction is gone, and the right code does not bring it back
        assert _code(c, page, _totp(jobber)).status_code == 400
        assert _state(jobber)["code_posts"] == 6 and _state(jobber)["verifications"] == 0

    with jobber.client() as c:  # a new sign-in is refused until then, with the same text
        page = _login_page(c)
        r = _password(c, page)
        assert r.status_code == 429
        assert _alert(r.text, "error-element-password").startswith(
            "Too many failed codes. Wait for some minutes before retrying.")
        jobber.admin.clock(advance_seconds=15 * 60 + 1)
        assert jobber.admin.user()["mfa_locked_until"] is None
        c.cookies.clear()
        sign_in(jobber, client=c)


def test_a_used_totp_code_counts_as_wrong(jobber: MockJobber) -> None:
    code = _totp(jobber)
    with jobber.client() as c:
        assert _code(c, _challenge(c), code).status_code == 302
    with jobber.client() as c:
        r = _code(c, _challenge(c), code)
        assert r.status_code == 400 and _alert(r.text, "error-element-code") == "The code you entered is invalid"


def test_sms_challenge_resend_and_expiry(jobber: MockJobber) -> None:
    with jobber.client() as c:
        page = _challenge(c, SMS_EMAIL, SMS_PASSWORD)
        assert _path(page) == "/u/mfa-sms-challenge"
        assert "We've sent a text message to:" in unescape(page.text) and "<span data-phone>XXX-XXX-0199</span>" in page.text
        assert 'for="code">Enter the 6-digit code</label>' in page.text
        assert 'name="action" value="resend"' in page.text and ">Resend</button>" in page.text
        [first] = jobber.admin.outbox()
        assert first["channel"] == "sms" and first["to"] == "+15555550199" and re.fullmatch(r"\d{6}", first["code"])
        assert first["code"] in first["body"]
        assert len(jobber.admin.outbox()) == 1 and c.get(str(page.url)).status_code == 200
        assert len(jobber.admin.outbox()) == 1  # sent when first shown, not on every view

        page = _code(c, page, "", action="resend")
        assert page.status_code == 200 and "Verify Your Identity" in page.text
        assert len(jobber.admin.outbox()) == 2
        second = jobber.admin.outbox()[-1]
        assert jobber.admin.user(SMS_EMAIL)["failed_codes"] == 0 and _state(jobber)["code_posts"] == 0
        r = _code(c, page, first["code"])  # the older code stopped working
        assert r.status_code == 400 and _alert(r.text, "error-element-code") == "The code you entered is invalid"
        jobber.admin.clock(advance_seconds=10 * 60 + 1)
        r = _code(c, page, second["code"])
        assert r.status_code == 400  # expired

        page = _code(c, page, "", action="resend")
        fresh = jobber.admin.outbox()[-1]["code"]
        r = _code(c, page, fresh)
        assert r.status_code == 302 and r.headers["location"].startswith(jobber.url + "/auth/callback?")
        assert _code(c, page, fresh).status_code == 400  # the transaction is done


def test_remembered_device_skips_mfa_but_require_2fa_does_not(jobber: MockJobber) -> None:
    with closing(sign_in(jobber, remember_device=True)) as c:
        assert gql(c, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]["newLogin"] is True
        devices = [k for k in c.cookies.jar if k.name == "auth0-mf"]
        assert [k.domain for k in devices] == [_host(jobber.identity_url)]
        assert devices[0].expires and devices[0].expires > mock_now(jobber).timestamp() + 29 * 86400
        jobber.admin.faults(force_logout=True)
        r = _password(c, _login_page(c))  # the password again, but no code
        assert r.status_code == 302 and r.headers["location"].startswith(jobber.url + "/auth/callback?")
        shell = follow(c, r)
        c.headers["X-CSRF-Token"] = csrf_meta(shell.text)
        assert gql(c, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]["newLogin"] is False
        assert _state(jobber)["verifications"] == 1

        jobber.admin.faults(force_logout=True, require_2fa=True)
        r = _password(c, _login_page(c))
        assert r.status_code == 302 and "/u/mfa-otp-challenge" in r.headers["location"]

    with jobber.client() as other:  # another browser has no remembered device
        r = _password(other, _login_page(other))
        assert "/u/mfa-otp-challenge" in r.headers["location"]


def test_remembered_device_is_for_its_user_only(jobber: MockJobber) -> None:
    with closing(sign_in(jobber, remember_device=True)) as c:
        jobber.admin.faults(force_logout=True)
        r = _password(c, _login_page(c), SMS_EMAIL, SMS_PASSWORD)
        assert "/u/mfa-sms-challenge" in r.headers["location"]


# -- app sessions ---------------------------------------------------------------------------------
def test_silent_sign_in_when_only_the_app_session_ended(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        jobber.admin.faults(end_app_sessions=True)
        r = c.get("/invoices/1")
        assert r.status_code == 302 and r.headers["location"] == "/login?next=%2Finvoices%2F1"
        hops = []
        while r.status_code == 302:
            r = c.get(urljoin(str(r.url), r.headers["location"]))
            hops.append(_path(r))
        assert hops == ["/login", "/authorize", "/auth/callback", "/invoices/1"]
        assert r.status_code == 200 and csrf_meta(r.text)
        state = _state(jobber)
        assert (state["password_posts"], state["code_posts"], state["sessions"]) == (1, 1, 1)


def test_force_logout_ends_app_and_identity_sessions(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        jobber.admin.faults(force_logout=True)
        assert _state(jobber)["sessions"] == 0 and _state(jobber)["identity_sessions"] == 0
        assert gql(c, "CurrentAccount", ACCOUNT_QUERY)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        page = follow(c, c.get("/invoices"))
        assert _path(page) == "/u/login" and 'name="password"' in page.text
    assert "force_logout" not in jobber.admin.faults()  # an action, not a stored fault


def test_app_session_ends_after_12_hours_idle(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        for _ in range(2):  # each visit keeps it alive
            jobber.admin.clock(advance_seconds=12 * 3600 - 60)
            assert c.get("/invoices").status_code == 200
        jobber.admin.clock(advance_seconds=12 * 3600 + 1)
        r = c.get("/invoices")
        assert r.status_code == 302 and r.headers["location"] == "/login?next=%2Finvoices"
        assert _state(jobber)["sessions"] == 0
        # the identity session (3 days idle) is still there: back without a form
        assert follow(c, r).status_code == 200 and _state(jobber)["password_posts"] == 1
        jobber.admin.clock(advance_seconds=3 * 86400 + 13 * 3600)
        assert _path(follow(c, c.get("/invoices"))) == "/u/login"


def test_logout_ends_both_sessions(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        assert c.post("/logout", data={"authenticity_token": "nope"}).status_code == 422
        assert _state(jobber)["sessions"] == 1
        r = c.post("/logout", data={"authenticity_token": c.headers["X-CSRF-Token"]})
        assert r.status_code == 302
        out = urlsplit(r.headers["location"])
        assert f"{out.scheme}://{out.netloc}{out.path}" == jobber.identity_url + "/v2/logout"
        assert parse_qs(out.query)["returnTo"] == [jobber.url + "/login"]
        r = c.get(r.headers["location"])
        assert r.status_code == 302 and r.headers["location"] == jobber.url + "/login"
        assert _state(jobber)["sessions"] == 0 and _state(jobber)["identity_sessions"] == 0
        assert _path(follow(c, r)) == "/u/login"
        assert c.get(jobber.identity_url + "/v2/logout", params={"returnTo": "http://evil.test/"}).status_code == 400


def test_account_chooser_for_a_login_with_several_accounts(jobber: MockJobber) -> None:
    with jobber.client() as c:
        page = follow(c, c.get("/login", params={"next": "/invoices"}))
        r = follow(c, _code(c, follow(c, _password(c, page, FRANCHISE_EMAIL, FRANCHISE_PASSWORD)),
                            totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", mock_now(jobber))))
        assert _path(r) == "/accounts/select" and r.status_code == 200
        assert "<h1" in r.text and ">Choose an account</h1>" in r.text
        buttons = re.findall(r'<button type="submit" name="account_id" value="(\d+)"[^>]*>([^<]+)</button>', r.text)
        assert [name for _, name in buttons] == ["Delta Lawn North", "Delta Lawn South"]
        token = re.search(r'name="authenticity_token" value="([^"]+)"', r.text).group(1)
        assert re.search(r'name="next" value="/invoices"', r.text)

        # nothing of the app before an account is chosen
        assert c.get("/clients").headers["location"] == "/accounts/select?next=%2Fclients"
        assert c.post("/api/graphql", json={"query": ACCOUNT_QUERY}, headers={"X-CSRF-Token": token}).status_code == 401
        assert c.get("/login", params={"next": "/quotes"}).headers["location"] == "/accounts/select?next=%2Fquotes"

        north, south = (int(v) for v, _ in buttons)
        acme = jobber.admin.account(DEMO_EMAIL)["id"]
        assert c.post("/accounts/select", data={"authenticity_token": "nope", "account_id": north,
                                                "next": "/invoices"}).status_code == 422
        assert c.post("/accounts/select", data={"authenticity_token": token, "account_id": acme,
                                                "next": "/invoices"}).status_code == 400
        r = c.post("/accounts/select", data={"authenticity_token": token, "account_id": north, "next": "/invoices"})
        assert r.status_code == 302 and r.headers["location"] == "/invoices"
        c.headers["X-CSRF-Token"] = csrf_meta(c.get("/invoices").text)
        account = gql(c, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]
        assert account == {"name": "Delta Lawn North", "switchable": True, "newLogin": True}

        # switching: the chooser again, same session
        assert c.get("/accounts/select").status_code == 200
        r = c.post("/accounts/select", data={"authenticity_token": token, "account_id": south, "next": "/quotes"})
        assert r.headers["location"] == "/quotes"
        assert gql(c, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]["name"] == "Delta Lawn South"
    assert _state(jobber)["sessions"] == 1


def test_sign_in_helper_names_the_accounts_when_none_is_given(jobber: MockJobber) -> None:
    with pytest.raises(AssertionError, match="Delta Lawn North"):
        sign_in(jobber, FRANCHISE_EMAIL, FRANCHISE_PASSWORD)
    with closing(sign_in(jobber, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, account="Delta Lawn South")) as c:
        assert gql(c, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]["name"] == "Delta Lawn South"


def test_one_account_login_is_not_switchable(jobber_api: httpx.Client) -> None:
    account = gql(jobber_api, "CurrentAccount", ACCOUNT_QUERY)["data"]["account"]
    assert account == {"name": "Acme Lawn Care", "switchable": False, "newLogin": True}


def test_expire_devices_makes_the_next_sign_in_ask_for_a_code_again(jobber: MockJobber) -> None:
    with closing(sign_in(jobber, remember_device=True)) as c:
        jobber.admin.faults(force_logout=True, expire_devices=True)
        r = _password(c, _login_page(c))  # the cookie is still there; Jobber no longer honours it
        assert r.status_code == 302 and "/u/mfa-otp-challenge" in r.headers["location"]


def test_the_date_header_is_the_mock_clock(jobber: MockJobber) -> None:
    from email.utils import parsedate_to_datetime

    jobber.admin.clock(advance_seconds=3600)
    with jobber.client() as c:
        for resp in (c.get("/login"), follow(c, c.get("/login"))):
            dates = resp.headers.get_list("date")
            assert len(dates) == 1  # uvicorn's own Date is off
            assert abs((parsedate_to_datetime(dates[0]) - mock_now(jobber)).total_seconds()) < 5
