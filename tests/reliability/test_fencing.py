"""A stalled worker must not write into Jobber after its job changed owner (issue 11, item 1).

The field case, with real processes on one Postgres job store: worker w1 runs a $50 charge on the
$150 invoice 1042 (a partial payment: Jobber takes a second one without complaint) and
freezes (SIGSTOP, sent by itself at the `jobber:before_save` fault point: the record stage looked
for a payment carrying the transaction id, found none, and has not saved yet). Support runs
`jobs cancel` and `jobs retry`; worker w2 takes the job over and finishes it. Then w1 is woken
(SIGCONT) and goes on from the line where it froze. Its save must be fenced: the mock Jobber
site ends with exactly one payment for the transaction, the right balance, one gateway capture,
and the job's recorded outcome is still w2's truthful "succeeded".
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import make_env, postgres_database, reset_world

CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042, "amount": "50.00",
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


def _stopped(pid: int) -> bool:
    """The process is stopped by a signal (state T in /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


def _wait(what: str, cond: Any, timeout: float, env: Any) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{env.tail()}")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_stalled_worker_is_fenced_after_cancel_and_retry(tmp_path: Path, mock_jobber: Any,
                                                         world_sandbox: Any) -> None:
    with postgres_database("jr_fence") as url:
        reset_world(mock_jobber, world_sandbox)
        env = make_env(tmp_path, mock_jobber, world_sandbox, database_url=url)
        w1 = None
        try:
            _ = env.client  # the job store exists before the workers start
            job_id = env.enqueue(CHARGE)
            marker = tmp_path / "stalled"
            w1 = env.worker("w1", extra={"JOBBER_ROBOT_CRASH_AT": "jobber:before_save",
                                         "JOBBER_ROBOT_CRASH_SIGNAL": "SIGSTOP",
                                         "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
            _wait("w1 to stall inside the record step", lambda: marker.exists() and _stopped(w1.pid), 120, env)
            assert mock_jobber.admin.invoice(1042)["payments"] == []
            assert env.job(job_id).status == "running"

            # support: cancel the stuck job, retry it; a second worker finishes it
            r = env.run_cli("jobs", "cancel", job_id)
            assert r.returncode == 0, r.stdout + r.stderr
            r = env.run_cli("jobs", "retry", job_id)
            assert r.returncode == 0, r.stdout + r.stderr
            w2 = env.worker("w2")
            done = env.wait_job(job_id, timeout=120, watch=[w2])
            assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
            assert done.executor == "w2"
            assert len(mock_jobber.admin.invoice(1042)["payments"]) == 1

            # w1 wakes up where it froze: just before saving the payment
            os.kill(w1.pid, signal.SIGCONT)
            _wait("w1 to get past its save (fenced, or a second payment)",
                  lambda: "job fenced" in env.log("worker-w1") or "no longer owned" in env.log("worker-w1")
                  or len(mock_jobber.admin.invoice(1042)["payments"]) > 1, 60, env)

            invoice = mock_jobber.admin.invoice(1042)
            txns = world_sandbox.admin.transactions("acme")
            assert len(txns) == 1 and txns[0]["status"] == "captured" and txns[0]["captured"] == "50.00", txns
            assert len(invoice["payments"]) == 1, f"recorded twice in Jobber: {invoice['payments']}"
            assert txns[0]["id"] in invoice["payments"][0]["details"]
            assert invoice["balance"] == "100.00" and invoice["payments"][0]["amount"] == "50.00", invoice
            assert "superseded" in env.log("worker-w1")

            after = env.job(job_id)
            assert after.status == "finished" and after.outcome == "succeeded" and after.executor == "w2", after
            assert after.result is not None and after.result.gateway_transaction_id == txns[0]["id"]
            assert w1.poll() is None, "the fenced worker goes on serving the queue"
        finally:
            if w1 is not None and w1.poll() is None:
                os.kill(w1.pid, signal.SIGCONT)
            env.stop_all()
