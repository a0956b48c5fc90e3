"""Payment links: created and sent; paid ones reconciled into Jobber exactly once; expired reported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_link_paid_is_reconciled_once_even_when_reconcile_runs_twice(flow_world: FlowWorld) -> None:
    made = await flow_world.run({"kind": "link", "invoice": 1050, "send_via": "sms", "to": "+15555550187"})
    assert made.outcome is Outcome.pending, made.message
    link_id = made.report["link_id"]
    assert made.amount_requested == Decimal("220.00") and made.report["url"]
    [sent] = [m for m in flow_world.sandbox.admin.outbox() if link_id in str(m)]
    assert sent["channel"] == "sms" and sent["to"] == "+15555550187"
    other = await flow_world.run({"kind": "link", "invoice": 1051, "amount": "50.00", "send_via": "email",
                                  "to": "jonas.okafor@example.com"})
    assert other.outcome is Outcome.pending, other.message
    assert flow_world.payments(1050) == [] and flow_world.txns() == []  # nothing paid yet

    flow_world.sandbox.admin.pay_link(link_id)
    flow_world.sandbox.admin.expire_link(other.report["link_id"])
    first = await flow_world.run({"kind": "link_reconcile"})
    assert first.outcome is Outcome.succeeded, first.message
    [rec] = first.report["recorded"]
    assert rec["link"] == link_id and rec["invoice"] == 1050 and rec["balance_after"] == "0.00"
    assert [e["link_id"] for e in first.report["expired"]] == [other.report["link_id"]]

    second = await flow_world.run({"kind": "link_reconcile"})
    assert second.outcome is Outcome.succeeded, second.message
    assert second.report["recorded"] == [] and len(second.report["already_recorded"]) == 1

    [txn] = flow_world.txns()
    [payment] = flow_world.payments(1050)
    assert payment["amount"] == "220.00" and txn["id"] in payment["details"] and f"link {link_id}" in payment["details"]
    assert made.job_id in payment["details"]  # the job that created the link
    assert flow_world.invoice(1050)["status"] == "paid"
    assert flow_world.payments(1051) == []


async def test_link_on_a_draft_invoice_is_refused(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "link", "invoice": 1043, "send_via": "email", "to": "m@example.com"})
    assert r.outcome is Outcome.refused and r.error_code == "invoice_in_draft"
    assert flow_world.sandbox.admin.outbox() == []
