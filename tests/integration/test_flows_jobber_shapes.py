"""The flows on the shapes real Jobber can show: an account that records payments on the New
Payment page, a login holding several accounts, invoice numbers that repeat, the "More Actions"
wording. Real browser, real mock site and sandbox; Jobber's state read through the admin API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio
from pydantic import SecretStr

from robot.jobs.models import Candidate, Outcome
from robot.vault import GatewayCredentials, MerchantCredentials
from tests.integration.robot_world import DELTA, ECHO
from tests.plugin_mock_jobber import FRANCHISE_EMAIL, PAGE_EMAIL
from tests.plugin_world import FlowWorld, refunded

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHEN = {"type": "card_on_file", "customer_id": "cus_chen"}  # a card on file at the sandbox (acme's gateway)


@pytest_asyncio.fixture(loop_scope="session")
async def shapes(flow_world: FlowWorld) -> AsyncIterator[FlowWorld]:
    """`echo` (New Payment page) and `delta-north` (one login, two accounts), both charging through
    acme's sandbox gateway merchant."""
    gateway = GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme"))
    flow_world.vault.put(MerchantCredentials(**{**ECHO, "gateway": gateway}))
    flow_world.vault.put(MerchantCredentials(**{**DELTA, "merchant": "delta-north", "business_name": "Delta Lawn North",
                                                "gateway": gateway}))
    for merchant in ("echo", "delta-north"):
        flow_world.vault.clear_storage_state(merchant)
    yield flow_world
    for merchant in ("echo", "delta-north"):
        await flow_world.pool.close_merchant(merchant)


def _echo_invoice(world: FlowWorld, number: int) -> dict:
    return world.invoice(number, PAGE_EMAIL)


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_charge_deposit_refund_and_void_on_the_new_payment_page(shapes: FlowWorld) -> None:
    deposit = await shapes.run({"merchant": "echo", "kind": "deposit", "invoice": 5042, "amount": "50.00",
                                "tender": CHEN})
    assert deposit.outcome is Outcome.succeeded, deposit.message
    charge = await shapes.run({"merchant": "echo", "kind": "charge", "invoice": 5042, "tender": CHEN})
    assert charge.outcome is Outcome.succeeded, charge.message
    assert charge.amount_captured == Decimal("100.00") and charge.balance_after == Decimal("0.00")
    inv = _echo_invoice(shapes, 5042)
    assert inv["status"] == "paid" and [p["amount"] for p in inv["payments"]] == ["50.00", "100.00"]
    assert all(p["method"] == "credit_card" for p in inv["payments"])
    # nothing went onto the client's other invoices from the page's per-invoice table
    assert all(not i["payments"] for i in shapes.site.admin.account(PAGE_EMAIL)["invoices"]  # type: ignore[union-attr]
               if i["number"] != 5042)

    refund = await shapes.run({"merchant": "echo", "kind": "refund", "transaction_id": charge.gateway_transaction_id,
                               "amount": "30.00"})
    assert refund.outcome is Outcome.succeeded, refund.message
    paid = next(p for p in _echo_invoice(shapes, 5042)["payments"] if charge.gateway_transaction_id in p["details"])
    assert paid["amount"] == "70.00" and refunded(paid) == "30.00"
    assert _echo_invoice(shapes, 5042)["balance"] == "30.00"

    void = await shapes.run({"merchant": "echo", "kind": "void", "transaction_id": deposit.gateway_transaction_id})
    assert void.outcome is Outcome.succeeded, void.message
    left = _echo_invoice(shapes, 5042)["payments"]
    assert [p["amount"] for p in left] == ["70.00"] and _echo_invoice(shapes, 5042)["balance"] == "80.00"
    assert shapes.txn(deposit.gateway_transaction_id or "")["status"] == "voided"


async def test_quote_deposit_on_the_new_payment_page(shapes: FlowWorld) -> None:
    r = await shapes.run({"merchant": "echo", "kind": "quote_deposit", "quote": 52, "amount": "40.00", "tender": CHEN})
    assert r.outcome is Outcome.succeeded, r.message
    quote = next(q for q in shapes.site.admin.account(PAGE_EMAIL)["quotes"] if q["number"] == 52)  # type: ignore[union-attr]
    [dep] = quote["deposits"]
    assert dep["amount"] == "40.00" and r.gateway_transaction_id in dep["details"]


class _Person:
    """A person who picks one of the candidates by Jobber id."""

    def __init__(self, pick: str) -> None:
        self.pick = pick
        self.seen: list[Candidate] = []

    async def choose_invoice(self, candidates: list[Candidate]) -> int | None:
        self.seen = candidates
        return next(c.invoice_id for c in candidates if c.invoice_id is not None and self.pick in str(c.balance))


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_repeated_invoice_number_goes_to_a_person_unless_the_client_tells(shapes: FlowWorld) -> None:
    north = "Delta Lawn North"
    waiting = await shapes.run({"merchant": "delta-north", "kind": "charge", "invoice": 3001, "tender": CHEN})
    assert waiting.outcome is Outcome.needs_confirmation, waiting.message
    assert "2 invoices numbered #3001" in waiting.message
    assert all(not i["payments"] for i in shapes.site.admin.account(FRANCHISE_EMAIL, north)["invoices"])  # type: ignore[union-attr]
    assert shapes.txns("acme") == [] or all("3001" not in t.get("description", "") for t in shapes.txns("acme"))

    pinned = await shapes.run({"merchant": "delta-north", "kind": "charge", "invoice": 3001, "client": "Omar Haddad",
                               "tender": CHEN})
    assert pinned.outcome is Outcome.succeeded, pinned.message
    assert 3001 not in shapes.pool.invoice_ids.get("delta-north", {}), "a repeated number is never remembered"
    invoices = shapes.site.admin.account(FRANCHISE_EMAIL, north)["invoices"]  # type: ignore[union-attr]
    omar = next(i for i in invoices if i["number"] == 3001 and i["client"] == "Omar Haddad")
    hannah = next(i for i in invoices if i["number"] == 3001 and i["client"] == "Hannah Brooks")
    assert omar["status"] == "paid" and hannah["payments"] == []
    # the gateway keeps Jobber's own id with the number: a refund finds the right one of the two
    refund = await shapes.run({"merchant": "delta-north", "kind": "refund",
                               "transaction_id": pinned.gateway_transaction_id, "amount": "10.00"})
    assert refund.outcome is Outcome.succeeded, refund.message

    person = _Person("120.00")  # Hannah's balance
    chosen = await shapes.run({"merchant": "delta-north", "kind": "charge", "invoice": 3001, "tender": CHEN},
                              confirmer=person)
    assert chosen.outcome is Outcome.succeeded, chosen.message
    assert {c.invoice for c in person.seen} == {3001} and len(person.seen) == 2
    hannah = next(i for i in shapes.site.admin.account(FRANCHISE_EMAIL, north)["invoices"]  # type: ignore[union-attr]
                  if i["number"] == 3001 and i["client"] == "Hannah Brooks")
    assert hannah["status"] == "paid"


async def test_the_more_actions_wording_still_works(shapes: FlowWorld) -> None:
    shapes.site.admin.faults(layout_variant="more_actions")  # type: ignore[union-attr]
    r = await shapes.run({"kind": "charge", "invoice": 1042, "tender": CHEN})
    assert r.outcome is Outcome.succeeded, r.message
    void = await shapes.run({"kind": "void", "transaction_id": r.gateway_transaction_id})
    assert void.outcome is Outcome.succeeded, void.message  # More Actions → Delete on the payment page
    assert shapes.invoice(1042)["payments"] == []
