"""Signing in to Jobber as a small state machine with typed outcomes.

    start ─▶ password ─▶ (app)                       logged_in
                 │  ├──▶ error, <time> shown           locked_out (until)
                 │  ├──▶ error                         bad_credentials (never retried)
                 │  └──▶ two_factor ─▶ (app)           logged_in
                 │                   ├─▶ no code       needs_2fa
                 │                   ├─▶ refused       2fa_rejected
                 │                   └─▶ locked        locked_out
                 └─ 5xx / no answer                    jobber_unavailable (retried with backoff)
    a control missing anywhere                         unexpected_page (names the selector)

`login()` returns a `LoginResult`; `raise_for_outcome()` turns a failed one into the matching
robot.errors exception for callers that prefer exceptions.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, urlparse

from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential

from robot.errors import (
    AccessError,
    BadCredentials,
    JobberUnavailable,
    LockedOut,
    PageDriftError,
    RobotError,
    TwoFactorRejected,
    TwoFactorRequired,
)
from robot.locators import DEFAULT_TIMEOUT_MS
from robot.logging import get_logger, register_secret
from robot.twofactor import DEFAULT_TOTP, CodeProvider, NoCodeProvider, TotpCodes

if TYPE_CHECKING:
    from playwright.async_api import Page

    from robot.vault import MerchantCredentials


class LoginOutcome(str, Enum):
    logged_in = "logged_in"
    bad_credentials = "bad_credentials"
    locked_out = "locked_out"
    needs_2fa = "needs_2fa"
    two_factor_rejected = "2fa_rejected"
    jobber_unavailable = "jobber_unavailable"
    unexpected_page = "unexpected_page"


class LoginResult(BaseModel):
    outcome: LoginOutcome
    message: str = ""
    locked_until: datetime | None = None
    page: str | None = None          # unexpected_page: which page ...
    selector: str | None = None      # ... and which selector did not resolve
    password_attempts: int = 0       # how many times the password form was submitted
    verified_2fa: bool = False       # a code was entered and accepted
    tries: int = 1                   # attempts including retries for jobber_unavailable

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.logged_in


def register_password_forms(password: str) -> None:
    """The password as it appears in a form post or JSON too, so traces can be scrubbed."""
    for variant in (password, quote_plus(password), quote(password, safe=""), json.dumps(password)[1:-1]):
        register_secret(variant)


def _path(page: "Page") -> str:
    return urlparse(page.url).path


def _is_app(page: "Page") -> bool:
    return not _path(page).startswith("/login")


class _Attempt:
    """One pass through the machine (a retry for jobber_unavailable starts a new one)."""

    def __init__(self, page: "Page", creds: "MerchantCredentials", provider: CodeProvider,
                 totp: TotpCodes, timeout_ms: int, next_path: str | None) -> None:
        from flows.pages.login import LoginPage
        from flows.pages.two_factor import TwoFactorPage

        self.page = page
        self.creds = creds
        self.provider = provider
        self.totp = totp
        self.next_path = next_path
        self.login_page = LoginPage(page, timeout_ms)
        self.verify_page = TwoFactorPage(page, timeout_ms)
        self.password_attempts = 0
        self.verified = False
        self.log = get_logger("login", merchant=creds.merchant, step="login")

    def result(self, outcome: LoginOutcome, message: str = "", **kw: object) -> LoginResult:
        return LoginResult(outcome=outcome, message=message, password_attempts=self.password_attempts,
                           verified_2fa=self.verified, **kw)  # type: ignore[arg-type]

    async def run(self) -> LoginResult:
        from playwright.async_api import Error as PlaywrightError

        try:
            return await self._password()
        except PageDriftError as exc:
            return self.result(LoginOutcome.unexpected_page, exc.message, page=exc.page, selector=exc.selector)
        except JobberUnavailable as exc:
            return self.result(LoginOutcome.jobber_unavailable, exc.message)
        except PlaywrightError as exc:
            first = str(exc).split("\n", 1)[0]
            if "Timeout" in first or "net::" in first:
                return self.result(LoginOutcome.jobber_unavailable, f"Jobber did not answer: {first}")
            raise

    async def _password(self) -> LoginResult:
        await self.login_page.open(self.next_path)
        if _is_app(self.page):
            return self.result(LoginOutcome.logged_in, "already signed in")
        await self.login_page.loc.expect_ready()
        password = self.creds.jobber_password.get_secret_value()
        register_password_forms(password)
        self.log.info("submitting the sign-in form")
        self.password_attempts += 1
        status = await self.login_page.log_in(self.creds.jobber_email, password)
        if status is not None and status >= 500:
            return self.result(LoginOutcome.jobber_unavailable, f"Jobber answered {status} to the sign-in form")
        return await self._after_password(status)

    async def _after_password(self, status: int | None) -> LoginResult:
        path = _path(self.page)
        if path.startswith("/login/verify"):
            return await self._two_factor()
        if _is_app(self.page):
            return self.result(LoginOutcome.logged_in, "signed in")
        return await self._login_error(status)

    async def _login_error(self, status: int | None) -> LoginResult:
        until = await self.login_page.locked_until()
        error = await self.login_page.error_text()
        if until is not None:
            return self.result(LoginOutcome.locked_out,
                               f"the Jobber account is locked until {until.isoformat()}: {error or ''}".strip(),
                               locked_until=until)
        if error and "locked" in error.lower():
            return self.result(LoginOutcome.locked_out, error)
        if error:
            return self.result(LoginOutcome.bad_credentials,
                               f"Jobber refused the e-mail or password ({error}); update them with "
                               f"`jobber-robot merchants update {self.creds.merchant}`")
        if status == 422:
            return self.result(LoginOutcome.jobber_unavailable, "Jobber refused the sign-in form (422); will retry")
        return self.result(LoginOutcome.unexpected_page, "the sign-in form gave no answer the robot knows",
                           page="login", selector="error")

    async def _code(self, offset: int = 0) -> tuple[str | None, str]:
        from robot.vault import TwoFactorMode

        if self.creds.two_factor is TwoFactorMode.totp and self.creds.totp_seed is not None:
            return await self.totp.code(self.creds.merchant, self.creds.totp_seed.get_secret_value(), offset), "totp"
        channel = await self.verify_page.channel()
        hint = await self.verify_page.instructions()
        self.log.info("asking for a verification code", channel=channel)
        code = await self.provider.get_code(self.creds.merchant, "sms" if channel == "sms" else channel, hint)
        if code:
            code = code.strip().replace(" ", "")
            register_secret(code)
        return code or None, channel

    async def _two_factor(self) -> LoginResult:
        await self.verify_page.loc.expect_ready()
        self.log.info("two-step verification asked")
        code, source = await self._code()
        if code is None:
            hint = await self.verify_page.instructions()
            return self.result(LoginOutcome.needs_2fa,
                               f"Jobber asked for a verification code ({hint or 'two-step verification'}); "
                               "a person must hand the code over")
        retried = False
        while True:
            status = await self.verify_page.verify(code)
            if status is not None and status >= 500:
                return self.result(LoginOutcome.jobber_unavailable, f"Jobber answered {status} to the code")
            if _is_app(self.page):
                self.verified = True
                self.log.info("two-step verification passed")
                return self.result(LoginOutcome.logged_in, "signed in with two-step verification")
            if not _path(self.page).startswith("/login/verify"):
                return await self._login_error(status)  # pending sign-in dropped (lockout)
            until = await self.verify_page.locked_until()
            error = await self.verify_page.error_text() or ""
            if until is not None or "locked" in error.lower():
                return self.result(LoginOutcome.locked_out, f"the Jobber account is locked: {error}",
                                   locked_until=until)
            if source == "totp" and not retried:
                retried = True
                # "already used": wait for the next window; "incorrect": one step of clock skew.
                offset = 0 if "already" in error.lower() else 1
                self.log.info("authenticator code refused; trying once more", reason=error)
                code, source = await self._code(offset)
                if code is None:  # pragma: no cover - totp always makes one
                    break
                continue
            break
        return self.result(LoginOutcome.two_factor_rejected,
                           f"Jobber refused the verification code ({error or 'no reason shown'})")


async def login(
    page: "Page",
    creds: "MerchantCredentials",
    *,
    code_provider: CodeProvider | None = None,
    totp: TotpCodes | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    retries: int = 3,
    next_path: str | None = None,
    backoff_max_seconds: float = 8.0,
) -> LoginResult:
    """Sign `creds` in on `page` (a context whose base_url is the Jobber URL).

    Only `jobber_unavailable` is retried (up to `retries` more times, exponential backoff);
    a bad password is never retried, so the account is not locked by the robot.
    """
    creds.register_secrets()
    provider = code_provider or NoCodeProvider()
    totp = totp or DEFAULT_TOTP
    log = get_logger("login", merchant=creds.merchant, step="login")
    tries = 0

    async def once() -> LoginResult:
        nonlocal tries
        tries += 1
        return await _Attempt(page, creds, provider, totp, timeout_ms, next_path).run()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.5, max=backoff_max_seconds),
        retry=retry_if_result(lambda r: r.outcome is LoginOutcome.jobber_unavailable),
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        reraise=True,
    )
    result: LoginResult = await retrying(once)
    result.tries = tries
    log.info("login finished", outcome=result.outcome.value, tries=tries,
             password_attempts=result.password_attempts)
    return result


_ERRORS: dict[LoginOutcome, type[RobotError]] = {
    LoginOutcome.bad_credentials: BadCredentials,
    LoginOutcome.needs_2fa: TwoFactorRequired,
    LoginOutcome.two_factor_rejected: TwoFactorRejected,
    LoginOutcome.jobber_unavailable: JobberUnavailable,
}


def raise_for_outcome(result: LoginResult) -> None:
    """Raise the robot.errors exception matching a failed login; return when logged in."""
    if result.ok:
        return
    if result.outcome is LoginOutcome.locked_out:
        raise LockedOut(result.message, until=result.locked_until)
    if result.outcome is LoginOutcome.unexpected_page:
        raise PageDriftError(result.page or "login", result.selector or "?",
                             _describe(result.page, result.selector))
    raise _ERRORS.get(result.outcome, AccessError)(result.message)


def _describe(page: str | None, selector: str | None) -> str:
    from robot.locators import registry

    try:
        return registry()[page or "login"].selectors[selector or ""].description
    except KeyError:
        return f"{page}.{selector}"


async def login_or_raise(page: "Page", creds: "MerchantCredentials", **kw: object) -> LoginResult:
    result = await login(page, creds, **kw)  # type: ignore[arg-type]
    raise_for_outcome(result)
    return result
