"""The Idempotency-Key store (robot/api/idempotency.py) on a real SQLite job store: a key is
claimed once; a second request waits for the first and replays it, or is told the key is in use
(409) or was used for another request (400); a failed first request lets the key go; keys expire;
keys are kept hashed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from robot.api.errors import ApiError
from robot.api.idempotency import IdempotencyStore, fingerprint


def test_claim_replay_in_use_reused_release_and_expiry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    store = IdempotencyStore(url, hours=24, in_flight_wait=0.2)
    fp = fingerprint("POST", "/jobs", {"kind": "charge", "amount": "10.00"})
    first = store.claim("order-1", fp)
    assert first.won
    with pytest.raises(ApiError) as busy:
        store.claim("order-1", fp)  # the first is still being processed
    assert (busy.value.status, busy.value.code, busy.value.param) == (409, "idempotency_key_in_use", "Idempotency-Key")
    with pytest.raises(ApiError) as other:
        store.claim("order-1", fingerprint("POST", "/jobs", {"kind": "charge", "amount": "20.00"}))
    assert (other.value.status, other.value.code) == (400, "idempotency_key_reused")
    store.save(first, 202, "job-1")
    replay = store.claim("order-1", fp)
    assert not replay.won and (replay.status_code, replay.job_id) == (202, "job-1")
    # a request that failed before queuing lets its key go
    failed = store.claim("order-2", fp)
    store.release(failed)
    assert store.claim("order-2", fp).won
    # keys are stored hashed, never in clear
    assert b"order-1" not in (tmp_path / "jobs.sqlite").read_bytes()
    # after their lifetime keys are new again
    short = IdempotencyStore(url, hours=0.2 / 3600)
    k = short.claim("order-3", fp)
    short.save(k, 202, "job-3")
    time.sleep(0.3)
    assert short.claim("order-3", fp).won


def test_a_waiting_request_gets_the_first_ones_answer_once_it_is_saved(tmp_path: Path) -> None:
    import threading

    store = IdempotencyStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}", hours=24, in_flight_wait=10)
    fp = fingerprint("POST", "/jobs", {"kind": "charge", "amount": "10.00"})
    first = store.claim("order-9", fp)
    answers: list[object] = []
    waiter = threading.Thread(target=lambda: answers.append(store.claim("order-9", fp)))
    waiter.start()
    store.save(first, 202, "job-9")
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    (replay,) = answers
    assert not replay.won and (replay.status_code, replay.job_id) == (202, "job-9")  # type: ignore[attr-defined]
