"""The bench's plan and its order: every variant in one run, each at 0 and 100 ms latency.

    results = asyncio.run(run(Sizes.quick()))

Order: HTTP floor → naive robot → worker start → cold jobs → warm jobs → payment rows →
throughput by merchants → memory by contexts. Latency is the mock's own fault setting, switched
between the two passes of each variant.
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import floor
from benchmarks import world as w
from benchmarks.stats import Figure, Results
from benchmarks.variants import Bench, Invoices, memory, naive_job

LATENCIES = (0, 100)


@dataclass(frozen=True)
class Sizes:
    """How many samples of each figure."""

    floor: int
    naive: int
    cold: int
    warm: int
    rows: int                    # jobs on row invoices, each of with / without rows
    throughput: tuple[int, ...]  # merchants queued at once
    jobs_per_merchant: int
    throughput_latency: tuple[int, ...]  # merchants of the throughput pass at 100 ms too
    contexts: tuple[int, ...]
    quick: bool = False
    #: seconds of the run after which each figure stops taking more samples (it keeps one at least)
    budget_s: float | None = None
    #: merchants for the two-worker PostgreSQL throughput (0: not run); skipped past the budget
    two_workers: int = 0

    @classmethod
    def quick_run(cls) -> "Sizes":
        return cls(floor=5, naive=1, cold=1, warm=4, rows=1, throughput=(1, 2, 4), jobs_per_merchant=1,
                   throughput_latency=(), contexts=(1, 4), quick=True, budget_s=80)

    @classmethod
    def full_run(cls) -> "Sizes":
        return cls(floor=15, naive=4, cold=3, warm=15, rows=3, throughput=(1, 2, 4, 8), jobs_per_merchant=3,
                   throughput_latency=(1, 2), contexts=(1, 4, 16), budget_s=360,
                   two_workers=4)

    @classmethod
    def tiny_run(cls) -> "Sizes":
        """One job per variant (the bench's own test)."""
        return cls(floor=1, naive=1, cold=1, warm=1, rows=1, throughput=(1, 2), jobs_per_merchant=1,
                   throughput_latency=(), contexts=(1,), quick=True)

    def plan(self) -> w.Plan:
        merchants = max(max(self.throughput), max(self.contexts))
        passes = len(LATENCIES)
        bursts = len(self.throughput) + len(self.throughput_latency)
        per_m01 = 1 + self.warm * passes + self.jobs_per_merchant * (bursts + 1) + 1
        return w.Plan(warm_merchants=merchants, cold=self.cold * passes, naive=self.naive * passes,
                      invoices=max(per_m01, self.floor * passes) + 2, row_invoices=2 * self.rows * passes)


def _machine() -> dict[str, Any]:
    import psutil

    return {"cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_before": [round(x, 2) for x in os.getloadavg()]}


async def run(sizes: Sizes, say: Callable[[str], None] = lambda _s: None) -> Results:
    from playwright.async_api import async_playwright

    started = time.perf_counter()
    plan = sizes.plan()
    results = Results(machine=_machine())
    deadline = None if sizes.budget_s is None else started + sizes.budget_s

    def room(fig: Figure) -> bool:
        """Another sample for this figure? Always a first one; more while the budget lasts."""
        return not fig.samples or deadline is None or time.perf_counter() < deadline

    with w.started(plan, queue_concurrency=max(8, max(sizes.throughput))) as world:
        s = world.settings
        from robot.logging import configure_logging

        configure_logging(s, console=False)  # the robot's log goes to its file; the bench prints tables
        results.settings = {"trace": s.trace, "queue_concurrency": s.queue_concurrency, "invoices_per_merchant":
                            plan.invoices, "quick": sizes.quick}
        inv = Invoices(plan)
        cold_slugs = iter(f"c{i:02d}" for i in range(1, plan.cold + 1))
        naive_slugs = iter(f"n{i:02d}" for i in range(1, plan.naive + 1))

        # HTTP floor: one signed-in client, three GraphQL calls per job
        say("HTTP floor")
        for lat in LATENCIES:
            world.latency(lat)
            client, sign_in_s = await asyncio.to_thread(floor.timed_sign_in, world, "floor")
            fig = results.add(Figure(variant="floor", latency_ms=lat, note="find + record + read back over GraphQL"))
            try:
                for _ in range(sizes.floor):
                    if not room(fig):
                        break
                    number = inv.next("floor")
                    t0 = time.perf_counter()
                    await asyncio.to_thread(floor.job, client, number)
                    fig.samples.append(time.perf_counter() - t0)
            finally:
                client.close()
            results.add(Figure(variant="sign_in_http", latency_ms=lat, samples=[sign_in_s],
                               note="the sign-in's own server time: password + TOTP over HTTP"))
        world.latency(0)

        say("naive robot")
        async with async_playwright() as pw:
            for lat in LATENCIES:
                world.latency(lat)
                fig = results.add(Figure(variant="naive", latency_ms=lat,
                                         note="fresh browser + context + sign-in with MFA per job"))
                for _ in range(sizes.naive):
                    if not room(fig):
                        break
                    slug = next(naive_slugs)
                    fig.samples.append(await naive_job(world, pw, slug, inv.next(slug)))
        world.latency(0)

        async with Bench(world) as bench:
            say("cold jobs")
            for lat in LATENCIES:
                world.latency(lat)
                fig = results.add(Figure(variant="cold", latency_ms=lat, note="first job of a merchant on the worker"))
                for _ in range(sizes.cold):
                    if not room(fig):
                        break
                    slug = next(cold_slugs)
                    seconds, _r = await bench.job(slug, inv.next(slug))
                    fig.samples.append(seconds)
                    await bench.pool.close_merchant(slug)  # it is not one of the warm merchants
            say("warm jobs")
            world.latency(0)
            await bench.job("m01", inv.next("m01"))  # its first job: the session is made here
            for lat in LATENCIES:
                world.latency(lat)
                fig = results.add(Figure(variant="warm", latency_ms=lat, note="later job, session reused, via the queue"))
                for _ in range(sizes.warm):
                    if not room(fig):
                        break
                    seconds, res = await bench.job("m01", inv.next("m01"))
                    fig.samples.append(seconds)
                    fig.extra.setdefault("in_flow", []).append(round(sum(
                        (st.finished_at - st.started_at).total_seconds() for st in res.steps), 4))
            say("payment rows")
            for lat in ((0,) if sizes.quick else LATENCIES):
                world.latency(lat)
                for with_rows in (False, True):
                    fig = results.add(Figure(variant=f"warm_rows_{w.ROWS if with_rows else 0}", latency_ms=lat,
                                             note=f"warm job on an invoice with {w.ROWS if with_rows else 0} payments"))
                    for _ in range(sizes.rows):
                        if not room(fig):
                            break
                        seconds, _r = await bench.job("m01", inv.rows(with_rows))
                        fig.samples.append(seconds)

            say("throughput")
            for lat in LATENCIES:
                world.latency(0)
                for n in (sizes.throughput if lat == 0 else sizes.throughput_latency):
                    slugs = [f"m{i:02d}" for i in range(1, n + 1)]
                    cold = [s for s in slugs if s not in bench.pool.sessions()]
                    if cold:  # their first jobs (the sign-ins) are not part of the figure
                        await bench.burst([(s, inv.next(s)) for s in cold])
                    world.latency(lat)
                    per = sizes.jobs_per_merchant if deadline is None or time.perf_counter() < deadline else 1
                    jobs = [(s, inv.next(s)) for _ in range(per) for s in slugs]
                    total, each = await bench.burst(jobs)
                    results.add(Figure(variant=f"throughput_{n}", latency_ms=lat, unit="jobs/min",
                                       samples=[len(jobs) / total * 60],
                                       note=f"{len(jobs)} jobs of {n} merchant(s) queued at once, one worker",
                                       extra={"merchants": n, "jobs": len(jobs), "seconds": round(total, 2),
                                              "job_done_at": [round(x, 3) for x in each]}))
            world.latency(0)

            if sizes.two_workers and (deadline is None or time.perf_counter() < deadline):
                from benchmarks import scale

                if scale.postgres_reachable():
                    say("two workers on PostgreSQL")
                    slugs = [f"m{i:02d}" for i in range(1, sizes.two_workers + 1)]
                    got = await asyncio.to_thread(scale.two_workers, world, slugs, inv, sizes.jobs_per_merchant)
                    results.add(Figure(variant=f"two_workers_{len(slugs)}", unit="jobs/min", samples=[got["jobs_per_min"]],
                                       note=f"{got['jobs']} jobs of {len(slugs)} merchants, two worker processes "
                                            "on PostgreSQL", extra={"merchants": len(slugs), **got}))

            say("memory")
            for k in sizes.contexts:
                slugs = [f"m{i:02d}" for i in range(1, k + 1)]
                await bench.keep_only(slugs)
                await bench.open_contexts(slugs)
                mem = memory(world.server_pid)
                results.add(Figure(variant=f"memory_{k}", unit="MB PSS", samples=[mem["total"]],
                                   note=f"worker + driver + Chromium with {k} merchant context(s) open",
                                   extra={"contexts": k, **mem}))
    results.seconds = time.perf_counter() - started
    results.machine["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return results
