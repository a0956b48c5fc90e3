"""`jobs retry` never risks a second charge: a job whose gateway money call got no answer is not
run again as a new job (a new job has a new idempotency key)."""

from __future__ import annotations

import pytest

from pathlib import Path
from typing import Any

from tests.reliability.queue_env import make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow

CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


def test_no_retry_as_a_new_job_when_the_money_call_went_unanswered(tmp_path: Path, mock_jobber: Any,
                                                                    world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        world_sandbox.admin.faults(fail_next=50, match="/v1/transactions")  # every charge POST: 503
        job_id = env.enqueue(CHARGE)
        worker = env.worker("w1")
        done = env.wait_job(job_id, timeout=60, watch=[worker])
        assert done.outcome == "unavailable" and done.result.error_code == "gateway_unavailable", done.message
        assert "gateway" in [s.name for s in done.steps], done.message
        world_sandbox.admin.clear_faults()

        r = env.run_cli("jobs", "retry", job_id)
        assert r.returncode == 1 and "may have moved" in r.stderr and f"{job_id}:gateway" in r.stderr, r.stderr
        assert env.client.list_workflows(workflow_id_prefix=f"{job_id}-r", load_input=False) == []
        assert world_sandbox.admin.transactions("acme") == []
        assert mock_jobber.admin.invoice(1042)["payments"] == []
    finally:
        world_sandbox.admin.clear_faults()
        env.stop_all()
