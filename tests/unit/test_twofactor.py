"""TOTP codes: Jobber accepts each code once, so the robot never sends one twice."""

from __future__ import annotations

import time

import pyotp

from robot.twofactor import STEP_SECONDS, PromptCodeProvider, TotpCodes

SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"


async def test_a_used_window_is_not_sent_again_the_robot_waits_for_the_next() -> None:
    step = 1_000_000
    now = [step * STEP_SECONDS + STEP_SECONDS - 0.1]  # 0.1 s before the window ends
    totp = TotpCodes(clock=lambda: now[0])
    first = await totp.code("acme", SEED)
    assert first == pyotp.TOTP(SEED).at(step * STEP_SECONDS)
    started = time.monotonic()
    second = await totp.code("acme", SEED)
    assert time.monotonic() - started >= 0.1  # it waited for the window to turn
    assert second == pyotp.TOTP(SEED).at((step + 1) * STEP_SECONDS) != first
    assert totp.used("acme") == step + 1
    # another merchant's window is its own
    assert await totp.code("bravo", SEED) == first


async def test_clock_skew_offers_the_neighbouring_step_once_used_never_again() -> None:
    step = 2_000_000
    now = [step * STEP_SECONDS + 1.0]
    totp = TotpCodes(clock=lambda: now[0])
    await totp.code("acme", SEED)
    skewed = await totp.code("acme", SEED, offset=1)  # no wait: step+1 has not been used
    assert skewed == pyotp.TOTP(SEED).at((step + 1) * STEP_SECONDS)
    assert totp.used("acme") == step + 1


async def test_prompt_without_a_terminal_hands_over_nothing() -> None:
    assert await PromptCodeProvider(is_tty=lambda: False).get_code("acme", "sms", "") is None
