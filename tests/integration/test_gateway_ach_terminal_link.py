"""ACH debits (pending -> settled by the clock, returns R01-R04), terminals (every outcome, long-poll,
one request at a time) and payment links (open / paid / expired / deactivated, outbox)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.gateway import (
    AchReturned,
    Declined,
    InvalidRequest,
    LinkExpired,
    LinkNotOpen,
    NotRefundable,
    NotVoidable,
    TerminalBusy,
    TerminalCancelled,
    TerminalOffline,
    TerminalStatus,
    TerminalTimeout,
    TransactionKind,
    TransactionStatus,
    LinkStatus,
)
from robot.gateway.http import HttpGateway
from tests.plugin_gateway import ACCOUNT, ROUTING

D = Decimal
TERM = "tmr_front_desk"


# --- ACH ------------------------------------------------------------------------------------------------

async def test_bank_token_and_validation(gateway: HttpGateway) -> None:
    tok = await gateway.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia", "checking")
    assert tok.id.startswith("btok_") and tok.bank_last4 == "6789" and tok.account_type == "checking"
    assert ACCOUNT not in tok.model_dump_json()
    for routing, account, holder, field in (("123456789", ACCOUNT, "X", "routing"), (ROUTING, "12", "X", "account"),
                                            (ROUTING, ACCOUNT, " ", "holder")):
        with pytest.raises(InvalidRequest) as exc:
            await gateway.add_bank_account(routing, account, holder)
        assert exc.value.field == field and account not in str(exc.value)


async def test_ach_pending_then_settled_by_clock(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    tok = await gateway.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")
    txn = await gateway.ach_debit(tok.id, D("250.00"), idempotency_key="ach-1")
    assert txn.kind is TransactionKind.ach_debit and txn.status is TransactionStatus.pending
    assert txn.tender.type == "bank" and txn.tender.bank_last4 == "6789" and txn.refundable == D("0.00")
    assert (await gateway.ach_debit(tok.id, D("250.00"), idempotency_key="ach-1")).id == txn.id
    with pytest.raises(NotRefundable):  # pending: void, not refund
        await gateway.refund(txn.id, D("1.00"), idempotency_key="ach-1:r")
    gateway_sandbox.admin.clock(advance_seconds=2 * 24 * 3600 - 60)
    assert (await gateway.ach_status(txn.id)).status is TransactionStatus.pending
    gateway_sandbox.admin.clock(advance_seconds=61)
    settled = await gateway.ach_status(txn.id)
    assert settled.status is TransactionStatus.settled and settled.settled and settled.refundable == D("250.00")
    with pytest.raises(NotVoidable):
        await gateway.void(txn.id, idempotency_key="ach-1:v")
    r = await gateway.refund(txn.id, D("50.00"), idempotency_key="ach-1:r2")  # refunds after settlement
    assert r.amount == D("50.00")


async def test_ach_void_while_pending(gateway: HttpGateway) -> None:
    tok = await gateway.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia", "savings")
    txn = await gateway.ach_debit(tok.id, D("80.00"), idempotency_key="ach-2")
    v = await gateway.void(txn.id, idempotency_key="ach-2:v")
    assert v.status is TransactionStatus.voided


@pytest.mark.parametrize("code", ["R01", "R02", "R03", "R04"])
async def test_ach_return_codes(gateway: HttpGateway, gateway_sandbox: GatewaySandbox, code: str) -> None:
    tok = await gateway.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")
    txn = await gateway.ach_debit(tok.id, D("99.99"), idempotency_key=f"ach-{code}")
    gateway_sandbox.admin.clock(advance_seconds=3 * 24 * 3600)
    gateway_sandbox.admin.ach_return(txn.id, code)
    t = await gateway.get_transaction(txn.id)
    assert t.status is TransactionStatus.returned and t.return_code == code and t.refundable == D("0.00")
    assert [x.id for x in await gateway.list_transactions(status="returned")] == [txn.id]
    with pytest.raises(AchReturned) as exc:
        await gateway.ach_status(txn.id)
    assert exc.value.r_code == code and exc.value.transaction_id == txn.id and code in exc.value.message
    with pytest.raises(NotRefundable):
        await gateway.refund(txn.id, idempotency_key=f"ach-{code}:r")


def test_ach_return_admin_rules(gateway_sandbox: GatewaySandbox) -> None:
    r = gateway_sandbox.admin.post("/_sandbox/transactions/txn_nope/ach_return", json={"code": "R01"})
    assert r.status_code == 404
    import httpx

    c = httpx.Client(base_url=gateway_sandbox.url, headers={"Authorization": "Bearer sk_test_acme"})
    txn = c.post("/v1/transactions", json={"customer_id": "cus_chen", "amount": "5.00"}).json()
    r = gateway_sandbox.admin.post(f"/_sandbox/transactions/{txn['id']}/ach_return", json={"code": "R01"})
    assert r.status_code == 409  # a card sale cannot be returned
    r = gateway_sandbox.admin.post(f"/_sandbox/transactions/{txn['id']}/ach_return", json={"code": "R99"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "code"
    c.close()


# --- terminals ------------------------------------------------------------------------------------------

async def test_terminal_approve(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    req = await gateway.terminal_push(TERM, D("64.00"), idempotency_key="t-1", timeout_seconds=30)
    assert req.status is TerminalStatus.pending and req.reference == "t-1" and req.timeout_seconds == 30
    assert (await gateway.terminal_request(req.id)).status is TerminalStatus.pending
    gateway_sandbox.admin.terminal(TERM, "approve")
    txn = await gateway.terminal_result(req.id)
    assert txn.kind is TransactionKind.terminal_sale and txn.captured == D("64.00") and txn.reference == "t-1"
    assert txn.tender.terminal_id == TERM and txn.tender.last4
    assert (await gateway.find_by_reference("t-1")).id == txn.id


async def test_terminal_long_poll_waits_for_the_customer(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    req = await gateway.terminal_push(TERM, D("10.00"), idempotency_key="t-lp", timeout_seconds=30)
    gateway_sandbox.admin.terminal(TERM, "approve", after_ms=400)
    started = time.monotonic()
    polled = await gateway.terminal_request(req.id, wait_seconds=10)
    waited = time.monotonic() - started
    assert polled.status is TerminalStatus.approved and 0.15 < waited < 5
    # an unchanged request is held for the whole wait, then returned as it is
    req2 = await gateway.terminal_push(TERM, D("11.00"), idempotency_key="t-lp2", timeout_seconds=30)
    started = time.monotonic()
    same = await gateway.terminal_request(req2.id, wait_seconds=0.5)
    assert same.status is TerminalStatus.pending and time.monotonic() - started >= 0.45
    await gateway.terminal_cancel(req2.id)


@pytest.mark.parametrize(("action", "error", "reason"), [
    ("decline", Declined, "insufficient_funds"),
    ("customer-cancel", TerminalCancelled, None),
    ("timeout", TerminalTimeout, None),
])
async def test_terminal_failures(gateway: HttpGateway, gateway_sandbox: GatewaySandbox, action: str,
                                 error: type[Exception], reason: str | None) -> None:
    req = await gateway.terminal_push(TERM, D("20.00"), idempotency_key=f"t-{action}", timeout_seconds=30)
    kw = {"reason": reason} if reason else {}
    gateway_sandbox.admin.terminal(TERM, action, after_ms=100, **kw)
    with pytest.raises(error) as exc:
        await gateway.terminal_result(req.id)
    if reason:
        assert exc.value.reason == reason  # type: ignore[attr-defined]
    assert [t for t in gateway_sandbox.admin.transactions("acme") if t["status"] != "declined"] == []


async def test_terminal_times_out_by_itself(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    req = await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-to", timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(TerminalTimeout):
        await gateway.terminal_result(req.id)
    assert time.monotonic() - started < 4
    assert (await gateway.terminal_request(req.id)).status is TerminalStatus.timed_out
    # the terminal is free again
    again = await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-to2", timeout_seconds=30)
    gateway_sandbox.admin.terminal(TERM, "approve")
    assert (await gateway.terminal_result(again.id)).captured == D("5.00")


async def test_terminal_timeout_by_clock_and_default(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    req = await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-clock")
    assert req.timeout_seconds == 120
    gateway_sandbox.admin.clock(advance_seconds=121)
    assert (await gateway.terminal_request(req.id)).status is TerminalStatus.timed_out
    gateway_sandbox.admin.terminal(TERM, "set-timeout", timeout_seconds=45)
    assert (await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-clock2")).timeout_seconds == 45


async def test_terminal_max_wait_cancels(gateway: HttpGateway) -> None:
    req = await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-max", timeout_seconds=60)
    with pytest.raises(TerminalTimeout):
        await gateway.terminal_result(req.id, max_wait_seconds=0.3)
    r = await gateway.terminal_request(req.id)
    assert r.status is TerminalStatus.cancelled and r.cancelled_by == "merchant"


async def test_terminal_offline_busy_one_at_a_time(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    admin = gateway_sandbox.admin
    first = await gateway.terminal_push(TERM, D("5.00"), idempotency_key="t-a", timeout_seconds=30)
    with pytest.raises(TerminalBusy):
        await gateway.terminal_push(TERM, D("6.00"), idempotency_key="t-b", timeout_seconds=30)
    cancelled = await gateway.terminal_cancel(first.id)
    assert cancelled.status is TerminalStatus.cancelled
    with pytest.raises(TerminalCancelled):
        await gateway.terminal_result(first.id)
    admin.terminal(TERM, "busy")
    with pytest.raises(TerminalBusy):
        await gateway.terminal_push(TERM, D("6.00"), idempotency_key="t-b", timeout_seconds=30)
    admin.terminal(TERM, "idle")
    admin.terminal(TERM, "offline")
    with pytest.raises(TerminalOffline):
        await gateway.terminal_push(TERM, D("6.00"), idempotency_key="t-b", timeout_seconds=30)
    admin.terminal(TERM, "online")
    ok = await gateway.terminal_push(TERM, D("6.00"), idempotency_key="t-b", timeout_seconds=30)
    assert ok.status is TerminalStatus.pending


async def test_terminal_armed_outcome_for_next_push(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    gateway_sandbox.admin.terminal(TERM, "approve", after_ms=50)
    req = await gateway.terminal_push(TERM, D("33.00"), idempotency_key="t-armed", timeout_seconds=30)
    txn = await gateway.terminal_result(req.id)
    assert txn.captured == D("33.00")


async def test_concurrent_waiters_all_wake(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    req = await gateway.terminal_push(TERM, D("7.00"), idempotency_key="t-conc", timeout_seconds=30)
    gateway_sandbox.admin.terminal(TERM, "approve", after_ms=200)
    results = await asyncio.gather(gateway.terminal_result(req.id), gateway.terminal_result(req.id))
    assert results[0].id == results[1].id


# --- payment links --------------------------------------------------------------------------------------------

async def test_link_paid(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    link = await gateway.create_link(D("120.00"), idempotency_key="l-1", description="Invoice #1043", expires_in=3600)
    assert link.status is LinkStatus.open and link.url.endswith(f"/pay/{link.id}") and link.reference == "l-1"
    assert (await gateway.create_link(D("120.00"), idempotency_key="l-1", description="Invoice #1043",
                                      expires_in=3600)).id == link.id
    d = await gateway.send_link(link.id, "sms", "+1 555 010 0199")
    e = await gateway.send_link(link.id, "email", "chen@example.com")
    outbox = gateway_sandbox.admin.outbox()
    assert [(m["channel"], m["to"]) for m in outbox] == [("sms", "+1 555 010 0199"), ("email", "chen@example.com")]
    assert link.url in outbox[0]["body"] and d.link_id == e.link_id == link.id
    with pytest.raises(InvalidRequest) as exc:
        await gateway.send_link(link.id, "email", "not-an-address")
    assert exc.value.field == "to"
    gateway_sandbox.admin.pay_link(link.id)
    paid = await gateway.get_link(link.id)
    assert paid.status is LinkStatus.paid and paid.transaction_id and paid.paid_at
    txn = await gateway.get_transaction(paid.transaction_id)
    assert txn.kind is TransactionKind.link_payment and txn.captured == D("120.00") and txn.tender.link_id == link.id
    assert txn.reference == "l-1"
    assert [x.id for x in await gateway.list_links(status="paid")] == [link.id]
    with pytest.raises(LinkNotOpen):
        await gateway.deactivate_link(link.id)
    r = gateway_sandbox.admin.post(f"/_sandbox/links/{link.id}/pay", json={})
    assert r.status_code == 409  # paid once only


async def test_link_declined_payment_keeps_it_open(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    link = await gateway.create_link(D("30.00"), idempotency_key="l-dec")
    out = gateway_sandbox.admin.pay_link(link.id, card="4000000000009995")
    assert out["error"]["reason"] == "insufficient_funds"
    assert (await gateway.get_link(link.id)).status is LinkStatus.open


async def test_link_expiry_and_deactivation(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    a = await gateway.create_link(D("10.00"), idempotency_key="l-a", expires_in=600)
    b = await gateway.create_link(D("11.00"), idempotency_key="l-b")
    c = await gateway.create_link(D("12.00"), idempotency_key="l-c")
    gateway_sandbox.admin.clock(advance_seconds=601)
    assert (await gateway.get_link(a.id)).status is LinkStatus.expired
    with pytest.raises(LinkExpired):
        await gateway.send_link(a.id, "sms", "+15550100")
    with pytest.raises(LinkExpired):
        await gateway.deactivate_link(a.id)
    r = gateway_sandbox.admin.post(f"/_sandbox/links/{a.id}/pay", json={})
    assert r.status_code == 410
    gateway_sandbox.admin.expire_link(b.id)
    assert (await gateway.get_link(b.id)).status is LinkStatus.expired
    d = await gateway.deactivate_link(c.id)
    assert d.status is LinkStatus.deactivated
    assert (await gateway.deactivate_link(c.id)).status is LinkStatus.deactivated
    with pytest.raises(LinkNotOpen):
        await gateway.send_link(c.id, "sms", "+15550100")
    assert {x.id for x in await gateway.list_links(status="expired")} == {a.id, b.id}
    assert [t for t in gateway_sandbox.admin.transactions("acme")] == []
