"""Pytest plugin: the mock Jobber site for the whole run, reset to a scenario per test.

Fixtures
- `mock_jobber` (session): one `MockJobber` server for the run, data in a temp dir.
- `jobber` (function): the same server reset to the "demo" scenario (faults cleared, clock real);
  use `jobber.url`, and `jobber.admin` (`reset`, `state`, `outbox`, `faults`, `clear_faults`,
  `clock`, `account`, `invoice`, `quote`).
- `jobber_api` (function): an httpx client signed in as owner@acme.test (TOTP done) that sends
  the session's X-CSRF-Token on every request.

Helpers (import from this module): `totp_code(secret, at=None)`, `mock_now(site)`,
`form_token(html)`, `sign_in(site, email, password, ...)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime


import httpx
import pyotp
import pytest

from fixtures.jobber_site.clock import parse_iso
from fixtures.jobber_site.server import MockJobber

DEMO_EMAIL = "owner@acme.test"
DEMO_PASSWORD = "correct-horse-42"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
SMS_EMAIL = "sms@bravo.test"
SMS_PASSWORD = "pool-party-77"


def totp_code(secret: str = DEMO_TOTP_SECRET, at: datetime | None = None) -> str:
    """The RFC 6238 code for `secret` at `at` (default: real now; pass `mock_now(site)` after moving the clock)."""
    totp = pyotp.TOTP(secret)
    return totp.at(at) if at is not None else totp.now()


def mock_now(site: MockJobber) -> datetime:
    """The site's mock-clock time."""
    assert site.admin is not None
    return parse_iso(site.admin.clock())


def form_token(html: str) -> str:
    """The hidden authenticity_token of a sign-in form."""
    m = re.search(r'name="authenticity_token" value="([^"]+)"', html)
    assert m, "no authenticity_token in page"
    return m.group(1)


def csrf_meta(html: str) -> str:
    """The SPA shell's <meta name="csrf-token">."""
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m, "no csrf-token meta in page"
    return m.group(1)


def sign_in(site: MockJobber, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD,
            client: httpx.Client | None = None, remember_device: bool = False) -> httpx.Client:
    """Sign in over HTTP (password, then TOTP or the outbox's SMS code) and return a client whose
    requests carry X-CSRF-Token. A TOTP code already used in this 30 s step is retried with the next one."""
    c = client or httpx.Client(base_url=site.url, timeout=10)
    token = form_token(c.get("/login").text)
    r = c.post("/login", data={"email": email, "password": password, "authenticity_token": token})
    assert r.status_code == 302, f"sign-in refused: {r.text[:300]}"
    if r.headers["location"] == "/login/verify":
        page = c.get("/login/verify")
        data = {"authenticity_token": form_token(page.text)}
        if remember_device:
            data["remember_device"] = "1"
        if "authenticator app" in page.text:
            now = mock_now(site)
            for step in (0, 30):
                r = c.post("/login/verify", data={**data, "code": totp_code(
                    DEMO_TOTP_SECRET, datetime.fromtimestamp(now.timestamp() + step, now.tzinfo))})
                if r.status_code == 302:
                    break
        else:
            assert site.admin is not None
            code = site.admin.outbox()[-1]["code"]
            r = c.post("/login/verify", data={**data, "code": code})
        assert r.status_code == 302, f"verification refused: {r.text[:300]}"
    c.headers["X-CSRF-Token"] = csrf_meta(c.get("/invoices").text)
    return c


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
    """An httpx client signed in to the demo account, sending X-CSRF-Token."""
    c = sign_in(jobber)
    yield c
    c.close()


