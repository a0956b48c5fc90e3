"""The identity host's pages (Auth0 Universal Login): sign-in, two-step challenge, and the app's
account chooser and frame. They only fill and press; deciding what comes next is login's job,
through the classifier."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from flows.pages.tab import JobberTab
from robot.errors import PageDriftError
from robot.locators import PageLocators

if TYPE_CHECKING:
    from playwright.async_api import Locator

_ATTEMPTS_LEFT = re.compile(r"(\d+)\s+attempts?\s+(left|remaining)", re.I)


class _IdentityPage:
    page_key: str

    def __init__(self, tab: JobberTab) -> None:
        self.tab = tab
        self.page = tab.page
        self.timeout_ms = tab.timeout_ms
        self.loc = PageLocators(tab.page, self.page_key, tab.timeout_ms)

    async def _el(self, key: str) -> "Locator":
        return await self.loc.require(key)

    async def error_text(self) -> str | None:
        el = await self.loc.resolve("error", timeout_ms=0)
        if el is None:
            return None
        return (await el.first.inner_text()).strip() or None

    async def attempts_left(self) -> int | None:
        """How many tries Jobber says are left, when its message says so."""
        m = _ATTEMPTS_LEFT.search(await self.error_text() or "")
        return int(m.group(1)) if m else None

    #: the Date header of the last page a submit brought (Jobber's clock, for TOTP skew)
    answered_at: str | None = None

    async def _submit(self, button: "Locator") -> int | None:
        """Press a form's submit and wait for the page that answers (its HTTP status)."""
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=self.timeout_ms * 2) as nav:
            await button.click()
        resp = await nav.value
        if resp is None:
            return None
        self.answered_at = (await resp.all_headers()).get("date")
        return resp.status


class SignInPage(_IdentityPage):
    page_key = "sign_in"

    async def sign_in(self, email: str, password: str) -> int | None:
        """E-mail and password on one page, then the primary button ("Continue")."""
        await (await self._el("email")).fill(email)
        await (await self._el("password")).fill(password)
        return await self._submit(await self._el("submit"))


class MfaPage(_IdentityPage):
    page_key = "mfa"

    async def sent_to(self) -> str:
        """Where a text message went ("XXX-XXX-0123"), or "" for an authenticator challenge."""
        el = await self.loc.resolve("sms_sent_to", timeout_ms=0)
        if el is None:
            return ""
        text = " ".join((await el.first.inner_text()).split())
        return text[:80]

    async def locked_until(self) -> datetime | None:
        el = await self.loc.resolve("locked_until", timeout_ms=0)
        raw = await el.first.get_attribute("datetime") if el is not None else None
        if not raw:
            return None
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None

    async def enter_code(self, code: str, remember_device: bool = True) -> int | None:
        """Type the code, tick "Remember this device for 30 days", press Continue."""
        if remember_device:
            box = await self.loc.resolve("remember_device", timeout_ms=0)
            if box is not None and not await box.is_checked():
                await box.check()
        field = await self._el("code")
        # the trace's screencast films the page and the code field is plain text: draw the code
        # as dots, as a password field would, so no frame of the trace shows it
        await field.evaluate("el => el.style.setProperty('-webkit-text-security', 'disc')")
        await field.fill(code)
        return await self._submit(await self._el("submit"))


class AccountChooser(_IdentityPage):
    page_key = "account_chooser"

    async def names(self) -> list[str]:
        buttons = await (await self._el("account")).all()
        return [" ".join((await b.inner_text()).split()) for b in buttons]

    async def choose(self, business_name: str) -> bool:
        """Press the account whose name is the merchant's business; False when none is."""
        wanted = " ".join(business_name.split()).casefold()
        for button in await (await self._el("account")).all():
            if " ".join((await button.inner_text()).split()).casefold() == wanted:
                await self._submit(button)
                return True
        return False


class AppShell(_IdentityPage):
    """The app's frame on every page: the current account, banners."""

    page_key = "app_shell"

    async def current_account(self) -> str:
        el = await self.loc.resolve("current_account")
        if el is None:
            raise PageDriftError("app_shell", "current_account", "current account (business name)")
        return " ".join((await el.first.inner_text()).split())

    async def switch_account(self) -> bool:
        link = await self.loc.resolve("switch_account", timeout_ms=0)
        if link is None:
            return False
        await self._submit(link)
        return True

    async def banners(self) -> list[str]:
        """Which notices Jobber shows ("new_login", "safe_mode"): facts for the doctor; neither
        stops a payment."""
        out = []
        for key, name in (("new_login_banner", "new_login"), ("safe_mode_banner", "safe_mode")):
            if await self.loc.present(key):
                out.append(name)
        return out
