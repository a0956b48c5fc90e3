"""Jobber's sign-in page: e-mail, password, "Log In"; errors and lockout time."""

from __future__ import annotations

from datetime import datetime

from flows.pages.base import BasePage


class SignInStep(BasePage):
    """Sign-in and two-step verification show a refusal the same way: an error line, and on a
    lockout the time it ends (<time datetime>)."""

    async def error_text(self) -> str | None:
        el = await self.loc.resolve("error", timeout_ms=0)
        if el is None:
            return None
        text = (await el.first.inner_text()).strip()
        return text or None

    async def locked_until(self) -> datetime | None:
        """The lockout end read from the error's <time datetime>, when shown."""
        return await read_time(self.loc, "locked_until")


class LoginPage(SignInStep):
    page_key = "login"

    async def open(self, next_path: str | None = None) -> None:
        await self.goto("/login" + (f"?next={next_path}" if next_path else ""))

    async def is_shown(self) -> bool:
        return await self.loc.present("submit")

    async def log_in(self, email: str, password: str) -> int | None:
        """Fill e-mail and password and press "Log In"; waits for the next page.

        Returns the HTTP status of the page that answered (None if unknown).
        """
        await (await self._el("email")).fill(email)
        await (await self._el("password")).fill(password)
        submit = await self._el("submit")
        async with self.page.expect_navigation(wait_until="domcontentloaded",
                                               timeout=self.timeout_ms * 2) as nav:
            await submit.click()
        resp = await nav.value
        return resp.status if resp is not None else None


async def read_time(loc: "object", key: str) -> datetime | None:
    from robot.locators import PageLocators

    assert isinstance(loc, PageLocators)
    el = await loc.resolve(key, timeout_ms=0)
    if el is None:
        return None
    raw = await el.first.get_attribute("datetime")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
