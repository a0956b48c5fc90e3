"""A mistyped handed-over SMS code sends the job back to waiting for a code, within the same
deadline, which `jobs show` shows (real worker and CLI processes, the real mock's SMS outbox)."""

from __future__ import annotations

import pytest

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.reliability.queue_env import make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow

SMS_EMAIL = "sms@bravo.test"


def test_a_mistyped_code_is_asked_for_again_until_the_same_deadline(tmp_path: Path, mock_jobber: Any,
                                                                      world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=180)
    try:
        r = env.run_cli("enqueue", "charge", "-m", "bravo", "--invoice", "2001", "--card-on-file", "cus_rivers")
        assert r.returncode == 0, r.stderr
        job_id = r.stdout.strip().splitlines()[-1]
        worker = env.worker("w1")
        first = env.wait_job(job_id, lambda v: v.status == "waiting_for_2fa", timeout=90, watch=[worker])
        deadline = first.waiting_for["deadline"]
        datetime.fromisoformat(deadline)  # an instant a person can read
        shown = env.run_cli("jobs", "show", job_id)
        assert f"until {deadline}" in " ".join(shown.stdout.split()), shown.stdout

        right = [m for m in mock_jobber.admin.outbox() if m["channel"] == "sms"][-1]["code"]
        wrong = "000000" if right != "000000" else "111111"
        assert env.run_cli("handoff", job_id, wrong).returncode == 0
        # Jobber refused it: the job waits again (it did not end), with the same deadline
        again = env.wait_job(job_id, lambda v: v.status == "waiting_for_2fa" and "refused" in
                             (v.waiting_for or {}).get("hint", ""), timeout=90, watch=[worker])
        assert again.waiting_for["deadline"] == deadline

        assert env.run_cli("handoff", job_id, right).returncode == 0
        done = env.wait_job(job_id, timeout=90, watch=[worker])
        assert done.status == "finished" and done.outcome == "succeeded", done.message
        assert mock_jobber.admin.invoice(2001, SMS_EMAIL)["balance"] == "0.00"
        assert json.loads(env.run_cli("jobs", "show", job_id, "--json").stdout)["outcome"] == "succeeded"
    finally:
        env.stop_all()
