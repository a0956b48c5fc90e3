"""Sandbox server lifecycle: restart keeps state, scenario documents (more merchants), the CLI
entry point, admin input errors, the raw API's auth and input checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from fixtures.gateway_sandbox.scenarios import names
from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.vault import GatewayCredentials
from tests.plugin_gateway import make_gateway


def test_restart_keeps_data(tmp_path: Path) -> None:
    with GatewaySandbox(tmp_path) as sb:
        c = httpx.Client(base_url=sb.url, headers={"Authorization": "Bearer sk_test_acme"})
        txn = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": "5.00"},
                     headers={"Idempotency-Key": "k"}).json()
        c.close()
    with GatewaySandbox(tmp_path) as again:
        assert [t["id"] for t in again.admin.transactions("acme")] == [txn["id"]]
        c = httpx.Client(base_url=again.url, headers={"Authorization": "Bearer sk_test_acme"})
        replay = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": "5.00"},
                        headers={"Idempotency-Key": "k"})
        assert replay.json()["id"] == txn["id"] and replay.headers["idempotent-replayed"] == "true"
        c.close()


async def test_reset_with_a_document_of_four_merchants(gateway_sandbox: GatewaySandbox) -> None:
    from tests.plugin_gateway import merchants_scenario

    state = gateway_sandbox.admin.reset(merchants_scenario("m3", "m4"))
    assert [m["id"] for m in state["merchants"]] == ["acme", "bravo", "m3", "m4"]
    for i in (3, 4):
        async with make_gateway(gateway_sandbox.url, GatewayCredentials(merchant_id=f"m{i}",
                                                                        api_key=SecretStr(f"sk_test_m{i}"))) as gw:
            txn = await gw.charge_card_on_file("cus_chen", Decimal("1.00"), idempotency_key="q")
            assert txn.merchant_id == f"m{i}"
    assert "demo" in names()
    assert gateway_sandbox.admin.post("/_sandbox/reset", json={"scenario": "nope"}).status_code == 404
    assert gateway_sandbox.admin.post("/_sandbox/reset", json={"scenario": {"x": 1}}).status_code == 400
    assert len(gateway_sandbox.admin.state()["merchants"]) == 4, "a bad document changes nothing"


def test_raw_api_checks(gateway_sandbox: GatewaySandbox) -> None:
    url = gateway_sandbox.url
    assert httpx.get(f"{url}/v1/transactions").status_code == 401
    c = httpx.Client(base_url=url, headers={"Authorization": "Bearer sk_test_acme"})
    r = c.post("/v1/transactions", content=b"not json")
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"
    r = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": 1.5})
    assert r.json()["error"]["field"] == "amount"
    r = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": "1.00", "currency": "EUR"})
    assert r.json()["error"]["field"] == "currency"
    r = c.post("/v1/transactions", json={"source": "tok_nope", "amount": "1.00"})
    assert r.json()["error"]["field"] == "source"
    r = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": "1.00"},
               headers={"Idempotency-Key": "x" * 300})
    assert r.json()["error"]["field"] == "Idempotency-Key"
    r = c.get("/v1/terminal_requests/treq_x", params={"wait": "soon"})
    assert r.status_code == 400
    assert c.get("/v1/batches/bat_nope").status_code == 404
    assert gateway_sandbox.admin.post("/_sandbox/faults", json={"bogus": 1}).status_code == 400
    assert gateway_sandbox.admin.post("/_sandbox/terminals/tmr_front_desk", json={"action": "dance"}).status_code == 400
    c.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_mock_gateway_serves(tmp_path: Path) -> None:
    port = _free_port()
    exe = Path(sys.executable).parent / "jobber-robot"
    proc = subprocess.Popen([str(exe), "mock", "gateway", "--port", str(port), "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 90  # a loaded machine imports slowly; a dead process ends the wait at once
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()  # read its stderr only once it has ended: a live process never sends EOF
                pytest.fail(f"sandbox did not start: {proc.communicate(timeout=10)[1].decode()}")
            time.sleep(0.1)  # test-side polling of a subprocess
        r = httpx.get(f"http://127.0.0.1:{port}/v1/customers/cus_chen", headers={"Authorization": "Bearer sk_test_acme"})
        assert r.json()["payment_methods"][0]["last4"] == "1111"
        assert (tmp_path / "gateway.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(10)
