"""Crash matrix: kill -9 the worker at every stage boundary of a charge (and of a refund) and inside
their gateway and record stages, restart it, and check the money moved exactly once.

For each crash point: a `jobber-robot worker` process runs with JOBBER_ROBOT_CRASH_AT=<point>
and kills itself there (SIGKILL, no clean-up); a worker with the same id is started again
without it and resumes the job from its last checkpointed stage. Then: the job finished
succeeded, the sandbox gateway shows exactly one capture, mock Jobber exactly one payment row
(its Details carry the transaction id), and the invoice balance is right. On SQLite, and on
Postgres (a fresh database per case) when 127.0.0.1:5432 is reachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flows.pages.details import refunded_in
from flows.registry import stages
from tests.reliability.queue_env import make_env, postgres_database, reset_world

CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
INSIDE = ["gateway:after_call", "jobber:after_save"]  # money moved / payment saved, stage not finished
POINTS = [f"{edge}:{stage}" for stage in stages("charge") for edge in ("before", "after")] + INSIDE


@contextmanager
def job_store(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
    else:
        with postgres_database("jr_crash") as url:
            yield url


def check_once(site: Any, sandbox: Any, result: Any) -> None:
    txns = sandbox.admin.transactions("acme")
    assert len(txns) == 1, f"expected one gateway transaction, got {txns}"
    txn = txns[0]
    assert txn["status"] == "captured" and txn["captured"] == "150.00"
    assert result.gateway_transaction_id == txn["id"]
    invoice = site.admin.invoice(1042)
    assert len(invoice["payments"]) == 1, invoice["payments"]
    assert txn["id"] in invoice["payments"][0]["details"]
    assert invoice["payments"][0]["amount"] == "150.00"
    assert invoice["balance"] == "0.00" and invoice["status"] == "paid"


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("point", POINTS)
def test_crash_and_resume(point: str, backend: str, tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    with job_store(backend) as url:
        reset_world(mock_jobber, world_sandbox)
        env = make_env(tmp_path, mock_jobber, world_sandbox, database_url=url)
        try:
            job_id = env.enqueue(CHARGE)
            marker = tmp_path / "crashed"
            doomed = env.worker("w1", extra={"JOBBER_ROBOT_CRASH_AT": point, "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
            rc = doomed.wait(timeout=180)
            assert rc == -9, f"worker did not crash at {point} (exit {rc})\n{env.tail()}"
            assert marker.read_text() == point
            assert env.job(job_id).status == "running", "the killed worker's job stays PENDING"

            worker = env.worker("w1")
            done = env.wait_job(job_id, timeout=180, watch=[worker])
            assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
            check_once(mock_jobber, world_sandbox, done.result)
        finally:
            env.stop_all()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_direct_command_killed_mid_charge_is_adopted_by_a_worker(tmp_path: Path, mock_jobber: Any,
                                                                   world_sandbox: Any) -> None:
    """`jobber-robot charge` runs its job with an in-process worker; killed -9 after the gateway
    call, its job stays PENDING under cli-<host>-<pid>; a worker adopts it (that process is gone)
    and finishes it without charging again."""
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        marker = tmp_path / "crashed"
        r = env.run_cli("charge", "-m", "acme", "--invoice", "1042", "--card-on-file", "cus_chen",
                        "--job-id", "job-direct-1", timeout=180,
                        extra={"JOBBER_ROBOT_CRASH_AT": "gateway:after_call", "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
        assert r.returncode == -9, r.stdout + r.stderr
        orphan = env.job("job-direct-1")
        assert orphan.status == "running" and (orphan.executor or "").startswith("cli-")
        worker = env.worker("w1")
        done = env.wait_job("job-direct-1", timeout=180, watch=[worker])
        assert done.status == "finished" and done.outcome == "succeeded", done.message
        assert done.executor == "w1"
        check_once(mock_jobber, world_sandbox, done.result)
    finally:
        env.stop_all()


REFUND_POINTS = [f"{edge}:{stage}" for stage in stages("refund") for edge in ("before", "after")] + INSIDE


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("point", REFUND_POINTS)
def test_refund_crash_and_resume(point: str, tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    """A $40 refund of the $150 charge, killed at `point` and resumed: the gateway shows one refund,
    the Jobber payment edited down by one refund of $40, the invoice balance $40.00 (SQLite: the job store's
    behaviour under kill -9 is what the charge matrix checks on both backends)."""
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        charged = env.enqueue(CHARGE)
        worker = env.worker("w0")
        done = env.wait_job(charged, timeout=180, watch=[worker])
        assert done.outcome == "succeeded", done.message
        env.stop_all()
        txn_id = done.result.gateway_transaction_id

        refund_id = env.enqueue({"kind": "refund", "merchant": "acme", "transaction_id": txn_id, "amount": "40.00"})
        marker = tmp_path / "crashed"
        doomed = env.worker("w1", extra={"JOBBER_ROBOT_CRASH_AT": point, "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
        rc = doomed.wait(timeout=180)
        assert rc == -9, f"worker did not crash at {point} (exit {rc})\n{env.tail()}"
        assert marker.read_text() == point
        worker = env.worker("w1")
        refunded = env.wait_job(refund_id, timeout=180, watch=[worker])
        assert refunded.status == "finished" and refunded.outcome == "succeeded", f"{refunded.message}\n{env.tail()}"

        txn = world_sandbox.admin.transactions("acme")[0]
        assert txn["id"] == txn_id and txn["refunded"] == "40.00", txn
        invoice = mock_jobber.admin.invoice(1042)
        (payment,) = invoice["payments"]
        # recorded by editing the payment down, the refund named once in its Details
        refunds = [line for line in payment["details"].splitlines() if line.startswith("Refund ")]
        assert payment["amount"] == "110.00" and refunded_in(payment["details"]) == Decimal("40.00"), payment
        [gw_refund] = txn["refunds"]
        assert len(refunds) == 1 and refunds[0].startswith(f"Refund {gw_refund['id']} $40.00 "), payment
        assert invoice["balance"] == "40.00"
    finally:
        env.stop_all()
