"""Jobs of one merchant run in the order they were queued (issue 11, item 4).

Five deposits for one merchant are queued quickly (well within one second, as a POS back end
sends a burst) before a real `jobber-robot worker` starts; the worker runs them one at a time
(partition concurrency 1) and must take them in queue order: the Jobber payments of the invoice,
in the order Jobber saved them, carry the amounts in the order they were queued, and the jobs'
first steps started in that order.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import make_env, reset_world

AMOUNTS = ["10.01", "10.02", "10.03", "10.04", "10.05"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_one_merchants_jobs_run_in_queue_order(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        jobs = [env.enqueue({"kind": "deposit", "merchant": "acme", "invoice": 1042, "amount": amount,
                             "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
                for amount in AMOUNTS]
        worker = env.worker("w1")
        views = [env.wait_job(j, timeout=180, watch=[worker]) for j in jobs]
        for v in views:
            assert v.status == "finished" and v.outcome == "succeeded", f"{v.job_id}: {v.message}\n{env.tail()}"

        started = [min(s.started_at for s in v.steps if s.started_at) for v in views]
        order = sorted(range(len(jobs)), key=lambda i: started[i])
        assert order == list(range(len(jobs))), f"jobs started in order {order}, not in the order they were queued"

        payments = sorted(mock_jobber.admin.invoice(1042)["payments"], key=lambda p: int(p["id"]))
        assert [Decimal(p["amount"]) for p in payments] == [Decimal(a) for a in AMOUNTS], payments
        for v, p in zip(views, payments):
            assert v.result.gateway_transaction_id in p["details"]
    finally:
        env.stop_all()
