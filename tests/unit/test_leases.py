"""Executor leases in the job store: a heartbeat keeps a lease; silence lets it run out."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from robot.jobs.leases import ExecutorLeases


def _wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_silent_executor_expires_and_a_beating_one_does_not(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    short = ExecutorLeases(url, "w-short", lease_seconds=0.2)
    long = ExecutorLeases(url, "w-long", lease_seconds=600)
    watcher = ExecutorLeases(url, "w-watch", lease_seconds=600)
    short.beat()
    long.beat()
    _wait_until(lambda: [lease.executor_id for lease in watcher.expired()] == ["w-short"])
    (dead,) = watcher.expired()

    # it came back meanwhile: its newer heartbeat is not forgotten
    short.beat()
    assert not watcher.forget(dead)
    _wait_until(lambda: watcher.expired() != [])
    assert watcher.forget(watcher.expired()[0])
    assert watcher.expired() == []


def test_executors_holding_jobs_without_a_lease_get_one_from_now(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    watcher = ExecutorLeases(url, "w-watch", lease_seconds=0.2)
    assert watcher.assume({"w-ghost", "w-watch"}) == ["w-ghost"]
    assert watcher.assume({"w-ghost"}) == []
    _wait_until(lambda: [lease.executor_id for lease in watcher.expired()] == ["w-ghost"])
