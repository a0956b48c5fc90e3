"""What a process that runs jobs holds for them (worker or in-process worker): settings, vault,
the shared SessionPool, and which jobs run here. Installed once at start; the job workflow and
the handoff read it.

Its own module because both the workflow (robot/jobs/workflows.py) and the person-in-the-loop
waits (robot/jobs/handoff.py) need it, and the workflow calls the handoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from robot.config import Settings
    from robot.sessions import SessionPool
    from robot.vault import Vault


@dataclass
class Runtime:
    settings: "Settings"
    vault: "Vault"
    pool: "SessionPool"
    active: set[str] = field(default_factory=set)          # job ids running in this process
    tasks: dict[str, Any] = field(default_factory=dict)     # job id → its asyncio task
    handoff_timed_out: set[str] = field(default_factory=set)
    #: told what a job here does now: (job id, "step", stage name) or (job id, "handoff", the
    #: question a person is asked, None once answered); a direct command's spinner listens
    on_progress: Callable[[str, str, Any], None] | None = None

    def __post_init__(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait (on job completion, not a fixed sleep) until no job runs here; False on timeout."""
        if not self.active:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def started(self, job_id: str) -> None:
        self.active.add(job_id)
        task = asyncio.current_task()
        if task is not None:
            self.tasks[job_id] = task
        self._idle.clear()

    def progress(self, job_id: str, what: str, value: Any) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(job_id, what, value)
            except Exception:  # noqa: BLE001 - a display never stops a job
                pass

    def finished(self, job_id: str) -> None:
        self.active.discard(job_id)
        self.tasks.pop(job_id, None)
        if not self.active:
            self._idle.set()

    async def hand_back(self, timeout: float = 15.0) -> list[str]:
        """Stop the jobs still running here without recording an outcome: DBOS records nothing
        for a cancelled asyncio task, so each stays PENDING under this worker id and resumes from
        its last finished stage when a worker with this id starts again."""
        tasks = {j: t for j, t in self.tasks.items() if not t.done()}
        for t in tasks.values():
            t.cancel()
        if tasks:
            await asyncio.wait(list(tasks.values()), timeout=timeout)
        return sorted(tasks)


_RUNTIME: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _RUNTIME
    _RUNTIME = runtime


def runtime() -> Runtime:
    if _RUNTIME is None:
        raise RuntimeError("no job runtime in this process: start `jobber-robot worker`")
    return _RUNTIME


def current() -> Runtime | None:
    """The runtime, or None outside a process that runs jobs (a client, a test)."""
    return _RUNTIME

