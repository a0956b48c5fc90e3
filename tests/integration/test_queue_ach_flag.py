"""An ACH return flags the job that took the debit, where support looks.

A real keyed-ACH charge job runs through the queue (worker process); the sandbox returns the debit
with R01; an ach_check job reverses the Jobber payment. Then `jobs show` / `jobs list`, the job
store and `GET /jobs/{id}` of the intake show the charge job flagged, mock Jobber shows the
payment refunded (edited down to $0.00 with a Refund line in its Details), and the gateway shows
the return. A second check flags nothing twice.
"""

from __future__ import annotations

import pytest

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from flows.pages.details import details_match, refunded_in
from tests.integration.test_queue_intake import _wait_http
from tests.plugin_gateway import ACCOUNT, ROUTING, creds_for, make_gateway
from tests.reliability.queue_env import API_KEY, free_port, make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow


def _refund_lines(details: str) -> list[str]:
    """The refunds recorded in a payment's Details, one "Refund <id> $<amount> (...)" line each."""
    return [line for line in details.splitlines() if line.startswith("Refund ")]


def _bank_token(url: str) -> str:
    async def tok() -> str:
        gw = make_gateway(url, creds_for("acme"))
        try:
            return (await gw.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")).id
        finally:
            await gw.aclose()

    return asyncio.run(tok())


def test_ach_return_flags_the_charge_job(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    port = free_port()
    try:
        worker = env.worker("w1")
        serve = env.start("serve", "--port", str(port), log="serve")
        charge_id = env.enqueue({"kind": "charge", "merchant": "acme", "invoice": 1070, "amount": "300.00",
                                 "tender": {"type": "ach_token", "token": _bank_token(world_sandbox.url)}})
        charge = env.wait_job(charge_id, timeout=180, watch=[worker])
        assert charge.outcome == "pending", charge.message
        txn = charge.result.gateway_transaction_id
        assert env.job(charge_id).flags == [], "not flagged before any return"

        world_sandbox.admin.ach_return(txn, "R01")
        check_id = env.enqueue({"kind": "ach_check", "merchant": "acme"})
        check = env.wait_job(check_id, timeout=180, watch=[worker])
        prefix = "ach_returned R01 (insufficient funds) — Jobber payment reversed by job "
        if check.outcome == "reversed":
            reverser = check_id
        else:  # the worker's scheduled ACH check (every quarter hour) came first: it is the one named
            assert check.outcome == "succeeded" and "1 already reversed" in check.message, check.message
            [scheduled] = env.job(charge_id).flags
            assert scheduled.startswith(prefix + "sched-ach_check-acme-"), scheduled
            reverser = scheduled.removeprefix(prefix)
        flag = prefix + reverser
        # the job store, `jobs show` (JSON and text) and `jobs list`
        assert env.job(charge_id).flags == [flag]
        assert env.job(check_id).flags == []
        shown = env.run_cli("jobs", "show", charge_id, "--json")
        assert json.loads(shown.stdout)["flags"] == [flag], shown.stderr
        text = env.run_cli("jobs", "show", charge_id, extra={"COLUMNS": "300"}).stdout
        assert f"flag: {flag}" in text, text
        listed = {j["job_id"]: j for j in json.loads(env.run_cli("jobs", "list", "--json").stdout)}
        assert listed[charge_id]["flags"] == [flag] and listed[check_id]["flags"] == []
        # the intake, over real HTTP
        _wait_http(f"http://127.0.0.1:{port}", serve)
        body = httpx.get(f"http://127.0.0.1:{port}/jobs/{charge_id}", headers={"X-API-Key": API_KEY}, timeout=20).json()
        assert body["flags"] == [flag] and body["outcome"] == "pending"

        # Jobber: the payment is reversed by a refund naming the return, the transaction and the job
        # (Jobber has no refund button: the payment is edited down and Details get a "Refund" line)
        [_, payment] = mock_jobber.admin.invoice(1070)["payments"]
        assert details_match(payment["details"], txn)
        assert payment["amount"] == "0.00" and refunded_in(payment["details"]) == Decimal("300.00")
        [refund] = _refund_lines(payment["details"])
        assert refund.startswith("Refund ") and " $300.00 " in refund, refund
        assert refund.endswith(f"(ACH return R01 (insufficient funds) · {txn} · job {charge_id})"), refund
        assert mock_jobber.admin.invoice(1070)["balance"] == "1000.00"
        # the gateway: the debit is returned
        [debit] = [t for t in world_sandbox.admin.transactions("acme") if t["id"] == txn]
        assert debit["status"] == "returned" and debit["return_code"] == "R01"

        # a later check reverses nothing again and leaves the one flag as it was
        again = env.wait_job(env.enqueue({"kind": "ach_check", "merchant": "acme"}), timeout=180, watch=[worker])
        assert again.outcome == "succeeded", again.message
        assert env.job(charge_id).flags == [flag]
        [_, payment] = mock_jobber.admin.invoice(1070)["payments"]
        assert len(_refund_lines(payment["details"])) == 1 and payment["amount"] == "0.00"
    finally:
        env.stop_all()
