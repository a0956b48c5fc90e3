"""What every page object shares: its selectors, navigation with one re-login, waiting for data.

Page objects take a Playwright Page whose context was made with `base_url` = the Jobber URL
(the session pool does that), so paths are relative ("/invoices/12").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlparse

from robot.errors import JobberUnavailable, SessionExpired
from robot.locators import DEFAULT_TIMEOUT_MS, PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response


def path_of(page: "Page") -> str:
    return urlparse(page.url).path


def on_login_page(page: "Page") -> bool:
    return path_of(page).startswith("/login")


def raise_for_session_or_outage(resp: "Response", what: str) -> None:
    """A write Jobber answered 401 (the session ended: sign in again; nothing was saved) or
    5xx (Jobber is unavailable: try again later) raises the transient error for it."""
    if resp.status == 401:
        raise SessionExpired(f"the Jobber session ended before {what} was saved; nothing was recorded")
    if resp.status >= 500:
        raise JobberUnavailable(f"Jobber answered {resp.status} to {what}; try again later")


class BasePage:
    page_key: ClassVar[str]

    def __init__(self, page: "Page", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        self.loc = PageLocators(page, self.page_key, timeout_ms)

    async def _el(self, key: str) -> "Locator":
        return await self.loc.require(key)

    async def _text(self, key: str) -> str:
        return (await (await self._el(key)).inner_text()).strip()

    async def goto(self, path: str) -> "Response | None":
        """Navigate; a 5xx is JobberUnavailable; landing on the sign-in page means the session
        died: the session pool logs in again once and the navigation is repeated."""
        from robot.sessions import relogin_for

        resp = await self._navigate(path)
        if on_login_page(self.page) and self.page_key not in ("login", "two_factor"):
            if not await relogin_for(self.page):
                raise SessionExpired("the Jobber session ended and could not be renewed")
            resp = await self._navigate(path)
            if on_login_page(self.page):
                raise SessionExpired("Jobber sent the robot back to the sign-in page right after signing in")
        return resp

    async def _navigate(self, path: str, *, once_more: bool = True) -> "Response | None":
        """One page load. A load the app interrupted (Jobber's app going to sign-in on a 401) is
        followed where it went, or tried `once_more`; a load that fails otherwise is Jobber down."""
        from playwright.async_api import Error as PlaywrightError

        try:
            resp = await self.page.goto(path, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            msg = str(exc).split("\n", 1)[0]
            if once_more and ("ERR_ABORTED" in msg or "interrupted by another navigation" in msg):
                await self.page.wait_for_load_state("domcontentloaded")
                if on_login_page(self.page):
                    return None
                return await self._navigate(path, once_more=False)
            if not once_more or "net::" in msg or "Timeout" in msg:
                raise JobberUnavailable(f"Jobber did not answer ({msg}); try again later") from None
            raise
        if resp is not None and resp.status >= 500:
            raise JobberUnavailable(f"Jobber answered {resp.status} on {urlparse(resp.url).path}; try again later")
        return resp

    async def open_path(self, path: str) -> None:
        """Navigate and wait until the page's data has loaded, re-logging in once if the
        single-page app was sent to sign-in by a 401."""
        from robot.sessions import relogin_for

        await self.goto(path)
        try:
            await self.loc.expect_ready()
        except SessionExpired:
            if not await relogin_for(self.page):
                raise
            await self.goto(path)
            await self.loc.expect_ready()

    async def wait_ready(self) -> None:
        await self.loc.expect_ready()
