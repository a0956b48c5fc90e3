"""The result panel names the money a job moved by what happened to it."""
from decimal import Decimal
from datetime import UTC, datetime

from rich.console import Console

from robot.cli.summary import render
from robot.jobs.models import JobResult
from robot.outcomes import Outcome


def _text(kind: str) -> str:
    now = datetime.now(UTC)
    result = JobResult(job_id="j-1", kind=kind, merchant="acme", outcome=Outcome.succeeded,
                       amount_captured=Decimal("40.00"), started_at=now, finished_at=now)
    console = Console(width=100, record=True)
    console.print(render(result))
    return console.export_text()


def test_a_refund_says_refunded_not_captured() -> None:
    assert "Refunded" in _text("refund") and "Captured" not in _text("refund")
    assert "Voided" in _text("void")
    assert "Captured" in _text("charge")
