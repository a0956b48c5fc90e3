"""Jobber's Two-Step Verification page: code field, "Remember this device", Verify, Resend."""

from __future__ import annotations

import re
from typing import Literal

from flows.pages.login import SignInStep

_SENT_TO = re.compile(r"We sent a code to [^\n.]*\.?")


class TwoFactorPage(SignInStep):
    page_key = "two_factor"

    async def is_shown(self) -> bool:
        return await self.loc.present("code")

    async def instructions(self) -> str:
        """The text under the heading ("We sent a code to •••-•••-1234." / authenticator)."""
        text: str = await self.page.evaluate("() => document.body ? document.body.innerText : ''")
        m = _SENT_TO.search(text)
        if m:
            return m.group(0).strip()
        if "authenticator" in text.lower():
            return "Enter the 6-digit code from your authenticator app."
        return ""

    async def channel(self) -> Literal["totp", "sms"]:
        hint = await self.instructions()
        return "sms" if hint.startswith("We sent a code") else "totp"

    async def remember_this_device(self) -> None:
        box = await self._el("remember_device")
        if not await box.is_checked():
            await box.check()

    async def verify(self, code: str, remember_device: bool = True) -> int | None:
        """Type the code, tick "Remember this device", press "Verify"; waits for the next page."""
        await self.loc.expect_ready()
        if remember_device:
            await self.remember_this_device()
        field = await self._el("code")
        # the trace's screencast films the page and Jobber's code field is plain text: draw the
        # code as dots, as a password field would, so no frame of the trace shows it
        await field.evaluate("el => el.style.setProperty('-webkit-text-security', 'disc')")
        await field.fill(code)
        submit = await self._el("submit")
        async with self.page.expect_navigation(wait_until="domcontentloaded",
                                               timeout=self.timeout_ms * 2) as nav:
            await submit.click()
        resp = await nav.value
        return resp.status if resp is not None else None

    async def resend_code(self) -> None:
        button = await self._el("resend")
        async with self.page.expect_navigation(wait_until="domcontentloaded"):
            await button.click()
