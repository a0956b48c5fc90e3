"""Gateway module against the sandbox over real HTTP: tokens, sales, auth/capture, card on file,
idempotency, duplicates, voids, refunds, batches, auth errors."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.gateway import (
    Declined,
    DuplicateTransaction,
    GatewayAuthError,
    IdempotencyConflict,
    InvalidRequest,
    Money,
    NotFound,
    NotRefundable,
    NotVoidable,
    RefundExceedsRefundable,
    TransactionKind,
    TransactionStatus,
    gateway_for,
)
from robot.gateway.http import HttpGateway
from tests.plugin_gateway import (
    ACME,
    CVV_FAIL,
    DECLINE,
    EXPIRED,
    INSUFFICIENT,
    VISA,
    VISA_2,
    CountingTransport,
    make_gateway,
)
from pydantic import SecretStr
from robot.vault import GatewayCredentials

D = Decimal


async def _token(gw: HttpGateway, number: str = VISA, cvv: str = "123") -> str:
    return (await gw.tokenize_card(number, 12, 2031, cvv)).id


async def test_tokenize_card_returns_masked_card(gateway: HttpGateway) -> None:
    tok = await gateway.tokenize_card("4111 1111 1111 1111", 12, 2031, "123")
    assert tok.id.startswith("tok_")
    assert (tok.brand, tok.first6, tok.last4, tok.exp_month, tok.exp_year) == ("Visa", "411111", "1111", 12, 2031)
    assert VISA not in tok.model_dump_json()
    amex = await gateway.tokenize_card(SecretStr("378282246310005"), 1, 2030, SecretStr("1234"))
    assert amex.brand == "American Express"


@pytest.mark.parametrize(("number", "exp_month", "exp_year", "cvv", "field"), [
    ("4111111111111112", 12, 2031, "123", "number"),      # Luhn
    ("4111", 12, 2031, "123", "number"),                  # length
    (VISA, 13, 2031, "123", "exp_month"),
    (VISA, 12, 2020, "123", "exp_year"),                  # in the past
    (VISA, 12, 2031, "12345", "cvv"),
    ("378282246310005", 12, 2031, "123", "cvv"),          # Amex needs 4
])
async def test_tokenize_invalid_names_the_field(gateway: HttpGateway, number: str, exp_month: int,
                                                exp_year: int, cvv: str, field: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        await gateway.tokenize_card(number, exp_month, exp_year, cvv)
    assert exc.value.field == field
    assert number not in str(exc.value) and number not in repr(exc.value.to_dict())


async def test_sale_approves_and_reads_back(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    tok = await _token(gateway, VISA_2)
    txn = await gateway.charge(tok, D("150.00"), idempotency_key="job-1:charge", description="Invoice #1042")
    assert txn.status is TransactionStatus.captured and txn.kind is TransactionKind.sale
    assert (txn.amount, txn.captured, txn.refunded, txn.refundable) == (D("150.00"),) * 2 + (D("0.00"), D("150.00"))
    assert txn.reference == "job-1:charge" and txn.merchant_id == "acme"
    assert txn.tender.last4 == "4242" and txn.tender.brand == "Visa" and txn.batch_id
    assert "4242" in txn.details() and txn.id in txn.details()
    assert await gateway.get_transaction(txn.id) == txn
    assert (await gateway.find_by_reference("job-1:charge")) == txn
    assert await gateway.find_by_reference("nope") is None
    assert [t["id"] for t in gateway_sandbox.admin.transactions("acme")] == [txn.id]
    # Money objects are accepted too
    txn2 = await gateway.charge(tok, Money(amount=D("1.50")), idempotency_key="job-1b")
    assert txn2.captured == D("1.50")


@pytest.mark.parametrize(("number", "reason"), [
    (DECLINE, "generic"), (INSUFFICIENT, "insufficient_funds"), (EXPIRED, "expired_card"),
    (CVV_FAIL, "cvv_failure"), ("4000000000000010", "avs_failure"), ("4000000000000044", "do_not_honor"),
])
async def test_declines_carry_reason_and_are_recorded(gateway: HttpGateway, gateway_sandbox: GatewaySandbox,
                                                      number: str, reason: str) -> None:
    tok = await _token(gateway, number)
    with pytest.raises(Declined) as exc:
        await gateway.charge(tok, D("20.00"), idempotency_key=f"dec-{reason}")
    assert exc.value.reason == reason and exc.value.transaction_id
    txns = gateway_sandbox.admin.transactions("acme")
    assert len(txns) == 1 and txns[0]["status"] == "declined" and txns[0]["captured"] == "0.00"
    # a replay of the same key gives the same decline, nothing new is charged
    with pytest.raises(Declined) as again:
        await gateway.charge(tok, D("20.00"), idempotency_key=f"dec-{reason}")
    assert again.value.transaction_id == exc.value.transaction_id
    assert len(gateway_sandbox.admin.transactions("acme")) == 1


async def test_idempotent_replay_and_conflict(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    tok = await _token(gateway)
    first = await gateway.charge(tok, D("42.00"), idempotency_key="job-7:charge")
    again = await gateway.charge(tok, D("42.00"), idempotency_key="job-7:charge")
    assert again.id == first.id
    assert len(gateway_sandbox.admin.transactions("acme")) == 1
    with pytest.raises(IdempotencyConflict):
        await gateway.charge(tok, D("43.00"), idempotency_key="job-7:charge")
    with pytest.raises(IdempotencyConflict):  # the same key on another operation
        await gateway.refund(first.id, D("1.00"), idempotency_key="job-7:charge")
    assert len(gateway_sandbox.admin.transactions("acme")) == 1
    # keys are per merchant: bravo may use the same key
    async with make_gateway(gateway_sandbox.url, GatewayCredentials(merchant_id="bravo", api_key=SecretStr("sk_test_bravo"))) as bravo:
        t = await bravo.charge_card_on_file("cus_rivers", D("42.00"), idempotency_key="job-7:charge")
        assert t.merchant_id == "bravo"


async def test_duplicate_sale_without_key_is_flagged(gateway_sandbox: GatewaySandbox) -> None:
    c = httpx.Client(base_url=gateway_sandbox.url, headers={"Authorization": "Bearer sk_test_acme"})
    body = {"customer_id": "cus_chen", "amount": "19.99"}
    assert c.post("/v1/transactions", json=body).status_code == 201
    r = c.post("/v1/transactions", json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_transaction"
    from robot.gateway.http import error_from_response

    assert isinstance(error_from_response(r), DuplicateTransaction)
    assert c.post("/v1/transactions", json={**body, "allow_duplicate": True}).status_code == 201
    gateway_sandbox.admin.clock(advance_seconds=301)
    assert c.post("/v1/transactions", json=body).status_code == 201
    c.close()


async def test_card_on_file(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    cus = await gateway.get_customer("cus_chen")
    pm = cus.default_method()
    assert pm is not None and pm.last4 == "1111" and pm.brand == "Visa" and pm.id.startswith("pm_")
    txn = await gateway.charge_card_on_file("cus_chen", D("150.00"), idempotency_key="cof-1")
    assert txn.customer_id == "cus_chen" and txn.payment_method_id == pm.id and txn.tender.last4 == "1111"
    txn2 = await gateway.charge_card_on_file("cus_chen", D("10.00"), idempotency_key="cof-2", payment_method_id=pm.id)
    assert txn2.payment_method_id == pm.id
    with pytest.raises(InvalidRequest) as exc:
        await gateway.charge_card_on_file("cus_patel", D("10.00"), idempotency_key="cof-3")
    assert exc.value.field == "customer_id"
    with pytest.raises(InvalidRequest):
        await gateway.charge_card_on_file("cus_nobody", D("10.00"), idempotency_key="cof-4")
    with pytest.raises(NotFound):
        await gateway.get_customer("cus_nobody")
    # a new customer with a saved card
    tok = await _token(gateway, VISA_2)
    new = await gateway.create_customer("Ann Lee", "ann@example.com", token=tok)
    assert new.default_method() is not None and new.default_method().last4 == "4242"
    tok2 = await _token(gateway, DECLINE)
    pm2 = await gateway.add_payment_method(new.id, tok2, default=True)
    with pytest.raises(Declined):
        await gateway.charge_card_on_file(new.id, D("5.00"), idempotency_key="cof-5")
    ok = await gateway.charge_card_on_file(new.id, D("5.00"), idempotency_key="cof-6",
                                           payment_method_id=new.default_method().id)
    assert ok.status is TransactionStatus.captured and pm2.is_default


async def test_amount_validation_before_any_request(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    for bad in (1.5, D("0"), D("-1.00"), D("1.005"), "abc"):
        with pytest.raises(InvalidRequest) as exc:
            await gateway.charge_card_on_file("cus_chen", bad, idempotency_key="amt")  # type: ignore[arg-type]
        assert exc.value.field == "amount"
    with pytest.raises(InvalidRequest) as exc:
        await gateway.charge_card_on_file("cus_chen", Money(amount=D("1.00"), currency="EUR"), idempotency_key="amt")
    assert exc.value.field == "currency"
    with pytest.raises(InvalidRequest):
        await gateway.charge_card_on_file("cus_chen", D("1.00"), idempotency_key="")
    assert gateway_sandbox.admin.transactions("acme") == []


async def test_authorize_then_capture(gateway: HttpGateway) -> None:
    tok = await _token(gateway)
    auth = await gateway.charge(tok, D("100.00"), idempotency_key="auth-1", capture=False)
    assert auth.status is TransactionStatus.authorized and auth.captured == D("0.00") and auth.refundable == D("0")
    with pytest.raises(NotRefundable):
        await gateway.refund(auth.id, D("1.00"), idempotency_key="auth-1-r")
    with pytest.raises(InvalidRequest):
        await gateway.capture(auth.id, D("100.01"), idempotency_key="auth-1-c0")
    cap = await gateway.capture(auth.id, D("80.00"), idempotency_key="auth-1-c")
    assert cap.status is TransactionStatus.captured and cap.captured == D("80.00") and cap.amount == D("100.00")
    assert (await gateway.capture(auth.id, D("80.00"), idempotency_key="auth-1-c")).id == cap.id  # replay
    auth2 = await gateway.charge(tok, D("5.00"), idempotency_key="auth-2", capture=False)
    voided = await gateway.void(auth2.id, idempotency_key="auth-2-v")
    assert voided.status is TransactionStatus.voided


async def test_void_before_batch_close_and_not_after(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    a = await gateway.charge_card_on_file("cus_chen", D("30.00"), idempotency_key="v-1")
    b = await gateway.charge_card_on_file("cus_okafor", D("45.00"), idempotency_key="v-2")
    batch = await gateway.batch_status()
    assert batch.status == "open" and batch.transaction_count == 2 and batch.total == D("75.00")
    v = await gateway.void(a.id, idempotency_key="v-1:void")
    assert v.status is TransactionStatus.voided and v.refundable == D("0.00")
    assert (await gateway.void(a.id, idempotency_key="v-1:void")).id == a.id  # replay
    with pytest.raises(NotVoidable):
        await gateway.void(a.id, idempotency_key="v-1:void-again")
    with pytest.raises(NotRefundable):
        await gateway.refund(a.id, idempotency_key="v-1:refund")
    assert (await gateway.batch_status()).total == D("45.00")
    closed = gateway_sandbox.admin.close_batch("acme")
    assert closed[0]["id"] == batch.id and closed[0]["status"] == "closed"
    settled = await gateway.get_transaction(b.id)
    assert settled.settled and settled.status is TransactionStatus.settled
    with pytest.raises(NotVoidable) as exc:
        await gateway.void(b.id, idempotency_key="v-2:void")
    assert "refund" in exc.value.message
    r = await gateway.refund(b.id, idempotency_key="v-2:refund")
    assert r.amount == D("45.00")
    assert (await gateway.batch_status(batch.id)).status == "closed"
    new_batch = await gateway.batch_status()
    assert new_batch.id != batch.id and new_batch.transaction_count == 0


async def test_split_refunds_arithmetic(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    txn = await gateway.charge_card_on_file("cus_garcia", D("100.00"), idempotency_key="sr")
    r1 = await gateway.refund(txn.id, D("30.00"), idempotency_key="sr:r1")
    r2 = await gateway.refund(txn.id, D("25.50"), idempotency_key="sr:r2")
    assert (r1.amount, r2.amount, r1.reference) == (D("30.00"), D("25.50"), "sr:r1")
    t = await gateway.get_transaction(txn.id)
    assert t.status is TransactionStatus.partially_refunded
    assert (t.refunded, t.refundable) == (D("55.50"), D("44.50"))
    assert [r.id for r in t.refunds] == [r1.id, r2.id]
    with pytest.raises(NotVoidable):  # refunds exist: no void
        await gateway.void(txn.id, idempotency_key="sr:v")
    with pytest.raises(RefundExceedsRefundable) as exc:
        await gateway.refund(txn.id, D("44.51"), idempotency_key="sr:r3")
    assert exc.value.refundable == D("44.50")
    assert (await gateway.refund(txn.id, D("30.00"), idempotency_key="sr:r1")).id == r1.id  # replay: no new refund
    r3 = await gateway.refund(txn.id, None, idempotency_key="sr:rest")  # the rest
    assert r3.amount == D("44.50")
    t = await gateway.get_transaction(txn.id)
    assert t.status is TransactionStatus.refunded and t.refundable == D("0.00") and t.refunded == t.captured
    with pytest.raises(NotRefundable):
        await gateway.refund(txn.id, D("0.01"), idempotency_key="sr:r4")
    admin_txn = gateway_sandbox.admin.transaction(txn.id)
    assert sum(D(r["amount"]) for r in admin_txn["refunds"]) == D("100.00")


async def test_list_transactions_by_time_and_reference(gateway: HttpGateway, gateway_sandbox: GatewaySandbox) -> None:
    from datetime import datetime, timedelta, timezone

    a = await gateway.charge_card_on_file("cus_chen", D("1.00"), idempotency_key="l-1")
    gateway_sandbox.admin.clock(advance_seconds=3600)
    b = await gateway.charge_card_on_file("cus_chen", D("2.00"), idempotency_key="l-2")
    assert [t.id for t in await gateway.list_transactions()] == [a.id, b.id]
    cut = a.created_at + timedelta(minutes=30)
    assert [t.id for t in await gateway.list_transactions(since=cut)] == [b.id]
    assert [t.id for t in await gateway.list_transactions(until=cut)] == [a.id]
    assert [t.id for t in await gateway.list_transactions(reference="l-2")] == [b.id]
    assert await gateway.list_transactions(since=datetime.now(timezone.utc) + timedelta(days=2)) == []
    async with make_gateway(gateway_sandbox.url, GatewayCredentials(merchant_id="bravo", api_key=SecretStr("sk_test_bravo"))) as bravo:
        assert await bravo.list_transactions() == []  # merchants never see each other's
        with pytest.raises(NotFound):
            await bravo.get_transaction(a.id)


async def test_bad_credentials_are_refused_and_not_retried(gateway_sandbox: GatewaySandbox) -> None:
    bad = GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_wrong"))
    transport = CountingTransport()
    async with make_gateway(gateway_sandbox.url, bad, transport=transport) as gw:
        with pytest.raises(GatewayAuthError) as exc:
            await gw.charge_card_on_file("cus_chen", D("1.00"), idempotency_key="x")
        assert "sk_test_wrong" not in str(exc.value)
    assert transport.seen == [("POST", "/v1/transactions")]  # refused once, never sent again
    mismatched = GatewayCredentials(merchant_id="bravo", api_key=SecretStr("sk_test_acme"))
    async with make_gateway(gateway_sandbox.url, mismatched) as gw:
        with pytest.raises(GatewayAuthError):
            await gw.list_transactions()


async def test_gateway_for_uses_settings_url_and_vault_key(gateway_sandbox: GatewaySandbox) -> None:
    from robot.config import load_settings

    settings = load_settings(gateway_url=gateway_sandbox.url)
    gw = gateway_for(settings, ACME)
    assert gw.base_url == gateway_sandbox.url and "sk_test_acme" not in repr(gw)
    async with gw:
        assert (await gw.batch_status()).merchant_id == "acme"
