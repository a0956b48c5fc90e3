"""Pytest plugin: the mock Jobber site for the whole run, reset to a scenario per test.

Fixtures
- `mock_jobber` (session): one `MockJobber` server for the run, data in a temp dir.
- `jobber` (function): the same server reset to the "demo" scenario (faults cleared, clock real);
  use `jobber.url` (app host), `jobber.identity_url`, `jobber.client()` and `jobber.admin`
  (`reset`, `state`, `outbox`, `faults`, `clear_faults`, `clock`, `account`, `user`, `invoice`, `quote`).
- `jobber_api` (function): a client on the app host signed in as owner@acme.test (TOTP done)
  that sends the session's X-CSRF-Token on every request.

Helpers (import from this module): `sign_in(site, email, password, ...)` (the whole identity
flow over HTTP), `gql(client, operation_name, query, variables)`, `totp_code(secret, at=None)`,
`mock_now(site)`, `csrf_meta(html)`, `follow(client, response)`, `form_state(html)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pyotp
import pytest

from fixtures.jobber_site.clock import parse_iso
from fixtures.jobber_site.server import MockJobber
from fixtures.scenarios import load

DEMO_EMAIL = "owner@acme.test"
DEMO_PASSWORD = "correct-horse-42"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
SMS_EMAIL = "sms@bravo.test"
SMS_PASSWORD = "pool-party-77"
FRANCHISE_EMAIL = "franchise@delta.test"  # one login, two accounts: Delta Lawn North / South
FRANCHISE_PASSWORD = "two-lawns-88"
FRANCHISE_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
PAGE_EMAIL = "page@echo.test"  # Echo Gardens, payment_ui "page"
PAGE_PASSWORD = "echo-garden-31"
PAGE_TOTP_SECRET = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"


def totp_code(secret: str = DEMO_TOTP_SECRET, at: datetime | None = None) -> str:
    """The RFC 6238 code for `secret` at `at` (default: real now; pass `mock_now(site)` after moving the clock)."""
    totp = pyotp.TOTP(secret)
    return totp.at(at) if at is not None else totp.now()


def mock_now(site: MockJobber) -> datetime:
    """The site's mock-clock time."""
    assert site.admin is not None
    return parse_iso(site.admin.clock())


def csrf_meta(html: str) -> str:
    """The SPA shell's <meta name="csrf-token">."""
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m, "no csrf-token meta in page"
    return m.group(1)


def form_state(html: str) -> str:
    """The hidden `state` of an identity-host form."""
    m = re.search(r'name="state" value="([^"]+)"', html)
    assert m, "no state in page"
    return unescape(m.group(1))


def follow(client: httpx.Client, resp: httpx.Response, limit: int = 10) -> httpx.Response:
    """Follow 302s by hand across both hosts (the client never follows by itself)."""
    for _ in range(limit):
        if resp.status_code not in (301, 302, 303, 307, 308):
            return resp
        resp = client.get(urljoin(str(resp.url), resp.headers["location"]))
    raise AssertionError("too many redirects")


def _secret_for(email: str) -> str | None:
    """The demo scenario's TOTP secret for a login (tests pass `totp_secret` for other scenarios)."""
    for acc in load("demo")["accounts"]:
        if acc["email"] == email and acc.get("two_factor"):
            return acc["two_factor"].get("secret")
    return None


def _totp_step(site: MockJobber, c: httpx.Client, page: httpx.Response, data: dict[str, str],
               secret: str) -> httpx.Response:
    """Post this step's code; one already used by an earlier sign-in is retried with a neighbour."""
    now = mock_now(site)
    r = page
    for offset in (0, 30, -30):
        r = c.post(str(page.url), data={**data, "code": totp_code(secret, now + timedelta(seconds=offset))})
        if r.status_code == 302:
            return r
    return r


def sign_in(site: MockJobber, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD, *,
            account: str | None = None, remember_device: bool = False, client: httpx.Client | None = None,
            totp_secret: str | None = None, next_path: str = "/invoices") -> httpx.Client:
    """Sign in over HTTP the way a browser would: app /login → identity /authorize → password →
    TOTP (the demo secret, or `totp_secret`) or the outbox's SMS code → /auth/callback → the
    account chooser when the login holds several (`account` = business name) → the app.

    Returns the client (a new `site.client()` unless given) sending X-CSRF-Token. Each wrong
    TOTP try counts as a failed code; three sign-ins of one user fit in one 30 s step (the codes
    of the step and its two neighbours, each usable once).
    """
    assert site.admin is not None
    c = client or site.client()
    r = follow(c, c.get("/login", params={"next": next_path}))
    if urlsplit(str(r.url)).path == "/u/login":
        r = c.post(str(r.url), data={"state": form_state(r.text), "username": email, "password": password,
                                     "action": "default"})
        assert r.status_code == 302, f"password refused: {r.status_code} {r.text[:300]}"
        r = follow(c, r)
    path = urlsplit(str(r.url)).path
    if path.startswith("/u/mfa-"):
        data = {"state": form_state(r.text), "action": "default"}
        if remember_device:
            data["rememberBrowser"] = "true"
        if path == "/u/mfa-otp-challenge":
            secret = totp_secret or _secret_for(email)
            assert secret, f"no TOTP secret known for {email}"
            done = _totp_step(site, c, r, data, secret)
        else:
            shown = re.search(r"<span data-phone>[^<]*?(\d{4})</span>", r.text)
            assert shown, "no masked phone on the SMS challenge"
            sent = [m for m in site.admin.outbox() if m["channel"] == "sms" and m["to"].endswith(shown.group(1))]
            assert sent, "no SMS code in the outbox"
            code = sent[-1]["code"]
            done = c.post(str(r.url), data={**data, "code": code})
        assert done.status_code == 302, f"code refused: {done.status_code} {done.text[:300]}"
        r = follow(c, done)
    if urlsplit(str(r.url)).path == "/accounts/select":
        names = dict((unescape(n), v) for v, n in re.findall(r'name="account_id" value="(\d+)"[^>]*>([^<]+)<', r.text))
        assert account in names, f"choose one of {sorted(names)} with account="
        token = re.search(r'name="authenticity_token" value="([^"]+)"', r.text)
        nxt = re.search(r'name="next" value="([^"]*)"', r.text)
        assert token and nxt
        r = follow(c, c.post("/accounts/select", data={"authenticity_token": token.group(1),
                                                       "account_id": names[account], "next": unescape(nxt.group(1))}))
    assert r.status_code == 200 and urlsplit(str(r.url)).hostname == urlsplit(site.url).hostname, \
        f"not in the app: {r.status_code} {r.url}"
    c.headers["X-CSRF-Token"] = csrf_meta(r.text)
    return c


def gql(client: httpx.Client, operation_name: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /api/graphql with a named operation; the JSON answer (whatever the status)."""
    r = client.post("/api/graphql", json={"operationName": operation_name, "query": query,
                                          "variables": variables or {}})
    return r.json()


@pytest.fixture(scope="session")
def mock_jobber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockJobber]:
    """One mock Jobber server for the whole test run."""
    with MockJobber(tmp_path_factory.mktemp("mock-jobber"), scenario="demo") as site:
        yield site


@pytest.fixture
def jobber(mock_jobber: MockJobber) -> MockJobber:
    """The mock Jobber server, freshly reset to the "demo" scenario for this test."""
    assert mock_jobber.admin is not None
    mock_jobber.admin.reset("demo")
    return mock_jobber


@pytest.fixture
def jobber_api(jobber: MockJobber) -> Iterator[httpx.Client]:
    """A client signed in to the demo account, sending X-CSRF-Token."""
    c = sign_in(jobber)
    yield c
    c.close()
