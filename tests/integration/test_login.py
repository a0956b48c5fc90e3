"""Login state machine against the mock Jobber site, in a real Chromium."""

from __future__ import annotations

import stat
from datetime import datetime

import httpx
import pytest

from robot.errors import BadCredentials, LockedOut, TwoFactorRequired
from robot.login import LoginOutcome, login, raise_for_outcome
from robot.twofactor import PromptCodeProvider, TotpCodes
from tests.integration.robot_world import FixedCode, OutboxCodes, World, world  # noqa: F401
from tests.plugin_mock_jobber import DEMO_EMAIL, DEMO_PASSWORD, SMS_EMAIL, form_token


def _wrong_password_posts(world: World, n: int) -> httpx.Response:
    with httpx.Client(base_url=world.site.url, timeout=10) as c:
        r = None
        for _ in range(n):
            token = form_token(c.get("/login").text)
            r = c.post("/login", data={"email": DEMO_EMAIL, "password": "nope-nope", "authenticity_token": token})
        assert r is not None
        return r


async def test_first_login_with_totp_stores_an_encrypted_session(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "first") as sess:
            assert sess.last_login is not None and sess.last_login.ok
            assert sess.last_login.verified_2fa and sess.last_login.password_attempts == 1
            assert sess.page.url.endswith("/invoices")
    st = world.state()
    assert st["logins"] == 1 and st["verifications"] == 1
    path = world.settings.sessions_dir / "acme.state"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"_jobber_session" not in path.read_bytes()
    assert world.vault.load_storage_state("acme") is not None


async def test_wrong_password_is_bad_credentials_after_exactly_one_attempt(world: World) -> None:
    world.add(jobber_password="wrong-password-1")
    async with world.pool() as pool:
        with pytest.raises(BadCredentials) as info:
            async with pool.job("acme", "badpw"):
                pass
        sess = pool.sessions()["acme"]
        assert sess.last_login is not None
        assert sess.last_login.outcome is LoginOutcome.bad_credentials
        assert sess.last_login.password_attempts == 1 and sess.last_login.tries == 1
    assert "wrong-password-1" not in str(info.value)
    acc = world.account()
    assert acc["failed_logins"] == 1 and acc["locked_until"] is None


async def test_refused_password_is_not_tried_again_by_later_jobs_until_updated(world: World) -> None:
    world.add(jobber_password="wrong-password-2")
    async with world.pool() as pool:
        with pytest.raises(BadCredentials):
            async with pool.job("acme", "badpw-1"):
                pass
    # later jobs, in another worker too: the same password is not submitted (it would lock the account)
    for job in ("badpw-2", "badpw-3"):
        async with world.pool() as pool:
            with pytest.raises(BadCredentials, match="merchants update acme --password"):
                async with pool.job("acme", job):
                    pass
    assert world.account()["failed_logins"] == 1
    assert b"wrong-password-2" not in (world.settings.sessions_dir / "acme.refused").read_bytes()
    assert world.vault.password_refused_at(world.vault.get("acme"))  # `merchants show` says so
    world.vault.update("acme", jobber_password=DEMO_PASSWORD)  # the support fix
    async with world.pool() as pool, pool.job("acme", "fixed") as sess:
        assert sess.last_login is not None and sess.last_login.ok
    assert world.account()["failed_logins"] == 0


async def test_lockout_is_reported_with_its_time(world: World) -> None:
    _wrong_password_posts(world, 5)
    until = world.account()["locked_until"]
    assert until
    async with world.pool() as pool, pool.job("acme", "locked", sign_in=False) as sess:
        result = await login(sess.page, sess.creds, totp=TotpCodes(), timeout_ms=4000, retries=1)
    assert result.outcome is LoginOutcome.locked_out
    assert result.locked_until == datetime.fromisoformat(until.replace("Z", "+00:00"))
    assert result.password_attempts == 1
    with pytest.raises(LockedOut) as info:
        raise_for_outcome(result)
    assert info.value.until == result.locked_until


async def test_sms_handoff_through_a_code_provider(world: World) -> None:
    codes = OutboxCodes(world.site)
    async with world.pool(code_provider=codes) as pool, pool.job("bravo", "sms") as sess:
        assert sess.last_login is not None and sess.last_login.verified_2fa
    assert len(codes.asked) == 1
    merchant, channel, hint = codes.asked[0]
    assert merchant == "bravo" and channel == "sms" and "We sent a code to" in hint
    assert world.state()["verifications"] == 1
    # the device was remembered: a new pool, forced out, signs in without a code
    world.site.admin.faults(force_logout=True)  # type: ignore[union-attr]
    async with world.pool(code_provider=FixedCode(None)) as pool, pool.job("bravo", "again") as sess:
        assert sess.last_login is not None and sess.last_login.ok and not sess.last_login.verified_2fa


async def test_no_code_available_is_needs_2fa(world: World) -> None:
    provider = PromptCodeProvider(is_tty=lambda: False)
    async with world.pool(code_provider=provider) as pool:
        with pytest.raises(TwoFactorRequired) as info:
            async with pool.job("bravo", "needs"):
                pass
        assert pool.sessions()["bravo"].last_login.outcome is LoginOutcome.needs_2fa  # type: ignore[union-attr]
    assert "verification code" in info.value.message


async def test_wrong_code_is_2fa_rejected(world: World) -> None:
    async with world.pool() as pool, pool.job("bravo", "rej", sign_in=False) as sess:
        result = await login(sess.page, sess.creds, code_provider=FixedCode("000000"), retries=0)
    assert result.outcome is LoginOutcome.two_factor_rejected
    assert world.account(SMS_EMAIL)["failed_codes"] == 1


async def test_jobber_down_is_unavailable_after_bounded_retries(world: World) -> None:
    world.add(jobber_url="http://127.0.0.1:9")  # nothing listens there
    async with world.pool() as pool, pool.job("acme", "down", sign_in=False) as sess:
        result = await login(sess.page, sess.creds, retries=1, timeout_ms=2000, backoff_max_seconds=0.2)
    assert result.outcome is LoginOutcome.jobber_unavailable
    assert result.tries == 2 and result.password_attempts == 0


async def test_changed_sign_in_page_is_unexpected_page_naming_the_selector(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "drift", sign_in=False) as sess:
        await sess.page.route("**/login", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<h1>Sign in with Jobber ID</h1><button>Continue</button>"))
        result = await login(sess.page, sess.creds, retries=0, timeout_ms=800)
    assert result.outcome is LoginOutcome.unexpected_page
    assert (result.page, result.selector) == ("login", "submit")
    assert "Log In button not found on login page" in result.message
