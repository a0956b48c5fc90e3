"""The robot's own small tables inside the job store (DBOS's system database).

DBOS owns its schema; the robot keeps small tables of its own beside it, in the same database so
every process that reaches the queue reaches them too (one SQLite file, or one Postgres database
shared by every worker on every machine):

- `jobber_robot_sequence`: one counter, bumped atomically for every job enqueued; the job's
  queue priority is that number, so a merchant's jobs are dequeued in the order they were queued
  (DBOS orders a partition by priority, then by `created_at`, which SQLite stamps in whole
  seconds: a burst of jobs would otherwise be taken in an arbitrary order).
- `jobber_robot_executors`: one lease row per executor (worker id), refreshed by the live worker;
  an expired lease marks a dead executor whose PENDING jobs a live worker hands to DBOS's recovery.
- `jobber_robot_health`: each merchant's access results (the latest job's sign-in, doctor runs),
  read by `merchants list` and the dashboard (robot/health.py).
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

metadata = sa.MetaData()

sequence = sa.Table(
    "jobber_robot_sequence", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

executors = sa.Table(
    "jobber_robot_executors", metadata,
    sa.Column("executor_id", sa.String(255), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at_ms", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_at_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_ms", sa.BigInteger, nullable=False),
)

health = sa.Table(
    "jobber_robot_health", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("merchant", sa.String(63), nullable=False, index=True),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("result", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("next_action", sa.Text, nullable=False),
    sa.Column("ref", sa.String(255), nullable=True),
)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def _sa_url(url: str) -> sa.URL:
    u = sa.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")  # the driver DBOS itself uses
    return u


def engine(url: str) -> sa.Engine:
    """One engine per job store in this process, its tables created on first use."""
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            u = _sa_url(url)
            if u.drivername.startswith("sqlite"):
                # several processes share the file: wait for a writer instead of failing at once
                eng = sa.create_engine(u, connect_args={"timeout": 30})
            else:
                eng = sa.create_engine(u, pool_pre_ping=True, pool_size=2, max_overflow=2,
                                       connect_args={"connect_timeout": 10})
            try:
                metadata.create_all(eng, checkfirst=True)
            except sa.exc.IntegrityError:
                pass  # another process created them at the same moment
            except sa.exc.ProgrammingError:
                metadata.create_all(eng, checkfirst=True)
            _engines[url] = eng
        return eng


def dispose_all() -> None:
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


#: DBOS accepts queue priorities 1 … 2**31-1 (lower runs first)
MAX_PRIORITY = 2**31 - 1


def next_sequence(url: str, name: str = "jobs") -> int:
    """The next number of the job store's counter `name` (1, 2, ...), atomically, across processes.

    One UPDATE ... RETURNING on a single row: concurrent enqueuers (serve, CLI, scheduled ticks,
    on any machine) are serialized by the row lock, so no two jobs get the same number and a job
    enqueued later gets a larger one."""
    t = sequence
    eng = engine(url)
    for _ in range(3):
        with eng.begin() as c:
            value = c.execute(sa.update(t).where(t.c.name == name).values(value=t.c.value + 1)
                              .returning(t.c.value)).scalar()
            if value is not None:
                return int(value)
        try:
            with eng.begin() as c:
                c.execute(sa.insert(t).values(name=name, value=0))
        except sa.exc.IntegrityError:
            pass  # another process made the row first
    raise RuntimeError(f"job store counter {name!r} could not be read")


def queue_priority(url: str) -> int:
    """The priority that keeps queue order (FIFO): the job's sequence number, capped at DBOS's
    maximum (after ~2 billion jobs the newest share the last priority and fall back to created_at)."""
    return min(next_sequence(url), MAX_PRIORITY)
