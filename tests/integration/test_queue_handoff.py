"""2FA handoff through the queue, with real worker and CLI processes.

A job for bravo (Jobber codes by SMS) waits in waiting_for_2fa; another process hands the code
over (`jobber-robot handoff JOB CODE`, the code read from the mock's SMS outbox); the job
finishes. With nobody answering, the job ends needs_2fa at its (short) timeout. The code is
never stored in clear in the job store.
"""

from __future__ import annotations

import pytest

import json
import time
from pathlib import Path
from typing import Any

from tests.reliability.queue_env import make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow

SMS_EMAIL = "sms@bravo.test"


def test_code_handed_over_from_another_process(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    # the wait outlasts a few CLI processes started one after another on a loaded machine
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=300)
    try:
        # enqueue with the CLI: same options as `charge`, prints the job id
        r = env.run_cli("enqueue", "charge", "-m", "bravo", "--invoice", "2001", "--card-on-file", "cus_rivers")
        assert r.returncode == 0, r.stderr
        job_id = r.stdout.strip().splitlines()[-1]
        assert job_id.startswith("job-")
        worker = env.worker("w1")
        waiting = env.wait_job(job_id, lambda v: v.status == "waiting_for_2fa", timeout=180, watch=[worker])
        assert waiting.waiting_for["kind"] == "2fa" and waiting.merchant == "bravo"

        shown = json.loads(env.run_cli("jobs", "show", job_id, "--json").stdout)
        assert shown["status"] == "waiting_for_2fa"

        sms = [m for m in mock_jobber.admin.outbox() if m["channel"] == "sms"]
        code = sms[-1]["code"]
        bad = env.run_cli("handoff", job_id, "--invoice", "2001")
        assert bad.returncode == 1 and "verification code" in bad.stderr
        typo = env.run_cli("handoff", job_id, "12ab56")  # bad input: exit 2 naming the field, nothing sent
        assert typo.returncode == 2 and "code: a verification code is 4 to 10 digits" in typo.stderr, typo.stderr
        assert env.job(job_id).status == "waiting_for_2fa"
        r = env.run_cli("handoff", job_id, code)
        assert r.returncode == 0, r.stderr

        done = env.wait_job(job_id, timeout=180, watch=[worker])
        assert done.status == "finished" and done.outcome == "succeeded", done.message
        assert mock_jobber.admin.invoice(2001, SMS_EMAIL)["balance"] == "0.00"
        assert code not in env.stored_values(), "the code must be stored encrypted only"

        listed = json.loads(env.run_cli("jobs", "list", "--json").stdout)
        assert any(j["job_id"] == job_id and j["outcome"] == "succeeded" for j in listed)
    finally:
        env.stop_all()


def test_no_code_ends_needs_2fa_at_timeout(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=3)
    try:
        job_id = env.enqueue({"kind": "charge", "merchant": "bravo", "invoice": 2001,
                              "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
        worker = env.worker("w1")
        done = env.wait_job(job_id, timeout=180, watch=[worker])
        assert done.status == "finished" and done.outcome == "needs_2fa", done.message
        assert "handoff" in done.message and "3 s" in done.message
        assert done.result.gateway_transaction_id is None
        assert mock_jobber.admin.invoice(2001, SMS_EMAIL)["balance"] == "99.00"
        assert world_sandbox.admin.transactions("bravo") == []
        # a job that moved no money can be retried as a new job (no worker now: it stays queued)
        worker.terminate()
        assert worker.wait(timeout=40) == 0
        r = env.run_cli("jobs", "retry", job_id)
        assert r.returncode == 0 and r.stdout.strip() == f"{job_id}-r1", r.stderr
        assert env.job(f"{job_id}-r1").status == "queued"
        assert env.run_cli("jobs", "cancel", f"{job_id}-r1").returncode == 0
        assert env.job(f"{job_id}-r1").status == "cancelled"
    finally:
        env.stop_all()


def test_person_picks_the_invoice(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    """A charge by client name with two open invoices waits in waiting_for_confirmation, listing the
    candidates; `jobber-robot handoff JOB --invoice N` from another process picks one."""
    reset_world(mock_jobber, world_sandbox)
    # the wait outlasts a few CLI processes started one after another on a loaded machine
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=300)
    try:
        balance_1050 = mock_jobber.admin.invoice(1050)["balance"]
        job_id = env.enqueue({"kind": "charge", "merchant": "acme", "client": "Jonas Okafor",
                              "tender": {"type": "card_on_file", "customer_id": "cus_okafor"}})
        worker = env.worker("w1")
        waiting = env.wait_job(job_id, lambda v: v.status == "waiting_for_confirmation", timeout=180, watch=[worker])
        assert waiting.waiting_for["kind"] == "confirm"
        assert sorted(c["invoice"] for c in waiting.waiting_for["candidates"]) == [1050, 1051]
        assert world_sandbox.admin.transactions("acme") == [], "no money moves before a person picks"

        wrong = env.run_cli("handoff", job_id, "--invoice", "1042")
        assert wrong.returncode == 1 and "not one of the candidates" in wrong.stderr
        r = env.run_cli("handoff", job_id, "--invoice", "1051")
        assert r.returncode == 0, r.stderr

        done = env.wait_job(job_id, timeout=180, watch=[worker])
        assert done.status == "finished" and done.outcome == "succeeded", done.message
        assert done.result.invoice == 1051
        assert mock_jobber.admin.invoice(1051)["balance"] == "0.00"
        assert mock_jobber.admin.invoice(1050)["balance"] == balance_1050
        assert len(world_sandbox.admin.transactions("acme")) == 1
    finally:
        env.stop_all()


def test_cancel_a_job_waiting_for_a_code(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=300)
    try:
        job_id = env.enqueue({"kind": "charge", "merchant": "bravo", "invoice": 2001,
                              "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
        worker = env.worker("w1")
        env.wait_job(job_id, lambda v: v.status == "waiting_for_2fa", timeout=180, watch=[worker])
        r = env.run_cli("jobs", "cancel", job_id)
        assert r.returncode == 0 and "cancelled" in r.stdout, r.stderr
        assert env.job(job_id).status == "cancelled"
        # the waiter gets the wake-up message asynchronously: well inside the 300 s handoff timeout
        deadline = time.monotonic() + 30
        while True:
            waiters = env.client.list_workflows(workflow_id_prefix=f"{job_id}.wait-", load_input=False)
            if (waiters and all(w.status == "SUCCESS" for w in waiters)) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert waiters and all(w.status == "SUCCESS" for w in waiters), "the wait was woken, not left to time out"
        assert world_sandbox.admin.transactions("bravo") == []
        # the worker is free again: it stops at once
        worker.terminate()
        assert worker.wait(timeout=40) == 0
    finally:
        env.stop_all()
