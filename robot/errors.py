"""One small typed hierarchy shared by the robot, the flows and the jobs.

Every message is written for a support person: it says what happened and what to do,
and never carries a secret (passwords, codes, card data, cookies).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal


class RobotError(Exception):
    """Base of every error the robot raises on purpose."""

    code: str = "robot_error"
    #: Transient errors may be retried (Jobber down, a 500); the rest never are.
    transient: bool = False

    def __init__(self, message: str, **context: Any) -> None:
        # Scrubbed here, once, for every typed error: a message built from input (a job id, a
        # field a person filled in) is shown to people, logged and stored, and must not carry a
        # card number or a registered secret whoever built it.
        from robot.logging import redact_text

        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.context = {k: redact_text(v) if isinstance(v, str) else v for k, v in context.items()}

    def to_dict(self) -> dict[str, Any]:
        from robot.logging import redact_text

        return {"code": self.code, "message": self.message,
                **{k: redact_text(str(v)) for k, v in self.context.items()}}


class ConfigError(RobotError):
    code = "config_error"


class InputError(RobotError, ValueError):
    """Bad input: names the field and the rule; nothing was changed."""

    code = "invalid_input"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field, rule=rule)
        self.field = field
        self.rule = rule


class VaultError(RobotError):
    code = "vault_error"


class BrowserNotFound(RobotError):
    code = "browser_not_found"


# --- getting in ---------------------------------------------------------------


class AccessError(RobotError):
    """The robot could not get into the merchant's Jobber account."""

    code = "access_error"


class BadCredentials(AccessError):
    code = "bad_credentials"


class LockedOut(AccessError):
    code = "locked_out"

    def __init__(self, message: str, until: datetime | None = None) -> None:
        super().__init__(message, until=until.isoformat() if until else None)
        self.until = until


class TwoFactorRequired(AccessError):
    """A code is needed that the robot cannot make (SMS/e-mail, or no stored seed)."""

    code = "needs_2fa"


class TwoFactorRejected(AccessError):
    code = "2fa_rejected"


class PersonNeeded(AccessError):
    """Jobber's sign-in stopped at something only a person may pass: the robot never submits
    again and says which action is theirs (`person_action`)."""

    code = "person_needed"
    person_action: str = "sign in to Jobber once by hand"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(f"{message}. A person must {self.person_action}", **context)


class AccountBlocked(PersonNeeded):
    """Too many failed sign-ins: blocked until the link Jobber e-mails to the owner is followed."""

    code = "account_blocked"
    person_action = ("follow the unblock link Jobber e-mailed to the account owner, then run "
                     "`jobber-robot merchants update MERCHANT --resume-sign-in` (with --password if it was wrong)")


class CaptchaRequired(PersonNeeded):
    """A CAPTCHA or bot check: never solved by the robot."""

    code = "captcha"
    person_action = ("sign in to Jobber once by hand from this network (the CAPTCHA is theirs to solve), "
                     "then run `jobber-robot merchants update MERCHANT --resume-sign-in` and retry the job")


class AccountNotFound(AccessError):
    """The login holds no account with the merchant's business name (or the name is not set)."""

    code = "account_not_found"


# --- Jobber's pages -------------------------------------------------------------


class JobberUnavailable(RobotError):
    code = "jobber_unavailable"
    transient = True


class PageDriftError(RobotError):
    """A control the robot relies on is not on the page: Jobber probably changed its UI."""

    code = "selector_drift"

    def __init__(self, page: str, selector: str, description: str, url: str | None = None) -> None:
        super().__init__(
            f"{description} not found on {page} page (selector {page}.{selector}); "
            "Jobber may have changed this page: run `jobber-robot selectors check`",
            page=page,
            selector=selector,
            url=url,
        )
        self.page = page
        self.selector = selector
        self.description = description


class SessionExpired(RobotError):
    code = "session_expired"
    transient = True


# --- payment rules ------------------------------------------------------------------


class FlowRefused(RobotError):
    """A rule stopped the flow before any money moved."""

    code = "refused"


class InvoiceNotFound(FlowRefused):
    code = "invoice_not_found"


class InvoiceInDraft(FlowRefused):
    code = "invoice_in_draft"


class AmountMismatch(FlowRefused):
    code = "amount_mismatch"


class AmbiguousInvoice(FlowRefused):
    code = "needs_confirmation"

    def __init__(self, message: str, candidates: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.candidates = candidates


# --- the job queue ------------------------------------------------------------------

FenceOutcome = Literal["superseded", "cancelled"]


class JobFenced(RobotError):
    """This execution of a job no longer owns it: it was cancelled, or another worker took it
    over (`jobs retry`, recovery of a worker whose lease ran out). Raised by the fence checked
    immediately before every write into Jobber, so a worker that stalled (a VM pause, SIGSTOP)
    and woke up late never writes a second time what the new owner already wrote.

    Never retried, and never recorded as the job's result: the job's outcome is the owner's.
    `outcome` is "cancelled" (nobody owns the job now) or "superseded" (another execution does,
    or already finished it)."""

    code = "job_fenced"
    transient = False

    def __init__(self, job_id: str, outcome: FenceOutcome, detail: str) -> None:
        super().__init__(f"job {job_id} was {outcome} while this worker ran it ({detail}); "
                         "nothing more is written into Jobber by this run", job=job_id, outcome=outcome)
        self.job_id = job_id
        self.outcome: FenceOutcome = outcome
