"""Pure parts of the flows: registry, Details text, amount rules, reconcile matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import get_args

import pytest

from flows.invoice_stages import check_amount
from flows.pages.details import details_text
from flows.reconcile import GwTxn, JbPayment, compare
from flows.registry import FLOWS, stages
from flows.tender import invoice_of, job_of
from robot.errors import AmountMismatch
from robot.jobs.models import Job


def test_every_job_kind_has_a_flow_with_ordered_stages() -> None:
    kinds = {m.model_fields["kind"].default for m in get_args(get_args(Job)[0])}
    assert kinds == set(FLOWS)
    assert stages("charge") == ["verify", "gateway", "record", "verify_after"]
    for kind in ("deposit", "quote_deposit", "refund", "void"):
        assert stages(kind) == ["verify", "gateway", "record", "verify_after"]
    assert stages("link") == ["verify", "gateway", "send"]
    assert stages("reconcile") == ["gateway", "jobber", "record"]


def test_details_match_is_the_whole_transaction_id() -> None:
    from flows.pages.details import details_match

    details = details_text("txn_12", "Visa •••• 1111", "j-9")
    assert details_match(details, "txn_12") and details_match(details.upper(), "txn_12")
    assert not details_match(details, "txn_1")  # another transaction's id: that one is not recorded yet
    assert details_match("ACH return R01 (insufficient funds) · txn_12 · job j", "txn_12")


def test_details_text_and_parsing_back() -> None:
    assert details_text("txn_1", "Visa •••• 1111", "j-9") == "txn_1 · Visa •••• 1111 · job j-9"
    assert details_text("txn_1", "Bank •••• 6789", "j", "ACH debit pending settlement").endswith("· job j · ACH debit pending settlement")
    assert invoice_of("Jobber invoice #1042 · job j") == 1042 and invoice_of("") is None
    assert job_of("job-abc:gateway") == "job-abc" and job_of(None) is None


@pytest.mark.parametrize(("amount", "balance"), [(Decimal("0"), None), (Decimal("1.005"), None),
                                                 (Decimal("150.01"), Decimal("150.00"))])
def test_amount_rules(amount: Decimal, balance: Decimal | None) -> None:
    with pytest.raises(AmountMismatch):
        check_amount(amount, balance)
    check_amount(Decimal("150.00"), Decimal("150.00"))


def _t(i: str, net: str, invoice: int = 1) -> GwTxn:
    d = Decimal(net)
    return GwTxn(id=i, kind="sale", status="captured", net=d, captured=d, refunded=Decimal(0), tender="Visa •••• 1111",
                 created=date(2026, 11, 1), invoice=invoice)


def _p(txn: str | None, net: str, pid: int) -> JbPayment:
    d = Decimal(net)
    return JbPayment(invoice=1, invoice_id=1, payment_id=pid, txn_id=txn, method="Credit card", amount=d,
                     refunded=Decimal(0), net=d, date=date(2026, 11, 1), details="")


def test_reconcile_categories() -> None:
    report = compare([_t("txn_a", "10.00"), _t("txn_b", "20.00"), _t("txn_c", "30.00"), _t("txn_v", "0.00")],
                     [_p("txn_a", "10.00", 1), _p("txn_c", "29.00", 2), _p("txn_zz", "5.00", 3), _p(None, "7.00", 4)])
    assert [r["transaction"] for r in report["matched"]] == ["txn_a"]
    assert [r["transaction"] for r in report["missing_in_jobber"]] == ["txn_b"]  # txn_v netted to 0: not missing
    assert [r["transaction"] for r in report["amount_mismatch"]] == ["txn_c"]
    assert [r["transaction"] for r in report["unknown_in_jobber"]] == ["txn_zz"]  # cash/check rows are not gateway's


def test_failure_message_never_carries_a_secret() -> None:
    """An unexpected error quoting a password or a card number ends in a JobResult without it."""
    from flows.draft import Draft
    from flows.service import failure_result
    from robot.logging import register_secret

    register_secret("s3cret-pass-Q9")
    exc = RuntimeError("fill failed for value s3cret-pass-Q9 after card 4111 1111 1111 1111")
    result = failure_result(exc, Draft(job_id="j-1", kind="charge", merchant="acme"), None)
    assert result.outcome.value == "failed" and "RuntimeError" in result.message
    assert "s3cret-pass-Q9" not in result.message and "4111 1111 1111 1111" not in result.message
