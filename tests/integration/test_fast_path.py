"""The fast path (issue 15): a warm job loads its invoice once (no second load before the write,
no reload on read-back), an invoice number found once is remembered for the merchant's later
jobs, and a remembered id is checked, not trusted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld

pytestmark = pytest.mark.asyncio(loop_scope="session")

OKAFOR = {"type": "card_on_file", "customer_id": "cus_okafor"}


@contextmanager
def _requests(flow_world: FlowWorld) -> Iterator[list[tuple[str, str]]]:
    """What the merchant's browser asks Jobber for meanwhile: (document path | GraphQL operation, search)."""
    seen: list[tuple[str, str]] = []
    page = flow_world.pool.sessions()["acme"].page

    def note(req: Any) -> None:
        if req.resource_type == "document":
            seen.append(("document", req.url.split("/", 3)[-1].split("?", 1)[0]))
        elif req.method == "POST" and req.url.endswith("/graphql"):
            body = json.loads(req.post_data or "{}")
            seen.append((body.get("operationName", ""), str((body.get("variables") or {}).get("searchTerm") or "")))

    page.on("request", note)
    try:
        yield seen
    finally:
        page.remove_listener("request", note)


async def test_a_warm_job_loads_its_invoice_once_and_remembers_the_number(flow_world: FlowWorld) -> None:
    first = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "10.00", "tender": OKAFOR})
    assert first.outcome is Outcome.succeeded, first.message
    inv_id = flow_world.invoice(1050)["id"]

    with _requests(flow_world) as seen:
        second = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "20.00", "tender": OKAFOR})
    assert second.outcome is Outcome.succeeded, second.message
    assert second.balance_before == Decimal("210.00") and second.balance_after == Decimal("190.00")
    # Jobber has both payments, and the balance the job read back is Jobber's
    inv = flow_world.invoice(1050)
    assert [p["amount"] for p in inv["payments"]] == ["10.00", "20.00"] and inv["balance"] == "190.00"
    assert second.gateway_transaction_id in inv["payments"][1]["details"]
    # the number was not searched again, and the invoice was loaded once (verify), not before the
    # write nor after it
    assert not [s for s in seen if s[0] == "InvoicesList" and s[1]], seen
    assert [s for s in seen if s == ("document", f"invoices/{inv_id}")] == [("document", f"invoices/{inv_id}")], seen
    assert ("PaymentCreate", "") in seen


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_remembered_id_that_names_another_invoice_now_is_not_trusted(flow_world: FlowWorld) -> None:
    first = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "10.00", "tender": OKAFOR})
    assert first.outcome is Outcome.succeeded, first.message
    remembered = flow_world.pool.invoice_ids["acme"]
    assert remembered[1050] == flow_world.invoice(1050)["id"]
    other = flow_world.invoice(1042)
    remembered[1050] = other["id"]  # as if Jobber's ids had moved (an invoice deleted and made again)

    r = await flow_world.run({"kind": "deposit", "invoice": 1050, "amount": "15.00", "tender": OKAFOR})
    assert r.outcome is Outcome.succeeded, r.message
    # the payment is on #1050, the invoice the job named; #1042 is untouched
    assert [p["amount"] for p in flow_world.invoice(1050)["payments"]] == ["10.00", "15.00"]
    assert flow_world.invoice(1042)["payments"] == other["payments"] == []
    assert remembered[1050] == flow_world.invoice(1050)["id"]

