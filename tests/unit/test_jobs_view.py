"""`jobs list`, `jobs list --needs-person` and `jobs show` on an 80-column terminal: nothing wider,
no label broken inside a word, ids and amounts whole."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rich.console import Console

from robot.cli.jobs_view import candidates_table, jobs_table, needs_person_table, trace_hint
from robot.jobs.store import JobView


def _render(renderable: object, width: int = 80) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(renderable)
    return buf.getvalue().splitlines()


def _jobs() -> list[JobView]:
    return [
        JobView(job_id="cli-3f9a1c2b7d4e", status="finished", merchant="acme", kind="link_reconcile",
                outcome="succeeded", age_seconds=30),
        JobView(job_id="job-8c1d2e3f4a5b-r1", status="finished", merchant="bravo-lawn", kind="quote_deposit",
                invoice=1042, amount=Decimal("1234.56"), outcome="recorded_with_mismatch", age_seconds=4000),
        JobView(job_id="job-000000000001", status="finished", merchant="acme", kind="charge", invoice=20417,
                amount=Decimal("12345.67"), outcome="access_failed", age_seconds=90000),
        JobView(job_id="job-000000000002", status="waiting_for_confirmation", merchant="acme", kind="charge",
                outcome=None, age_seconds=5),
    ]


def test_the_jobs_table_fits_80_columns_and_breaks_no_word() -> None:
    lines = _render(jobs_table(_jobs()))
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    text = "\n".join(lines)
    for whole in ("cli-3f9a1c2b7d4e", "job-8c1d2e3f4a5b-r1", "$1,234.56", "$12,345.67", "#20417",
                  "reconcile", "deposit", "recorded", "mismatch", "confirmation"):
        assert whole in text, (whole, text)
    assert "_" not in text.replace("job-", "")  # labels are words: no link_reconcil|e split
    assert "invoice" in lines[0] and "amount" in lines[0]
    assert "…" not in text


def test_a_failure_outcome_shows_as_failed() -> None:
    jobs = _jobs()
    assert [j.failed for j in jobs] == [False, True, True, False]
    assert jobs[3].needs_person and not jobs[0].needs_person
    failed_row = next(line for line in _render(jobs_table(jobs)) if "job-000000000001" in line)
    assert "✘ access" in failed_row  # (the outcome wraps: "failed" on the next line)


def test_the_person_queue_shows_what_each_job_waits_for_and_until_when() -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=9, seconds=30)).isoformat(timespec="seconds")
    rows = [JobView(job_id="job-a", status="waiting_for_2fa", merchant="bravo",
                    waiting_for={"kind": "2fa", "hint": "Jobber sent a text message to XXX-XXX-0199",
                                 "deadline": soon}),
            JobView(job_id="job-b", status="waiting_for_confirmation", merchant="acme",
                    waiting_for={"kind": "confirm", "deadline": soon,
                                 "candidates": [{"invoice": 1050}, {"invoice": 1051}]})]
    text = "\n".join(lines := _render(needs_person_table(rows)))
    assert max(len(line) for line in lines) <= 80
    assert "XXX-XXX-0199" in text and "#1050, #1051" in text
    assert text.count("9 min left") == 2
    assert "jobber-robot handoff JOB CODE" in text and "jobber-robot handoff JOB --invoice N" in text
    assert "no job waits" in "\n".join(_render(needs_person_table([])))


def test_jobs_show_lists_the_candidates_and_how_to_open_the_trace() -> None:
    text = "\n".join(_render(candidates_table([
        {"invoice": 1050, "client": "Jonas Okafor", "balance": "120.00", "due_date": "2026-12-20",
         "status": "awaiting_payment"},
        {"invoice": 1051, "client": "Jonas Okafor", "balance": "95.50", "due_date": "2026-12-28",
         "status": "past_due"}])))
    for whole in ("#1050", "#1051", "Jonas Okafor", "$120.00", "$95.50", "2026-12-20", "awaiting payment",
                  "past due"):
        assert whole in text, (whole, text)
    for col in ("invoice", "client", "balance", "due", "status"):
        assert col in text
    hint = trace_hint(["/d/artifacts/job-1/screenshot.png", "/d/artifacts/job-1/trace.zip"])
    assert hint is not None and "playwright show-trace /d/artifacts/job-1/trace.zip" in hint
    assert trace_hint(["/d/artifacts/job-1/page.html"]) is None
