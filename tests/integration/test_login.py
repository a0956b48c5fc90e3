"""Signing in across Jobber's identity host and its app, in a real Chromium against the mock's two
hosts (login.jobber.test and secure.jobber.test, each with its own cookies)."""

from __future__ import annotations

import stat
from urllib.parse import urlparse

import pytest

from robot.errors import (
    AccountBlocked,
    AccountNotFound,
    BadCredentials,
    CaptchaRequired,
    JobberUnavailable,
    PageDriftError,
    TwoFactorRejected,
    TwoFactorRequired,
)
from robot.login import LoginOutcome, login
from robot.twofactor import PromptCodeProvider, TotpCodes
from tests.integration.robot_world import OutboxCodes, World, world  # noqa: F401
from tests.plugin_mock_jobber import DEMO_EMAIL, follow, form_state


def _wrong_password(world: World) -> None:
    """One wrong password typed at Jobber's sign-in page, by someone else's browser."""
    with world.site.client() as c:
        r = follow(c, c.get("/login"))
        c.post(str(r.url), data={"state": form_state(r.text), "username": DEMO_EMAIL, "password": "not-it",
                                 "action": "default"})


def _hosts(state: dict) -> set[str]:
    return {c["domain"].lstrip(".") for c in state["cookies"]}


async def test_sign_in_crosses_to_the_identity_host_and_back(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "first") as sess:
            assert sess.last_login is not None and sess.last_login.ok
            assert sess.last_login.password_attempts == 1 and sess.last_login.verified_2fa
            assert sess.last_login.account == "Acme Lawn Care"
            assert urlparse(sess.page.url).hostname == "secure.jobber.test"
    st = world.state()
    assert st["logins"] == 1 and st["verifications"] == 1 and st["password_posts"] == 1
    path = world.settings.sessions_dir / "acme.state"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"_jobber_session" not in path.read_bytes()  # encrypted
    stored = world.vault.load_storage_state("acme")
    assert stored is not None
    # both hosts' cookies are kept: the app's session and the identity host's remembered device
    assert {"secure.jobber.test", "login.jobber.test"} <= _hosts(stored)


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_live_session_goes_straight_in_without_typing(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "one"):
        pass
    async with world.pool() as pool, pool.job("acme", "two") as sess:
        assert sess.last_login is not None and sess.last_login.ok
        assert sess.last_login.password_attempts == 0 and sess.last_login.message == "already signed in"
    assert world.state()["password_posts"] == 1


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_remembered_device_skips_the_code_after_a_forced_log_out(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "first"):
        pass
    world.site.admin.faults(force_logout=True)  # type: ignore[union-attr]  # app and identity sessions end
    async with world.pool() as pool, pool.job("acme", "again") as sess:
        assert sess.last_login is not None and sess.last_login.ok
        assert sess.last_login.password_attempts == 1 and not sess.last_login.verified_2fa
    assert world.state()["verifications"] == 1 and world.state()["code_posts"] == 1


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_an_expired_app_session_is_renewed_through_the_identity_session(world: World) -> None:
    from flows.pages.invoices import InvoicesPage

    async with world.pool() as pool, pool.job("acme", "first") as sess:
        assert sess.tab is not None
        world.site.admin.faults(end_app_sessions=True)  # type: ignore[union-attr]
        # the app sends the browser through the identity host, which still knows it: back at once
        rows = await (await InvoicesPage(sess.tab).open()).rows()
        assert any(r.number == 1042 for r in rows)
    st = world.state()
    assert st["password_posts"] == 1 and st["code_posts"] == 1  # nothing typed again


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_wrong_password_is_bad_credentials_after_exactly_one_attempt_and_never_again(world: World) -> None:
    world.add(jobber_password="wrong-password-1")
    async with world.pool() as pool:
        with pytest.raises(BadCredentials) as info:
            async with pool.job("acme", "badpw"):
                pass
        sess = pool.sessions()["acme"]
        assert sess.last_login is not None and sess.last_login.outcome is LoginOutcome.bad_credentials
        assert sess.last_login.password_attempts == 1
    assert "wrong-password-1" not in str(info.value)
    for job in ("badpw-2", "badpw-3"):  # later jobs, in other workers too
        async with world.pool() as pool:
            with pytest.raises(BadCredentials, match="merchants update acme --password"):
                async with pool.job("acme", job):
                    pass
    assert world.user()["failed_logins"] == 1 and world.state()["password_posts"] == 1
    world.vault.update("acme", jobber_password="correct-horse-42")  # the support fix
    async with world.pool() as pool, pool.job("acme", "fixed") as sess:
        assert sess.last_login is not None and sess.last_login.ok


async def test_a_sign_in_lost_on_the_way_is_not_a_refused_password(world: World) -> None:
    """Found by the 200-job soak: a fresh sign-in form after the right password (no message; the
    sign-in was lost on the way) was taken for a refusal, and the merchant's robot stopped for good.
    It is Jobber being unavailable for this job; the next one signs in with the same password."""
    world.add()
    world.site.admin.faults(restart_sign_in=True)  # type: ignore[union-attr]
    async with world.pool() as pool:
        with pytest.raises(JobberUnavailable, match="not marked refused"):
            async with pool.job("acme", "lost"):
                pass
    assert world.user()["failed_logins"] == 0
    async with world.pool() as pool, pool.job("acme", "again") as sess:
        assert sess.last_login is not None and sess.last_login.ok
    assert world.state()["password_posts"] == 2


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_blocked_user_is_reported_with_the_unblock_action_and_no_11th_try(world: World) -> None:
    for _ in range(10):  # someone else's ten wrong passwords block the user
        _wrong_password(world)
    assert world.user()["blocked"]
    posts = world.state()["password_posts"]
    async with world.pool() as pool:
        with pytest.raises(AccountBlocked) as info:
            async with pool.job("acme", "blocked"):
                pass
        assert pool.sessions()["acme"].last_login.outcome is LoginOutcome.blocked  # type: ignore[union-attr]
    assert "unblock link" in info.value.message
    assert world.state()["password_posts"] == posts + 1  # the one try that found the block
    async with world.pool() as pool:
        with pytest.raises(AccountBlocked, match="merchants update acme"):
            async with pool.job("acme", "blocked-again"):
                pass
    assert world.state()["password_posts"] == posts + 1  # no further try by any job
    # the owner follows the unblock e-mail; support lets the robot sign in again
    link = [m for m in world.site.admin.outbox() if m["channel"] == "email"][-1]["link"]  # type: ignore[union-attr]
    with world.site.client() as c:
        assert c.get(link).status_code == 200
    from typer.testing import CliRunner

    from robot.cli import app

    s = world.settings
    env = {"JOBBER_ROBOT_DATA_DIR": str(s.data_dir),
           "JOBBER_ROBOT_CREDENTIAL_KEY": s.credential_key.get_secret_value()}  # type: ignore[union-attr]
    from robot.config import get_settings

    get_settings.cache_clear()  # the CLI reads the settings once per process: this test's, not an earlier one's
    try:
        done = CliRunner().invoke(app, ["merchants", "update", "acme", "--resume-sign-in"], env=env)
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    async with world.pool() as pool, pool.job("acme", "unblocked") as sess:
        assert sess.last_login is not None and sess.last_login.ok


async def test_a_captcha_goes_to_a_person_and_nothing_is_submitted(world: World) -> None:
    world.site.admin.faults(captcha=True)  # type: ignore[union-attr]
    async with world.pool() as pool:
        with pytest.raises(CaptchaRequired) as info:
            async with pool.job("acme", "captcha"):
                pass
    assert "sign in to Jobber once by hand" in info.value.message
    assert world.state()["password_posts"] == 0


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_the_merchants_account_is_chosen_by_business_name(world: World) -> None:
    async with world.pool() as pool, pool.job("delta", "chooser") as sess:
        assert sess.last_login is not None and sess.last_login.ok
        assert sess.last_login.account == "Delta Lawn South"


async def test_an_account_the_login_does_not_hold_is_a_typed_error(world: World) -> None:
    world.vault.update("delta", business_name="Delta Lawn West")
    async with world.pool() as pool:
        with pytest.raises(AccountNotFound) as info:
            async with pool.job("delta", "nochoice"):
                pass
    assert "Delta Lawn West" in info.value.message and "Delta Lawn North" in info.value.message


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_refused_authenticator_code_is_never_sent_again_until_the_seed_changes(world: World) -> None:
    world.add(totp_seed="KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")  # the merchant re-enrolled their authenticator elsewhere
    async with world.pool() as pool:
        with pytest.raises(TwoFactorRejected) as info:
            async with pool.job("acme", "oldseed"):
                pass
    assert "merchants update acme --totp-seed" in info.value.message
    assert "clock" in info.value.message  # the measured skew against Jobber's Date header
    codes = world.state()["code_posts"]
    assert codes == 1
    for job in ("oldseed-2", "oldseed-3"):  # neither a job nor `selectors check` sends another one
        async with world.pool() as pool:
            with pytest.raises(TwoFactorRejected, match="--totp-seed"):
                async with pool.job("acme", job):
                    pass
    assert world.state()["code_posts"] == codes
    assert world.user()["failed_codes"] == 1
    world.vault.update("acme", totp_seed="JBSWY3DPEHPK3PXPJBSWY3DP")
    async with world.pool() as pool, pool.job("acme", "newseed") as sess:
        assert sess.last_login is not None and sess.last_login.verified_2fa


async def test_sms_code_handed_over_by_a_person(world: World) -> None:
    codes = OutboxCodes(world.site)
    async with world.pool(code_provider=codes) as pool, pool.job("bravo", "sms") as sess:
        assert sess.last_login is not None and sess.last_login.verified_2fa
    assert len(codes.asked) == 1
    merchant, channel, hint = codes.asked[0]
    assert merchant == "bravo" and channel == "sms" and "0199" in hint


class _TypoThenRight:
    """A person who mistypes the code once, then reads it again."""

    def __init__(self, world: World) -> None:
        self.right = OutboxCodes(world.site)
        self.hints: list[str] = []

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        self.hints.append(hint)
        return "000000" if len(self.hints) == 1 else await self.right.get_code(merchant, channel, hint)


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_mistyped_sms_code_is_asked_again(world: World) -> None:
    person = _TypoThenRight(world)
    async with world.pool(code_provider=person) as pool, pool.job("bravo", "typo") as sess:
        assert sess.last_login is not None and sess.last_login.ok and sess.last_login.code_attempts == 2
    assert len(person.hints) == 2 and "refused the last code" in person.hints[1]


async def test_no_code_available_is_needs_2fa(world: World) -> None:
    provider = PromptCodeProvider(is_tty=lambda: False)
    async with world.pool(code_provider=provider) as pool:
        with pytest.raises(TwoFactorRequired) as info:
            async with pool.job("bravo", "needs"):
                pass
    assert "verification code" in info.value.message
    assert world.state()["code_posts"] == 0


async def test_jobber_down_is_unavailable_after_bounded_retries(world: World) -> None:
    world.add(jobber_url="http://127.0.0.1:9")  # nothing listens there
    async with world.pool() as pool, pool.job("acme", "down", sign_in=False) as sess:
        assert sess.tab is not None
        result = await login(sess.tab.with_timeout(2000), sess.creds, retries=1, backoff_max_seconds=0.2)
    assert result.outcome is LoginOutcome.jobber_unavailable
    assert result.tries == 2 and result.password_attempts == 0


async def test_an_unknown_sign_in_page_is_named_drift_not_a_timeout(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "drift", sign_in=False) as sess:
        assert sess.tab is not None
        await sess.page.route("**/login*", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<h1>Sign in with Jobber ID</h1><button>Next</button>"))
        result = await login(sess.tab.with_timeout(1500), sess.creds, retries=0, totp=TotpCodes())
    assert result.outcome is LoginOutcome.unexpected_page
    assert result.seen is not None and result.seen.startswith("unknown on secure.jobber.test")
    assert result.password_attempts == 0
    with pytest.raises(PageDriftError):
        from robot.login import raise_for_outcome

        raise_for_outcome(result)

