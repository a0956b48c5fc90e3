"""The robot's variants, each a list of timed jobs (or a memory reading) in one process.

- `naive_job`: a fresh browser, a fresh context and a full sign-in with MFA, then the flow, for
  every job (no queue; the Playwright driver is shared).
- `Bench` (the worker in this process, the real queue): `cold` (a merchant's first job on this
  worker: sign-in + MFA + charge + record), `warm` (later jobs, session reused), `burst`
  (throughput: jobs of several merchants queued at once), `open_contexts` (for memory).
- `memory`: PSS of this process (the worker) and its browser processes (driver + Chromium).

Every job must succeed: a job that does not is a bench error (`BenchError`), never a figure.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks import world as w
from robot.jobs.models import JobResult, Outcome, parse_job

#: how often the bench looks at a job's result (its own lag on a figure)
RESULT_POLL_SECONDS = 0.02


class BenchError(RuntimeError):
    """A job of the bench did not succeed, or the world refused a step: a real error."""


@dataclass
class Invoices:
    """Hands out each merchant's invoices once (a charge pays one in full)."""

    plan: w.Plan
    used: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows_used: dict[bool, list[int]] = field(default_factory=dict)

    def next(self, slug: str) -> int:
        n = self.used[slug]
        if n >= self.plan.invoices:
            raise BenchError(f"merchant {slug} has no invoice left (plan.invoices={self.plan.invoices})")
        self.used[slug] = n + 1
        return w.FIRST_INVOICE + n

    def rows(self, with_rows: bool) -> int:
        """m01's next row invoice with ROWS payments on it (or none)."""
        left = self.rows_used.setdefault(with_rows, [w.ROWS_INVOICE + r for r in range(self.plan.row_invoices)
                                                    if bool(r % 2) == with_rows])
        if not left:
            raise BenchError("no row invoice left")
        return left.pop(0)


def charge(slug: str, invoice: int) -> Any:
    return parse_job({"kind": "charge", "merchant": slug, "invoice": invoice,
                      "tender": {"type": "card_on_file", "customer_id": f"cus_{slug}"}})


def _check(result: Any, what: str) -> JobResult:
    if isinstance(result, dict):
        result = JobResult.model_validate(result)
    if not isinstance(result, JobResult) or result.outcome is not Outcome.succeeded:
        msg = getattr(result, "message", repr(result))
        raise BenchError(f"{what}: the job did not succeed: {getattr(result, 'outcome', '?')} {msg}")
    return result


# --- naive -------------------------------------------------------------------------------------


async def naive_job(world: w.World, playwright: Any, slug: str, invoice: int) -> float:
    """Launch Chromium, open a context, sign in with MFA and run the flow; close it all."""
    from flows.service import run_job
    from robot.sessions import SessionPool
    from robot.twofactor import TotpCodes

    world.vault.clear_storage_state(slug)
    started = time.perf_counter()
    pool = SessionPool(world.settings, world.vault, playwright=playwright, totp=TotpCodes())
    await pool.start()
    try:
        result = await run_job(charge(slug, invoice), job_id=f"naive-{uuid.uuid4().hex[:10]}",
                               settings=world.settings, pool=pool, vault=world.vault)
    finally:
        await pool.close()
    elapsed = time.perf_counter() - started
    _check(result, f"naive job {slug} #{invoice}")
    return elapsed


# --- the worker and the queue ------------------------------------------------------------------


class Bench:
    """A worker in this process (DBOS + session pool + one browser) and a client that enqueues."""

    def __init__(self, world: w.World) -> None:
        self.world = world
        self.worker: Any = None
        self.client: Any = None

    async def __aenter__(self) -> "Bench":
        from robot.jobs import dbos_app
        from robot.jobs.worker import Worker

        self.worker = Worker(self.world.settings, executor_id=f"bench-{os.getpid()}", schedules=False,
                             recover_dead=False)
        await self.worker.start()
        self.client = await asyncio.to_thread(dbos_app.client, self.world.settings)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await asyncio.to_thread(self.client.destroy)
        if self.worker is not None:
            await self.worker.stop(grace=30)

    @property
    def pool(self) -> Any:
        return self.worker.runtime.pool

    async def _enqueue(self, job: Any) -> str:
        from robot.jobs.queue import enqueue

        jid, _ = await asyncio.to_thread(enqueue, job, client=self.client)
        return jid

    async def _result(self, jid: str) -> Any:
        from dbos import DBOS

        handle = await DBOS.retrieve_workflow_async(jid)
        return await handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS)

    async def job(self, slug: str, invoice: int) -> tuple[float, JobResult]:
        """One job through the queue: seconds from enqueue to its result, and the result."""
        started = time.perf_counter()
        jid = await self._enqueue(charge(slug, invoice))
        result = _check(await self._result(jid), f"job {slug} #{invoice}")
        return time.perf_counter() - started, result

    async def burst(self, jobs: list[tuple[str, int]]) -> tuple[float, list[float]]:
        """Queue every job at once (merchants interleaved); total seconds and each job's seconds."""
        started = time.perf_counter()
        ids = [await self._enqueue(charge(slug, inv)) for slug, inv in jobs]

        async def one(jid: str, what: str) -> float:
            _check(await self._result(jid), what)
            return time.perf_counter() - started

        each = await asyncio.gather(*(one(jid, f"burst job {s} #{i}") for jid, (s, i) in zip(ids, jobs)))
        return time.perf_counter() - started, list(each)

    async def forget(self, slug: str) -> None:
        """Make the merchant's next job a cold one: context closed, stored session dropped."""
        await self.pool.close_merchant(slug)
        self.world.vault.clear_storage_state(slug)

    async def open_contexts(self, slugs: list[str], at_once: int = 4) -> None:
        """Open (sign in, the app shown) each merchant's context that is not open yet, a few at once."""
        open_now = self.pool.sessions()
        gate = asyncio.Semaphore(at_once)

        async def one(slug: str) -> None:
            async with gate, self.pool.job(slug, f"open-{slug}"):
                pass

        await asyncio.gather(*(one(s) for s in slugs if s not in open_now))

    async def keep_only(self, slugs: list[str]) -> None:
        for slug in list(self.pool.sessions()):
            if slug not in slugs:
                await self.pool.close_merchant(slug)


# --- memory ------------------------------------------------------------------------------------


def memory(exclude_pid: int) -> dict[str, Any]:
    """PSS (proportional set size: each shared page divided among the processes sharing it, so the
    figures add up) of this process (the worker) and of its descendants (the Playwright driver
    and every Chromium process), the test world's server process excluded. In MB."""
    import psutil

    me = psutil.Process()
    skip = {exclude_pid}
    try:
        skip |= {p.pid for p in psutil.Process(exclude_pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        pass
    parts = {"worker": 0.0, "driver": 0.0, "browser": 0.0}
    count = 0
    for p in [me, *me.children(recursive=True)]:
        if p.pid in skip:
            continue
        try:
            pss = p.memory_full_info().pss / 1e6
            name = p.name().lower()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        kind = "worker" if p.pid == me.pid else ("browser" if "chrom" in name else "driver")
        parts[kind] += pss
        count += 1
    return {**{k: round(v, 1) for k, v in parts.items()}, "total": round(sum(parts.values()), 1), "processes": count}
