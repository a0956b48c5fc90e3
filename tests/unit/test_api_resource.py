"""Typed results per kind (robot/jobs/resource.py): each kind's JobResult, as the flows leave it,
becomes the typed fields the API documents; amounts are decimal strings; steps appear once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from robot.jobs.models import JobResult, Outcome, StepTiming
from robot.jobs.resource import (
    AchCheckResult,
    ChargeResult,
    LinkResult,
    ReconcileResult,
    RefundResult,
    VoidResult,
    resource,
    tender_of,
    typed_result,
)
from robot.jobs.store import JobView


def _r(kind: str, **kw: object) -> JobResult:
    return JobResult(job_id="job-1", kind=kind, merchant="acme", outcome=Outcome.succeeded, **kw)  # type: ignore[arg-type]


def test_charge_has_transaction_amount_tender_payment_and_balances() -> None:
    t = typed_result(_r("charge", invoice=1042, amount_captured=Decimal("150.00"), gateway_transaction_id="txn_1",
                        tender="Visa •••• 1111", jobber_payment_id=77, balance_before=Decimal("150.00"),
                        balance_after=Decimal("0.00")))
    assert isinstance(t, ChargeResult)
    d = t.model_dump(mode="json")
    assert d["amount_captured"] == "150.00" and d["balance_after"] == "0.00" and d["transaction_id"] == "txn_1"
    assert d["tender"] == {"type": "card", "brand": "Visa", "last4": "1111", "label": "Visa •••• 1111"}
    assert d["jobber_payment_id"] == 77 and "report" not in d and "steps" not in d


def test_link_refund_void_reconcile_and_ach_check_have_their_own_fields() -> None:
    link = typed_result(_r("link", report={"link_id": "lnk_1", "url": "https://pay.example/l/1",
                                           "expires_at": "2026-12-09T00:00:00+00:00", "sent_via": "sms"}))
    assert isinstance(link, LinkResult) and link.url == "https://pay.example/l/1" and link.expires_at is not None
    refund = typed_result(_r("refund", gateway_transaction_id="txn_1", amount_captured=Decimal("20.00"),
                             report={"refund_id": "rf_1", "refundable_before": "150.00", "refundable_after": "130.00"}))
    assert isinstance(refund, RefundResult)
    assert refund.model_dump(mode="json")["amount_refunded"] == "20.00" and refund.refund_id == "rf_1"
    assert refund.model_dump(mode="json")["refundable_after"] == "130.00"
    void = typed_result(_r("void", gateway_transaction_id="txn_2", amount_captured=Decimal("5.00"),
                           gateway_status="voided"))
    assert isinstance(void, VoidResult) and void.model_dump(mode="json")["amount_voided"] == "5.00"
    rec = typed_result(_r("reconcile", report={"matched": [{"transaction": "txn_1", "gateway_net": "150.00",
                                                            "jobber_net": "150.00", "payment_ids": [77]}],
                                               "missing_in_jobber": [], "period": {"since": "2026-11-01"}}))
    assert isinstance(rec, ReconcileResult) and rec.matched[0].payment_ids == [77]
    assert rec.model_dump(mode="json")["matched"][0]["gateway_net"] == "150.00" and str(rec.period.since) == "2026-11-01"
    ach = typed_result(_r("ach_check", report={"reversed": [{"transaction": "txn_3", "return_code": "R01",
                                                             "reversed_amount": "40.00", "origin_job": "job-0"}],
                                               "flagged_jobs": ["job-0"]}))
    assert isinstance(ach, AchCheckResult) and ach.reversed[0].return_code == "R01" and ach.flagged_jobs == ["job-0"]


def test_tenders_are_read_from_the_label() -> None:
    assert tender_of("Bank •••• 6789").model_dump() == {"type": "bank", "brand": None, "last4": "6789",
                                                         "label": "Bank •••• 6789"}
    link = tender_of("link lnk_1 (Mastercard •••• 4444)")
    assert link is not None and (link.type, link.brand, link.last4) == ("link", "Mastercard", "4444")
    assert tender_of("terminal T1").type == "terminal" and tender_of(None) is None


def test_steps_appear_once_and_artifacts_are_names_with_api_urls() -> None:
    now = datetime.now(UTC)
    result = _r("charge", steps=[StepTiming(step="verify", started_at=now, finished_at=now)],
                artifacts=["/srv/robot/.data/artifacts/job-1/screenshot.png"])
    v = JobView(job_id="job-1", status="finished", merchant="acme", kind="charge", result=result,
                outcome="succeeded", artifacts=list(result.artifacts))
    doc = resource(v, retried_as=["job-1-r1"]).model_dump(mode="json")
    assert [s["name"] for s in doc["steps"]] == ["verify"] and "steps" not in doc["result"]
    assert doc["artifacts"] == [{"name": "screenshot.png", "url": "/jobs/job-1/artifacts/screenshot.png"}]
    assert "/srv/robot" not in str(doc) and doc["retried_as"] == ["job-1-r1"]
