"""What a flow runs inside: a step runner, the merchant's Jobber pages, the gateway, a person.

A flow is `async def run(ctx: FlowContext, job) -> JobResult`. Each stage (verify invoice →
gateway call → record in Jobber → verify balance) goes through `ctx.step(name, fn)`:
- `DirectSteps` runs it in-process (tests of flows, dry runs);
- the job queue passes a durable runner (`DBOS.run_step_async({"name": name}, fn)`), so a crash
  resumes at the first stage that did not finish. A stage may therefore run twice: it must be
  idempotent (gateway idempotency keys, look-before-write in Jobber) and return a picklable
  value (pydantic models, dicts, Decimals).

Every write into Jobber is preceded, immediately, by `ctx.fence()` (the page objects call it with
the form filled, right before Save): under the job queue it
raises robot.errors.JobFenced when this execution no longer owns the job (cancelled, or taken
over by another worker), so a worker that stalled mid-stage and woke up late cannot record a
payment a second time. Direct runs have nothing to be fenced from: the default does nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from robot.faultpoints import crash_point
from robot.gateway.base import Gateway
from robot.jobs.models import Candidate, StepTiming, idempotency_key
from robot.logging import bind_context, get_logger

if TYPE_CHECKING:
    from flows.pages.tab import JobberTab
    from robot.config import Settings
    from robot.vault import MerchantCredentials

T = TypeVar("T")


#: checked immediately before each write into Jobber; raises JobFenced when the job changed owner
Fence = Callable[[], Awaitable[None]]


async def no_fence() -> None:
    """The fence of a run that nobody can take over (a direct run, a flow test)."""


class StepRunner(Protocol):
    async def __call__(self, name: str, fn: Callable[[], Awaitable[T]]) -> T: ...


class JobberAccess(Protocol):
    """Opens a signed-in Jobber tab for the job's merchant (session reused, re-login once)."""

    def page(self) -> AbstractAsyncContextManager["JobberTab"]: ...


class HeldJobber:
    """JobberAccess that opens the merchant's session once per job and hands out the same page.

    The session pool's context (its lock, trace chunk and evidence on failure) stays open until
    `aclose()`, so an exception that leaves the job through `aclose(exc)` gets its evidence saved.
    `release()` gives the session back early (before waiting on a person).
    """

    def __init__(self, access: Any) -> None:
        self.access = access
        self._stack: AsyncExitStack | None = None
        self._tab: "JobberTab | None" = None
        # invoice number → Jobber id: the merchant's (the session pool keeps it across jobs) or this
        # job's; an id from it is checked against the number of the invoice it opens, never trusted
        known = getattr(access, "invoice_ids", None)
        self.invoice_ids: dict[int, int] = known if isinstance(known, dict) else {}
        #: invoice ids loaded by this execution on the held tab (what Jobber had then, this job)
        self.loaded: set[int] = set()

    def page(self) -> AbstractAsyncContextManager["JobberTab"]:
        return self._held()

    @asynccontextmanager
    async def _held(self) -> AsyncIterator["JobberTab"]:
        if self._tab is None or self._tab.page.is_closed():
            if self._stack is not None:
                await self.release()
            stack = AsyncExitStack()
            tab = await stack.enter_async_context(self.access.page())
            self._stack, self._tab = stack, tab
        yield self._tab

    async def release(self, exc: BaseException | None = None) -> None:
        stack, self._stack, self._tab = self._stack, None, None
        self.loaded.clear()
        if stack is None:
            return
        if exc is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)


class Confirmer(Protocol):
    """Asks a person to pick the invoice when a client has several open ones.

    Returns the chosen invoice number, or None when nobody can answer now (direct runs,
    or the queue's wait timed out): the flow then ends `needs_confirmation`.
    """

    async def choose_invoice(self, candidates: list[Candidate]) -> int | None: ...


class NoConfirmer:
    async def choose_invoice(self, candidates: list[Candidate]) -> int | None:
        return None


class DirectSteps:
    """Runs stages in-process, in order; nothing is checkpointed."""

    async def __call__(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await fn()


@dataclass
class FlowContext:
    job_id: str
    settings: "Settings"
    creds: "MerchantCredentials"
    gateway: Gateway                  # this merchant's
    jobber: JobberAccess
    runner: StepRunner = field(default_factory=DirectSteps)
    confirmer: Confirmer = field(default_factory=NoConfirmer)
    fence: Fence = no_fence
    timings: list[StepTiming] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)

    @property
    def merchant(self) -> str:
        return self.creds.merchant

    def key(self, step: str) -> str:
        """Idempotency key (and gateway reference) for a money-moving step of this job."""
        return idempotency_key(self.job_id, step)

    async def step(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one stage through the runner, with timing and bound log context."""
        bind_context(merchant=self.merchant, job=self.job_id, step=name)
        log = get_logger("flows")
        started = datetime.now(UTC)
        log.info("step started")
        crash_point(f"before:{name}")
        try:
            result = await self.runner(name, fn)
            crash_point(f"after:{name}")
            return result
        finally:
            self.timings.append(StepTiming(step=name, started_at=started, finished_at=datetime.now(UTC)))
            log.info("step finished", seconds=round((datetime.now(UTC) - started).total_seconds(), 3))
