"""Retry links: which job retries which, kept in the job store (`jobber_robot_job_links`).

`jobs retry` of a job that finished without moving money enqueues a new job `<id>-r<n>`; the row
written here links the two both ways (`retry_of` on the new one, `retried_as` on the original),
so the API, `jobs show` and a replay of the original's Idempotency-Key can say where the money
went. (A resumed job keeps its own id: no link.)
"""

from __future__ import annotations

import sqlalchemy as sa

from robot.jobs.robot_tables import engine

metadata = sa.MetaData()

job_links = sa.Table(
    "jobber_robot_job_links", metadata,
    sa.Column("job_id", sa.String(255), primary_key=True),
    sa.Column("retry_of", sa.String(255), nullable=False, index=True),
)

_ready: set[str] = set()


def _engine(url: str) -> sa.Engine:
    eng = engine(url)
    if url not in _ready:
        try:
            metadata.create_all(eng, checkfirst=True)
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
            metadata.create_all(eng, checkfirst=True)  # another process made it at the same moment
        _ready.add(url)
    return eng


def link(url: str, job_id: str, retry_of: str) -> None:
    with _engine(url).begin() as c:
        if c.execute(sa.select(job_links.c.job_id).where(job_links.c.job_id == job_id)).first() is None:
            c.execute(sa.insert(job_links).values(job_id=job_id, retry_of=retry_of))


def retry_of(url: str, job_id: str) -> str | None:
    with _engine(url).connect() as c:
        return c.execute(sa.select(job_links.c.retry_of).where(job_links.c.job_id == job_id)).scalar()


def retried_as(url: str, job_id: str) -> list[str]:
    with _engine(url).connect() as c:
        rows = c.execute(sa.select(job_links.c.job_id).where(job_links.c.retry_of == job_id)).scalars().all()
    return sorted(rows, key=lambda j: (len(j), j))


def chain(url: str, job_id: str) -> list[str]:
    """The job and every retry after it, oldest first (retries of retries followed)."""
    out, todo = [job_id], [job_id]
    while todo:
        for nxt in retried_as(url, todo.pop(0)):
            if nxt not in out:
                out.append(nxt)
                todo.append(nxt)
    return out
