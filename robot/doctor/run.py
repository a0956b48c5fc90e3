"""The doctor's walk along the access path, step by step, as a support person would check it.

It signs in through the session pool, so the vault's refusal memory holds here as in every job:
a password or an authenticator seed Jobber refused is never submitted again, a block or a
CAPTCHA stops the sign-in until a person has acted; and what Jobber refuses during a doctor run
is remembered for the jobs too. One run submits the password at most once. It never moves money
and never saves anything in Jobber: the selector walk opens Jobber's payment forms and dialogs
and cancels them.

Clock skew is measured before any code is sent, from the `Date` header of Jobber's identity
host: when this machine's clock is too far off, the doctor makes its authenticator code by
Jobber's clock instead. If Jobber accepts that code, the seed is right and the clock is the
fault; if it refuses it, the seed has changed. Either way no try is spent on a code that the
skew alone would have made wrong.
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError

from flows.pages.invoices import InvoicesPage
from flows.pages.places import Place, where
from flows.pages.tab import JobberTab
from flows.pages.walk import check_app, drift_message, drifted, fallbacks, probe_page
from robot import __version__, health
from robot.doctor.models import STEPS, DoctorReport, DoctorStep, ExitClass, StepStatus
from robot.errors import (
    AccountBlocked,
    CaptchaRequired,
    JobberUnavailable,
    PageDriftError,
    RobotError,
    SessionExpired,
    VaultError,
)
from robot.evidence import capture
from robot.gateway import gateway_for
from robot.gateway.errors import GatewayAuthError, GatewayError, GatewayUnavailable
from robot.locators import PageLocators
from robot.logging import get_logger, redact_text
from robot.login import LoginOutcome
from robot.sessions import SessionPool
from robot.twofactor import CodeProvider, NoCodeProvider, TotpCodes
from robot.vault import TwoFactorMode, Vault

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Response

    from robot.config import Settings
    from robot.locators import Resolution
    from robot.login import LoginResult
    from robot.sessions import MerchantSession, SessionPool
    from robot.vault import MerchantCredentials, Vault

OnStep = Callable[[DoctorStep], None]

#: |our clock − Jobber's| from which authenticator codes are made by Jobber's clock and the
#: clock is reported (TOTP steps are 30 s; Jobber tolerates one step, but not reliably at the edge)
CLOCK_SKEW_LIMIT_SECONDS = 20.0
#: the remembered-device cookie of Jobber's identity host (Auth0)
DEVICE_COOKIE_PREFIX = "auth0-mf"
MUST = ExitClass.merchant_must_act
DRIFT = ExitClass.jobber_changed
DOWN = ExitClass.jobber_unavailable
OURS = ExitClass.our_side


class _Stop(Exception):
    """Raised inside the merchant's browser session after a failed step: the session pool saves
    the evidence (screenshot, scrubbed trace, HTML), as for a failed job."""


class _StepCtl:
    def __init__(self, step: DoctorStep) -> None:
        self.step = step
        self.done = False       # its status is set
        self.ended = False      # ... and its end reported
        self.t0 = time.monotonic()

    def passed(self, detail: str = "") -> None:
        self._end(StepStatus.passed, detail=detail)

    def failed(self, cause: str, fix: str, exit_class: ExitClass, detail: str = "") -> None:
        self._end(StepStatus.failed, cause=cause, fix=fix, exit_class=exit_class, detail=detail)

    def skipped(self, cause: str, detail: str = "") -> None:
        self._end(StepStatus.skipped, cause=cause, detail=detail)

    def _end(self, status: StepStatus, **kw: Any) -> None:
        if self.done:
            return
        self.done = True
        self.step.status = status
        for k, v in kw.items():
            setattr(self.step, k, redact_text(v) if isinstance(v, str) else v)


class _AskHook:
    """The code provider of the doctor's sign-in: when Jobber asks for a code the password was
    accepted, so the checklist moves on to the MFA step before a person is asked."""

    def __init__(self, inner: CodeProvider, on_ask: Callable[[], None]) -> None:
        self.inner = inner
        self.on_ask = on_ask
        self.asked = 0

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        self.asked += 1
        self.on_ask()
        return await self.inner.get_code(merchant, channel, hint)


class Doctor:
    def __init__(self, settings: "Settings", merchant: str, *, on_step: OnStep | None = None,
                 code_prompt: CodeProvider | None = None, vault: "Vault | None" = None) -> None:
        self.settings = settings
        self.merchant = merchant
        self.on_step = on_step
        self.code_prompt = code_prompt or NoCodeProvider()
        self.vault = vault
        now = datetime.now(UTC)
        self.report = DoctorReport(merchant=merchant, run_id=f"doctor-{merchant}-{now:%Y%m%dT%H%M%S}",
                                   started_at=now)
        self.log = get_logger("doctor", merchant=merchant, run=self.report.run_id)
        self.creds: MerchantCredentials | None = None
        self.skew: float | None = None
        self.captcha_on_sign_in = False
        self.sign_in_results: list[Resolution] = []
        self.hosts_seen: dict[str, int] = {}
        self.current: _StepCtl | None = None
        self.blocked_by: str | None = None   # the first failed step's title, for the skips after it

    # --- the checklist -------------------------------------------------------------------------
    def _emit(self, step: DoctorStep) -> None:
        if self.on_step is not None:
            try:
                self.on_step(step.model_copy())
            except Exception as exc:  # noqa: BLE001 - a display's failure must not end the checks
                self.log.warning("on_step failed", error=type(exc).__name__)

    def _begin(self, name: str) -> _StepCtl:
        step = DoctorStep(name=name, title=STEPS[name], status=StepStatus.running, started_at=datetime.now(UTC))
        self.report.steps.append(step)
        ctl = _StepCtl(step)
        self.current = ctl
        self._emit(step)
        return ctl

    def _finish(self, ctl: _StepCtl) -> None:
        if ctl.ended:
            return
        ctl.ended = True
        if not ctl.done:
            ctl.passed()
        ctl.step.seconds = round(time.monotonic() - ctl.t0, 2)
        if ctl.step.status is StepStatus.failed and self.blocked_by is None:
            self.blocked_by = ctl.step.title
        self.current = None
        self._emit(ctl.step)

    @contextmanager
    def step(self, name: str) -> Iterator[_StepCtl]:
        """One check: its start and end reach `on_step`; an unexpected error fails it (our side)."""
        ctl = self._begin(name)
        try:
            yield ctl
        except _Stop:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as the step's failure
            self._unexpected(ctl, exc)
        finally:
            self._finish(ctl)

    def _unexpected(self, ctl: _StepCtl, exc: BaseException) -> None:
        if isinstance(exc, PageDriftError):
            ctl.failed(exc.message, "Jobber changed this page: run `jobber-robot selectors check` and update "
                       f"selectors/{exc.page}.toml", DRIFT)
        elif isinstance(exc, (JobberUnavailable, SessionExpired)):
            ctl.failed(exc.message, "wait a few minutes and run the doctor again", DOWN)
        elif isinstance(exc, RobotError):
            ctl.failed(exc.message, f"see the message; then run `jobber-robot doctor {self.merchant}` again", OURS)
        elif isinstance(exc, PlaywrightError):
            first = str(exc).split("\n", 1)[0][:200]
            ctl.failed(f"the page did not answer as expected ({first})",
                       "run the doctor again; if it repeats, Jobber may have changed this page "
                       "(`jobber-robot selectors check`)", DRIFT)
        else:
            ctl.failed(f"unexpected {type(exc).__name__}: {str(exc)[:200]}",
                       "a robot bug: send the doctor's --bundle to the developers", OURS)

    def skip(self, name: str, cause: str | None = None) -> None:
        with self.step(name) as st:
            st.skipped(cause or f"not checked: {self.blocked_by or 'an earlier step'} failed")

    # --- the run -------------------------------------------------------------------------------
    async def run(self) -> DoctorReport:
        try:
            with self.step("vault") as st:
                self._check_vault(st)
            if self.creds is None:
                for name in list(STEPS)[1:]:
                    self.skip(name)
            else:
                await self._browser_steps()
                await self._gateway_step()
        finally:
            self.report.finished_at = datetime.now(UTC)
            self._record_health()
        return self.report

    def _check_vault(self, st: _StepCtl) -> None:
        try:
            vault = self.vault or Vault.from_settings(self.settings)
            vault.check()
        except VaultError as exc:
            st.failed(exc.message, "set JOBBER_ROBOT_CREDENTIAL_KEY (or restore the key file) to the key the vault "
                      "was made with", OURS)
            return
        if not vault.has(self.merchant):
            st.failed(f"the vault holds no merchant {self.merchant!r}",
                      f"add it: `jobber-robot merchants add {self.merchant} --email EMAIL`", OURS)
            return
        self.vault = vault
        self.creds = creds = vault.get(self.merchant)
        what = [f"Jobber login {creds.jobber_email}", f"2FA {creds.two_factor.value}"]
        what.append("gateway key stored" if creds.gateway else "no gateway key")
        st.passed(", ".join(what))

    async def _browser_steps(self) -> None:
        assert self.vault is not None and self.creds is not None
        hook = _AskHook(self.code_prompt, self._code_asked)
        try:
            pool = SessionPool(self.settings, self.vault, code_provider=hook,
                                totp=TotpCodes(steps_dir=self.vault.sessions_dir))
            await pool.start()
        except Exception as exc:  # noqa: BLE001 - no browser: every browser step is moot
            with self.step("hosts") as st:
                msg = exc.message if isinstance(exc, RobotError) else str(exc).split("\n", 1)[0]
                st.failed(f"the browser does not start: {msg}",
                          "install Chromium (`jobber-robot browser --check` says how)", OURS)
            for name in ("sign_in_page", "password", "mfa", "stops", "device", "account", "invoices", "selectors"):
                self.skip(name)
            return
        try:
            if pool.browser is not None:
                self.report.versions["chromium"] = pool.browser.version
            if await self._anonymous_steps(pool):
                await self._merchant_steps(pool)
            else:
                for name in ("password", "mfa", "stops", "device", "account", "invoices", "selectors"):
                    self.skip(name)
        finally:
            await pool.close()

    # --- hosts and the sign-in page, in a browser that holds no cookie of the merchant's ------------
    async def _anonymous_steps(self, pool: "SessionPool") -> bool:
        assert pool.browser is not None and self.creds is not None
        base = (self.creds.jobber_url or self.settings.jobber_url).rstrip("/")
        context = await pool.browser.new_context()
        ok = False
        try:
            if self.settings.trace:
                await context.tracing.start(screenshots=True, snapshots=True, sources=False)
                await context.tracing.start_chunk(title=self.report.run_id)
            page = await context.new_page()
            tab = JobberTab(page, base, self.settings.action_timeout_ms)
            with self.step("hosts") as st:
                await self._check_hosts(st, tab)
            if self.report.steps[-1].status is StepStatus.passed:
                with self.step("sign_in_page") as st:
                    await self._check_sign_in_page(st, tab)
                ok = self.report.steps[-1].status is StepStatus.passed
            else:
                self.skip("sign_in_page")
            if not ok:
                await self._evidence(page, context)
        finally:
            await context.close()
        return ok

    async def _evidence(self, page: "Page", context: "BrowserContext") -> None:
        paths = await capture(page, context, self.settings.artifacts_dir, self.report.run_id,
                              trace_chunk=self.settings.trace)
        self.report.artifacts += [str(p) for p in paths]

    async def _check_hosts(self, st: _StepCtl, tab: Any) -> None:
        seen: list[tuple[str, int, str | None]] = []

        def on_response(resp: "Response") -> None:
            if resp.request.resource_type == "document":
                seen.append((urlparse(resp.url).netloc.lower(), resp.status, resp.headers.get("date")))

        tab.page.on("response", on_response)
        try:
            await tab.page.goto(tab.app_link("/login"), wait_until="domcontentloaded")
        except PlaywrightError as exc:
            first = str(exc).split("\n", 1)[0]
            host = urlparse(tab.app_url).netloc
            if "ERR_NAME_NOT_RESOLVED" in first or "ERR_NAME_RESOLUTION" in first:
                st.failed(f"DNS: {host} (or Jobber's identity host) does not resolve from this machine",
                          "check this machine's DNS and the merchant's Jobber URL "
                          f"(`jobber-robot merchants show {self.merchant}`)", OURS)
            elif "ERR_CERT" in first or "ERR_SSL" in first:
                st.failed(f"TLS: the certificate of Jobber's host is not trusted here ({_net_error(first)})",
                          "check for a proxy or firewall intercepting HTTPS, and this machine's clock", OURS)
            elif "Timeout" in first:
                st.failed(f"no answer from {host} within {self.settings.navigation_timeout_ms // 1000} s",
                          "check this machine's network and proxy; status.getjobber.com shows Jobber outages", OURS)
            else:
                st.failed(f"cannot reach {host}: {_net_error(first)}",
                          "check this machine's network, proxy and firewall", OURS)
            return
        finally:
            tab.page.remove_listener("response", on_response)
        for host, status, date in seen:
            self.hosts_seen.setdefault(host, status)
            if date and self.skew is None and host != tab.app_host:
                self.skew = _skew(date)  # the identity host's clock checks the codes
        if self.skew is None:
            self.skew = next((_skew(d) for _, _, d in seen if d), None)
        bad = [(h, s) for h, s, _ in seen if s >= 500]
        listing = " → ".join(f"{h} {s}" for h, s, _ in seen) or "no page"
        if bad:
            host, status = bad[0]
            st.failed(f"Jobber's site is failing: {host} answered HTTP {status}",
                      "nothing to change here: wait a few minutes and run the doctor again "
                      "(status.getjobber.com shows Jobber outages)", DOWN, detail=listing)
            return
        skew = f"; clock skew {self.skew:+.0f} s" if self.skew is not None else ""
        st.passed(listing + skew)

    async def _check_sign_in_page(self, st: _StepCtl, tab: Any) -> None:
        seen = await where(tab, tab.timeout_ms * 2)
        if seen.place is Place.captcha:
            self.captcha_on_sign_in = True
        if seen.place in (Place.identity_error, Place.app_error):
            st.failed(f"Jobber shows an error page instead of its sign-in ({seen.describe()})",
                      "wait a few minutes and run the doctor again", DOWN)
            return
        if seen.place not in (Place.sign_in, Place.captcha):
            st.failed(f"the app's /login did not lead to Jobber's sign-in page (seen: {seen.describe()})",
                      "Jobber may have changed its sign-in: run `jobber-robot selectors check` and compare "
                      "selectors/sign_in.toml with the page in the bundle", DRIFT)
            return
        self.sign_in_results = await probe_page(
            PageLocators(tab.page, "sign_in", tab.timeout_ms),
            skip={"captcha": "shown only on a risky sign-in", "error": "shown only on a refusal"})
        missing = drifted(self.sign_in_results)
        if missing:
            names = ", ".join(f"{r.description} (sign_in.{r.selector})" for r in missing)
            st.failed(f"Jobber's sign-in page changed: {names} not found",
                      "update selectors/sign_in.toml (`jobber-robot selectors check` lists every control)", DRIFT)
            return
        st.passed(f"{seen.describe()}" + ("; it shows a CAPTCHA" if self.captcha_on_sign_in else ""))

    # --- signing in as the merchant ------------------------------------------------------------
    def _code_asked(self) -> None:
        """Jobber asked for a code: the password step (if it is the one running) passed."""
        if self.current is not None and self.current.step.name == "password" and not self.current.done:
            ctl = self.current
            ctl.passed("accepted (1 attempt); Jobber asks for a verification code")
            self._finish(ctl)
            self._pending_mfa = self._begin("mfa")

    _pending_mfa: _StepCtl | None = None

    async def _merchant_steps(self, pool: "SessionPool") -> None:
        assert self.vault is not None and self.creds is not None
        creds = self.creds
        stored = self.vault.load_storage_state(self.merchant)
        device = _device_cookie(stored)
        if (self.skew is not None and abs(self.skew) >= CLOCK_SKEW_LIMIT_SECONDS
                and creds.two_factor is TwoFactorMode.totp):
            skew = self.skew
            pool.totp = TotpCodes(clock=lambda: time.time() - skew,  # codes by Jobber's clock
                                  steps_dir=self.vault.sessions_dir)
        try:
            async with pool.job(self.merchant, self.report.run_id, sign_in=False) as sess:
                result, error = await self._sign_in(pool, sess)
                self._report_sign_in(result, error, device)
                if self.blocked_by is not None:
                    raise _Stop
                with self.step("invoices") as st:
                    await self._check_invoices(st, sess)
                if self.report.steps[-1].status is StepStatus.failed:
                    self.skip("selectors")
                    raise _Stop
                with self.step("selectors") as st:
                    await self._check_selectors(st, sess, result)
                if self.report.steps[-1].status is StepStatus.failed:
                    raise _Stop
        except _Stop:
            self.report.artifacts += [str(p) for p in pool.sessions().get(self.merchant, _NoSess).artifacts]
        for name in ("password", "mfa", "stops", "device", "account", "invoices", "selectors"):
            if not any(s.name == name for s in self.report.steps):
                self.skip(name)

    async def _sign_in(self, pool: "SessionPool", sess: "MerchantSession") -> tuple["LoginResult | None", RobotError | None]:
        ctl = self._begin("password")
        error: RobotError | None = None
        try:
            await pool.ensure_signed_in(sess)
        except RobotError as exc:
            error = exc
        result = sess.last_login
        if result is not None:
            self.report.password_attempts += result.password_attempts
            self.report.code_attempts += result.code_attempts
        self._password_outcome(ctl, result, error)
        self._finish(ctl)
        return result, error

    def _password_outcome(self, ctl: _StepCtl, result: "LoginResult | None", error: RobotError | None) -> None:
        m = self.merchant
        if ctl.done:
            return  # passed when Jobber asked for the code
        if result is None:
            ctl.failed(error.message if error else "the sign-in did not start", f"run `jobber-robot doctor {m}` "
                       "again", OURS)
            return
        o = result.outcome
        if o is LoginOutcome.bad_credentials:
            if result.password_attempts:
                ctl.failed(f"Jobber refused the e-mail or password ({_refusal_text(result.message)})",
                           f"get the current password from the merchant and run `jobber-robot merchants update {m} "
                           "--password`; the refused one is never submitted again", MUST)
            elif isinstance(error, (AccountBlocked, CaptchaRequired)):
                ctl.skipped("not submitted: Jobber stopped earlier sign-ins (see the next steps)")
            else:
                ctl.failed(f"not tried: {error.message if error else result.message}",
                           f"`jobber-robot merchants update {m} --password` with the merchant's current password", MUST)
            return
        if o in (LoginOutcome.blocked, LoginOutcome.captcha):
            ctl.skipped("Jobber did not check it: " + ("the user is blocked" if o is LoginOutcome.blocked
                                                       else "it asks for a CAPTCHA first"))
            return
        if o is LoginOutcome.jobber_unavailable and not result.password_attempts:
            ctl.failed(result.message, "wait a few minutes and run the doctor again", DOWN)
            return
        if o is LoginOutcome.unexpected_page and (result.page or "sign_in") == "sign_in" and not result.code_attempts:
            ctl.failed(f"{result.message} (selector {result.page}.{result.selector})",
                       "Jobber changed its sign-in: run `jobber-robot selectors check` and update "
                       "selectors/sign_in.toml", DRIFT)
            return
        if result.password_attempts:
            ctl.passed(f"accepted ({result.password_attempts} attempt)")
        else:
            ctl.skipped("not needed: the stored session is still signed in")

    def _report_sign_in(self, result: "LoginResult | None", error: RobotError | None, device: dict | None) -> None:
        m = self.merchant
        creds = self.creds
        assert creds is not None
        if self.blocked_by is not None and self._pending_mfa is None:
            return  # the password step failed: the rest is skipped by the caller
        o = result.outcome if result is not None else None
        # MFA ------------------------------------------------------------------------------------
        ctl = self._pending_mfa or self._begin("mfa")
        self._pending_mfa = None
        skew_bad = (self.skew is not None and abs(self.skew) >= CLOCK_SKEW_LIMIT_SECONDS
                    and creds.two_factor is TwoFactorMode.totp)
        clock_fix = ("synchronise this machine's clock with NTP (e.g. `timedatectl set-ntp true`); the stored "
                     "seed is fine")
        if result is None:
            ctl.skipped("not reached")
        elif o is LoginOutcome.needs_2fa:
            if result.mfa_channel == "sms":
                sent = _sent_to(result.message)
                ctl.failed(f"Jobber sent a text message{(' to ' + sent) if sent else ''}: only a person with that "
                           "phone can hand the code over",
                           f"run `jobber-robot doctor {m}` at a terminal and type the code when asked; jobs waiting "
                           "for one: `jobber-robot jobs list --needs-person`, then `jobber-robot handoff JOB CODE`",
                           MUST)
            else:
                ctl.failed("Jobber asks for an authenticator code and no seed is stored",
                           f"store the merchant's authenticator setup key: `jobber-robot merchants update {m} "
                           "--2fa totp --totp-seed`", MUST)
        elif o is LoginOutcome.two_factor_rejected:
            if result.code_refused_by_seed and result.code_attempts:
                skew = f" (this machine's clock agrees with Jobber's: {self.skew:+.0f} s)" if (
                    self.skew is not None and not skew_bad) else ""
                by = " (made by Jobber's clock)" if skew_bad else ""
                ctl.failed(f"Jobber refused the code made from the stored authenticator seed{by}{skew}: the seed has "
                           "changed (the merchant set up a new authenticator)",
                           f"get the new setup key from the merchant and run `jobber-robot merchants update {m} "
                           "--totp-seed`; no code from the old seed is sent again", MUST)
            elif result.code_refused_by_seed:
                ctl.failed("not tried: " + _first_sentence(result.message),
                           f"`jobber-robot merchants update {m} --totp-seed` with the merchant's new setup key", MUST)
            else:
                ctl.failed(f"{result.message}", f"run `jobber-robot doctor {m}` again with the newest code the "
                           "merchant received (Jobber allows few tries)", MUST)
        elif o is LoginOutcome.locked_out:
            until = result.locked_until.isoformat(timespec="minutes") if result.locked_until else "a while"
            ctl.failed(f"Jobber refuses codes after too many wrong ones (until {until})",
                       f"wait until then and run `jobber-robot doctor {m}` again; check the seed or the codes typed",
                       MUST)
        elif o is LoginOutcome.unexpected_page and result.code_attempts:
            ctl.failed(f"{result.message}", "Jobber changed its code page: run `jobber-robot selectors check`", DRIFT)
        elif o is LoginOutcome.jobber_unavailable:
            ctl.failed(result.message, "wait a few minutes and run the doctor again", DOWN)
        elif result.verified_2fa and skew_bad:
            ctl.failed(f"this machine's clock is {self.skew:+.0f} s off Jobber's (its Date header): codes made "
                       "by this clock are refused; the doctor made its code by Jobber's clock and Jobber accepted "
                       "it, so the seed is right", clock_fix, OURS)
        elif result.verified_2fa:
            how = ("authenticator code from the stored seed" if result.mfa_channel == "otp"
                   and creds.two_factor is TwoFactorMode.totp else "code handed over by a person")
            ctl.passed(f"{result.mfa_channel or 'otp'}: {how} accepted")
        elif o in (LoginOutcome.blocked, LoginOutcome.captcha, LoginOutcome.bad_credentials,
                   LoginOutcome.account_not_found, LoginOutcome.unexpected_page):
            ctl.skipped("not reached" if o is not LoginOutcome.account_not_found else "not asked")
        elif skew_bad:
            ctl.failed(f"not asked now, but this machine's clock is {self.skew:+.0f} s off Jobber's (its Date "
                       "header): the next sign-in that asks for a code will be refused", clock_fix, OURS)
        else:
            ctl.passed("not asked" + (" (the stored session is still signed in)" if not result.password_attempts
                                      else " (Jobber remembers this browser)"))
        self._finish(ctl)
        # blocked / CAPTCHA / safe mode ------------------------------------------------------------
        with self.step("stops") as st:
            if o is LoginOutcome.blocked or isinstance(error, AccountBlocked):
                st.failed(_first_sentence(error.message if error else result.message if result else "blocked"),
                          AccountBlocked.person_action.replace("MERCHANT", m), MUST)
            elif o is LoginOutcome.captcha or isinstance(error, CaptchaRequired):
                st.failed("Jobber asks to solve a CAPTCHA before signing in (the robot never does)",
                          CaptchaRequired.person_action.replace("MERCHANT", m), MUST)
            elif self.captcha_on_sign_in:
                st.failed("Jobber shows a CAPTCHA on its sign-in page to this network: the stored session works "
                          "now, but the next sign-in will stop at it",
                          CaptchaRequired.person_action.replace("MERCHANT", m), MUST)
            elif result is not None and result.ok:
                st.passed("Jobber shows the safe-mode notice (payments still work)" if "safe_mode" in result.banners
                          else "none shown")
            else:
                st.skipped("not reached")
        # remembered device ------------------------------------------------------------------------
        with self.step("device") as st:
            self._device(st, result, device)
        # the merchant's account -------------------------------------------------------------------
        with self.step("account") as st:
            if o is LoginOutcome.account_not_found:
                st.failed(result.message if result else "account not found",
                          f"`jobber-robot merchants update {m} --business-name NAME` with the business name Jobber "
                          "shows for this merchant", OURS)
            elif result is not None and result.ok:
                st.passed(f"in {result.account!r}" if result.account else "in the app")
            else:
                st.skipped("not reached")

    def _device(self, st: _StepCtl, result: "LoginResult | None", device: dict | None) -> None:
        asked = result is not None and result.mfa_channel is not None
        when = _cookie_expiry(device)
        if result is None or not (result.ok or asked):
            st.skipped("not reached")
        elif result.password_attempts == 0:
            st.passed("the stored session is still signed in" + (f"; device remembered until {when}" if when else ""))
        elif not asked:
            st.passed("Jobber remembered this browser: no code asked")
        elif device is None:
            if result.verified_2fa:
                st.passed("first sign-in from this robot: the browser is remembered now for 30 days")
            else:
                st.skipped("no remembered device yet (first sign-in from this robot)")
        elif result.verified_2fa:
            st.passed(f"Jobber had forgotten this browser (remembered until {when or 'unknown'}); the code passed "
                      "and it is remembered again for 30 days")
        else:
            expired = device.get("expires", -1)
            past = isinstance(expired, (int, float)) and 0 < expired < time.time()
            st.failed(("the remembered device expired" if past else "the remembered device is no longer valid: "
                       "Jobber asked for a code again") + (f" (its cookie ran to {when})" if when else "")
                      + "; every sign-in asks for a code until one is handed over",
                      f"hand over one code (run `jobber-robot doctor {self.merchant}` at a terminal): the browser is "
                      "then remembered for 30 days", MUST)

    # --- the app -------------------------------------------------------------------------------
    async def _check_invoices(self, st: _StepCtl, sess: "MerchantSession") -> None:
        assert sess.tab is not None
        rows = await (await InvoicesPage(sess.tab).open()).rows()
        st.passed(f"{len(rows)} invoice{'s' if len(rows) != 1 else ''} listed")

    async def _check_selectors(self, st: _StepCtl, sess: "MerchantSession", result: "LoginResult | None") -> None:
        assert sess.tab is not None
        results = list(self.sign_in_results) + await check_app(sess.tab)
        bad = drifted(results)
        late = fallbacks(results)
        checked = sum(1 for r in results if r.status != "skipped")
        if bad:
            st.failed("Jobber changed a page the robot uses: " + "; ".join(
                f"{drift_message(r)} (selector {r.page}.{r.selector})" for r in bad),
                "update selectors/*.toml for the new page (`jobber-robot selectors check` lists every control; "
                "the bundle has the page's HTML)", DRIFT,
                detail=f"{checked} selectors checked, {len(bad)} missing")
            return
        note = ("; found only by a fallback: " + ", ".join(f"{r.page}.{r.selector}" for r in late)) if late else ""
        st.passed(f"{checked} selectors resolve{note}")

    # --- the gateway -----------------------------------------------------------------------------
    async def _gateway_step(self) -> None:
        assert self.creds is not None
        with self.step("gateway") as st:
            if self.creds.gateway is None:
                st.skipped("no gateway key stored for this merchant")
                return
            try:
                async with gateway_for(self.settings, self.creds.gateway, retry_attempts=1, timeout=15) as gw:
                    batch = await gw.batch_status()
            except GatewayAuthError:
                st.failed("the gateway refused the merchant's API key",
                          f"store the merchant's current key: `jobber-robot merchants update {self.merchant} --api-key`",
                          OURS)
                return
            except GatewayUnavailable as exc:
                st.failed(f"the gateway did not answer ({exc.message})",
                          "check JOBBER_ROBOT_GATEWAY_URL and this machine's network; retry later", OURS)
                return
            except GatewayError as exc:
                st.failed(f"the gateway answered an error: {exc.message}",
                          f"check the merchant id ({self.creds.gateway.merchant_id}) and key", OURS)
                return
            st.passed(f"merchant {self.creds.gateway.merchant_id}: current batch {getattr(batch, 'id', '')}".strip())

    def _record_health(self) -> None:
        health.record(self.settings, health.from_doctor(self.report))


class _NoSess:
    artifacts: list[Any] = []


def _net_error(text: str) -> str:
    for word in text.split():
        if word.startswith("net::"):
            return word.removeprefix("net::")
    return text[:120]


def _skew(date_header: str) -> float | None:
    try:
        return (datetime.now(UTC) - parsedate_to_datetime(date_header)).total_seconds()
    except (TypeError, ValueError):
        return None


def _device_cookie(state: dict[str, Any] | None) -> dict[str, Any] | None:
    for cookie in (state or {}).get("cookies", []):
        if str(cookie.get("name", "")).startswith(DEVICE_COOKIE_PREFIX):
            return cookie
    return None


def _cookie_expiry(cookie: dict[str, Any] | None) -> str | None:
    exp = (cookie or {}).get("expires")
    if not isinstance(exp, (int, float)) or exp <= 0:
        return None
    return datetime.fromtimestamp(exp, UTC).isoformat(timespec="minutes")


def _sent_to(message: str) -> str:
    m = re.search(r"sent to ([^)]+)\)", message)
    return m.group(1).strip() if m else ""


def _refusal_text(message: str) -> str:
    m = re.search(r"\(([^()]*)\)", message)
    return m.group(1) if m else "no reason shown"


def _first_sentence(text: str) -> str:
    return text.split(". ", 1)[0].rstrip(".")


async def run_doctor(settings: "Settings", merchant: str, *, on_step: OnStep | None = None,
                     code_prompt: CodeProvider | None = None, vault: "Vault | None" = None) -> DoctorReport:
    """Check `merchant`'s whole access path; see robot.doctor for the interface."""
    doctor = Doctor(settings, merchant, on_step=on_step, code_prompt=code_prompt, vault=vault)
    doctor.report.versions.update({"jobber-robot": __version__, "python": platform.python_version(),
                                   "platform": platform.platform(terse=True)})
    try:
        doctor.report.versions["playwright"] = md.version("playwright")
    except md.PackageNotFoundError:  # pragma: no cover
        pass
    return await doctor.run()
