"""HTTP intake over real HTTP (`jobber-robot serve` on a free port) with a real worker process.

Bad payloads are 422 naming the field (`error.param`) and enqueue nothing; a wrong API key is 401; a
replayed Idempotency-Key returns the same job (`Idempotent-Replayed: true`); GET /jobs/{id} shows status and result; the OpenAPI schema
is published. Afterwards the job store holds no card number (tokens only).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.plugin_gateway import VISA
from tests.reliability.queue_env import API_KEY, free_port, make_env, reset_world

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow

CHARGE_1042 = {"kind": "charge", "merchant": "acme", "invoice": 1042,
               "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


def _wait_http(url: str, proc: Any, timeout: float = 120) -> None:  # a loaded machine starts slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not come up")


def _job_count(env: Any) -> int:
    return len(env.client.list_workflows(name="jobber.job", load_input=False, load_output=False))


def test_http_intake(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = env.start("serve", "--port", str(port), log="serve")
    try:
        _wait_http(base, serve)
        good = {"X-API-Key": API_KEY}
        code = "never-set"
        with httpx.Client(base_url=base, timeout=20) as http:
            # OpenAPI published, with the job schema
            schema = http.get("/openapi.json").json()
            assert "/jobs" in schema["paths"] and "/jobs/{job_id}/handoff" in schema["paths"]
            assert "ChargeJob" in str(schema["components"]["schemas"])

            # wrong or missing API key: 401, nothing enqueued
            assert http.post("/jobs", json=CHARGE_1042, headers={"X-API-Key": "nope"}).status_code == 401
            assert http.post("/jobs", json=CHARGE_1042).status_code == 401
            assert http.get("/jobs/anything", headers={"X-API-Key": "nope"}).status_code == 401

            # bad payloads: 422 naming the field (never echoing the value), nothing enqueued
            cases = [
                ({**CHARGE_1042, "amount": "-5"}, "amount"),
                ({**CHARGE_1042, "tender": {"type": "card_token", "token": VISA}}, "tender.token"),
                ({k: v for k, v in CHARGE_1042.items() if k != "merchant"}, "merchant"),
                ({**CHARGE_1042, "kind": "teleport"}, "kind"),
                ({**CHARGE_1042, "invoice": 0}, "invoice"),
            ]
            for payload, field in cases:
                r = http.post("/jobs", json=payload, headers={**good, "Idempotency-Key": f"bad-{field}"})
                assert r.status_code == 422, (field, r.text)
                param = r.json()["error"]["param"]
                assert param == field or param.startswith(field), (field, r.json())
                assert VISA not in r.text
            assert _job_count(env) == 0, "a refused payload must not be enqueued"
            # a bad job-list query: 422 naming the parameter (the CLI: exit 2), not a silent empty list
            for params, field in (({"status": "done"}, "status"), ({"limit": 0}, "limit")):
                r = http.get("/jobs", params=params, headers=good)
                assert r.status_code == 422 and r.json()["error"]["param"] == field, r.text
            bad_list = env.run_cli("jobs", "list", "--status", "done")
            assert bad_list.returncode == 2 and "--status: one of queued" in bad_list.stderr, bad_list.stderr

            # enqueue with an idempotency key; replay → the same job, nothing new
            r1 = http.post("/jobs", json=CHARGE_1042, headers={**good, "Idempotency-Key": "pos-order-77"})
            assert r1.status_code == 202, r1.text
            job_id = r1.json()["id"]
            r2 = http.post("/jobs", json=CHARGE_1042, headers={**good, "Idempotency-Key": "pos-order-77"})
            assert r2.status_code == 202 and r2.json()["id"] == job_id and r2.headers["Idempotent-Replayed"] == "true"
            r3 = http.post("/jobs", json={**CHARGE_1042, "amount": "10.00"},
                           headers={**good, "Idempotency-Key": "pos-order-77"})
            assert r3.status_code == 400 and r3.json()["error"]["code"] == "idempotency_key_reused"
            assert _job_count(env) == 1

            st = http.get(f"/jobs/{job_id}", headers=good).json()
            assert st["status"] == "queued" and st["merchant"] == "acme" and st["kind"] == "charge"
            assert http.get("/jobs/job-nope", headers=good).status_code == 404
            # a handoff to a job that waits for nothing is refused
            assert http.post(f"/jobs/{job_id}/handoff", json={"code": "123456"}, headers=good).status_code == 409
            bad = http.post(f"/jobs/{job_id}/handoff", json={"code": "12ab"}, headers=good)
            assert bad.status_code == 422 and bad.json()["error"]["param"] == "code"
            assert http.post(f"/jobs/{job_id}/handoff", json={}, headers=good).status_code == 422

            # a keyed card, tokenized at intake: only the token is queued
            import asyncio

            from tests.plugin_gateway import make_gateway
            from robot.vault import GatewayCredentials
            from pydantic import SecretStr

            async def tok() -> str:
                gw = make_gateway(world_sandbox.url, GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme")))
                try:
                    return (await gw.tokenize_card(VISA, 12, 2030, "123")).id
                finally:
                    await gw.aclose()

            token = asyncio.run(tok())
            keyed = {"kind": "charge", "merchant": "acme", "invoice": 1050, "tender": {"type": "card_token", "token": token}}
            r4 = http.post("/jobs", json=keyed, headers={**good, "Idempotency-Key": "pos-order-78"})
            assert r4.status_code == 202
            keyed_id = r4.json()["id"]

            # a worker runs both; GET shows the result
            worker = env.worker("w1")
            for jid in (job_id, keyed_id):
                env.wait_job(jid, timeout=240, watch=[worker])
                body = http.get(f"/jobs/{jid}", headers=good).json()
                assert body["status"] == "finished", body
                assert body["outcome"] == "succeeded", body["message"]
                assert body["result"]["transaction_id"]
                assert [s["name"] for s in body["steps"]] == ["verify", "gateway", "record", "verify_after"]
            assert http.get(f"/jobs/{job_id}", headers=good).json()["result"]["amount_captured"] == "150.00"
            listed = http.get("/jobs", headers=good, params={"merchant": "acme"}).json()["data"]
            assert {job_id, keyed_id} <= {j["id"] for j in listed}

            # a 2FA code handed over through POST /jobs/{id}/handoff
            sms_job = {"kind": "charge", "merchant": "bravo", "invoice": 2001,
                       "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}}
            sms_id = http.post("/jobs", json=sms_job, headers={**good, "Idempotency-Key": "pos-order-79"}).json()["id"]
            env.wait_job(sms_id, lambda v: v.status == "waiting_for_2fa", timeout=180, watch=[worker])
            assert http.get(f"/jobs/{sms_id}", headers=good).json()["waiting_for"]["kind"] == "2fa"
            code = [m for m in mock_jobber.admin.outbox() if m["channel"] == "sms"][-1]["code"]
            assert http.post(f"/jobs/{sms_id}/handoff", json={"invoice": 2001}, headers=good).status_code == 409
            r5 = http.post(f"/jobs/{sms_id}/handoff", json={"code": code}, headers=good)
            assert r5.status_code == 202, r5.text
            env.wait_job(sms_id, timeout=180, watch=[worker])
            assert http.get(f"/jobs/{sms_id}", headers=good).json()["outcome"] == "succeeded"
    finally:
        env.stop_all()

    assert mock_jobber.admin.invoice(1042)["balance"] == "0.00"
    # no card number anywhere in the job store: not in the file, not in any decoded value
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("jobs.sqlite*"))
    stored = env.stored_values()
    for number in (VISA, "4242424242424242"):
        assert number.encode() not in data
        assert number not in stored
    assert code not in stored, "a 2FA code is stored encrypted only"
    env.stop_all()
