"""Executor leases: find workers that died and never came back, and let DBOS recover their jobs.

Why: DBOS recovers a PENDING workflow only when a process with the *same executor id* starts
again. A worker killed for good (its container replaced: the default id comes from the
hostname, which changes with every container) left its jobs `running` forever, the capture
unrecorded, and `jobs retry` refusing a running job.

How: every worker keeps a lease row in the job store (robot/jobs/robot_tables.py `executors`),
refreshed by a background thread every third of the lease (a thread, so a busy event loop does
not let the lease lapse). The same thread looks for leases that ran out: that executor is dead
(or frozen: then the fence stops it from writing when it wakes, robot/jobs/fence.py). Its
PENDING jobs are handed to DBOS's own recovery, `DBOS._recover_pending_workflows([executor])`,
which puts each back on its queue (same queue and merchant partition, finished steps kept) and
lets exactly one live worker dequeue it, however many workers noticed the death at once.

Times are the database's clock (`now` in SQL), never a worker's own: workers on several
machines compare one clock. An executor with PENDING jobs and no lease at all (it died before
its first heartbeat) is given a lease starting now, so it is recovered one lease later unless it
shows up.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import sqlalchemy as sa
from dbos import DBOS
from pydantic import BaseModel

from robot.jobs import dbos_private
from robot.jobs.robot_tables import engine, executors
from robot.logging import get_logger


class Lease(BaseModel):
    executor_id: str
    host: str
    pid: int
    heartbeat_at_ms: int
    lease_ms: int


def _now_ms(eng: sa.Engine) -> Any:
    """The database's current time in epoch milliseconds, as an SQL expression."""
    if eng.dialect.name == "postgresql":
        return sa.cast(sa.func.extract("epoch", sa.func.clock_timestamp()) * 1000, sa.BigInteger)
    return sa.cast((sa.func.julianday("now") - 2440587.5) * 86400000.0, sa.BigInteger)


class ExecutorLeases:
    """The lease table of one job store, seen from one executor."""

    def __init__(self, url: str, executor_id: str, lease_seconds: float) -> None:
        self.engine = engine(url)
        self.executor_id = executor_id
        self.lease_ms = int(lease_seconds * 1000)

    def beat(self) -> None:
        """Take or refresh this executor's lease (its heartbeat is now, by the database's clock)."""
        t = executors
        now = _now_ms(self.engine)
        values = {"host": socket.gethostname(), "pid": os.getpid(), "heartbeat_at_ms": now, "lease_ms": self.lease_ms}
        with self.engine.begin() as c:
            if c.execute(sa.update(t).where(t.c.executor_id == self.executor_id).values(**values)).rowcount:
                return
        try:
            with self.engine.begin() as c:
                c.execute(sa.insert(t).values(executor_id=self.executor_id, started_at_ms=now, **values))
        except sa.exc.IntegrityError:
            with self.engine.begin() as c:  # inserted by ourselves a moment ago on another connection
                c.execute(sa.update(t).where(t.c.executor_id == self.executor_id).values(**values))

    def assume(self, executor_ids: set[str]) -> list[str]:
        """Give executors that hold jobs but never took a lease one that starts now."""
        t = executors
        with self.engine.begin() as c:
            known = set(c.execute(sa.select(t.c.executor_id)).scalars())
        added = []
        for ex in sorted(executor_ids - known - {self.executor_id}):
            now = _now_ms(self.engine)
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(t).values(executor_id=ex, host="", pid=0, started_at_ms=now,
                                                  heartbeat_at_ms=now, lease_ms=self.lease_ms))
                added.append(ex)
            except sa.exc.IntegrityError:
                pass  # it took one meanwhile
        return added

    def expired(self) -> list[Lease]:
        """Other executors whose lease ran out (no heartbeat for a whole lease)."""
        t = executors
        with self.engine.begin() as c:
            rows = c.execute(sa.select(t.c.executor_id, t.c.host, t.c.pid, t.c.heartbeat_at_ms, t.c.lease_ms)
                             .where(t.c.executor_id != self.executor_id)
                             .where(t.c.heartbeat_at_ms + t.c.lease_ms < _now_ms(self.engine))).all()
        return [Lease(executor_id=r[0], host=r[1], pid=r[2], heartbeat_at_ms=r[3], lease_ms=r[4]) for r in rows]

    def forget(self, lease: Lease) -> bool:
        """Drop a dead executor's lease, unless it came back (a newer heartbeat) meanwhile."""
        t = executors
        with self.engine.begin() as c:
            return bool(c.execute(sa.delete(t).where(t.c.executor_id == lease.executor_id)
                                  .where(t.c.heartbeat_at_ms == lease.heartbeat_at_ms)).rowcount)


def pending_executors() -> set[str]:
    """Executor ids that hold PENDING workflows now (this process's launched DBOS)."""
    return {st.executor_id for st in DBOS.list_workflows(status="PENDING", load_input=False, load_output=False)
            if st.executor_id}


def recover_dead(leases: ExecutorLeases) -> dict[str, list[str]]:
    """Hand the PENDING jobs of every executor whose lease ran out to DBOS's recovery.
    Returns {dead executor: recovered job ids}. Safe to run in several workers at once."""
    log = get_logger("worker", worker=leases.executor_id)
    assumed = leases.assume(pending_executors())
    if assumed:
        log.info("executors hold jobs without a lease: leased from now", executors=assumed)
    out: dict[str, list[str]] = {}
    for lease in leases.expired():
        handles = dbos_private.recover_pending([lease.executor_id])
        jobs = sorted(h.get_workflow_id() for h in handles)
        leases.forget(lease)
        out[lease.executor_id] = jobs
        if jobs:
            log.warning("executor lease expired: its jobs go back to the queue (DBOS recovery)",
                        dead=lease.executor_id, host=lease.host, pid=lease.pid, jobs=jobs)
    return out


class LeaseKeeper:
    """The background thread of a worker: heartbeat, and recovery of dead executors' jobs."""

    def __init__(self, leases: ExecutorLeases, *, recover: bool = True) -> None:
        self.leases = leases
        self.recover = recover
        self.interval = max(0.2, leases.lease_ms / 3000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{leases.executor_id}", daemon=True)
        self.log = get_logger("worker", worker=leases.executor_id)

    def start(self) -> "LeaseKeeper":
        self.leases.beat()  # a lease before the first job can start
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):  # a timer between heartbeats, not a wait on state
            try:
                self.leases.beat()
                if self.recover:
                    recover_dead(self.leases)
            except Exception as exc:  # noqa: BLE001 - the store may be briefly unreachable: try next beat
                self.log.warning("lease heartbeat failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")
