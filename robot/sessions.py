"""Browser sessions: one Chromium per worker, one context per merchant, storage state reused.

    async with SessionPool(settings, vault, code_provider=...) as pool:
        async with pool.page("acme", job_id="j1") as page:     # signed in, ready to use
            ...

- A merchant's context starts from its storage state (cookies, remembered device) kept
  encrypted in the vault, so most jobs need neither the password nor 2FA.
- A dead session (the app sending the browser to Jobber's identity host) is renewed by signing
  in again, once per job, through a callable handed down to the page objects with the tab
  (`JobberTab.renew_session`); a second time in the same job is `SessionExpired`.
- A password Jobber refused is never submitted again, by any worker, until `merchants update`
  changes it (the vault remembers a keyed hash of it): repeated tries would lock the account.
  The same holds for an authenticator seed whose code Jobber refused, and a block or a CAPTCHA
  stops every sign-in until a person has acted and run `merchants update`.
- Contexts idle longer than `settings.session_idle_seconds` are closed (`close_idle`, also run
  whenever a job starts). A crashed or disconnected browser is relaunched on the next job.
- Each job records a Playwright trace chunk; it is kept (scrubbed) only when the job fails,
  with a screenshot and the page HTML at the failing step (robot.evidence). The chunk is the
  action log only (cheap); screenshots and DOM snapshots are recorded for a retried job (one
  that failed before: its evidence folder exists) or with `settings.trace_full`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import async_playwright

from flows.pages.tab import JobberTab
from robot.browser import launch
from robot.errors import AccountBlocked, BadCredentials, CaptchaRequired, RobotError, SessionExpired
from robot.evidence import capture, drop_trace_files, job_dir_path, sweep_unscrubbed, unscrubbed_spool
from robot.logging import bind_context, get_logger
from robot.login import LoginOutcome, LoginResult, login, raise_for_outcome
from robot.twofactor import CodeProvider, NoCodeProvider, TotpCodes

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

    from robot.config import Settings
    from robot.vault import MerchantCredentials, Vault


@dataclass(eq=False)
class MerchantSession:
    merchant: str
    creds: "MerchantCredentials"
    base_url: str
    context: "BrowserContext"
    page: "Page"
    pool: "SessionPool"
    last_used: float = field(default_factory=time.monotonic)
    job_id: str | None = None
    relogins_this_job: int = 0
    logins: int = 0                       # password sign-ins made during the current job
    total_logins: int = 0                 # ... and over this context's life
    tracing: bool = False
    trace_full: bool = False              # the tracing records screenshots and DOM snapshots
    trace_name: str | None = None         # its files in the browser's traces folder start with it
    chunk_open: bool = False
    artifacts: list[Path] = field(default_factory=list)
    last_login: LoginResult | None = None

    tab: JobberTab | None = None

    @property
    def closed(self) -> bool:
        return self.page.is_closed()

    async def renew(self) -> bool:
        """Handed down to the page objects: sign in again if this job has not done so yet."""
        if self.relogins_this_job >= 1:
            return False
        self.relogins_this_job += 1
        await self.pool._login(self, reason="session ended")
        return True


class SessionPool:
    def __init__(
        self,
        settings: "Settings",
        vault: "Vault",
        *,
        code_provider: CodeProvider | None = None,
        totp: TotpCodes | None = None,
        playwright: "Playwright | None" = None,
        jobber_url: str | None = None,
        context_hook: "Callable[[BrowserContext], Awaitable[None]] | None" = None,
        context_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.jobber_url = jobber_url  # overrides every merchant's URL (selectors check --url)
        # fixtures record/replay: extra new_context options (a proxy) and a hook run on each new
        # context before its first page (the recorder's listeners, the replay's routes)
        self.context_hook = context_hook
        self.context_options = dict(context_options or {})
        self.vault = vault
        self.code_provider = code_provider or NoCodeProvider()
        # the used TOTP windows are claimed beside the vault's refusal marks: every worker sees them
        self.totp = totp or TotpCodes(steps_dir=vault.sessions_dir)
        self._pw = playwright
        self._own_pw: Any = None
        self._browser: "Browser | None" = None
        self._browser_lock = asyncio.Lock()
        #: the browser's own traces (the action log, a typed password in it), in the locked spool
        self._traces = ExitStack()
        self._traces_dir: Path | None = None
        self._sessions: dict[str, MerchantSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.launches = 0
        #: each merchant's invoice number → Jobber id, learned by its jobs (checked on use, see flows)
        self.invoice_ids: dict[str, dict[int, int]] = {}
        self._closing = False
        self.log = get_logger("sessions")

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> "SessionPool":
        self._closing = False
        sweep_unscrubbed(self.settings.artifacts_dir)  # raw traces a killed process left behind
        if self._pw is None:
            self._own_pw = async_playwright()
            self._pw = await self._own_pw.start()
        await self._ensure_browser()
        return self

    async def close(self) -> None:
        self._closing = True
        for merchant in list(self._sessions):
            await self.close_merchant(merchant)
        if self._browser is not None and self._browser.is_connected():
            await self._browser.close()
        self._browser = None
        self._drop_traces()
        if self._own_pw is not None:
            await self._own_pw.__aexit__(None, None, None)
            self._own_pw = None
            self._pw = None

    async def __aenter__(self) -> "SessionPool":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def browser(self) -> "Browser | None":
        return self._browser

    def sessions(self) -> dict[str, MerchantSession]:
        return dict(self._sessions)

    async def _ensure_browser(self) -> "Browser":
        async with self._browser_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                self.log.warning("browser disconnected; relaunching")
                self._sessions.clear()  # their contexts died with it; storage state is in the vault
            assert self._pw is not None, "SessionPool.start() first"
            self._drop_traces()  # a dead browser's traces
            self._traces_dir = self._traces.enter_context(unscrubbed_spool(self.settings.artifacts_dir, "browser-"))
            browser = await launch(self._pw, headless=self.settings.headless, explicit=self.settings.browser_path,
                                   host_resolver_rules=self.settings.host_resolver_rules, lean=True,
                                   traces_dir=self._traces_dir)
            # closing it ourselves disconnects it too: only a disconnect we did not ask for is news
            browser.on("disconnected", lambda _b: None if self._closing else self.log.warning("browser disconnected"))
            self._browser = browser
            self.launches += 1
            return browser

    def _drop_traces(self) -> None:
        self._traces.close()
        self._traces_dir = None

    @staticmethod
    async def _start_tracing(context: "BrowserContext", *, full: bool) -> str:
        """Start `context`'s tracing under a name of its own, so its files can be told apart."""
        name = "t" + uuid.uuid4().hex
        await context.tracing.start(name=name, screenshots=full, snapshots=full, sources=False)
        return name

    async def _stop_tracing(self, sess: "MerchantSession") -> None:
        await sess.context.tracing.stop()
        drop_trace_files(self._traces_dir, sess.trace_name, still_tracing=False)
        sess.trace_name = None

    # --- contexts -------------------------------------------------------------------------
    async def _open(self, merchant: str) -> MerchantSession:
        sess = self._sessions.get(merchant)
        if sess is not None and not sess.closed and self._browser is not None and self._browser.is_connected():
            return sess
        browser = await self._ensure_browser()
        creds = self.vault.get(merchant)
        base_url = (self.jobber_url or creds.jobber_url or self.settings.jobber_url).rstrip("/")
        state = self.vault.load_storage_state(merchant)
        context = await browser.new_context(base_url=base_url, storage_state=state,  # type: ignore[arg-type]
                                            **self.context_options)
        if self.context_hook is not None:
            await self.context_hook(context)
        context.set_default_timeout(self.settings.action_timeout_ms)
        context.set_default_navigation_timeout(self.settings.navigation_timeout_ms)
        trace_name = await self._start_tracing(context, full=False) if self.settings.trace else None
        page = await context.new_page()
        sess = MerchantSession(merchant=merchant, creds=creds, base_url=base_url, context=context,
                               page=page, pool=self, tracing=trace_name is not None, trace_name=trace_name)
        sess.tab = JobberTab(page, base_url, self.settings.action_timeout_ms, sess.renew)
        self._sessions[merchant] = sess
        self.log.info("browser context opened", merchant=merchant, stored_session=state is not None)
        return sess

    async def close_merchant(self, merchant: str) -> None:
        sess = self._sessions.pop(merchant, None)
        if sess is None:
            return
        try:
            if sess.last_login is not None and sess.last_login.ok and not sess.closed:
                self.vault.save_storage_state(merchant, await sess.context.storage_state())
            if sess.tracing:
                await self._stop_tracing(sess)
            await sess.context.close()
        except Exception as exc:  # noqa: BLE001 - the browser may be gone already
            self.log.info("context close failed", merchant=merchant, error=type(exc).__name__)
        self.log.info("browser context closed", merchant=merchant)

    async def close_idle(self, now: float | None = None) -> list[str]:
        """Close contexts unused for `session_idle_seconds`; returns the merchants closed."""
        now = time.monotonic() if now is None else now
        closed = []
        for merchant, sess in list(self._sessions.items()):
            lock = self._locks.get(merchant)
            if lock is not None and lock.locked():
                continue
            if now - sess.last_used >= self.settings.session_idle_seconds:
                await self.close_merchant(merchant)
                closed.append(merchant)
        return closed

    # --- signing in -----------------------------------------------------------------------
    async def _login(self, sess: MerchantSession, reason: str) -> LoginResult:
        log = get_logger("sessions", merchant=sess.merchant, job=sess.job_id, step="login")
        sess.creds = creds = self.vault.get(sess.merchant)  # `merchants update` may have run since
        refusal = self._standing_refusal(creds)
        log.info("signing in", reason=reason)
        assert sess.tab is not None
        result = await login(
            sess.tab, creds, code_provider=self.code_provider, totp=self.totp,
            retries=self.settings.unavailable_retries, may_submit_password=refusal is None,
            seed_refused=self.vault.seed_refused(creds) is not None,
        )
        sess.last_login = result
        if result.password_attempts:
            sess.logins += 1
            sess.total_logins += 1
        if result.ok:
            self.vault.save_storage_state(sess.merchant, await sess.context.storage_state())
            return result
        log.warning("sign-in failed", outcome=result.outcome.value)
        if refusal is not None and result.password_attempts == 0 and result.outcome is LoginOutcome.bad_credentials:
            raise refusal  # the stored session is gone too, and the password may not be tried
        self._remember_refusal(creds, result)
        raise_for_outcome(result)
        return result

    def _standing_refusal(self, creds: "MerchantCredentials") -> RobotError | None:
        """Why the password may not be submitted now (a refusal or a person's stop), if it may not."""
        refused_at = self.vault.password_refused_at(creds)
        if refused_at is not None:
            # never submit a refused password again: repeated tries lock the Jobber account
            return BadCredentials(f"Jobber refused the stored e-mail or password at {refused_at}; not trying it "
                                  f"again. Update it with `jobber-robot merchants update {creds.merchant} --password`")
        stopped = self.vault.sign_in_stopped(creds)
        if stopped is not None:
            kind = CaptchaRequired if stopped.get("reason") == "captcha" else AccountBlocked
            return kind(f"Jobber stopped the sign-in at {stopped.get('at')} ({stopped.get('reason')}); the robot "
                        f"does not sign in again until `jobber-robot merchants update {creds.merchant} "
                        "--resume-sign-in` is run after a person has acted")
        return None

    def _remember_refusal(self, creds: "MerchantCredentials", result: LoginResult) -> None:
        """What Jobber refused is never submitted again, by any worker, until a person changes it."""
        if result.outcome is LoginOutcome.bad_credentials and result.password_attempts:
            self.vault.mark_password_refused(creds)
        elif result.outcome is LoginOutcome.two_factor_rejected and result.code_refused_by_seed:
            self.vault.mark_seed_refused(creds, result.message)
        elif result.outcome in (LoginOutcome.blocked, LoginOutcome.captcha):
            self.vault.mark_sign_in_stopped(creds, result.outcome.value)

    async def ensure_signed_in(self, sess: MerchantSession) -> None:
        """Open the app through its sign-in door: a live session goes straight in (and into the
        merchant's account); otherwise sign in. Signing in at the start of a job is not the job's
        one renewal: that one is kept for a session that dies while the job runs."""
        await self._login(sess, reason="start of job")

    # --- jobs -----------------------------------------------------------------------------
    @asynccontextmanager
    async def job(self, merchant: str, job_id: str | None = None, *, sign_in: bool = True
                  ) -> AsyncIterator[MerchantSession]:
        """The merchant's session for one job (jobs of one merchant run one at a time).

        On an exception, evidence (screenshot, scrubbed trace, HTML) is saved under
        artifacts/<job_id>/, its paths put on the session (`artifacts`) and on the
        exception (`exc.artifacts`), and the exception propagates.
        """
        job_id = job_id or f"adhoc-{int(time.time() * 1000)}"
        await self.close_idle()
        lock = self._locks.setdefault(merchant, asyncio.Lock())
        async with lock:
            bind_context(merchant=merchant, job=job_id)
            sess = await self._open(merchant)
            sess.job_id = job_id
            sess.relogins_this_job = 0
            sess.logins = 0
            sess.artifacts = []
            if sess.tracing:
                await self._trace_mode(sess, full=self._wants_full_trace(job_id))
                await sess.context.tracing.start_chunk(title=job_id)
                sess.chunk_open = True
            try:
                if sign_in:
                    await self.ensure_signed_in(sess)
                yield sess
            except BaseException as exc:
                await self._evidence(sess, exc)
                raise
            else:
                if sess.chunk_open:
                    sess.chunk_open = False
                    await sess.context.tracing.stop_chunk()
                    drop_trace_files(self._traces_dir, sess.trace_name, still_tracing=True)
            finally:
                sess.last_used = time.monotonic()
                sess.job_id = None

    def _wants_full_trace(self, job_id: str) -> bool:
        """Screenshots and DOM snapshots for this job: when asked, or when it ran before and
        failed (a retry: its evidence folder is there), so the retry's trace shows everything."""
        return self.settings.trace_full or job_dir_path(self.settings.artifacts_dir, job_id).exists()

    async def _trace_mode(self, sess: MerchantSession, *, full: bool) -> None:
        if sess.trace_full == full:
            return
        await self._stop_tracing(sess)
        sess.trace_name = await self._start_tracing(sess.context, full=full)
        sess.trace_full = full

    async def _evidence(self, sess: MerchantSession, exc: BaseException) -> None:
        if not isinstance(exc, Exception):
            return
        if self._browser is None or not self._browser.is_connected() or sess.closed:
            return
        trace = sess.chunk_open
        sess.chunk_open = False
        paths = await capture(sess.page, sess.context, self.settings.artifacts_dir, sess.job_id or "job",
                              trace_chunk=trace)
        drop_trace_files(self._traces_dir, sess.trace_name, still_tracing=True)
        sess.artifacts = paths
        try:
            exc.artifacts = [str(p) for p in paths]  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - some exceptions refuse attributes
            pass
        code = exc.code if isinstance(exc, RobotError) else type(exc).__name__
        get_logger("sessions", merchant=sess.merchant, job=sess.job_id).warning(
            "job failed; evidence saved", error=code, files=[p.name for p in paths])

    @asynccontextmanager
    async def page(self, merchant: str, job_id: str | None = None) -> AsyncIterator[JobberTab]:
        """The merchant's signed-in tab for one job (page objects take it)."""
        async with self.job(merchant, job_id) as sess:
            assert sess.tab is not None
            yield sess.tab

    def access(self, merchant: str, job_id: str | None = None) -> "PoolAccess":
        return PoolAccess(self, merchant, job_id)


class PoolAccess:
    """flows.runtime.JobberAccess over a SessionPool."""

    def __init__(self, pool: SessionPool, merchant: str, job_id: str | None) -> None:
        self.pool = pool
        self.merchant = merchant
        self.job_id = job_id

    def page(self) -> Any:
        return self.pool.page(self.merchant, self.job_id)

    @property
    def invoice_ids(self) -> dict[int, int]:
        """The merchant's invoice number → Jobber id memory (flows.runtime.HeldJobber)."""
        return self.pool.invoice_ids.setdefault(self.merchant, {})


__all__ = ["MerchantSession", "PoolAccess", "SessionExpired", "SessionPool"]
