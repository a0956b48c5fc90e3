"""Signing in to Jobber across its identity host, as a small state machine with typed outcomes.

The browser opens the app's `/login`; Jobber sends it to its identity host (Auth0 Universal
Login), and back to the app once the identity host is satisfied. After each step the page
classifier (flows.pages.places) says where the browser is, and the machine acts on that:

    app ─────────────────────────────────────────────▶ logged_in ("already signed in")
    account_chooser ─ the merchant's business ─▶ app    (missing: account_not_found)
    sign_in ─ password ─▶ sign_in + error               bad_credentials (never submitted again)
                     ├──▶ blocked                       blocked (the owner's unblock e-mail)
                     ├──▶ captcha                       captcha (a person signs in once)
                     └──▶ mfa ─ code ─▶ app             logged_in
                              ├─ no code                needs_2fa (a person hands it over)
                              ├─ refused                2fa_rejected (a seed: never again;
                              │                          a handed-over code: asked again)
                              └─ too many codes         locked_out (until)
    5xx / no answer / identity error page               jobber_unavailable (retried, backoff)
    anything else                                       unexpected_page (what was seen)

`login()` returns a `LoginResult`; `raise_for_outcome()` turns a failed one into the matching
robot.errors exception.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential

from flows.pages.identity import AccountChooser, AppShell, MfaPage, SignInPage
from flows.pages.places import Place, Where, where
from robot.errors import (
    AccessError,
    AccountBlocked,
    AccountNotFound,
    BadCredentials,
    CaptchaRequired,
    JobberUnavailable,
    LockedOut,
    PageDriftError,
    RobotError,
    TwoFactorRejected,
    TwoFactorRequired,
)
from robot.locators import registry
from robot.logging import get_logger, register_secret
from robot.twofactor import DEFAULT_TOTP, CodeProvider, NoCodeProvider, TotpCodes
from robot.vault import TwoFactorMode

if TYPE_CHECKING:
    from flows.pages.tab import JobberTab
    from robot.vault import MerchantCredentials

#: a sign-in never takes more page steps than this (password, code, chooser, a few redirects)
MAX_STEPS = 8
#: handed-over codes tried in one sign-in (a mistyped one is asked again; Jobber locks after ~5)
MAX_HANDED_CODES = 3


class LoginOutcome(str, Enum):
    logged_in = "logged_in"
    bad_credentials = "bad_credentials"
    locked_out = "locked_out"
    blocked = "blocked"
    captcha = "captcha"
    account_not_found = "account_not_found"
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
    seen: str | None = None          # what the classifier saw last ("sign_in on login.jobber.test")
    password_attempts: int = 0       # how many times the password form was submitted
    code_attempts: int = 0           # ... and a verification code
    verified_2fa: bool = False       # a code was entered and accepted
    mfa_channel: str | None = None   # "otp" | "sms" when Jobber asked for a code
    code_refused_by_seed: bool = False  # an authenticator code from the stored seed was refused
    attempts_left: int | None = None # as Jobber's message said
    clock_skew_seconds: float | None = None  # our clock minus Jobber's (its Date header)
    account: str | None = None       # the business name the app shows
    banners: list[str] = []          # "new_login", "safe_mode"
    tries: int = 1                   # attempts including retries for jobber_unavailable

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.logged_in


def register_password_forms(password: str) -> None:
    """The password as it appears in a form post or JSON too, so traces can be scrubbed."""
    for variant in (password, quote_plus(password), quote(password, safe=""), json.dumps(password)[1:-1]):
        register_secret(variant)


class _Attempt:
    """One pass through the machine (a retry for jobber_unavailable starts a new one)."""

    def __init__(self, tab: "JobberTab", creds: "MerchantCredentials", provider: CodeProvider,
                 totp: TotpCodes, next_path: str | None, may_submit_password: bool,
                 seed_refused: bool = False) -> None:
        self.tab = tab
        self.creds = creds
        self.provider = provider
        self.totp = totp
        self.next_path = next_path
        self.may_submit_password = may_submit_password
        self.seed_refused = seed_refused
        self.password_attempts = 0
        self.code_attempts = 0
        self.verified = False
        self.channel: str | None = None
        self.skew: float | None = None
        self.seen: Where | None = None
        self.log = get_logger("login", merchant=creds.merchant, step="login")

    def result(self, outcome: LoginOutcome, message: str = "", **kw: object) -> LoginResult:
        return LoginResult(outcome=outcome, message=message, password_attempts=self.password_attempts,
                           code_attempts=self.code_attempts, verified_2fa=self.verified, mfa_channel=self.channel,
                           clock_skew_seconds=self.skew, seen=self.seen.describe() if self.seen else None,
                           **kw)

    async def run(self) -> LoginResult:
        try:
            return await self._walk()
        except PageDriftError as exc:
            return self.result(LoginOutcome.unexpected_page, exc.message, page=exc.page, selector=exc.selector)
        except JobberUnavailable as exc:
            return self.result(LoginOutcome.jobber_unavailable, exc.message)
        except PlaywrightError as exc:
            first = str(exc).split("\n", 1)[0]
            if "Timeout" in first or "net::" in first:
                return self.result(LoginOutcome.jobber_unavailable, f"Jobber did not answer: {first}")
            raise

    async def _open(self) -> None:
        target = "/login" + (f"?next={quote(self.next_path, safe='/')}" if self.next_path else "")
        try:
            resp = await self.tab.page.goto(self.tab.app_link(target), wait_until="domcontentloaded")
        except PlaywrightError as exc:
            msg = str(exc).split("\n", 1)[0]
            if "ERR_ABORTED" in msg or "interrupted by another navigation" in msg:
                return  # the app redirected on: the classifier follows where it went
            raise
        if resp is not None and resp.status >= 500:
            raise JobberUnavailable(f"Jobber answered {resp.status} to its sign-in page")

    async def _walk(self) -> LoginResult:
        await self._open()
        for _ in range(MAX_STEPS):
            # a page load across hosts (and the app's first render) may take longer than a click
            self.seen = seen = await where(self.tab, self.tab.timeout_ms * 2)
            place = seen.place
            if place is Place.app:
                done = await self._in_app()
                if done is not None:
                    return done
                continue  # switched to the account chooser
            if place is Place.account_chooser:
                refusal = await self._choose_account()
                if refusal is not None:
                    return refusal
                continue
            if place is Place.sign_in:
                done = await self._password()
                if done is not None:
                    return done
                continue
            if place is Place.mfa:
                done = await self._two_factor()
                if done is not None:
                    return done
                continue
            return await self._stopped(seen)
        return self.result(LoginOutcome.unexpected_page, "the sign-in went round without reaching the app",
                           page="sign_in", selector="submit")

    # --- the places -------------------------------------------------------------------------
    async def _in_app(self) -> LoginResult | None:
        """Signed in: in the merchant's account (a result), or off to the chooser (None)."""
        shell = AppShell(self.tab)
        account = await shell.current_account()
        wanted = self.creds.business_name
        if wanted and " ".join(wanted.split()).casefold() != account.casefold():
            self.log.info("switching to the merchant's account")
            if not await shell.switch_account():
                return self.result(LoginOutcome.account_not_found,
                                   f"Jobber shows the account {account!r}, not {wanted!r}, and offers no switch")
            return None
        how = "signed in" if self.password_attempts or self.code_attempts else "already signed in"
        return self.result(LoginOutcome.logged_in, how, account=account, banners=await shell.banners())

    async def _choose_account(self) -> LoginResult | None:
        chooser = AccountChooser(self.tab)
        names = await chooser.names()
        wanted = self.creds.business_name
        if not wanted:
            return self.result(
                LoginOutcome.account_not_found,
                f"this Jobber login holds {len(names)} accounts ({', '.join(names)}); set the merchant's "
                f"business name with `jobber-robot merchants update {self.creds.merchant} --business-name NAME`")
        if not await chooser.choose(wanted):
            return self.result(LoginOutcome.account_not_found,
                               f"this Jobber login has no account named {wanted!r} (it has: {', '.join(names)})")
        return None

    async def _password(self) -> LoginResult | None:
        form = SignInPage(self.tab)
        if self.password_attempts:
            # back on the form after our one submit: Jobber refused the e-mail or password
            error = await form.error_text()
            return self.result(LoginOutcome.bad_credentials,
                               f"Jobber refused the e-mail or password ({error or 'no reason shown'}); update them "
                               f"with `jobber-robot merchants update {self.creds.merchant} --password`",
                               attempts_left=await form.attempts_left())
        if not self.may_submit_password:
            return self.result(LoginOutcome.bad_credentials, "a password may not be submitted now")
        password = self.creds.jobber_password.get_secret_value()
        register_password_forms(password)
        self.log.info("submitting the sign-in form")
        self.password_attempts += 1
        status = await form.sign_in(self.creds.jobber_email, password)
        if status is not None and status >= 500:
            raise JobberUnavailable(f"Jobber answered {status} to the sign-in form")
        return None

    async def _code(self, mfa: MfaPage, refused_before: bool) -> str | None:
        if self.channel == "otp" and self.creds.two_factor is TwoFactorMode.totp and self.creds.totp_seed is not None:
            return await self.totp.code(self.creds.merchant, self.creds.totp_seed.get_secret_value())
        sent_to = await mfa.sent_to()
        hint = (f"Jobber sent a text message to {sent_to}" if sent_to else "Jobber asks for a one-time code")
        if refused_before:
            hint = "Jobber refused the last code; " + hint[0].lower() + hint[1:]
        self.log.info("asking a person for a verification code", channel=self.channel, again=refused_before)
        code = await self.provider.get_code(self.creds.merchant, "sms" if self.channel == "sms" else "totp", hint)
        if code:
            code = code.strip().replace(" ", "")
            register_secret(code)
        return code or None

    async def _two_factor(self) -> LoginResult | None:
        mfa = MfaPage(self.tab)
        self.channel = self.seen.mfa_channel if self.seen else "otp"
        refused_before = self.code_attempts > 0
        if refused_before:
            error = await mfa.error_text() or "no reason shown"
            left = await mfa.attempts_left()
            from_seed = self._code_is_from_seed()
            if from_seed or (left is not None and left <= 1) or self.code_attempts >= MAX_HANDED_CODES:
                # a seed's code refused: every code from it would be; never spend Jobber's tries
                return self.result(LoginOutcome.two_factor_rejected, self._refused_message(error, left, from_seed),
                                   attempts_left=left, code_refused_by_seed=from_seed)
        if self.seed_refused and self._code_is_from_seed():
            return self.result(LoginOutcome.two_factor_rejected,
                               "Jobber refused a code made from the stored authenticator seed before; no more codes "
                               f"are sent until `jobber-robot merchants update {self.creds.merchant} --totp-seed` "
                               "stores the new seed", code_refused_by_seed=True)
        code = await self._code(mfa, refused_before)
        if code is None:
            return self.result(LoginOutcome.needs_2fa,
                               "Jobber asked for a verification code"
                               + (f" (sent to {await mfa.sent_to()})" if self.channel == "sms" else "")
                               + "; a person must hand the code over")
        self.log.info("two-step verification asked", channel=self.channel)
        self.code_attempts += 1
        status = await mfa.enter_code(code)
        self._measure_skew(mfa.answered_at)
        if status is not None and status >= 500:
            raise JobberUnavailable(f"Jobber answered {status} to the code")
        after = await where(self.tab)
        if after.place is not Place.mfa:
            self.verified = after.place in (Place.app, Place.account_chooser)
            if self.verified:
                self.log.info("two-step verification passed")
        return None

    def _code_is_from_seed(self) -> bool:
        return (self.channel == "otp" and self.creds.two_factor is TwoFactorMode.totp
                and self.creds.totp_seed is not None)

    def _refused_message(self, error: str, left: int | None, from_seed: bool) -> str:
        tries = f"; Jobber says {left} attempt{'s' if left != 1 else ''} left" if left is not None else ""
        if not from_seed:
            return f"Jobber refused the verification code ({error}){tries}"
        skew = ""
        if self.skew is not None:
            skew = f" This machine's clock differs from Jobber's by {self.skew:+.0f} s"
            skew += " (more than one 30 s step: fix the clock)." if abs(self.skew) >= 30 else "."
        return (f"Jobber refused the code made from the stored authenticator seed ({error}){tries}. The seed "
                f"has probably changed: no more codes are sent until `jobber-robot merchants update "
                f"{self.creds.merchant} --totp-seed` stores the new one.{skew}")

    def _measure_skew(self, date_header: str | None) -> None:
        """Our clock minus Jobber's, from the Date header of the page that answered the code."""
        if date_header:
            try:
                self.skew = (datetime.now(UTC) - parsedate_to_datetime(date_header)).total_seconds()
            except (TypeError, ValueError):
                pass

    async def _stopped(self, seen: Where) -> LoginResult:
        """A place the robot cannot pass on its own."""
        if seen.place is Place.blocked:
            return self.result(LoginOutcome.blocked, "Jobber has blocked sign-ins for this user after repeated "
                                                     "failed attempts")
        if seen.place is Place.captcha:
            return self.result(LoginOutcome.captcha, "Jobber asks to solve a CAPTCHA before signing in")
        if seen.place is Place.mfa_locked:
            mfa = MfaPage(self.tab)
            until = await mfa.locked_until()
            return self.result(LoginOutcome.locked_out, "Jobber refuses codes for a while after too many wrong ones"
                               + (f" (until {until.isoformat()})" if until else ""), locked_until=until)
        if seen.place in (Place.identity_error, Place.app_error):
            return self.result(LoginOutcome.jobber_unavailable, f"Jobber showed an error page ({seen.describe()})")
        return self.result(LoginOutcome.unexpected_page, f"the sign-in reached a page the robot does not know "
                                                         f"({seen.describe()})", page="sign_in", selector="password")


async def login(
    tab: "JobberTab",
    creds: "MerchantCredentials",
    *,
    code_provider: CodeProvider | None = None,
    totp: TotpCodes | None = None,
    retries: int = 3,
    next_path: str | None = None,
    backoff_max_seconds: float = 8.0,
    may_submit_password: bool = True,
    seed_refused: bool = False,
) -> LoginResult:
    """Sign `creds` in on `tab`.

    Only `jobber_unavailable` is retried (up to `retries` more times, exponential backoff); a
    refused password or code, a block and a CAPTCHA are never retried.
    """
    creds.register_secrets()
    provider = code_provider or NoCodeProvider()
    totp = totp or DEFAULT_TOTP
    log = get_logger("login", merchant=creds.merchant, step="login")
    tries = 0
    submitted = 0

    async def once() -> LoginResult:
        nonlocal tries, submitted
        tries += 1
        # a password submitted once in this sign-in is not submitted by a retry after an outage
        attempt = _Attempt(tab, creds, provider, totp, next_path, may_submit_password and submitted == 0,
                           seed_refused)
        result = await attempt.run()
        submitted += result.password_attempts
        return result

    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.5, max=backoff_max_seconds),
        retry=retry_if_result(lambda r: r.outcome is LoginOutcome.jobber_unavailable),
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        reraise=True,
    )
    result: LoginResult = await retrying(once)
    result.tries = tries
    result.password_attempts = max(result.password_attempts, submitted)
    log.info("login finished", outcome=result.outcome.value, tries=tries,
             password_attempts=result.password_attempts, code_attempts=result.code_attempts)
    return result


_ERRORS: dict[LoginOutcome, type[RobotError]] = {
    LoginOutcome.bad_credentials: BadCredentials,
    LoginOutcome.needs_2fa: TwoFactorRequired,
    LoginOutcome.two_factor_rejected: TwoFactorRejected,
    LoginOutcome.jobber_unavailable: JobberUnavailable,
    LoginOutcome.blocked: AccountBlocked,
    LoginOutcome.captcha: CaptchaRequired,
    LoginOutcome.account_not_found: AccountNotFound,
}


def raise_for_outcome(result: LoginResult) -> None:
    """Raise the robot.errors exception matching a failed login; return when logged in."""
    if result.ok:
        return
    if result.outcome is LoginOutcome.locked_out:
        raise LockedOut(result.message, until=result.locked_until)
    if result.outcome is LoginOutcome.unexpected_page:
        raise PageDriftError(result.page or "sign_in", result.selector or "?",
                             _describe(result.page, result.selector), url=None)
    raise _ERRORS.get(result.outcome, AccessError)(result.message)


def _describe(page: str | None, selector: str | None) -> str:
    try:
        return registry()[page or "sign_in"].selectors[selector or ""].description
    except KeyError:
        return f"{page}.{selector}"
