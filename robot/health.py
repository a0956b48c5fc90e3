"""Each merchant's access health: the last result of getting into its Jobber, and the next action.

Written by every job when it ends (its sign-in worked, or why not) and by every doctor run;
read by `merchants list` and the support dashboard. It lives in the job store's database
(robot/jobs/robot_tables.py, table `jobber_robot_health`), so every worker on every machine
writes to, and every reader sees, the same history.

    from robot import health
    health.record(settings, health.from_doctor(report))      # or health.from_job(result)
    health.latest(settings, "acme")     -> HealthRecord | None
    health.latest_all(settings)         -> {merchant: HealthRecord}
    health.history(settings, "acme", limit=20) -> [HealthRecord, newest first]

A record never holds a secret: its message and next action go through redaction, and they are
built from typed outcomes, not from page text.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field

from robot.jobs.robot_tables import engine, health
from robot.logging import get_logger, redact_text
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from robot.doctor.models import DoctorReport
    from robot.jobs.models import JobResult

Source = Literal["job", "doctor"]


class HealthRecord(BaseModel):
    merchant: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: Source
    ok: bool
    result: str                 # "signed_in", "ok", or what stopped it: "bad_credentials", "merchant_must_act", ...
    message: str = ""
    next_action: str = ""       # a command or a person's action; "" when nothing is to be done
    ref: str | None = None      # the job id or the doctor run id


def _url(settings: Any) -> str:
    url: str = settings.system_database_url
    return url


def record(settings: Any, entry: HealthRecord) -> None:
    """Append one result. Never raises: health is a report, it must not fail a job or a doctor run."""
    try:
        with engine(_url(settings)).begin() as c:
            c.execute(sa.insert(health).values(
                merchant=entry.merchant, at_ms=int(entry.at.timestamp() * 1000), source=entry.source,
                ok=entry.ok, result=entry.result[:64], message=redact_text(entry.message)[:2000],
                next_action=redact_text(entry.next_action)[:1000], ref=entry.ref))
    except Exception as exc:  # noqa: BLE001 - a report, never the reason a job fails
        get_logger("health").warning("health record not written", merchant=entry.merchant,
                                     error=type(exc).__name__)


def _row(r: Any) -> HealthRecord:
    return HealthRecord(merchant=r.merchant, at=datetime.fromtimestamp(r.at_ms / 1000, UTC), source=r.source,
                        ok=bool(r.ok), result=r.result, message=r.message, next_action=r.next_action, ref=r.ref)


def history(settings: Any, merchant: str, limit: int = 20) -> list[HealthRecord]:
    with engine(_url(settings)).connect() as c:
        rows = c.execute(sa.select(health).where(health.c.merchant == merchant)
                         .order_by(health.c.at_ms.desc(), health.c.id.desc()).limit(limit)).all()
    return [_row(r) for r in rows]


def latest(settings: Any, merchant: str) -> HealthRecord | None:
    found = history(settings, merchant, limit=1)
    return found[0] if found else None


def latest_all(settings: Any) -> dict[str, HealthRecord]:
    """The newest record of every merchant that has one."""
    newest = (sa.select(health.c.merchant, sa.func.max(health.c.id).label("id"))
              .group_by(health.c.merchant).subquery())
    with engine(_url(settings)).connect() as c:
        rows = c.execute(sa.select(health).join(newest, health.c.id == newest.c.id)).all()
    return {r.merchant: _row(r) for r in rows}


# --- building records ----------------------------------------------------------------------------

#: a job's error codes that say the robot could not get in, with the next action
_ACCESS_ACTIONS: dict[str, str] = {
    "bad_credentials": "jobber-robot merchants update {m} --password",
    "2fa_rejected": "jobber-robot doctor {m} (then `merchants update {m} --totp-seed` if the seed changed)",
    "needs_2fa": "hand over the code: jobber-robot jobs list --needs-person",
    "locked_out": "wait until Jobber accepts codes again, then jobber-robot doctor {m}",
    "account_blocked": "follow Jobber's unblock e-mail, then jobber-robot merchants update {m} --resume-sign-in",
    "captcha": "sign in to Jobber once by hand, then jobber-robot merchants update {m} --resume-sign-in",
    "account_not_found": "jobber-robot merchants update {m} --business-name NAME",
    "session_expired": "jobber-robot doctor {m}",
    "jobber_unavailable": "wait, then jobber-robot doctor {m}",
    "selector_drift": "jobber-robot doctor {m} (Jobber changed a page)",
    "unexpected_page": "jobber-robot doctor {m} (Jobber changed a page)",
    "vault_error": "jobber-robot doctor {m}",
}


def from_job(result: "JobResult") -> HealthRecord | None:
    """What a finished job says about getting in: signed in (any outcome reached after the
    sign-in), or the access failure and its next action. None when the job says nothing about
    access (it failed before signing in for another reason)."""
    code = result.error_code or ""
    m = result.merchant
    if code in _ACCESS_ACTIONS:
        return HealthRecord(merchant=m, source="job", ok=False, result=code, message=result.message,
                            next_action=_ACCESS_ACTIONS[code].format(m=m), ref=result.job_id)
    if result.outcome in (Outcome.access_failed, Outcome.needs_2fa):
        return HealthRecord(merchant=m, source="job", ok=False, result=code or result.outcome.value,
                            message=result.message, next_action=f"jobber-robot doctor {m}", ref=result.job_id)
    if not result.steps and result.outcome is Outcome.failed:
        return None  # ended before any stage ran: says nothing about the sign-in
    return HealthRecord(merchant=m, source="job", ok=True, result="signed_in",
                        message=f"job {result.job_id} signed in ({result.outcome.value})", ref=result.job_id)


def from_doctor(report: "DoctorReport") -> HealthRecord:
    failed = report.first_failure
    if failed is None:
        return HealthRecord(merchant=report.merchant, at=report.finished_at or report.started_at, source="doctor",
                            ok=True, result="ok", message="every access check passed", ref=report.run_id)
    return HealthRecord(merchant=report.merchant, at=report.finished_at or report.started_at, source="doctor",
                        ok=False, result=report.exit_class.value, message=f"{failed.title}: {failed.cause}",
                        next_action=failed.fix, ref=report.run_id)


def age_text(at: datetime, now: float | None = None) -> str:
    """"3 min ago" for tables (seconds, minutes, hours, days)."""
    secs = max(0, int((now if now is not None else time.time()) - at.timestamp()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{secs // size} {unit} ago"
    return f"{secs} s ago"
