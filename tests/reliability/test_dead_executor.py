"""A worker that dies for good does not leave its job stuck (issue 11, item 2).

Worker wA is killed (-9) right after the gateway captured the money (`gateway:after_call`: the
stage did not finish) and never comes back under that id, as when its container is replaced.
Worker wB, another id, must notice that wA's lease ran out and have DBOS recover wA's job: the
job finishes succeeded under wB, the capture is recorded in Jobber exactly once, the gateway
shows one capture (the same idempotency key), the invoice is paid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import make_env, reset_world
from tests.reliability.test_crash_matrix import CHARGE, check_once, job_store

LEASE_SECONDS = 3


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_live_worker_recovers_the_job_of_a_dead_one(backend: str, tmp_path: Path, mock_jobber: Any,
                                                      world_sandbox: Any) -> None:
    with job_store(backend) as url:
        reset_world(mock_jobber, world_sandbox)
        env = make_env(tmp_path, mock_jobber, world_sandbox, database_url=url,
                       executor_lease_seconds=LEASE_SECONDS)
        try:
            _ = env.client
            job_id = env.enqueue(CHARGE)
            marker = tmp_path / "crashed"
            doomed = env.worker("wA", extra={"JOBBER_ROBOT_CRASH_AT": "gateway:after_call",
                                             "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
            assert doomed.wait(timeout=180) == -9, env.tail()
            stuck = env.job(job_id)
            assert stuck.status == "running" and stuck.executor == "wA", stuck
            assert len(world_sandbox.admin.transactions("acme")) == 1, "the money moved before the crash"

            rescuer = env.worker("wB")
            done = env.wait_job(job_id, timeout=120, watch=[rescuer])
            assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
            assert done.executor == "wB"
            check_once(mock_jobber, world_sandbox, done.result)
            assert "executor lease expired" in env.log("worker-wB")
        finally:
            env.stop_all()
