"""Issue 13 end to end with real `serve` and `worker` processes (the slow run): a charge's
`job.finished` webhook survives a kill -9 of the worker between the event's capture and its
delivery, and reaches a receiver that fails twice first; a job that needs a person sends
`job.needs_person`; its retry is linked both ways, and replaying the original's Idempotency-Key
shows where the money went."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_queue_intake import _wait_http
from tests.integration.webhook_receiver import Receiver, documented_verify
from tests.reliability.queue_env import API_KEY, free_port, make_env, reset_world

pytestmark = pytest.mark.slow

CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
SMS_CHARGE = {"kind": "charge", "merchant": "bravo", "invoice": 2001,
              "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}}


def test_webhooks_survive_a_kill_and_retries_are_linked(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, webhook_retry_base_seconds=0.5, handoff_timeout_seconds=15)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = Receiver(fail=2).start()
    serve = env.start("serve", "--port", str(port), log="serve")
    try:
        _wait_http(base, serve)
        with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=30) as http:
            ep = http.post("/webhook_endpoints", json={"url": receiver.url}).json()
            r = http.post("/jobs", json=CHARGE, headers={"Idempotency-Key": str(uuid.uuid4())})
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]

            # the worker dies (kill -9) right after the final event is captured, before any delivery is queued
            marker = tmp_path / "crashed"
            crashing = env.worker("w1", extra={"JOBBER_ROBOT_CRASH_AT": "webhooks:after_capture",
                                               "JOBBER_ROBOT_CRASH_MARKER": str(marker)})
            crashing.wait(timeout=240)
            assert marker.exists() and crashing.returncode == -9, env.tail()
            assert receiver.of("job.finished", job_id) == [], "nothing was delivered before the kill"

            worker = env.worker("w1")  # same id: DBOS resumes the job's workflow, which queues the delivery
            got = receiver.wait_for("job.finished", job_id, 3, timeout=240)
            assert len({g.body for g in got}) == 1, "every attempt sends the same payload"
            for g in got:
                documented_verify()(g.body, g.headers["Jobber-Robot-Signature"], ep["secret"])
            event = json.loads(got[-1].body)
            job = event["data"]["object"]
            assert job["id"] == job_id and job["status"] == "finished" and job["outcome"] == "succeeded", job
            res = job["result"]
            assert res["kind"] == "charge" and res["amount_captured"] == "150.00" and res["transaction_id"]
            assert res["tender"]["type"] == "card" and len(res["tender"]["last4"]) == 4 and res["jobber_payment_id"]
            assert res["balance_before"] == "150.00" and res["balance_after"] == "0.00"
            assert "steps" not in res and [s["name"] for s in job["steps"]] == ["verify", "gateway", "record",
                                                                                 "verify_after"]
            time.sleep(1)  # the third attempt's log row is written right after its answer
            log = http.get(f"/jobs/{job_id}/webhook_deliveries").json()["data"]
            assert [(a["attempt"], a["succeeded"]) for a in log] == [(1, False), (2, False), (3, True)], log
            env.wait_job(job_id, timeout=60, watch=[worker])
            assert len(receiver.of("job.finished", job_id)) == 3, "delivered once it was taken, not again"
            # the same through the CLI: endpoints (never their secret) and the job's delivery log
            listed = env.run_cli("webhooks", "list", "--json")
            assert json.loads(listed.stdout)[0]["id"] == ep["id"] and ep["secret"] not in listed.stdout
            cli_log = json.loads(env.run_cli("webhooks", "deliveries", job_id, "--json").stdout)
            assert [(r["attempt"], bool(r["succeeded"])) for r in cli_log] == [(1, False), (2, False), (3, True)]

            # a job that needs a person: job.needs_person, then (nobody answers) job.finished needs_2fa
            key = str(uuid.uuid4())
            sms_id = http.post("/jobs", json=SMS_CHARGE, headers={"Idempotency-Key": key}).json()["id"]
            asked = json.loads(receiver.wait_for("job.needs_person", sms_id, 3, timeout=240)[-1].body)
            assert asked["data"]["object"]["waiting_for"]["kind"] == "2fa"
            assert asked["data"]["object"]["status"] == "waiting_for_2fa"
            ended = json.loads(receiver.wait_for("job.finished", sms_id, 3, timeout=240)[-1].body)
            assert ended["data"]["object"]["outcome"] == "needs_2fa"

            # the retry, linked both ways; a replay of the original's key shows where the money went
            retried = env.run_cli("jobs", "retry", sms_id)
            assert retried.returncode == 0, retried.stderr
            retry_id = retried.stdout.strip()
            env.wait_job(retry_id, lambda v: v.status == "waiting_for_2fa", timeout=180, watch=[worker])
            code = [m for m in mock_jobber.admin.outbox() if m["channel"] == "sms"][-1]["code"]
            assert http.post(f"/jobs/{retry_id}/handoff", json={"code": code}).status_code == 202
            env.wait_job(retry_id, timeout=180, watch=[worker])
            replay = http.post("/jobs", json=SMS_CHARGE, headers={"Idempotency-Key": key})
            assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
            original = replay.json()
            assert original["id"] == sms_id and original["retried_as"] == [retry_id]
            assert original["settled_by"] == retry_id, original
            again = http.get(f"/jobs/{retry_id}").json()
            assert again["retry_of"] == sms_id and again["outcome"] == "succeeded"
            assert again["settled_by"] == retry_id
            shown = env.run_cli("jobs", "show", sms_id)
            assert f"retried as: {retry_id}" in shown.stdout, shown.stdout
            assert f"retry of: {sms_id}" in env.run_cli("jobs", "show", retry_id).stdout

            # `serve` killed -9 right after it answered a test event: the event is in the job store, not in
            # serve's memory, and a worker delivers it; a new serve shows the delivery
            sent = http.post(f"/webhook_endpoints/{ep['id']}/test").json()
        serve.kill()
        serve.wait(30)
        got = receiver.wait_for("webhook_endpoint.test", None, 3, timeout=120)
        assert json.loads(got[-1].body)["id"] == sent["event_id"]
        port2 = free_port()
        serve2 = env.start("serve", "--port", str(port2), log="serve2")
        _wait_http(f"http://127.0.0.1:{port2}", serve2)
        time.sleep(1)
        log = httpx.get(f"http://127.0.0.1:{port2}/webhook_endpoints/{ep['id']}/deliveries",
                        headers={"X-API-Key": API_KEY}, timeout=30).json()["data"]
        assert [a["succeeded"] for a in log if a["event_id"] == sent["event_id"]] == [False, False, True]
    finally:
        env.stop_all()
        receiver.stop()
    assert mock_jobber.admin.invoice(1042)["balance"] == "0.00"
