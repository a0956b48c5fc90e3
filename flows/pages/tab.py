"""A browser tab on one merchant's Jobber, with what the page objects need handed down to them.

Page objects never look up the session pool: whoever opened the tab (the session pool, a
test, `selectors check`) hands down the app's address and, when it can sign in again, a
`renew_session` callable. That keeps the page layer below login and sessions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from robot.locators import DEFAULT_TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.async_api import Page

#: Signs in again after the session died; False when that is not allowed (once per job).
RenewSession = Callable[[], Awaitable[bool]]


@dataclass(eq=False)
class JobberTab:
    page: "Page"
    app_url: str                           # the app host's base URL ("https://secure.getjobber.com")
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    renew_session: RenewSession | None = None

    @property
    def app_host(self) -> str:
        return urlparse(self.app_url).netloc.lower()

    def app_link(self, path: str) -> str:
        """An absolute address on the app host (the browser may be on the identity host)."""
        return self.app_url.rstrip("/") + path

    def with_timeout(self, timeout_ms: int) -> "JobberTab":
        return JobberTab(self.page, self.app_url, timeout_ms, self.renew_session)
