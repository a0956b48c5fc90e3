"""Unknown outcomes: dropped responses, 5xx after the money moved, hangs past the client's timeout,
5xx before anything happened, a gateway that stays down. The module looks the transaction up by
reference before any retry, so the customer is charged exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.gateway import Declined, GatewayUnavailable, TransactionStatus
from robot.gateway.http import HttpGateway
from tests.plugin_gateway import DECLINE, CountingTransport, make_gateway

D = Decimal


def _moved(sb: GatewaySandbox, merchant: str = "acme") -> list[dict]:
    return [t for t in sb.admin.transactions(merchant) if t["status"] != "declined"]


@pytest.mark.parametrize("fault", ["drop_next", "fail_after_commit_next"])
async def test_lost_response_after_charge_is_found_by_reference(gateway_sandbox: GatewaySandbox, fault: str) -> None:
    gateway_sandbox.admin.faults(**{fault: 1}, match="/v1/transactions")
    transport = CountingTransport()
    async with make_gateway(gateway_sandbox.url, transport=transport) as gw:
        txn = await gw.charge_card_on_file("cus_chen", D("150.00"), idempotency_key="job-42:charge")
    # one POST, then a look-up by reference that found it: the charge was never sent again
    assert transport.seen == [("POST", "/v1/transactions"), ("GET", "/v1/transactions")]
    assert txn.reference == "job-42:charge" and txn.status is TransactionStatus.captured
    moved = _moved(gateway_sandbox)
    assert [t["id"] for t in moved] == [txn.id], "exactly one charge"
    faults = gateway_sandbox.admin.state()["faults"]
    assert faults["hits"][fault] == 1 and faults[fault] == 0


async def test_hang_past_client_timeout_then_found(gateway_sandbox: GatewaySandbox) -> None:
    gateway_sandbox.admin.faults(hang_next=1, hang_ms=1500, match="/v1/transactions")
    async with make_gateway(gateway_sandbox.url, timeout=0.5) as gw:
        txn = await gw.charge_card_on_file("cus_okafor", D("75.00"), idempotency_key="job-43:charge")
    assert [t["id"] for t in _moved(gateway_sandbox)] == [txn.id]


async def test_5xx_before_anything_moved_is_retried_once_with_same_key(gateway: HttpGateway,
                                                                        gateway_sandbox: GatewaySandbox) -> None:
    gateway_sandbox.admin.faults(fail_next=2, match="/v1/transactions")
    txn = await gateway.charge_card_on_file("cus_chen", D("10.00"), idempotency_key="job-44:charge")
    assert [t["id"] for t in _moved(gateway_sandbox)] == [txn.id]
    assert gateway_sandbox.admin.state()["faults"]["hits"]["fail_next"] == 2


async def test_dropped_decline_is_still_a_decline(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    tok = await gateway.tokenize_card(DECLINE, 12, 2031, "123")
    gateway_sandbox.admin.faults(drop_next=1, match="/v1/transactions")
    with pytest.raises(Declined) as exc:
        await gateway.charge(tok.id, D("10.00"), idempotency_key="job-45:charge")
    assert exc.value.transaction_id
    assert len(gateway_sandbox.admin.transactions("acme")) == 1


async def test_lost_refund_void_capture_push_link_are_found(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    admin = gateway_sandbox.admin
    txn = await gateway.charge_card_on_file("cus_chen", D("100.00"), idempotency_key="f:charge")
    admin.faults(drop_next=1, match="/refunds")
    r = await gateway.refund(txn.id, D("40.00"), idempotency_key="f:refund")
    assert r.amount == D("40.00")
    assert len(admin.transaction(txn.id)["refunds"]) == 1

    other = await gateway.charge_card_on_file("cus_okafor", D("5.00"), idempotency_key="f:charge2")
    admin.faults(drop_next=1, match="/void")
    v = await gateway.void(other.id, idempotency_key="f:void")
    assert v.status is TransactionStatus.voided

    auth = await gateway.charge_card_on_file("cus_garcia", D("9.00"), idempotency_key="f:auth")
    await gateway.void(auth.id, idempotency_key="f:auth-void")
    tok = await gateway.tokenize_card("4242424242424242", 1, 2032, "123")
    auth2 = await gateway.charge(tok.id, D("9.00"), idempotency_key="f:auth2", capture=False)
    admin.faults(fail_after_commit_next=1, match="/capture")
    cap = await gateway.capture(auth2.id, idempotency_key="f:capture")
    assert cap.status is TransactionStatus.captured

    admin.faults(drop_next=1, match="/terminals/")
    req = await gateway.terminal_push("tmr_front_desk", D("12.00"), idempotency_key="f:push", timeout_seconds=5)
    assert req.reference == "f:push"
    assert len(admin.merchant("acme")["terminal_requests"]) == 1
    await gateway.terminal_cancel(req.id)

    admin.faults(drop_next=1, match="/v1/links")
    link = await gateway.create_link(D("50.00"), idempotency_key="f:link")
    assert len(admin.merchant("acme")["links"]) == 1 and link.reference == "f:link"


async def test_gateway_down_gives_unavailable_after_bounded_retries(gateway: HttpGateway,
                                                                    gateway_sandbox: GatewaySandbox) -> None:
    gateway_sandbox.admin.faults(unavailable=True)
    transport = CountingTransport()
    async with make_gateway(gateway_sandbox.url, transport=transport, retry_attempts=4) as gw:
        with pytest.raises(GatewayUnavailable):
            await gw.charge_card_on_file("cus_chen", D("10.00"), idempotency_key="down")
    # bounded: one POST, then each retry is a look-up that could not answer (never a second POST blind)
    assert transport.seen == [("POST", "/v1/transactions")] + [("GET", "/v1/transactions")] * 3
    gateway_sandbox.admin.clear_faults()
    assert gateway_sandbox.admin.transactions("acme") == []
    # once it is back, the same key charges once
    txn = await gateway.charge_card_on_file("cus_chen", D("10.00"), idempotency_key="down")
    assert [t["id"] for t in _moved(gateway_sandbox)] == [txn.id]


async def test_connection_refused_is_unavailable(gateway_sandbox: GatewaySandbox) -> None:
    async with make_gateway("http://127.0.0.1:9", retry_attempts=2) as gw:
        with pytest.raises(GatewayUnavailable):
            await gw.charge_card_on_file("cus_chen", D("1.00"), idempotency_key="nowhere")


async def test_latency_does_not_break_calls(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    gateway_sandbox.admin.faults(latency_ms=150)
    txn = await gateway.charge_card_on_file("cus_chen", D("3.00"), idempotency_key="slow")
    assert txn.status is TransactionStatus.captured
