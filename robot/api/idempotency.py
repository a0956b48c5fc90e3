"""Idempotency-Key, as Stripe defines it, kept in the job store (`jobber_robot_idempotency`).

- Required for every money-moving job (charge, deposit, quote_deposit, link, refund, void): a
  POST /jobs without one is 400 `idempotency_key_missing`, so a POS retrying a timed-out request
  can never charge twice. Optional (and honoured) for the other kinds.
- The first request with a key claims it atomically (the row's primary key decides between two
  racing requests) and saves its status code and job once the job is queued. A later request
  with the same key and the same request (path and validated body) is answered with that status
  code and that job, as it stands now, with the header `Idempotent-Replayed: true`; nothing new
  is queued. While the first request is still being processed the second waits for it (up to
  IN_FLIGHT_WAIT seconds), then gets 409 `idempotency_key_in_use`.
- The same key with another request is 400 `idempotency_key_reused`.
- Nothing is saved when the request fails validation (4xx before the job is queued), or when
  queueing fails: the same key may then be sent again.
- Keys expire `settings.idempotency_key_hours` (24 h by default) after their first use; after
  that the key is new again. Keys are stored as SHA-256 hashes, never in clear.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from robot.api.errors import ApiError
from robot.cards import CARD_NUMBER_RULE, looks_like_card_number
from robot.jobs.robot_tables import engine

#: how long a replay waits for the first request with its key to finish
IN_FLIGHT_WAIT = 15.0
MAX_KEY_LENGTH = 255

metadata = sa.MetaData()

keys = sa.Table(
    "jobber_robot_idempotency", metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # in_progress | done
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("job_id", sa.String(255), nullable=True),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_at_ms", sa.BigInteger, nullable=False, index=True),
)

_ready: set[str] = set()


def _engine(url: str) -> sa.Engine:
    eng = engine(url)
    if url not in _ready:
        try:
            metadata.create_all(eng, checkfirst=True)
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
            metadata.create_all(eng, checkfirst=True)
        _ready.add(url)
    return eng


def check_key(key: str | None) -> None:
    """The key's own rules (1-255 printable characters, nothing shaped like a card number)."""
    if key is None:
        return
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError("idempotency_key_invalid", f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} printable characters",
                       "Idempotency-Key")
    if looks_like_card_number(key):
        raise ApiError("idempotency_key_invalid", f"Idempotency-Key: {CARD_NUMBER_RULE}", "Idempotency-Key")


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def key_hash(key: str) -> str:
    return hashlib.sha256(b"jobber-robot-idempotency\x00" + key.encode()).hexdigest()


@dataclass
class Claim:
    """The outcome of presenting a key: ours to fill (`won`), or a saved answer to replay."""

    won: bool
    key_hash: str
    status_code: int | None = None
    job_id: str | None = None


_settled = threading.Condition()  # a key in flight was answered or let go (this process)
_REREAD_SECONDS = 0.25  # another process's answer is seen by re-reading its row this often


def _notify_settled() -> None:
    with _settled:
        _settled.notify_all()


class IdempotencyStore:
    def __init__(self, url: str, hours: float, in_flight_wait: float = IN_FLIGHT_WAIT) -> None:
        self.engine = _engine(url)
        self.ttl_ms = int(hours * 3600 * 1000)
        self.in_flight_wait = in_flight_wait

    def claim(self, key: str, fp: str) -> Claim:
        """Claim the key for this request, or find the saved answer (waits for one in flight)."""
        h = key_hash(key)
        now = int(time.time() * 1000)
        t = keys
        with self.engine.begin() as c:
            c.execute(sa.delete(t).where(t.c.expires_at_ms < now))  # expired keys are new again
        try:
            with self.engine.begin() as c:
                c.execute(sa.insert(t).values(key_hash=h, fingerprint=fp, state="in_progress",
                                              created_at_ms=now, expires_at_ms=now + self.ttl_ms))
            return Claim(won=True, key_hash=h)
        except sa.exc.IntegrityError:
            pass
        deadline = time.monotonic() + self.in_flight_wait
        while True:
            with self.engine.connect() as c:
                row = c.execute(sa.select(t).where(t.c.key_hash == h)).mappings().first()
            if row is None:  # the first request failed and let the key go: take it
                return self.claim(key, fp)
            if row["fingerprint"] != fp:
                raise ApiError("idempotency_key_reused",
                               "Idempotency-Key: this key was already used with another request (another "
                               "path or body); use a new key for a new job", "Idempotency-Key")
            if row["state"] == "done":
                return Claim(won=False, key_hash=h, status_code=row["status_code"], job_id=row["job_id"])
            if time.monotonic() > deadline:
                raise ApiError("idempotency_key_in_use", "Idempotency-Key: a request with this key is still being "
                               "processed; retry in a moment", "Idempotency-Key")
            with _settled:  # woken by save/release in this process; the timeout re-reads for other processes
                _settled.wait(timeout=min(_REREAD_SECONDS, max(0.0, deadline - time.monotonic())))

    def save(self, claim: Claim, status_code: int, job_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(keys).where(keys.c.key_hash == claim.key_hash)
                      .values(state="done", status_code=status_code, job_id=job_id))
        _notify_settled()

    def release(self, claim: Claim) -> None:
        """The request failed before anything was queued: the key may be used again."""
        with self.engine.begin() as c:
            c.execute(sa.delete(keys).where(keys.c.key_hash == claim.key_hash, keys.c.state == "in_progress"))
        _notify_settled()
