"""Crash matrix for the other flows: void, deposit, quote deposit, payment link and its
reconcile, an ACH debit and its return; killed -9 at every stage boundary and inside each step.

The charge and refund matrix (test_crash_matrix.py) runs one case per point. Here one job of
each flow is killed at *every* point of its flow in turn: JOBBER_ROBOT_CRASH_AT lists them all
and each fires once (robot/faultpoints.py), so the worker dies at the first, a new worker with
the same id resumes the job from its last checkpoint and dies at the next, and so on until a
worker runs it to the end. The boundaries are "before:<first stage>" and "after:<stage>" for
every stage (between two stages there is nothing durable, so "after:a" is also "before:b");
the inside points are where money moved or Jobber was written and the stage has not finished
("gateway:after_call", "gateway:after_send", "jobber:before_save", "jobber:after_save").

Every point must have fired (a point the flow never reaches is a test that proves nothing), and
then what a person would check agrees: the gateway moved the money once (one capture, one
void, one link, one debit), Jobber holds the payment once (or none, after a void; or the
payment edited down once, after an ACH return), the balance is right, the job finished with
its outcome. SQLite job store (the charge matrix runs both backends).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flows.pages.details import details_match, refunded_in
from flows.registry import stages
from robot.faultpoints import ENV_MARKER, ENV_POINT
from tests.plugin_gateway import ACCOUNT, ROUTING, creds_for, make_gateway
from tests.reliability.queue_env import RobotEnv, make_env, reset_world

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

CHEN = {"type": "card_on_file", "customer_id": "cus_chen"}
OKAFOR = {"type": "card_on_file", "customer_id": "cus_okafor"}
GATEWAY_AND_JOBBER = ["gateway:after_call", "jobber:before_save", "jobber:after_save"]


def boundaries(kind: str) -> list[str]:
    names = stages(kind)
    return [f"before:{names[0]}"] + [f"after:{s}" for s in names]


def crash_through(env: RobotEnv, job_id: str, points: list[str], tmp: Path, timeout: float = 900) -> Any:
    """Run the job with a worker killed at each point in turn; the finished job's view."""
    marker = tmp / f"crashed-{job_id}"
    extra = {ENV_POINT: ",".join(points), ENV_MARKER: str(marker)}
    deadline = time.monotonic() + timeout
    kills = 0
    for _ in range(len(points) + 1):
        worker = env.worker("w1", extra=extra)
        while True:
            view = env.job(job_id)
            if view.status in ("finished", "failed", "cancelled"):
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                fired = marker.read_text().splitlines() if marker.exists() else []
                assert sorted(fired) == sorted(points), f"never reached: {sorted(set(points) - set(fired))}"
                assert kills == len(points)
                return view
            rc = worker.poll()
            if rc is not None:
                assert rc == -9, f"worker exited {rc}, not killed at a point\n{env.tail()}"
                kills += 1
                break
            assert time.monotonic() < deadline, f"job {job_id} {view.status} at {view.step}\n{env.tail()}"
            time.sleep(0.25)
    raise AssertionError(f"job {job_id} not finished after {kills} kills\n{env.tail()}")


def run_plain(env: RobotEnv, job: dict[str, Any]) -> Any:
    """A job run by a worker that is not killed (the setup of a case)."""
    job_id = env.enqueue(job)
    worker = env.worker("w0")
    try:
        return env.wait_job(job_id, timeout=300, watch=[worker])
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


@pytest.fixture
def env(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> Any:
    reset_world(mock_jobber, world_sandbox)
    # no scheduled link reconcile / ACH check during the case (it would pass the same points)
    e = make_env(tmp_path, mock_jobber, world_sandbox, link_reconcile_minutes=1440)
    yield e
    e.stop_all()


def test_void_killed_at_every_point(env: RobotEnv, tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    charged = run_plain(env, {"kind": "charge", "merchant": "acme", "invoice": 1042, "tender": CHEN})
    assert charged.outcome == "succeeded", charged.message
    txn_id = charged.result.gateway_transaction_id
    points = boundaries("void") + ["gateway:after_call", "jobber:after_save"]
    job_id = env.enqueue({"kind": "void", "merchant": "acme", "transaction_id": txn_id})
    done = crash_through(env, job_id, points, tmp_path)
    assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
    [txn] = world_sandbox.admin.transactions("acme")
    assert txn["id"] == txn_id and txn["status"] == "voided", txn
    invoice = mock_jobber.admin.invoice(1042)
    assert invoice["payments"] == [] and invoice["balance"] == "150.00"


def test_deposit_killed_at_every_point(env: RobotEnv, tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    points = boundaries("deposit") + GATEWAY_AND_JOBBER
    job_id = env.enqueue({"kind": "deposit", "merchant": "acme", "invoice": 1050, "amount": "100.00",
                          "tender": OKAFOR})
    done = crash_through(env, job_id, points, tmp_path)
    assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
    [txn] = world_sandbox.admin.transactions("acme")
    assert txn["status"] == "captured" and txn["captured"] == "100.00", txn
    invoice = mock_jobber.admin.invoice(1050)
    [payment] = invoice["payments"]
    assert payment["amount"] == "100.00" and details_match(payment["details"], txn["id"])
    assert invoice["balance"] == "120.00"


def test_quote_deposit_killed_at_every_point(env: RobotEnv, tmp_path: Path, mock_jobber: Any,
                                             world_sandbox: Any) -> None:
    points = boundaries("quote_deposit") + ["gateway:after_call", "jobber:after_save"]
    job_id = env.enqueue({"kind": "quote_deposit", "merchant": "acme", "quote": 12, "amount": "100.00",
                          "tender": CHEN})
    done = crash_through(env, job_id, points, tmp_path)
    assert done.status == "finished" and done.outcome == "succeeded", f"{done.message}\n{env.tail()}"
    [txn] = world_sandbox.admin.transactions("acme")
    assert txn["status"] == "captured" and txn["captured"] == "100.00", txn
    [deposit] = mock_jobber.admin.quote(12)["deposits"]
    assert deposit["amount"] == "100.00" and details_match(deposit["details"], txn["id"])


def test_link_and_its_reconcile_killed_at_every_point(env: RobotEnv, tmp_path: Path, mock_jobber: Any,
                                                      world_sandbox: Any) -> None:
    """One link however often its job dies; a kill between the send and its checkpoint sends the
    same link again (a second message with the same URL: nothing is paid twice by it)."""
    points = boundaries("link") + ["gateway:after_call", "gateway:after_send"]
    job_id = env.enqueue({"kind": "link", "merchant": "acme", "invoice": 1042, "send_via": "email",
                          "to": "margaret.chen@example.com"})
    done = crash_through(env, job_id, points, tmp_path)
    assert done.status == "finished" and done.outcome == "pending", f"{done.message}\n{env.tail()}"
    link_id = done.result.report["link_id"]
    messages = [m for m in world_sandbox.admin.outbox() if link_id in str(m)]
    # sent, and sent again by the kill right after the send (the same link)
    assert len(messages) == 2 and {m["to"] for m in messages} == {"margaret.chen@example.com"}, messages
    assert [lk.id for lk in _links(world_sandbox.url)] == [link_id]

    world_sandbox.admin.pay_link(link_id)
    points = boundaries("link_reconcile") + ["jobber:before_save", "jobber:after_save"]
    rec_id = env.enqueue({"kind": "link_reconcile", "merchant": "acme"})
    rec = crash_through(env, rec_id, points, tmp_path)
    assert rec.status == "finished" and rec.outcome == "succeeded", f"{rec.message}\n{env.tail()}"
    [txn] = world_sandbox.admin.transactions("acme")
    invoice = mock_jobber.admin.invoice(1042)
    [payment] = invoice["payments"]
    assert details_match(payment["details"], txn["id"]) and payment["amount"] == "150.00"
    assert invoice["balance"] == "0.00"


def _links(url: str) -> list[Any]:
    async def links() -> list[Any]:
        gw = make_gateway(url, creds_for("acme"))
        try:
            return list(await gw.list_links())
        finally:
            await gw.aclose()

    return asyncio.run(links())


def _bank_token(url: str) -> str:
    async def tok() -> str:
        gw = make_gateway(url, creds_for("acme"))
        try:
            return (await gw.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")).id
        finally:
            await gw.aclose()

    return asyncio.run(tok())


def test_ach_debit_and_its_return_killed_at_every_point(env: RobotEnv, tmp_path: Path, mock_jobber: Any,
                                                        world_sandbox: Any) -> None:
    points = boundaries("charge") + GATEWAY_AND_JOBBER
    job_id = env.enqueue({"kind": "charge", "merchant": "acme", "invoice": 1070, "amount": "300.00",
                          "tender": {"type": "ach_token", "token": _bank_token(world_sandbox.url)}})
    done = crash_through(env, job_id, points, tmp_path)
    assert done.status == "finished" and done.outcome == "pending", f"{done.message}\n{env.tail()}"
    [txn] = world_sandbox.admin.transactions("acme")
    assert txn["kind"] == "ach_debit" and txn["amount"] == "300.00", txn
    [payment] = [p for p in mock_jobber.admin.invoice(1070)["payments"] if details_match(p["details"], txn["id"])]
    assert payment["amount"] == "300.00"  # (the invoice has an earlier payment of its own in the demo)

    world_sandbox.admin.ach_return(txn["id"], "R01")
    points = boundaries("ach_check") + ["jobber:after_save"]
    check_id = env.enqueue({"kind": "ach_check", "merchant": "acme"})
    check = crash_through(env, check_id, points, tmp_path)
    # a kill right after the reversal was saved: the resumed run finds it already reversed
    assert check.status == "finished" and check.outcome in ("reversed", "succeeded"), check.message
    assert check.result.report["flagged_jobs"] == [job_id]
    [payment] = [p for p in mock_jobber.admin.invoice(1070)["payments"] if details_match(p["details"], txn["id"])]
    refunds = [line for line in payment["details"].splitlines() if line.startswith("Refund ")]
    assert payment["amount"] == "0.00" and refunded_in(payment["details"]) == Decimal("300.00"), payment
    assert len(refunds) == 1, payment
    assert env.job(job_id).flags and len(env.job(job_id).flags) == 1
