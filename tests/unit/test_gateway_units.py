"""Gateway module pieces without a server: amount validation, error mapping, models, sandbox card checks."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from fixtures.gateway_sandbox.cards import aba_ok, brand_of, check_bank, check_card, luhn_ok
from fixtures.gateway_sandbox.core import cents_str, parse_amount
from fixtures.gateway_sandbox.errors import SandboxError
from robot.errors import RobotError
from robot.gateway import (
    AchReturned,
    Declined,
    DuplicateTransaction,
    Gateway,
    GatewayAuthError,
    GatewayError,
    GatewayUnavailable,
    IdempotencyConflict,
    InvalidRequest,
    LinkExpired,
    MaskedTender,
    Money,
    NotFound,
    NotVoidable,
    RefundExceedsRefundable,
    TerminalBusy,
    TerminalOffline,
    Transaction,
)
from robot.gateway.http import HttpGateway, amount_str, error_from_response
from robot.vault import GatewayCredentials


def test_amount_str() -> None:
    assert amount_str(Decimal("150")) == "150.00"
    assert amount_str("1,234.50") == "1234.50"
    assert amount_str(5) == "5.00"
    assert amount_str(Money(amount=Decimal("2.5"))) == "2.50"
    assert amount_str(None) is None
    for bad in (0.1, Decimal("0"), Decimal("-3"), Decimal("1.001"), "x", True):
        with pytest.raises(InvalidRequest):
            amount_str(bad)  # type: ignore[arg-type]


def _resp(status: int, body: dict) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", "http://x/v1/transactions"))


@pytest.mark.parametrize(("status", "code", "extra", "cls"), [
    (402, "card_declined", {"reason": "insufficient_funds", "transaction_id": "txn_1"}, Declined),
    (409, "duplicate_transaction", {"transaction_id": "txn_1"}, DuplicateTransaction),
    (409, "idempotency_conflict", {}, IdempotencyConflict),
    (400, "invalid_request", {"field": "cvv"}, InvalidRequest),
    (404, "not_found", {}, NotFound),
    (409, "not_voidable", {}, NotVoidable),
    (409, "refund_exceeds_refundable", {"refundable": "4.50"}, RefundExceedsRefundable),
    (409, "terminal_offline", {}, TerminalOffline),
    (409, "terminal_busy", {}, TerminalBusy),
    (410, "link_expired", {}, LinkExpired),
    (409, "ach_returned", {"r_code": "R02"}, AchReturned),
    (401, "gateway_auth_error", {}, GatewayAuthError),
    (503, "gateway_unavailable", {}, GatewayUnavailable),
    (500, "server_error", {}, GatewayUnavailable),
    (409, "something_new", {}, GatewayError),
])
def test_error_mapping(status: int, code: str, extra: dict, cls: type) -> None:
    err = error_from_response(_resp(status, {"error": {"code": code, "message": "m", **extra}}))
    assert type(err) is cls and isinstance(err, RobotError)
    if cls is Declined:
        assert err.reason == "insufficient_funds" and err.transaction_id == "txn_1"  # type: ignore[attr-defined]
    if cls is InvalidRequest:
        assert err.field == "cvv"  # type: ignore[attr-defined]
    if cls is RefundExceedsRefundable:
        assert err.refundable == Decimal("4.50")  # type: ignore[attr-defined]
    if cls is AchReturned:
        assert err.r_code == "R02"  # type: ignore[attr-defined]
    if code == "something_new":
        assert err.code == "something_new"


def test_error_mapping_garbage_body() -> None:
    r = httpx.Response(502, text="<html>bad gateway</html>", request=httpx.Request("GET", "http://x/"))
    assert isinstance(error_from_response(r), GatewayUnavailable)
    r = httpx.Response(418, text="teapot", request=httpx.Request("GET", "http://x/"))
    assert type(error_from_response(r)) is GatewayError


def test_declined_reason_is_normalised() -> None:
    assert Declined("x", reason="weird").reason == "generic"
    d = Declined("x", reason="cvv_failure", transaction_id="txn_9")
    assert d.to_dict()["reason"] == "cvv_failure" and d.transaction_id == "txn_9" and d.code == "card_declined"


def test_http_gateway_is_a_gateway_and_hides_its_key() -> None:
    gw = HttpGateway("http://127.0.0.1:1/", GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_live_zzz")))
    assert isinstance(gw, Gateway)
    assert "sk_live_zzz" not in repr(gw) and gw.base_url == "http://127.0.0.1:1"


def test_transaction_model_details() -> None:
    t = Transaction.model_validate({
        "id": "txn_1", "merchant_id": "acme", "kind": "sale", "status": "captured", "amount": "10.00",
        "captured": "10.00", "refunded": "0.00", "refundable": "10.00", "currency": "USD",
        "tender": {"type": "card", "brand": "Visa", "first6": "411111", "last4": "1111"},
        "reference": "job-1", "created_at": datetime.now(timezone.utc).isoformat()})
    assert t.details() == "txn_1 Visa •••• 1111" and t.approved and t.money() == Money(amount=Decimal("10.00"))
    assert isinstance(t.captured, Decimal)
    assert MaskedTender(type="bank", bank_last4="6789").describe() == "Bank •••• 6789"
    assert t.model_dump(mode="json")["captured"] == "10.00"
    with pytest.raises(ValueError):
        Money(amount=1.5)  # type: ignore[arg-type]


def test_sandbox_card_checks() -> None:
    today = date(2026, 11, 25)
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert brand_of("5555555555554444") == "Mastercard" and brand_of("6011111111111117") == "Discover"
    c = check_card("4000 0000 0000 9995", 11, 26, "123", today)
    assert (c.outcome, c.last4, c.exp_year) == ("insufficient_funds", "9995", 2026)
    for args, field in ((("4111111111111111", 10, 2026, "123"), "exp_month"),
                        (("4111111111111111", 1, 2025, "123"), "exp_year"),
                        (("4111111111111111", "x", 2030, "123"), "exp_month"),
                        ((None, 1, 2030, "123"), "number"),
                        (("4111111111111111", 1, 2030, None), "cvv")):
        with pytest.raises(SandboxError) as exc:
            check_card(*args, today)  # type: ignore[arg-type]
        assert exc.value.extra["field"] == field and "4111111111111111" not in exc.value.message
    assert aba_ok("011000015") and not aba_ok("011000016")
    assert check_bank("011000015", "000123456789", "A B", "savings").bank_last4 == "6789"


def test_sandbox_amounts() -> None:
    assert parse_amount("12.50") == 1250 and parse_amount(3) == 300 and parse_amount(None, required=False) is None
    for bad in (1.5, "1.234", "0", "-1", "abc", "1000000.00", [1]):
        with pytest.raises(SandboxError):
            parse_amount(bad)
    assert cents_str(5) == "0.05" and cents_str(123456) == "1234.56" and cents_str(-250) == "-2.50"
