"""`jobber-robot worker` shutdown on SIGTERM: a running job finishes within the grace period; with
no grace it is handed back (left PENDING, nothing recorded) and a restarted worker with the same
id resumes it — money still moves once."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow

#: a worker's start, a browser and the sign-in across the identity host: slow on a loaded machine
JOB_START_S = 180
CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


@pytest.mark.timeout(900)  # three worker starts, two sign-ins and two charges
def test_sigterm_finishes_or_hands_back(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        # 1. grace: SIGTERM while the job runs → it finishes, then the worker exits 0
        first = env.enqueue(CHARGE)
        worker = env.start("worker", "--worker-id", "w1", "--grace", "150", log="worker-a")
        env.wait_job(first, lambda v: v.status == "running" and v.step is not None, timeout=JOB_START_S, watch=[worker])
        # a second worker with the same id on this host is refused (it would resume w1's jobs)
        twin = env.run_cli("worker", "--worker-id", "w1", timeout=60)
        assert twin.returncode == 2 and "already runs" in twin.stderr, twin.stderr
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=200) == 0, env.tail()
        done = env.job(first)
        assert done.status == "finished" and done.outcome == "succeeded", done.message

        # 2. no grace: the running job is handed back, then resumed by the same worker id
        mock_jobber.admin.faults(latency_ms=700)  # a slow Jobber keeps the job mid-way
        second = env.enqueue({**CHARGE, "invoice": 1050, "tender": {"type": "card_on_file", "customer_id": "cus_okafor"}})
        worker = env.start("worker", "--worker-id", "w1", "--grace", "0", log="worker-b")
        env.wait_job(second, lambda v: v.status == "running" and v.step is not None, timeout=JOB_START_S, watch=[worker])
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, env.tail()
        assert env.job(second).status == "running", "a handed-back job stays PENDING, no outcome recorded"
        mock_jobber.admin.clear_faults()
        worker = env.start("worker", "--worker-id", "w1", log="worker-c")
        done = env.wait_job(second, timeout=240, watch=[worker])
        assert done.status == "finished" and done.outcome == "succeeded", done.message
        txns = [t for t in world_sandbox.admin.transactions("acme") if t["status"] == "captured"]
        assert len(txns) == 2
        assert len(mock_jobber.admin.invoice(1050)["payments"]) == 1
    finally:
        mock_jobber.admin.clear_faults()
        env.stop_all()
