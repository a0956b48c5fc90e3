"""The health store: each merchant's latest access result, from jobs and doctor runs, in the job
store's database (SQLite here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from robot import health
from robot.config import load_settings
from robot.doctor.models import STEPS, DoctorReport, DoctorStep, ExitClass, StepStatus
from robot.jobs.models import JobResult, Outcome, StepTiming


def _settings(tmp_path: Path):  # noqa: ANN202
    s = load_settings(data_dir=tmp_path / "data")
    s.ensure_dirs()
    return s


def _job(outcome: Outcome, code: str | None = None, merchant: str = "acme", job_id: str = "j1",
         ran: bool = True) -> JobResult:
    now = datetime.now(UTC)
    steps = [StepTiming(step="verify", started_at=now, finished_at=now)] if ran else []
    return JobResult(job_id=job_id, kind="charge", merchant=merchant, outcome=outcome, message="m",
                     error_code=code, steps=steps)


def test_latest_per_merchant_from_jobs_and_doctor_runs(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert health.latest(s, "acme") is None and health.latest_all(s) == {}
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    bad = health.from_job(_job(Outcome.access_failed, "bad_credentials"))
    assert bad is not None and not bad.ok and bad.next_action == "jobber-robot merchants update acme --password"
    health.record(s, bad.model_copy(update={"at": t0}))
    health.record(s, health.HealthRecord(merchant="bravo", source="job", ok=True, result="signed_in", at=t0))
    report = DoctorReport(merchant="acme", run_id="doctor-acme-x", started_at=datetime.now(UTC),
                          steps=[DoctorStep(name=n, title=t, status=StepStatus.passed) for n, t in STEPS.items()])
    health.record(s, health.from_doctor(report))
    latest = health.latest(s, "acme")
    assert latest is not None and latest.ok and latest.source == "doctor" and latest.ref == "doctor-acme-x"
    assert [r.result for r in health.history(s, "acme")] == ["ok", "bad_credentials"]
    every = health.latest_all(s)
    assert set(every) == {"acme", "bravo"} and every["bravo"].result == "signed_in"


def test_a_failed_doctor_run_names_its_step_cause_and_fix(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    report = DoctorReport(merchant="acme", run_id="r", started_at=datetime.now(UTC), steps=[
        DoctorStep(name="vault", title=STEPS["vault"], status=StepStatus.passed),
        DoctorStep(name="password", title=STEPS["password"], status=StepStatus.failed, cause="Jobber refused it",
                   fix="jobber-robot merchants update acme --password", exit_class=ExitClass.merchant_must_act)])
    assert report.exit_code == 3 and report.to_json()["exit_class"] == "merchant_must_act"
    health.record(s, health.from_doctor(report))
    latest = health.latest(s, "acme")
    assert latest is not None and not latest.ok and latest.result == "merchant_must_act"
    assert latest.message == "Password accepted: Jobber refused it" and "--password" in latest.next_action


def test_what_a_job_says_about_access() -> None:
    assert health.from_job(_job(Outcome.succeeded)).ok  # type: ignore[union-attr]
    assert health.from_job(_job(Outcome.declined, "card_declined")).result == "signed_in"  # type: ignore[union-attr]
    needs = health.from_job(_job(Outcome.needs_2fa, "needs_2fa"))
    assert needs is not None and not needs.ok and "needs-person" in needs.next_action
    drift = health.from_job(_job(Outcome.failed, "selector_drift"))
    assert drift is not None and not drift.ok and "doctor acme" in drift.next_action
    assert health.from_job(_job(Outcome.failed, "KeyError", ran=False)) is None
