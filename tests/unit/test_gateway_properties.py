"""Property tests: no sequence of captures, refunds, voids, settlements and ACH returns ever gives
back more than was captured — on the sandbox's own rules module, and (smaller) over HTTP."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.gateway_sandbox import rules
from fixtures.gateway_sandbox.errors import SandboxError

ops = st.one_of(
    st.tuples(st.just("refund"), st.one_of(st.none(), st.integers(min_value=-5, max_value=30_000))),
    st.tuples(st.just("void"), st.none()),
    st.tuples(st.just("settle"), st.none()),
    st.tuples(st.just("capture"), st.one_of(st.none(), st.integers(min_value=0, max_value=30_000))),
    st.tuples(st.just("ach_return"), st.sampled_from(["R01", "R02", "R03", "R04", "R09"])),
)


def _check(t: rules.TxnState, refunds: list[int]) -> None:
    assert 0 <= t.refunded <= t.captured
    assert t.captured <= t.amount
    assert t.returned_to_customer <= t.captured
    assert sum(refunds) == t.refunded
    assert 0 <= t.refundable <= t.captured - t.refunded
    if t.status == "voided":
        assert t.refunded == 0 and t.refundable == 0
    if t.status == "refunded":
        assert t.refunded == t.captured > 0
    if t.status == "partially_refunded":
        assert 0 < t.refunded < t.captured
    if t.status in ("voided", "returned", "declined", "authorized", "refunded"):
        assert t.refundable == 0


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(["sale", "authorization", "ach_debit", "terminal_sale", "link_payment"]),
       amount=st.integers(min_value=1, max_value=20_000), steps=st.lists(ops, max_size=12))
def test_rules_never_return_more_than_captured(kind: str, amount: int, steps: list[tuple[str, object]]) -> None:
    t = rules.new_sale(kind if kind != "authorization" else "sale", amount, capture=kind != "authorization")
    refunds: list[int] = []
    _check(t, refunds)
    for op, arg in steps:
        before = t
        try:
            if op == "refund":
                t, got = rules.refund(t, arg)  # type: ignore[arg-type]
                assert got > 0 and (arg is None or got == arg)
                refunds.append(got)
            elif op == "void":
                t = rules.void(t)
                assert before.settled is False or before.kind == "authorization"
            elif op == "settle":
                t = rules.settle(t)
            elif op == "capture":
                t = rules.capture(t, arg)  # type: ignore[arg-type]
                assert before.status == "authorized"
            else:
                t = rules.ach_return(t, str(arg))
                assert before.kind == "ach_debit"
        except SandboxError as exc:
            assert t is before  # a refused operation changes nothing
            assert exc.code in {"not_refundable", "refund_exceeds_refundable", "invalid_request", "not_voidable",
                                "not_capturable", "not_returnable"}
        _check(t, refunds)


@pytest.mark.parametrize("amount", [1, 10_000])
def test_rules_full_refund_then_nothing(amount: int) -> None:
    t = rules.new_sale("sale", amount, True)
    t, got = rules.refund(t, None)
    assert got == amount and t.status == "refunded"
    with pytest.raises(SandboxError):
        rules.refund(t, 1)
    with pytest.raises(SandboxError):
        rules.void(t)


# --- the same property over real HTTP (smaller) -------------------------------------------------------

http_ops = st.lists(st.one_of(
    st.tuples(st.just("refund"), st.one_of(st.none(), st.integers(min_value=1, max_value=12_000))),
    st.tuples(st.just("void"), st.none()),
    st.tuples(st.just("close_batch"), st.none()),
), min_size=1, max_size=6)


_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=12, deadline=None, suppress_health_check=_SUPPRESS)
@given(amount=st.integers(min_value=100, max_value=10_000), steps=http_ops)
def test_http_refunds_and_voids_never_exceed_capture(sandbox, amount: int, steps: list[tuple[str, int | None]]) -> None:  # type: ignore[no-untyped-def]
    _http_property(sandbox, amount, steps)


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=_SUPPRESS)
@given(amount=st.integers(min_value=1, max_value=50_000), steps=http_ops)
def test_http_refunds_and_voids_never_exceed_capture_many(sandbox, amount: int, steps: list[tuple[str, int | None]]) -> None:  # type: ignore[no-untyped-def]
    _http_property(sandbox, amount, steps)


def _http_property(sandbox, amount: int, steps: list[tuple[str, int | None]]) -> None:  # type: ignore[no-untyped-def]
    from robot.gateway import NotRefundable, NotVoidable, RefundExceedsRefundable
    from tests.plugin_gateway import make_gateway

    sandbox.admin.reset("demo")
    cents = Decimal(1) / 100

    async def run() -> tuple[str, list[Decimal], bool]:
        async with make_gateway(sandbox.url) as gw:
            txn = await gw.charge_card_on_file("cus_chen", Decimal(amount) * cents, idempotency_key="p:charge")
            refunded: list[Decimal] = []
            voided = False
            for i, (op, arg) in enumerate(steps):
                try:
                    if op == "refund":
                        r = await gw.refund(txn.id, None if arg is None else Decimal(arg) * cents,
                                            idempotency_key=f"p:{i}")
                        refunded.append(r.amount)
                    elif op == "void":
                        await gw.void(txn.id, idempotency_key=f"p:{i}")
                        voided = True
                    else:
                        sandbox.admin.close_batch("acme")
                except (NotRefundable, RefundExceedsRefundable, NotVoidable):
                    pass
            return txn.id, refunded, voided

    txn_id, refunded, voided = asyncio.run(run())
    t = sandbox.admin.transaction(txn_id)
    captured = Decimal(t["captured"])
    assert captured == Decimal(amount) * cents
    assert sum(refunded, Decimal(0)) == Decimal(t["refunded"]) <= captured
    assert sum((Decimal(r["amount"]) for r in t["refunds"]), Decimal(0)) == Decimal(t["refunded"])
    if voided:
        assert refunded == [] and t["status"] == "voided"
    assert Decimal(t["refundable"]) == (0 if t["status"] in ("voided", "refunded") else captured - Decimal(t["refunded"]))
