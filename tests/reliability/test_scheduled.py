"""Scheduled work: a worker with link_reconcile_minutes=1 enqueues, per merchant with gateway keys,
a link_reconcile job and an ACH return check every minute (DBOS schedule), run like any job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import make_env, reset_world


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_scheduled_reconcile_and_ach_checks(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, link_reconcile_minutes=1)
    try:
        worker = env.worker("w1")
        deadline = time.monotonic() + 150
        want = {("link_reconcile", "acme"), ("ach_check", "acme"), ("link_reconcile", "bravo"), ("ach_check", "bravo")}
        while True:
            from robot.jobs.store import list_jobs

            seen = {(v.kind, v.merchant): v for v in list_jobs(env.client, limit=50) if v.job_id.startswith("sched-")}
            if want <= set(seen):
                break
            assert worker.poll() is None, env.tail()
            assert time.monotonic() < deadline, f"scheduled jobs missing: {want - set(seen)}\n{env.tail()}"
            time.sleep(1)
        acme = [v for (kind, m), v in seen.items() if m == "acme"]
        for v in acme:
            done = env.wait_job(v.job_id, timeout=120, watch=[worker])
            assert done.status == "finished" and done.outcome == "succeeded", (done.kind, done.message)
    finally:
        env.stop_all()
