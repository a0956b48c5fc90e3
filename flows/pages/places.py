"""Where is the browser? One classifier for every question of that kind.

Real Jobber signs in on another host (Auth0 Universal Login on `login.auth.getjobber.com`) and
runs its app as a single-page app on `secure.getjobber.com`, so a URL path says little: the same
`/login` can mean "sign in" or "already in, going back to the app". The classifier waits until
the page shows one of the landmarks it knows (a sign-in form, a code field, a block notice, a
CAPTCHA, the account chooser, the app's frame) and names the place from the landmark, with the
host only as a second fact. Login, sessions and the page objects ask it; nothing else reads
URLs to decide where the browser is.

    sign_in ─▶ mfa ─▶ (account_chooser) ─▶ app
       │        └──▶ mfa_locked
       ├──▶ blocked            (10 failures: the owner's unblock e-mail)
       └──▶ captcha            (a person's challenge)
    identity_error / app_error / unknown: reported with what was seen
"""

from __future__ import annotations

import re
import time
from enum import Enum
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel

from robot.locators import PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator

    from flows.pages.tab import JobberTab


class Place(str, Enum):
    sign_in = "sign_in"
    mfa = "mfa"
    mfa_locked = "mfa_locked"
    blocked = "blocked"
    captcha = "captcha"
    account_chooser = "account_chooser"
    app = "app"
    identity_error = "identity_error"
    app_error = "app_error"
    unknown = "unknown"

    @property
    def signed_out(self) -> bool:
        """The app is not reachable from here without signing in (or a person)."""
        return self not in (Place.app, Place.app_error, Place.account_chooser)


#: the app's pages by path, for page objects that want to know "am I already on it?"
_APP_PAGES: list[tuple[str, re.Pattern[str]]] = [
    ("invoice", re.compile(r"^/invoices/\d+/?$")),
    ("invoices", re.compile(r"^/invoices/?$")),
    ("new_payment", re.compile(r"^/payments/new/?$")),
    ("payment", re.compile(r"^/payments/\d+/?$")),
    ("quote", re.compile(r"^/quotes/\d+/?$")),
    ("quotes", re.compile(r"^/quotes/?$")),
    ("client", re.compile(r"^/clients/\d+/?$")),
    ("clients", re.compile(r"^/clients/?$")),
]

# (place, page spec, selector) in the order a page showing several is read: a CAPTCHA beside
# the form is a CAPTCHA; a block notice above the form is a block.
_LANDMARKS: list[tuple[Place, str, str]] = [
    (Place.captcha, "sign_in", "captcha"),
    (Place.blocked, "identity_notice", "blocked"),
    (Place.mfa_locked, "identity_notice", "too_many_codes"),
    (Place.mfa, "mfa", "code"),
    (Place.sign_in, "sign_in", "password"),
    (Place.account_chooser, "account_chooser", "heading"),
    (Place.app_error, "app_shell", "error_page"),
    (Place.app, "app_shell", "current_account"),
    (Place.identity_error, "identity_notice", "oops"),
]


class Where(BaseModel):
    """The answer, with what was seen (for the doctor and for drift messages)."""

    place: Place
    host: str
    on_app_host: bool
    app_page: str | None = None                  # invoices, invoice, payment, ... (app only)
    mfa_channel: Literal["sms", "otp"] | None = None
    title: str = ""

    def describe(self) -> str:
        where = f"{self.place.value} on {self.host or 'no page'}"
        if self.app_page:
            where += f" ({self.app_page} page)"
        return where + (f", title {self.title!r}" if self.title else "")


def app_page_of(path: str) -> str | None:
    for key, rx in _APP_PAGES:
        if rx.match(path):
            return key
    return None


def current_app_page(tab: "JobberTab") -> str | None:
    """Which app page the tab shows, by address (None when it is not on the app host)."""
    u = urlparse(tab.page.url)
    if u.netloc.lower() != tab.app_host:
        return None
    return app_page_of(u.path)


def _landmarks(tab: "JobberTab") -> list[tuple[Place, "Locator"]]:
    out: list[tuple[Place, Locator]] = []
    specs: dict[str, PageLocators] = {}
    for place, page_key, key in _LANDMARKS:
        loc = specs.setdefault(page_key, PageLocators(tab.page, page_key, tab.timeout_ms))
        for cand in loc.candidates(key):
            out.append((place, cand))
    return out


async def where(tab: "JobberTab", timeout_ms: int | None = None) -> Where:
    """Wait (up to `timeout_ms`, default the tab's) until a known landmark shows, then name
    the place. A page that shows none of them in time is `unknown` (never a bare timeout)."""
    deadline = time.monotonic() + (tab.timeout_ms if timeout_ms is None else timeout_ms) / 1000
    marks = _landmarks(tab)
    combined = marks[0][1]
    for _, loc in marks[1:]:
        combined = combined.or_(loc)
    while True:
        remaining = max(0.0, (deadline - time.monotonic()) * 1000)
        try:
            if remaining > 0:
                await combined.first.wait_for(state="attached", timeout=remaining)
            for place, loc in marks:
                if await loc.count() > 0:
                    return await _answer(tab, place)
        except PlaywrightError as exc:
            text = str(exc)
            if "closed" in text.lower() and "context" not in text.lower():
                raise
            # a navigation replaced the document while we looked: look again on the new one
        if time.monotonic() >= deadline:
            return await _answer(tab, Place.unknown)


async def _answer(tab: "JobberTab", place: Place) -> Where:
    u = urlparse(tab.page.url)
    host = u.netloc.lower()
    on_app = host == tab.app_host
    try:
        title = (await tab.page.title()).strip()[:120]
    except PlaywrightError:
        title = ""
    channel: Literal["sms", "otp"] | None = None
    if place is Place.mfa:
        sms = PageLocators(tab.page, "mfa", tab.timeout_ms)
        channel = "sms" if await sms.present("sms_sent_to") else "otp"
    return Where(place=place, host=host, on_app_host=on_app, title=title, mfa_channel=channel,
                 app_page=app_page_of(u.path) if place is Place.app and on_app else None)
