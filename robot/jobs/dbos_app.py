"""DBOS Transact for the job queue: one configuration from settings, launch/destroy, a client.

- The system database is `settings.system_database_url`: a SQLite file under DATA_DIR by default,
  Postgres when JOBBER_ROBOT_DATABASE_URL is set (several workers, several machines).
- Processes that run jobs (`worker`, the in-process worker of the direct commands) *launch*
  DBOS inside their asyncio loop, so queued workflows run on that loop next to the browser.
- Processes that only enqueue, steer or read jobs (`enqueue`, `serve`, `handoff`, `jobs`) use a
  `DBOSClient`: no workflow runs there and nothing is recovered there.
- Executor ids: a worker keeps one id across restarts (`--worker-id`, default
  `worker-<hostname>`), so after a crash the restarted worker resumes its own jobs. Two workers on
  one Postgres must have different ids. The in-process worker of a direct command uses
  `cli-<hostname>-<pid>`; a worker adopts such jobs when that process is gone. A worker that
  never comes back under its id (a replaced container has a new hostname) stops refreshing its
  lease in the job store; once the lease runs out a live worker has DBOS recover its jobs
  (robot/jobs/leases.py).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from dbos import DBOS, DBOSClient

from robot import __version__
from robot.jobs import dbos_private, queue, scheduled, workflows  # noqa: F401 - importing them registers their DBOS workflows
from robot.webhooks import delivery

if TYPE_CHECKING:
    from dbos import DBOSClient

    from robot.config import Settings

APP_NAME = "jobber-robot"


def app_version() -> str:
    """One version for every process of a release, so a worker runs what `serve` enqueued."""
    return f"jobber-robot-{__version__}"


def default_worker_id() -> str:
    return os.environ.get("JOBBER_ROBOT_WORKER_ID") or f"worker-{socket.gethostname()}"


def cli_executor_id() -> str:
    return f"cli-{socket.gethostname()}-{os.getpid()}"


def is_postgres(settings: "Settings") -> bool:
    return settings.system_database_url.startswith(("postgresql", "postgres"))


def dbos_config(settings: "Settings", executor_id: str) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "name": APP_NAME,
        "system_database_url": settings.system_database_url,
        "application_version": app_version(),
        "executor_id": executor_id,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.2,
        "scheduler_polling_interval_sec": 5.0,
    }
    return cfg


def _quiet_dbos() -> None:
    """DBOS's own INFO lines (migrations, queue registration) are noise on the robot's console."""
    logging.getLogger("dbos").setLevel(logging.WARNING)


def _prepare(settings: "Settings") -> None:
    _quiet_dbos()
    settings.ensure_dirs()
    if not is_postgres(settings):
        # the job store holds job inputs and results: private to the robot's user
        # (made before SQLite opens it: SQLite gives its -wal and -shm files the main file's mode)
        path = settings.data_path / "jobs.sqlite"
        if not path.exists():
            path.touch(mode=0o600)
        path.chmod(0o600)


async def launch(settings: "Settings", *, executor_id: str, listen: bool | list[str] = True) -> None:
    """Launch DBOS in the running event loop and register the job queue (and handoff waits).
    `listen`: dequeue from every queue (True), none (False), or only the queues named."""
    _prepare(settings)
    delivery.configure(settings)
    DBOS(config=dbos_config(settings, executor_id))  # type: ignore[arg-type]
    if listen is False:
        DBOS.listen_queues([])
    elif isinstance(listen, list):
        DBOS.listen_queues(listen)
    DBOS.launch()
    _quiet_dbos()
    await queue.register(settings)


def destroy() -> None:
    DBOS.destroy(workflow_completion_timeout_sec=0)
    # DBOS's console handler holds the sys.stderr of its first launch (a CliRunner's, maybe closed
    # by now); drop it so a later launch in this process makes a fresh one
    dbos_logger = logging.getLogger("dbos")
    for h in list(dbos_logger.handlers):
        if type(h) is logging.StreamHandler:
            dbos_logger.removeHandler(h)


def stop_dequeuing() -> None:
    """Stop this process's queue and scheduler threads (jobs already running go on)."""
    dbos_private.stop_background_threads()


_migrated: set[str] = set()


def client(settings: "Settings") -> "DBOSClient":
    """A client on the job store (created/migrated on first use, the job queue registered)."""
    url = settings.system_database_url
    if url not in _migrated:
        _prepare(settings)
        DBOS.migrate(url)
        _migrated.add(url)
    _quiet_dbos()
    c = DBOSClient(system_database_url=url, application_name=APP_NAME)
    queue.register_with_client(c, settings)
    return c
