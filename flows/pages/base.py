"""What every app page object shares: its selectors, navigation with one renewal of the session,
waiting for the page's data, and telling drift from a session that ended.

A page object works on a `JobberTab` (the browser page, the app's address, and a callable that
signs in again), handed down by whoever opened the tab; it never looks up the session pool.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError

from flows.pages.places import Place, where
from flows.pages.tab import JobberTab
from robot.errors import JobberUnavailable, PageDriftError, SessionExpired
from robot.locators import PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response

#: what a page shows when the session ended under it (the app sent the browser to sign in)
_SIGNED_OUT_MARKS = (("sign_in", "password"), ("mfa", "code"), ("identity_notice", "blocked"),
                     ("sign_in", "captcha"), ("account_chooser", "heading"))


class BasePage:
    page_key: ClassVar[str]

    def __init__(self, tab: JobberTab) -> None:
        self.tab = tab
        self.page: "Page" = tab.page
        self.timeout_ms = tab.timeout_ms
        self.loc = PageLocators(tab.page, self.page_key, tab.timeout_ms)

    # --- finding controls -------------------------------------------------------------------
    async def _el(self, key: str) -> "Locator":
        try:
            return await self.loc.require(key)
        except PageDriftError:
            await self._raise_if_signed_out()
            raise

    async def _text(self, key: str) -> str:
        return (await (await self._el(key)).inner_text()).strip()

    def _on_app_host(self) -> bool:
        """The app's controls count only on the app's own host (an identity page has headings too)."""
        return urlparse(self.page.url).netloc.lower() == self.tab.app_host

    async def _raise_if_signed_out(self) -> None:
        """A control missing because the browser is on a sign-in page is not drift."""
        seen = await where(self.tab, timeout_ms=0)
        if (seen.place.signed_out and seen.place is not Place.unknown) or not seen.on_app_host:
            raise SessionExpired(f"the Jobber session ended (the browser is at {seen.place.value}); "
                                 "signing in again")

    async def wait_ready(self) -> None:
        """Wait until the page's data has loaded, or until the browser shows a sign-in page
        (the app went there on a 401): that is SessionExpired at once, not a drift timeout."""
        ready = self.loc.candidates(self.loc.spec.ready)
        out: list["Locator"] = []
        for page_key, key in _SIGNED_OUT_MARKS:
            out.extend(PageLocators(self.page, page_key, self.timeout_ms).candidates(key))
        combined = ready[0]
        for extra in [*ready[1:], *out]:
            combined = combined.or_(extra)
        deadline = time.monotonic() + self.timeout_ms / 1000
        while time.monotonic() < deadline:
            try:
                await combined.first.wait_for(state="attached", timeout=max(1.0, (deadline - time.monotonic()) * 1000))
                break
            except PlaywrightError as exc:
                if "Timeout" in str(exc).split("\n", 1)[0]:
                    break
                # the document was replaced while waiting (a redirect): wait on the new one
        if self._on_app_host() and await self.loc.present(self.loc.spec.ready):
            return
        await self._raise_if_signed_out()
        await self.loc.require(self.loc.spec.ready, timeout_ms=0)  # PageDriftError naming it

    # --- navigating -------------------------------------------------------------------------
    async def goto(self, path: str) -> "Response | None":
        """Load an app path; a 5xx or no answer is JobberUnavailable."""
        return await self._navigate(path)

    async def _navigate(self, path: str, *, once_more: bool = True) -> "Response | None":
        """One page load. A load the app interrupted (the SPA going to sign-in on a 401) is
        followed where it went; a load that fails otherwise is Jobber down."""
        try:
            resp = await self.page.goto(self.tab.app_link(path), wait_until="domcontentloaded")
        except PlaywrightError as exc:
            msg = str(exc).split("\n", 1)[0]
            if once_more and ("ERR_ABORTED" in msg or "interrupted by another navigation" in msg):
                await self.page.wait_for_load_state("domcontentloaded")
                if not self._on_app_host():
                    return None  # gone to sign in: the page's wait says so and the session is renewed
                return await self._navigate(path, once_more=False)  # the app went elsewhere: load ours
            if not once_more or "net::" in msg or "Timeout" in msg:
                raise JobberUnavailable(f"Jobber did not answer ({msg}); try again later") from None
            raise
        if resp is not None and resp.status >= 500:
            raise JobberUnavailable(f"Jobber answered {resp.status} on {urlparse(resp.url).path}; try again later")
        return resp

    async def renew_session(self) -> bool:
        """Sign in again through the callable handed down with the tab (once per job)."""
        renew = self.tab.renew_session
        return renew is not None and await renew()

    async def open_path(self, path: str) -> None:
        """Navigate and wait until the page's data has loaded, signing in again once when the
        session turned out to have ended."""
        await self.goto(path)
        try:
            await self.wait_ready()
        except SessionExpired:
            if not await self.renew_session():
                raise
            await self.goto(path)
            await self.wait_ready()
