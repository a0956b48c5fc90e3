"""Throughput on two `jobber-robot worker` processes sharing one PostgreSQL job store.

A fresh database on 127.0.0.1:5432 (user postgres) for the run, dropped after; the workers get
the bench's settings through their environment (same vault, mock site and sandbox). Each
merchant's first job (its sign-in) is run first and not counted; then `jobs_per_merchant` jobs
of every merchant are queued at once and the figure is jobs per minute until the last is done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import world as w
from benchmarks.variants import BenchError, charge

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CLI = str(Path(sys.executable).parent / "jobber-robot")


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure: not reachable, the figure is skipped
        return False


@contextmanager
def database() -> Iterator[str]:
    import psycopg

    name = f"jr_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(world: w.World, database_url: str, concurrency: int) -> dict[str, str]:
    s = world.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBBER_ROBOT_")}
    assert s.credential_key is not None
    env.update({
        "JOBBER_ROBOT_DATA_DIR": str(s.data_path), "JOBBER_ROBOT_JOBBER_URL": s.jobber_url,
        "JOBBER_ROBOT_GATEWAY_URL": s.gateway_url, "JOBBER_ROBOT_HOST_RESOLVER_RULES": s.host_resolver_rules or "",
        "JOBBER_ROBOT_CREDENTIAL_KEY": s.credential_key.get_secret_value(), "JOBBER_ROBOT_DATABASE_URL": database_url,
        "JOBBER_ROBOT_QUEUE_CONCURRENCY": str(concurrency), "JOBBER_ROBOT_SESSION_IDLE_SECONDS": "3600",
        "JOBBER_ROBOT_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    })
    return env


def two_workers(world: w.World, slugs: list[str], invoices: Any, jobs_per_merchant: int) -> dict[str, Any]:
    """Jobs per minute of `slugs` x `jobs_per_merchant` jobs on two worker processes."""
    from robot.config import load_settings
    from robot.jobs import dbos_app
    from robot.jobs.queue import enqueue

    with database() as url:
        env = _env(world, url, concurrency=len(slugs))
        pg = load_settings(**{**world.settings.model_dump(exclude={"database_url", "credential_key"}),
                              "database_url": url, "credential_key": env["JOBBER_ROBOT_CREDENTIAL_KEY"]})
        client = dbos_app.client(pg)  # creates the job store before two workers race to migrate it
        procs = [subprocess.Popen([CLI, "worker", "--worker-id", f"bench-w{n}", "--grace", "20"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for n in (1, 2)]
        ready = [threading.Event() for _ in procs]
        tails: list[list[str]] = [[] for _ in procs]

        def watch(i: int) -> None:  # each worker's output, until it says it is ready (then drained)
            out = procs[i].stdout
            assert out is not None
            for raw in out:
                line = raw.decode(errors="replace")
                tails[i] = (tails[i] + [line])[-20:]
                if f"worker bench-w{i + 1} ready" in line:
                    ready[i].set()
            ready[i].set()  # it exited: the check below says so

        for i in range(len(procs)):
            threading.Thread(target=watch, args=(i,), daemon=True).start()
        try:
            for i, ev in enumerate(ready):
                if not ev.wait(90) or procs[i].poll() is not None:
                    raise BenchError(f"worker {i + 1} did not start: {''.join(tails[i])[-800:]}")

            def burst(jobs: list[tuple[str, int]]) -> float:
                started = time.perf_counter()
                ids = [enqueue(charge(s, i), client=client)[0] for s, i in jobs]
                for jid in ids:
                    res = client.retrieve_workflow(jid).get_result(polling_interval_sec=0.05)
                    outcome = res.get("outcome") if isinstance(res, dict) else getattr(res, "outcome", None)
                    if str(getattr(outcome, "value", outcome)) != "succeeded":
                        raise BenchError(f"two-worker job {jid} did not succeed: {outcome}")
                return time.perf_counter() - started

            burst([(s, invoices.next(s)) for s in slugs])  # each merchant's sign-in, not counted
            jobs = [(s, invoices.next(s)) for _ in range(jobs_per_merchant) for s in slugs]
            seconds = burst(jobs)
            executors = {st.executor_id for st in client.list_workflows()}
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(40)
                except subprocess.TimeoutExpired:
                    p.kill()
            client.destroy()
    return {"jobs": len(jobs), "seconds": round(seconds, 2), "jobs_per_min": len(jobs) / seconds * 60,
            "executors": sorted(e for e in executors if e)}
