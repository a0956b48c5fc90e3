"""Two-step verification codes: TOTP from the stored seed, or a hand-off to a person.

TOTP: a code already sent for this merchant in the current 30 s window is never sent again
(Jobber accepts each code once); the robot waits for the next window instead. The used windows
are claimed in the data dir (`UsedSteps`), so two workers signing one merchant in at once do
not send the same code either: Jobber would refuse the second, and a refused code stops the
merchant's sign-ins as a bad seed. Clock skew of
one step is tolerated: when a code is refused, the code of the neighbouring step is offered once.

Hand-off: the account's codes arrive by text message on the merchant's phone, so a person must
hand the code over through a `CodeProvider` (a terminal prompt here; the job queue supplies
one that waits for a code submitted by support).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyotp
from rich.console import Console

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
    """Asks the person at the terminal (stdin a TTY; otherwise returns None, and a job's code
    goes to the handoff queue instead).

    The question says where Jobber sent the code (the masked phone number in `hint`) and by
    when to type it; the input is hidden (no echo) and the wait ends at the deadline. A code
    asked for again (Jobber refused a mistyped one) is waited for within the same deadline.
    `pause`/`resume` are called around the question so a live display (the doctor's spinner)
    can step aside.
    """

    def __init__(self, is_tty: Callable[[], bool] | None = None, *, timeout_seconds: float = 600,
                 pause: Callable[[], None] | None = None, resume: Callable[[], None] | None = None) -> None:
        self._is_tty = is_tty or (lambda: sys.stdin is not None and sys.stdin.isatty())
        self.timeout_seconds = timeout_seconds
        self.pause = pause
        self.resume = resume
        self._deadline: dict[str, float] = {}

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        if not self._is_tty():
            return None

        console = Console(stderr=True, highlight=False)
        deadline = self._deadline.setdefault(merchant, time.time() + self.timeout_seconds)
        left = deadline - time.time()
        if left <= 0:
            return None
        until = time.strftime("%H:%M:%S", time.localtime(deadline))
        what = "text-message" if channel == "sms" else "verification"
        if self.pause:
            self.pause()
        try:
            console.print(f"[bold]Jobber wants a {what} code for {merchant}.[/bold] {hint}")
            console.print(f"Type it by {until} ({int(left // 60)} min {int(left % 60)} s left); the input is hidden.")
            code = await read_hidden(console, "Code: ", left)
        finally:
            if self.resume:
                self.resume()
        if code is None:
            console.print("[yellow]no code typed in time[/yellow]")
            return None
        code = code.strip().replace(" ", "")
        if code:
            register_secret(code)
        return code or None


async def read_hidden(console: "Any", prompt: str, timeout: float) -> str | None:
    """One line from the terminal without echo, waiting at most `timeout` seconds (None then).

    Read through the event loop (not a blocked thread), so a deadline that passes leaves no
    thread waiting on stdin behind, and the process can exit. Echo goes off before the prompt
    shows: a code typed (or pasted) the moment it shows was echoed on the screen and then
    dropped by the flush, and the robot waited for a code the person had already given. The
    flush still drops what was typed before the question was asked."""
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    console.print(prompt, end="")
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def ready() -> None:
        text = sys.stdin.readline()
        if not line.done():
            line.set_result(text)

    loop.add_reader(fd, ready)
    try:
        return await asyncio.wait_for(line, timeout)
    except TimeoutError:
        return None
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
        console.print()


class UsedSteps:
    """The last TOTP step sent per merchant, in a small file per merchant under the data dir
    (`<merchant>.totp`, 0600, a number only), claimed under an exclusive `flock`: every worker
    sharing the data dir (as they share the vault and its refusal marks) sees every claim."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, merchant: str) -> Path:
        return self.folder / f"{merchant}.totp"

    def claim(self, merchant: str, step: int) -> int:
        """The step to send: `step`, or the one after the last claimed if that is not earlier."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path(merchant), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for a read and a write: microseconds
            raw = os.read(fd, 64).decode("ascii", "replace").strip()
            last = int(raw) if raw.isdigit() else None
            chosen = step if last is None or step > last else last + 1
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, str(chosen).encode("ascii"))
            os.fsync(fd)
            return chosen
        finally:
            os.close(fd)  # closing releases the lock

    def last(self, merchant: str) -> int | None:
        try:
            raw = self._path(merchant).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return int(raw) if raw.isdigit() else None


class TotpCodes:
    """Makes TOTP codes, never the same (merchant, time step) twice: in this process, and with
    `steps_dir` in any process sharing that folder (the workers of one data dir).

    `clock` returns Unix seconds; injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time, steps_dir: Path | None = None) -> None:
        self._clock = clock
        self._last_step: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._shared = UsedSteps(steps_dir) if steps_dir is not None else None

    def _step(self) -> int:
        return int(self._clock() // STEP_SECONDS)

    def used(self, merchant: str) -> int | None:
        shared = self._shared.last(merchant) if self._shared is not None else None
        mine = self._last_step.get(merchant)
        return max((s for s in (shared, mine) if s is not None), default=None)

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
            if self._shared is not None:
                step = self._shared.claim(merchant, step)  # another worker may have sent this window
            if step > self._step() + offset:
                await self._wait_for_step(step - offset)
            totp = pyotp.TOTP(seed)
            value = totp.at(step * STEP_SECONDS)
            register_secret(value)
            self.mark_used(merchant, step)
            return value


#: One memory of used steps per process (a worker), shared by every login.
DEFAULT_TOTP = TotpCodes()
