"""TOTP codes: Jobber accepts each code once, so the robot never sends one twice."""

from __future__ import annotations

import multiprocessing
import os
import pty
import select
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
from rich.console import Console

from robot.twofactor import STEP_SECONDS, PromptCodeProvider, TotpCodes, UsedSteps, read_hidden


def claim_step(folder: str, step: int) -> int:
    """One process's claim (a module-level function: the spawned processes import it)."""
    return UsedSteps(Path(folder)).claim("acme", step)

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


async def test_two_workers_sharing_a_data_dir_never_send_the_same_window(tmp_path: Path) -> None:
    """Found by the 200-job soak: two workers signed one merchant in within one 30 s window with
    the same code; Jobber refused the second (a code is accepted once) and the robot took that as
    a bad seed and stopped the merchant's sign-ins. The used window is claimed in the data dir,
    so a second worker (another process: another TotpCodes) waits for the next one."""
    step = 3_000_000
    now = [step * STEP_SECONDS + STEP_SECONDS - 0.1]
    worker_1 = TotpCodes(clock=lambda: now[0], steps_dir=tmp_path)
    worker_2 = TotpCodes(clock=lambda: now[0], steps_dir=tmp_path)
    first = await worker_1.code("acme", SEED)
    second = await worker_2.code("acme", SEED)
    assert first == pyotp.TOTP(SEED).at(step * STEP_SECONDS)
    assert second == pyotp.TOTP(SEED).at((step + 1) * STEP_SECONDS)
    assert worker_1.used("acme") == worker_2.used("acme") == step + 1
    [claim] = list(tmp_path.iterdir())
    assert claim.stat().st_mode & 0o777 == 0o600 and SEED not in claim.read_text()


def test_a_claim_is_atomic_across_processes(tmp_path: Path) -> None:
    """Eight processes claim the same merchant's window at once: eight different steps."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        steps = pool.starmap(claim_step, [(str(tmp_path), 4_000_000)] * 8)
    assert sorted(steps) == list(range(4_000_000, 4_000_008))


async def test_a_code_typed_the_moment_the_prompt_shows_is_read_and_not_shown(monkeypatch: Any) -> None:
    """On a real terminal (a pty): the person types the code as soon as "Code: " appears. It was
    echoed on the screen, then dropped when echo was turned off after the prompt, and the robot
    waited for a code it had been given."""
    master, slave = pty.openpty()
    tty = os.fdopen(slave, "r", buffering=1, closefd=False)

    class Person(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*objects, **kwargs)
            if objects == ("Code: ",):
                os.write(master, b"482913\n")  # typed the instant the prompt is on the screen
                select.select([slave], [], [], 2)  # and through the terminal's line discipline

    try:
        monkeypatch.setattr(sys, "stdin", tty)
        screen = os.fdopen(os.dup(slave), "w")
        code = await read_hidden(Person(file=screen, force_terminal=True), "Code: ", timeout=3)
        assert code is not None and code.strip() == "482913"
        screen.flush()
        shown = b""
        while select.select([master], [], [], 0.2)[0]:
            shown += os.read(master, 4096)
        assert b"Code: " in shown and b"482913" not in shown, shown
    finally:
        tty.close()
        os.close(slave)
        os.close(master)
