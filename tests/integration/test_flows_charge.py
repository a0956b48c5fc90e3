"""Charge flows end to end: real browser on the mock Jobber site, real HTTP to the sandbox gateway.

Every test checks Jobber's state through the mock's admin API and the gateway's through the
sandbox's admin API, not only the JobResult.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld, refund_lines, refunded

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHEN = {"type": "card_on_file", "customer_id": "cus_chen"}


async def test_card_on_file_charge_records_the_payment_and_pays_the_invoice(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "tender": CHEN})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.amount_captured == Decimal("150.00")
    assert r.balance_before == Decimal("150.00") and r.balance_after == Decimal("0.00")
    assert r.status_after == "paid"
    assert [s.step for s in r.steps] == ["verify", "gateway", "record", "verify_after"]
    inv = flow_world.invoice(1042)
    assert inv["status"] == "paid" and inv["balance"] == "0.00"
    [payment] = inv["payments"]
    assert payment["method"] == "credit_card" and payment["amount"] == "150.00"
    assert payment["details"] == f"{r.gateway_transaction_id} · Visa •••• 1111 · job {r.job_id}"
    assert payment["id"] == r.jobber_payment_id
    txn = flow_world.txn(r.gateway_transaction_id or "")
    assert txn["status"] == "captured" and txn["captured"] == "150.00"
    assert txn["reference"] == f"{r.job_id}:gateway"


async def test_draft_invoice_is_refused_and_never_marked_sent(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "invoice": 1043, "tender": CHEN})
    assert r.outcome is Outcome.refused and r.error_code == "invoice_in_draft"
    assert "Draft" in r.message and "never" in r.message
    inv = flow_world.invoice(1043)
    assert inv["status"] == "draft" and inv["payments"] == []
    assert flow_world.txns() == []


async def test_amount_above_the_balance_is_refused_before_money_moves(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "amount": "150.01", "tender": CHEN})
    assert r.outcome is Outcome.refused and r.error_code == "amount_mismatch"
    assert "$150.01" in r.message and "$150.00" in r.message
    assert flow_world.payments(1042) == [] and flow_world.txns() == []


async def test_invoice_of_another_client_is_refused(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "client": "Jonas Okafor", "tender": CHEN})
    assert r.outcome is Outcome.refused and r.error_code == "client_mismatch"
    assert flow_world.payments(1042) == [] and flow_world.txns() == []


async def test_ambiguous_client_needs_confirmation_with_candidates(flow_world: FlowWorld) -> None:
    okafor = {"type": "card_on_file", "customer_id": "cus_okafor"}
    r = await flow_world.run({"kind": "charge", "client": "Jonas Okafor", "amount": "220.00", "tender": okafor})
    assert r.outcome is Outcome.needs_confirmation and r.error_code == "needs_confirmation"
    assert [(c.invoice, c.balance) for c in r.candidates] == [(1050, Decimal("220.00")), (1051, Decimal("95.50"))]
    assert "suggestion" in r.message  # $220.00 equals #1050's balance: still not a guess
    assert flow_world.txns() == []
    assert flow_world.payments(1050) == [] and flow_world.payments(1051) == []


async def test_a_person_picks_the_invoice_through_the_confirmer(flow_world: FlowWorld) -> None:
    class PickPastDue:
        seen: list[int] = []

        async def choose_invoice(self, candidates: list) -> int | None:
            self.seen = [c.invoice for c in candidates]
            return 1051

    confirmer = PickPastDue()
    okafor = {"type": "card_on_file", "customer_id": "cus_okafor"}
    r = await flow_world.run({"kind": "charge", "client": "Jonas Okafor", "tender": okafor}, confirmer=confirmer)
    assert confirmer.seen == [1050, 1051]
    assert r.outcome is Outcome.succeeded, r.message
    assert r.invoice == 1051 and r.amount_captured == Decimal("95.50")
    assert "verify_confirmed" in [s.step for s in r.steps]
    assert flow_world.invoice(1051)["status"] == "paid" and flow_world.payments(1050) == []


async def test_client_with_one_open_invoice_is_charged_without_asking(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "client": "margaret chen", "tender": CHEN})  # #1043 is a Draft
    assert r.outcome is Outcome.succeeded, r.message
    assert r.invoice == 1042 and flow_world.invoice(1042)["status"] == "paid"


async def test_keyed_card_token_charge(flow_world: FlowWorld) -> None:
    token = await flow_world.card_token("4242424242424242")
    r = await flow_world.run({"kind": "charge", "invoice": 1070, "amount": "100.00",
                              "tender": {"type": "card_token", "token": token}})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.tender == "Visa •••• 4242"
    [_, payment] = flow_world.payments(1070)  # the check from the scenario, then ours
    assert payment["amount"] == "100.00" and "Visa •••• 4242" in payment["details"]
    assert flow_world.invoice(1070)["balance"] == "900.00"
    assert flow_world.txn(r.gateway_transaction_id or "")["captured"] == "100.00"


async def test_decline_records_nothing(flow_world: FlowWorld) -> None:
    token = await flow_world.card_token("4000000000000002")
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "tender": {"type": "card_token", "token": token}})
    assert r.outcome is Outcome.declined and r.error_code == "card_declined"
    assert "nothing was charged or recorded" in r.message
    assert r.jobber_payment_id is None
    assert flow_world.payments(1042) == [] and flow_world.invoice(1042)["balance"] == "150.00"
    [txn] = flow_world.txns()
    assert txn["status"] == "declined" and txn["captured"] == "0.00"


async def test_dry_run_checks_everything_and_moves_nothing(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "tender": CHEN, "dry_run": True})
    assert r.outcome is Outcome.dry_run, r.message
    assert "Visa •••• 1111" in r.message and "#1042" in r.message
    assert flow_world.txns() == [] and flow_world.payments(1042) == []
    refused = await flow_world.run({"kind": "charge", "invoice": 1043, "tender": CHEN, "dry_run": True})
    assert refused.outcome is Outcome.refused  # a dry run still runs every check


async def test_running_the_same_job_again_neither_charges_nor_records_twice(flow_world: FlowWorld) -> None:
    first = await flow_world.run({"kind": "charge", "invoice": 1070, "amount": "50.00", "tender": CHEN},
                                 job_id="same-job")
    # the process died after the gateway call and the record; the queue replays every stage
    again = await flow_world.run({"kind": "charge", "invoice": 1070, "amount": "50.00", "tender": CHEN},
                                 job_id="same-job")
    assert first.outcome is Outcome.succeeded
    assert again.gateway_transaction_id == first.gateway_transaction_id
    assert again.jobber_payment_id == first.jobber_payment_id
    assert len(flow_world.txns()) == 1
    assert [p["amount"] for p in flow_world.payments(1070)] == ["250.00", "50.00"]


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_charge_that_paid_the_invoice_run_again_says_so_instead_of_refusing(flow_world: FlowWorld) -> None:
    """The job paid the invoice in full; run again (as the queue resumes it), it must not read
    "invoice is Paid: refused" (the POS would think no money moved) nor charge or record again."""
    first = await flow_world.run({"kind": "charge", "client": "Margaret Chen", "tender": CHEN}, job_id="paid-it")
    again = await flow_world.run({"kind": "charge", "client": "Margaret Chen", "tender": CHEN}, job_id="paid-it")
    assert first.outcome is Outcome.succeeded, first.message
    assert again.outcome is Outcome.succeeded, again.message
    assert "already recorded" in again.message
    assert again.gateway_transaction_id == first.gateway_transaction_id
    assert again.jobber_payment_id == first.jobber_payment_id
    assert (again.balance_before, again.balance_after) == (Decimal("150.00"), Decimal("0.00"))
    assert len(flow_world.txns()) == 1 and len(flow_world.payments(1042)) == 1
    assert flow_world.invoice(1042)["status"] == "paid"


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_ach_debit_is_recorded_pending_and_a_return_reverses_it(flow_world: FlowWorld) -> None:
    token = await flow_world.bank_token()
    r = await flow_world.run({"kind": "charge", "invoice": 1070, "amount": "300.00",
                              "tender": {"type": "ach_token", "token": token}})
    assert r.outcome is Outcome.pending, r.message
    assert r.tender == "Bank •••• 6789"
    [_, payment] = flow_world.payments(1070)
    assert payment["method"] == "bank_transfer" and payment["amount"] == "300.00"
    assert "pending" in payment["details"] and "Bank •••• 6789" in payment["details"]
    assert flow_world.txn(r.gateway_transaction_id or "")["status"] == "pending"
    assert flow_world.invoice(1070)["balance"] == "700.00"

    # nothing returned yet: the check changes nothing
    quiet = await flow_world.run({"kind": "ach_check"})
    assert quiet.outcome is Outcome.succeeded and quiet.report["reversed"] == []

    flow_world.sandbox.admin.ach_return(r.gateway_transaction_id, "R01")
    check = await flow_world.run({"kind": "ach_check"})
    assert check.outcome is Outcome.reversed, check.message
    assert check.report["flagged_jobs"] == [r.job_id]
    [rev] = check.report["reversed"]
    assert rev["return_code"] == "R01" and rev["reversed_amount"] == "300.00"
    [_, payment] = flow_world.payments(1070)
    # reversed by a refund in Jobber (edited down to $0.00 with a refund line), history kept
    assert refunded(payment) == "300.00" and payment["amount"] == "0.00"
    [(_, reversed_amount, note)] = refund_lines(payment)
    assert reversed_amount == "300.00" and "ACH return R01" in note and r.gateway_transaction_id in note
    assert "Bank •••• 6789" in payment["details"]  # the debit's own Details are still there
    assert flow_world.invoice(1070)["balance"] == "1000.00"
    assert flow_world.txn(r.gateway_transaction_id or "")["status"] == "returned"

    twice = await flow_world.run({"kind": "ach_check"})  # never reversed twice
    assert twice.outcome is Outcome.succeeded and len(twice.report["already_reversed"]) == 1
    assert flow_world.invoice(1070)["balance"] == "1000.00"


async def test_terminal_approval_is_recorded(flow_world: FlowWorld) -> None:
    flow_world.sandbox.admin.terminal("tmr_front_desk", "approve", after_ms=300)
    r = await flow_world.run({"kind": "charge", "invoice": 1042,
                              "tender": {"type": "terminal", "terminal_id": "tmr_front_desk"}})
    assert r.outcome is Outcome.succeeded, r.message
    [payment] = flow_world.payments(1042)
    assert "terminal tmr_front_desk" in payment["details"] and payment["amount"] == "150.00"
    assert flow_world.txn(r.gateway_transaction_id or "")["kind"] == "terminal_sale"


@pytest.mark.parametrize(("action", "kw", "outcome"), [
    ("timeout", {"after_ms": 200}, Outcome.timed_out),
    ("set-timeout", {"timeout_seconds": 1}, Outcome.timed_out),  # nobody answers within the terminal's timeout
    ("decline", {"after_ms": 200, "reason": "insufficient_funds"}, Outcome.declined),
    ("customer-cancel", {"after_ms": 200}, Outcome.cancelled),
    ("offline", {}, Outcome.unavailable),
    ("busy", {}, Outcome.unavailable),
])
@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_terminal_without_approval_records_nothing(flow_world: FlowWorld, action: str, kw: dict,
                                                          outcome: Outcome) -> None:
    flow_world.sandbox.admin.terminal("tmr_front_desk", action, **kw)
    r = await flow_world.run({"kind": "charge", "invoice": 1042,
                              "tender": {"type": "terminal", "terminal_id": "tmr_front_desk"}})
    assert r.outcome is outcome, r.message
    assert "nothing was charged or recorded" in r.message
    assert flow_world.payments(1042) == [] and flow_world.invoice(1042)["balance"] == "150.00"
    assert all(t["captured"] == "0.00" for t in flow_world.txns())


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_layout_variant_is_a_named_drift_with_evidence_and_no_money_moved(flow_world: FlowWorld) -> None:
    from pathlib import Path

    assert flow_world.site.admin is not None
    flow_world.site.admin.faults(layout_variant="redesign")
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "tender": CHEN})
    assert r.outcome is Outcome.failed and r.error_code == "selector_drift"
    assert "Collect Payment button" in r.message and "invoice.collect_payment" in r.message
    assert r.report["drift"]["selector"] == "collect_payment"
    assert r.artifacts and all(Path(a).exists() for a in r.artifacts)
    assert any(a.endswith(".png") for a in r.artifacts)
    assert flow_world.txns() == [] and flow_world.payments(1042) == []


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_record_failing_after_the_charge_says_so_and_a_rerun_records_once(flow_world: FlowWorld) -> None:
    """Jobber's page changes between the charge and the record: the money moved, the result says so;
    the same job run again (as the queue resumes it) records it once and charges nothing more."""
    assert flow_world.site.admin is not None
    admin = flow_world.site.admin

    async def change_page_before_record(name: str, fn):  # a StepRunner
        if name == "record":
            admin.faults(layout_variant="redesign")
            await flow_world.pool.sessions()["acme"].page.goto("/clients")  # the next load shows the new layout
        return await fn()

    job = {"kind": "charge", "invoice": 1042, "tender": CHEN}
    broken = await flow_world.run(job, job_id="resume-me", runner=change_page_before_record)
    assert broken.outcome is Outcome.failed and broken.error_code == "selector_drift"
    assert broken.gateway_transaction_id and broken.gateway_transaction_id in broken.message
    assert "NOT recorded" in broken.message and broken.artifacts
    assert flow_world.payments(1042) == [] and len(flow_world.txns()) == 1

    admin.clear_faults()
    again = await flow_world.run(job, job_id="resume-me")
    assert again.outcome is Outcome.succeeded, again.message
    assert again.gateway_transaction_id == broken.gateway_transaction_id
    assert len(flow_world.txns()) == 1 and len(flow_world.payments(1042)) == 1
    assert flow_world.invoice(1042)["status"] == "paid"


async def test_run_again_when_the_invoice_was_paid_meanwhile_says_the_money_moved_unrecorded(
        flow_world: FlowWorld) -> None:
    """The charge went through but its record failed; before the job runs again a person records a
    payment that settles the invoice. The re-run cannot record: it must not read as "refused,
    nothing moved" but name the transaction that is not in Jobber."""
    assert flow_world.site.admin is not None
    admin = flow_world.site.admin

    async def jobber_down_before_record(name: str, fn):  # a StepRunner
        if name == "record":
            admin.faults(error_rate=1)
        return await fn()

    job = {"kind": "charge", "invoice": 1042, "tender": CHEN}
    broken = await flow_world.run(job, job_id="paid-meanwhile", runner=jobber_down_before_record)
    assert broken.outcome is not Outcome.succeeded and "NOT recorded" in broken.message, broken.message
    admin.clear_faults()
    flow_world.record_by_hand(1042, "CASH", "150.00", "paid at the door")
    again = await flow_world.run(job, job_id="paid-meanwhile")
    assert again.outcome is Outcome.failed and again.error_code == "invoice_not_open", again.message
    assert "NOT recorded" in again.message and broken.gateway_transaction_id in again.message
    assert len(flow_world.txns()) == 1 and [p["details"] for p in flow_world.payments(1042)] == ["paid at the door"]


async def test_jobber_down_is_unavailable_and_moves_no_money(flow_world: FlowWorld) -> None:
    assert flow_world.site.admin is not None
    flow_world.site.admin.faults(error_rate=1.0)
    r = await flow_world.run({"kind": "charge", "invoice": 1042, "tender": CHEN})
    assert r.outcome is Outcome.unavailable and r.error_code == "jobber_unavailable", r.message
    flow_world.site.admin.clear_faults()
    assert flow_world.txns() == [] and flow_world.payments(1042) == []


async def test_sms_handoff_merchant_charge(flow_world: FlowWorld) -> None:
    r = await flow_world.run({"merchant": "bravo", "kind": "charge", "invoice": 2001,
                              "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
    assert r.outcome is Outcome.succeeded, r.message
    assert flow_world.invoice(2001, "sms@bravo.test")["status"] == "paid"
    assert [t["captured"] for t in flow_world.txns("bravo")] == ["99.00"] and flow_world.txns("acme") == []


async def test_unknown_invoice_and_paid_invoice_are_refused(flow_world: FlowWorld) -> None:
    missing = await flow_world.run({"kind": "charge", "invoice": 9999, "tender": CHEN})
    assert missing.outcome is Outcome.refused and missing.error_code == "invoice_not_found", missing.message
    paid = await flow_world.run({"kind": "charge", "invoice": 1060, "amount": "1.00", "tender": CHEN})
    assert paid.outcome is Outcome.refused and paid.error_code == "invoice_not_open", paid.message
    assert flow_world.txns() == [] and len(flow_world.payments(1060)) == 1
