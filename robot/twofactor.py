"""Two-step verification codes: TOTP from the stored seed, or a hand-off to a person.

TOTP: a code already sent for this merchant in the current 30 s window is never sent again
(Jobber accepts each code once); the robot waits for the next window instead. Clock skew of
one step is tolerated: when a code is refused, the code of the neighbouring step is offered once.

Hand-off: the account's codes arrive by text message on the merchant's phone, so a person must
hand the code over through a `CodeProvider` (a terminal prompt here; the job queue supplies
one that waits for a code submitted by support).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import pyotp

from robot.logging import get_logger, register_secret

STEP_SECONDS = 30


@runtime_checkable
class CodeProvider(Protocol):
    """Hands over a verification code for `merchant`, or None when nobody can now."""

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None: ...


class NoCodeProvider:
    """Non-interactive runs: nobody to ask, so the login ends `needs_2fa`."""

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        return None


class PromptCodeProvider:
    """Asks at the terminal (rich) when stdin is a TTY; otherwise returns None."""

    def __init__(self, is_tty: Callable[[], bool] | None = None) -> None:
        self._is_tty = is_tty or (lambda: sys.stdin is not None and sys.stdin.isatty())

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        if not self._is_tty():
            return None
        from rich.prompt import Prompt

        question = f"Jobber wants a verification code for [bold]{merchant}[/bold] ({channel}). {hint}\nCode"
        code = await asyncio.to_thread(Prompt.ask, question, password=True)
        code = (code or "").strip().replace(" ", "")
        if code:
            register_secret(code)
        return code or None


class TotpCodes:
    """Makes TOTP codes, never the same (merchant, time step) twice in one process.

    `clock` returns Unix seconds; injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last_step: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _step(self) -> int:
        return int(self._clock() // STEP_SECONDS)

    def used(self, merchant: str) -> int | None:
        return self._last_step.get(merchant)

    def mark_used(self, merchant: str, step: int) -> None:
        self._last_step[merchant] = max(step, self._last_step.get(merchant, step))

    async def _wait_for_step(self, step: int) -> None:
        remaining = step * STEP_SECONDS - self._clock()
        if remaining > 0:
            get_logger("twofactor").info("waiting for the next TOTP window", seconds=round(remaining, 1))
            await asyncio.sleep(remaining + 0.05)  # allowed-sleep: next TOTP window

    async def code(self, merchant: str, seed: str, offset: int = 0) -> str:
        """A fresh code: for the current step (+offset), waiting for the next window if that
        step was already used for this merchant."""
        lock = self._locks.setdefault(merchant, asyncio.Lock())
        async with lock:
            step = self._step() + offset
            last = self._last_step.get(merchant)
            if last is not None and step <= last:
                step = last + 1
                await self._wait_for_step(step - offset)
            totp = pyotp.TOTP(seed)
            value = totp.at(step * STEP_SECONDS)
            register_secret(value)
            self.mark_used(merchant, step)
            return value


#: One memory of used steps per process (a worker), shared by every login.
DEFAULT_TOTP = TotpCodes()
