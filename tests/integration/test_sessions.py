"""Session pool: stored state reused, dead sessions renewed once, idle contexts closed, crashes survived."""

from __future__ import annotations

import time

import pytest

from flows.pages.base import BasePage
from robot.errors import SessionExpired
from tests.integration.robot_world import World, next_step_totp, world  # noqa: F401


class _Clients(BasePage):
    """A page object used only for navigation here (the app shell answers even before its data)."""

    page_key = "client"


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_second_run_reuses_the_stored_session(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "one"):
        pass
    assert world.state()["logins"] == 1
    # a new worker process: new browser, storage state from the vault
    async with world.pool() as pool:
        async with pool.job("acme", "two") as sess:
            assert sess.last_login is not None and sess.last_login.message == "already signed in"
            assert sess.logins == 0
        async with pool.job("acme", "three") as sess:
            assert sess.logins == 0
    st = world.state()
    assert st["logins"] == 1 and st["verifications"] == 1


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_forced_log_out_means_exactly_one_re_login(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "one"):
            pass
        world.site.admin.faults(force_logout=True)  # type: ignore[union-attr]
        async with pool.job("acme", "two") as sess:
            assert sess.logins == 1
    st = world.state()
    assert st["logins"] == 2
    assert st["verifications"] == 1  # remembered device: no second code


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_session_dying_mid_job_is_renewed_once_by_the_page_objects(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "one") as sess:
            assert sess.tab is not None
            world.site.admin.faults(force_logout=True)  # type: ignore[union-attr]
            await _Clients(sess.tab).open_path("/clients")
            assert sess.page.url.endswith("/clients")
            assert sess.relogins_this_job == 1
            world.site.admin.faults(force_logout=True)  # type: ignore[union-attr]
            with pytest.raises(SessionExpired):
                await _Clients(sess.tab).open_path("/clients")
    assert world.state()["logins"] == 2


async def test_expired_sessions_sign_in_again(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "one"):
            pass
        # 13 h: the app's session (12 h idle) ended; the identity host still knows the browser
        world.site.admin.clock(advance_seconds=13 * 3600)  # type: ignore[union-attr]
        async with pool.job("acme", "two") as sess:
            assert sess.last_login is not None and sess.last_login.ok
            assert sess.logins == 0 and not sess.last_login.verified_2fa
        # 4 days: the identity session ended too; the password again, the remembered device spares a code
        world.site.admin.clock(advance_seconds=4 * 86400)  # type: ignore[union-attr]
        async with pool.job("acme", "three") as sess:
            assert sess.logins == 1 and sess.last_login is not None and not sess.last_login.verified_2fa
    st = world.state()
    assert st["logins"] == 2 and st["verifications"] == 1


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_2fa_demanded_again_is_passed(world: World) -> None:
    async with world.pool() as pool, pool.job("acme", "one"):
        pass
    world.site.admin.faults(force_logout=True, require_2fa=True)  # type: ignore[union-attr]
    # same 30 s window: this worker's TOTP clock is one step ahead (skew the mock tolerates),
    # so the code differs from the one already used and no wait is needed
    async with world.pool(totp=next_step_totp()) as pool, pool.job("acme", "two") as sess:
        assert sess.last_login is not None and sess.last_login.verified_2fa
    st = world.state()
    assert st["logins"] == 2 and st["verifications"] == 2


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_idle_contexts_close_and_crashed_browser_relaunches(world: World) -> None:
    async with world.pool() as pool:
        async with pool.job("acme", "one"):
            pass
        assert await pool.close_idle() == []
        closed = await pool.close_idle(now=time.monotonic() + world.settings.session_idle_seconds + 1)
        assert closed == ["acme"] and pool.sessions() == {}
        async with pool.job("acme", "two") as sess:
            assert sess.logins == 0  # reopened from stored state
        assert pool.browser is not None
        await pool.browser.close()  # the browser "crashes"
        async with pool.job("acme", "three") as sess:
            assert sess.logins == 0
            assert sess.page.url.startswith(world.site.url)
        assert pool.launches == 2
    assert world.state()["logins"] == 1


async def test_closing_the_pool_is_not_reported_as_a_lost_browser(world: World,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A one-shot command closes its browser at the end: that is no "browser disconnected" news."""
    async with world.pool() as pool, pool.job("acme", "one"):
        pass
    assert "browser disconnected" not in caplog.text
