"""`jobber-robot worker`: runs jobs from the queue with one browser and a session pool.

- DBOS is launched inside this process's event loop, so queued job workflows run on the same
  loop as Playwright; jobs of one merchant never overlap (queue partition, concurrency 1), and
  the pool's per-merchant lock is a second guard within the process.
- On start, DBOS resumes the jobs this worker id left unfinished (crash, kill -9), and jobs of
  in-process workers (`cli-<host>-<pid>`) whose process is gone are adopted.
- While it runs, the worker keeps a lease in the job store (robot/jobs/leases.py) and looks for
  workers whose lease ran out: they died and may never come back under their id (a replaced
  container gets a new hostname, so a new default id); DBOS's recovery puts their jobs back on
  the queue, where a live worker resumes each from its last finished stage.
- SIGTERM / SIGINT: stop taking jobs, let running ones finish for up to `grace` seconds, then
  stop; a job still running then stays PENDING under this worker id and is resumed, from its
  last finished stage, when a worker with this id starts again, or by a live worker once this
  worker's lease has run out (or `jobs retry`).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dbos import DBOS

from robot.errors import ConfigError
from robot.jobs import dbos_app, dbos_private, scheduled
from robot.jobs.handoff import QueueCodeProvider
from robot.jobs.leases import ExecutorLeases, LeaseKeeper
from robot.jobs.runtime import Runtime, install
from robot.logging import get_logger
from robot.sessions import SessionPool
from robot.vault import Vault

if TYPE_CHECKING:
    from robot.config import Settings


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def adopt_orphans(settings: "Settings") -> list[str]:
    """Resume jobs left PENDING by in-process workers of this host whose process is gone."""
    prefix = f"cli-{socket.gethostname()}-"
    dead: set[str] = set()
    for st in DBOS.list_workflows(status="PENDING", load_input=False, load_output=False):
        ex = st.executor_id or ""
        if ex.startswith(prefix) and ex[len(prefix):].isdigit() and not _pid_alive(int(ex[len(prefix):])):
            dead.add(ex)
    if dead:
        dbos_private.recover_pending(sorted(dead))
    return sorted(dead)


class Worker:
    """A job runtime in this process: session pool + DBOS, until `stop()`."""

    def __init__(self, settings: "Settings", *, executor_id: str, listen: bool = True,
                 schedules: bool = True, code_fallback: Any = None, recover_dead: bool = True) -> None:
        self.settings = settings
        #: look for workers whose lease ran out and have DBOS recover their jobs (a long-running worker
        #: does; a direct command's in-process worker only keeps its own lease)
        self.recover_dead = recover_dead
        self.leases: Any = None
        self.executor_id = executor_id
        self.listen = listen
        self.schedules = schedules
        self.code_fallback = code_fallback
        self.runtime: Any = None
        self.log = get_logger("worker", worker=executor_id)

    async def start(self) -> "Worker":
        self.settings.ensure_dirs()
        vault = Vault.from_settings(self.settings)
        for creds in vault.list():
            creds.register_secrets()
        pool = SessionPool(self.settings, vault, code_provider=QueueCodeProvider(self.settings, self.code_fallback))
        await pool.start()
        self.runtime = Runtime(settings=self.settings, vault=vault, pool=pool)
        install(self.runtime)
        await dbos_app.launch(self.settings, executor_id=self.executor_id, listen=self.listen)
        if self.listen:
            adopted = await asyncio.to_thread(adopt_orphans, self.settings)
            if adopted:
                self.log.info("adopted jobs of in-process workers that are gone", executors=adopted)

        self.leases = await asyncio.to_thread(LeaseKeeper(
            ExecutorLeases(self.settings.system_database_url, self.executor_id, self.settings.executor_lease_seconds),
            recover=self.listen and self.recover_dead).start)
        if self.schedules:
            await scheduled.apply(self.settings)
        self.log.info("worker started", queue="jobs", concurrency=self.settings.queue_concurrency)
        return self

    async def stop(self, grace: float = 30.0) -> None:
        dbos_app.stop_dequeuing()
        if self.leases is not None:
            self.leases.recover = False  # take no more jobs, not even a dead worker's
        if self.runtime is not None and self.runtime.active:
            self.log.info("waiting for running jobs", jobs=sorted(self.runtime.active), grace_seconds=grace)
            if not await self.runtime.wait_idle(grace):
                handed = await self.runtime.hand_back()
                self.log.warning("jobs still running are handed back: resumed by a worker with this id, or by any "
                                 "worker once this one's lease runs out",
                                 jobs=handed)
        if self.leases is not None:
            # the lease is kept while jobs finish above; it runs out from here (handed-back jobs: see top)
            await asyncio.to_thread(self.leases.stop)
        await asyncio.to_thread(dbos_app.destroy)
        if self.runtime is not None:
            try:
                await self.runtime.pool.close()
            except Exception:  # noqa: BLE001 - the browser may be gone already
                pass
        install(None)
        self.log.info("worker stopped")


def claim_worker_id(settings: "Settings", executor_id: str) -> Any:
    """Hold DATA_DIR/workers/<id>.lock while the worker runs: a second worker with the same id on
    this host would resume (run twice) the first one's jobs at its start, so it is refused."""
    folder = settings.data_path / "workers"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # 0600 like every file the robot writes (open() would make it 0644 under the usual umask)
    fd = os.open(folder / f"{executor_id}.lock", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    f = os.fdopen(fd, "a+")  # held open for the worker's life
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise ConfigError(f"a worker with id {executor_id} already runs on this host; "
                          "give each worker its own --worker-id") from None
    return f


async def run_worker(settings: "Settings", *, executor_id: str, grace: float = 30.0,
                     on_ready: Callable[[], None] | None = None) -> None:
    lock = claim_worker_id(settings, executor_id)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = await Worker(settings, executor_id=executor_id).start()
    if on_ready:
        on_ready()
    try:
        await stop.wait()
    finally:
        worker.log.info("shutting down")
        await worker.stop(grace)
        lock.close()
