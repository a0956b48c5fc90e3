"""Scale-out: two worker processes on one Postgres job store, 20 jobs across 4 merchants.

The mock site and the sandbox are reset (admin API) to scenario documents with four merchants
(each a Jobber account with TOTP and a gateway merchant with a saved card). Both workers share
the queue; afterwards every job finished succeeded, each moved money exactly once (one capture
per job, one Jobber payment per invoice), both workers ran jobs, and no merchant ever had two
jobs running at once (intervals from the recorded step times never overlap per merchant).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pydantic import SecretStr

from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode
from tests.reliability.queue_env import make_env, postgres_database, reset_world

MERCHANTS = [f"shop{i}" for i in range(1, 5)]
JOBS_PER_MERCHANT = 5
PASSWORD = "scale-out-pass-1"


def _invoice(m: int, n: int) -> int:
    return 3000 + 100 * m + n


def scenarios(secrets: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    accounts, merchants = [], []
    for m, slug in enumerate(MERCHANTS, start=1):
        accounts.append({
            "email": f"owner@{slug}.test", "password": PASSWORD, "name": f"Owner {m}", "company": f"Shop {m}",
            "two_factor": {"method": "totp", "secret": secrets[slug]},
            "clients": [{"name": f"Client {m}", "email": f"client{m}@example.com", "phone": "555-0100",
                         "invoices": [{"number": _invoice(m, n), "subject": f"Job {n}", "status": "awaiting_payment",
                                       "issued_date": "today-2d", "due_date": "today+20d",
                                       "line_items": [{"name": "Service", "description": "", "quantity": "1",
                                                       "unit_price": f"{40 + n}.00"}]}
                                      for n in range(1, JOBS_PER_MERCHANT + 1)]}],
        })
        merchants.append({
            "id": slug, "name": f"Shop {m}", "api_key": f"sk_test_{slug}",
            "customers": [{"id": f"cus_{slug}", "name": f"Client {m}", "email": f"client{m}@example.com",
                           "payment_methods": [{"id": f"pm_{slug}", "card": "4111111111111111", "exp_month": 12,
                                                "exp_year": 2031, "default": True}]}],
            "terminals": [],
        })
    site = {"accounts": accounts}
    gateway = {"description": "four merchants for the scale-out test",
               "settings": {"ach_settle_seconds": 172800, "duplicate_window_seconds": 300,
                            "terminal_timeout_seconds": 120},
               "merchants": merchants}
    return site, gateway


def _wait_ready(env: Any, names: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(f"worker {n} ready" in env.log(f"worker-{n}") for n in names):
        assert time.monotonic() < deadline, env.tail()
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_two_workers_twenty_jobs_four_merchants(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    secrets = {slug: pyotp.random_base32() for slug in MERCHANTS}
    site_doc, gateway_doc = scenarios(secrets)
    creds = [MerchantCredentials(merchant=slug, jobber_email=f"owner@{slug}.test", jobber_password=SecretStr(PASSWORD),
                                 two_factor=TwoFactorMode.totp, totp_seed=SecretStr(secrets[slug]),
                                 gateway=GatewayCredentials(merchant_id=slug, api_key=SecretStr(f"sk_test_{slug}")))
             for slug in MERCHANTS]
    with postgres_database("jr_scale") as url:
        reset_world(mock_jobber, world_sandbox, site_doc, gateway_doc)
        env = make_env(tmp_path, mock_jobber, world_sandbox, database_url=url, merchants=creds,
                       queue_concurrency=4)
        try:
            _ = env.client  # creates the job store before two workers race to migrate it
            workers = [env.worker("w1"), env.worker("w2")]
            _wait_ready(env, ["w1", "w2"])
            jobs: dict[str, tuple[str, int]] = {}
            for n in range(1, JOBS_PER_MERCHANT + 1):
                for m, slug in enumerate(MERCHANTS, start=1):
                    job_id = env.enqueue({"kind": "charge", "merchant": slug, "invoice": _invoice(m, n),
                                          "tender": {"type": "card_on_file", "customer_id": f"cus_{slug}"}})
                    jobs[job_id] = (slug, _invoice(m, n))
            views = {job_id: env.wait_job(job_id, timeout=400, watch=workers) for job_id in jobs}
            env.stop_all()
            _check(views, jobs, mock_jobber, world_sandbox)
        finally:
            env.stop_all()
            reset_world(mock_jobber, world_sandbox)  # later tests expect the demo world


def _check(env_views: dict[str, Any], jobs: dict[str, tuple[str, int]], mock_jobber: Any, world_sandbox: Any) -> None:
    # all done, each once
    for job_id, v in env_views.items():
        assert v.status == "finished" and v.outcome == "succeeded", (job_id, v.message)
    assert {v.executor for v in env_views.values()} == {"w1", "w2"}, "both workers share the queue"
    for m, slug in enumerate(MERCHANTS, start=1):
        txns = world_sandbox.admin.transactions(slug)
        assert len(txns) == JOBS_PER_MERCHANT and all(t["status"] == "captured" for t in txns)
        mine = {v.result.gateway_transaction_id for j, v in env_views.items() if jobs[j][0] == slug}
        assert mine == {t["id"] for t in txns}
        for n in range(1, JOBS_PER_MERCHANT + 1):
            inv = mock_jobber.admin.invoice(_invoice(m, n), f"owner@{slug}.test")
            assert len(inv["payments"]) == 1 and inv["balance"] == "0.00", inv

    # never two jobs of one merchant at once
    for slug in MERCHANTS:
        spans = sorted((min(s.started_at for s in v.steps), max(s.finished_at for s in v.steps), j)
                       for j, v in env_views.items() if jobs[j][0] == slug)
        for (_s1, end1, j1), (start2, _e2, j2) in zip(spans, spans[1:]):
            assert start2 >= end1, f"{slug}: {j2} started before {j1} finished"
        # FIFO per merchant: they ran in the order they were enqueued
        enqueued = [j for j in jobs if jobs[j][0] == slug]
        assert [j for _s, _e, j in spans] == enqueued, f"{slug}: not run in enqueue order"
    overlapping = any(
        a[0] < b[1] and b[0] < a[1]
        for sa in MERCHANTS for sb in MERCHANTS if sa < sb
        for a in [(min(s.started_at for s in v.steps), max(s.finished_at for s in v.steps))
                  for j, v in env_views.items() if jobs[j][0] == sa]
        for b in [(min(s.started_at for s in v.steps), max(s.finished_at for s in v.steps))
                  for j, v in env_views.items() if jobs[j][0] == sb])
    assert overlapping, "jobs of different merchants should run side by side"
