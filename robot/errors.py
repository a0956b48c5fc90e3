"""Every error the robot raises on purpose, in one tree, with the outcome each ends a job with.

    RobotError                       failed              base: `code`, `job_outcome`, `keeps_evidence`
    ├── ConfigError                  failed              a setting is missing or wrong
    ├── InputError (ValueError)      refused         -e  bad input: names the field and the rule
    ├── VaultError                   access_failed       the merchant's secrets cannot be read
    ├── BrowserNotFound              failed              no Chromium to drive
    ├── AccessError                  access_failed       the robot cannot get into Jobber
    │   ├── BadCredentials                               Jobber refused the password (never sent again)
    │   ├── LockedOut
    │   ├── TwoFactorRequired        needs_2fa           a code only a person can give
    │   ├── TwoFactorRejected                            Jobber refused the code (never sent again)
    │   ├── PersonNeeded                                 only a person may pass (`person_action`)
    │   │   ├── AccountBlocked
    │   │   └── CaptchaRequired
    │   └── AccountNotFound                              no account with the merchant's business name
    ├── JobberUnavailable            unavailable         Jobber is down or answers 5xx
    ├── SessionExpired               unavailable         the session ended and could not be renewed
    ├── PageDriftError               failed              a control is gone: Jobber changed its UI
    ├── FlowRefused                  refused         -e  a rule stopped the flow before money moved
    │   ├── InvoiceNotFound, QuoteNotFound, PaymentNotFound
    │   ├── InvoiceInDraft, InvoiceNotOpen, QuoteNotApproved, ClientMismatch, PaymentRejected
    │   ├── AmountMismatch, NothingToRefund, VoidRefused
    │   └── NeedsConfirmation        needs_confirmation  several invoices match: a person picks one
    ├── GatewayError                 failed          -e  the gateway answered no (robot.gateway)
    │   ├── Declined                 declined            never retried
    │   ├── DuplicateTransaction     refused
    │   ├── IdempotencyConflict      failed
    │   ├── InvalidRequest           refused
    │   ├── NotFound                 refused             the gateway knows no such object
    │   ├── NotVoidable              refused
    │   ├── NotRefundable            refused
    │   │   └── RefundExceedsRefundable
    │   ├── TerminalError            failed
    │   │   ├── TerminalOffline      unavailable
    │   │   ├── TerminalBusy         unavailable
    │   │   ├── TerminalTimeout      timed_out
    │   │   └── TerminalCancelled    cancelled
    │   ├── LinkExpired              refused
    │   ├── LinkNotOpen              refused
    │   ├── AchReturned              failed
    │   ├── GatewayAuthError         access_failed
    │   └── GatewayUnavailable       unavailable         the only one the gateway client retries
    ├── ScrubError                   failed              a recording still held a secret: nothing written
    ├── JobFenced                    (none)              this run lost its job: never its result
    ├── JobConflict                  (none)              an idempotency key reused for another job
    ├── JobNotFound                  (none)              no such job in the job store
    └── HandoffError                 (none)              a code or a choice the waiting job cannot take

    -e: ends a job without browser evidence (the page did what it should; a rule or the gateway said no)
    (none): raised to a caller (the CLI, the POS API, the queue), never turned into a job's outcome

A subclass without an outcome of its own has its parent's. A job that moved money and then
stopped on a refusal does not end `refused` (nothing moved) but `failed`: flows/service.py.

Every message is written for a support person: it says what happened and what to do, and never
carries a secret (passwords, codes, card data, cookies): it is scrubbed once, here. Every error
survives pickling (DBOS keeps a step's or a job's exception in the job store that way) with its
class, message and attributes, whatever its constructor takes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from robot.logging import redact_text
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from robot.jobs.models import Candidate


def _rebuild(cls: type[RobotError], message: str, state: dict[str, Any]) -> RobotError:
    """Unpickle an error without calling its constructor (whose arguments are not its message)."""
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class RobotError(Exception):
    """Base of every error the robot raises on purpose."""

    #: stable, machine-readable: a job's `error_code`, the POS API's and the CLI's error code
    code: str = "robot_error"  # a subclass's own; the gateway client may set a code it does not know
    #: how a job that ends with this error ends
    job_outcome: ClassVar[Outcome] = Outcome.failed
    #: whether the pool keeps a screenshot, trace and the page's HTML of the job it ends
    keeps_evidence: ClassVar[bool] = True

    def __init__(self, message: str, **context: Any) -> None:
        # Scrubbed here, once, for every typed error: a message built from input (a job id, a
        # field a person filled in) is shown to people, logged and stored, and must not carry a
        # card number or a registered secret whoever built it.
        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.context = {k: redact_text(v) if isinstance(v, str) else v for k, v in context.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))

    @property
    def support_message(self) -> str:
        """What went wrong and what to do, as a job's result says it."""
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message,
                **{k: redact_text(str(v)) for k, v in self.context.items()}}


class ConfigError(RobotError):
    code = "config_error"


class InputError(RobotError, ValueError):
    """Bad input: names the field and the rule; nothing was changed."""

    code = "invalid_input"
    job_outcome = Outcome.refused
    keeps_evidence = False

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field, rule=rule)
        self.field = field
        self.rule = rule


class VaultError(RobotError):
    code = "vault_error"
    job_outcome = Outcome.access_failed


class BrowserNotFound(RobotError):
    code = "browser_not_found"


# --- getting in ---------------------------------------------------------------


class AccessError(RobotError):
    """The robot could not get into the merchant's Jobber account."""

    code = "access_error"
    job_outcome = Outcome.access_failed


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
    job_outcome = Outcome.needs_2fa


class TwoFactorRejected(AccessError):
    code = "2fa_rejected"


class PersonNeeded(AccessError):
    """Jobber's sign-in stopped at something only a person may pass: the robot never submits
    again and says which action is theirs (`person_action`)."""

    code = "person_needed"
    person_action: ClassVar[str] = "sign in to Jobber once by hand"

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
    job_outcome = Outcome.unavailable


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
    job_outcome = Outcome.unavailable


# --- payment rules ------------------------------------------------------------------


class FlowRefused(RobotError):
    """A rule stopped the flow before any money moved."""

    code = "refused"
    job_outcome = Outcome.refused
    keeps_evidence = False


class InvoiceNotFound(FlowRefused):
    code = "invoice_not_found"


class QuoteNotFound(FlowRefused):
    code = "quote_not_found"


class PaymentNotFound(FlowRefused):
    code = "payment_not_found"


class InvoiceInDraft(FlowRefused):
    code = "invoice_in_draft"


class InvoiceNotOpen(FlowRefused):
    code = "invoice_not_open"


class QuoteNotApproved(FlowRefused):
    code = "quote_not_approved"


class PaymentRejected(FlowRefused):
    """Jobber refused to save the payment; its message says why. Nothing was recorded."""

    code = "payment_rejected"


class ClientMismatch(FlowRefused):
    """The invoice belongs to another client than the job names."""

    code = "client_mismatch"


class AmountMismatch(FlowRefused):
    code = "amount_mismatch"


class NothingToRefund(FlowRefused):
    code = "not_refundable"


class VoidRefused(FlowRefused):
    """The transaction can no longer be voided (its batch settled, or it is not voidable): refund it."""

    code = "not_voidable"


class NeedsConfirmation(FlowRefused):
    """The job names a client with several open invoices: a person must pick one."""

    code = "needs_confirmation"
    job_outcome = Outcome.needs_confirmation

    def __init__(self, message: str, candidates: list[Candidate]) -> None:
        super().__init__(message)
        self.candidates = candidates


# --- the payment gateway (robot.gateway) -------------------------------------------

DECLINE_REASONS = ("insufficient_funds", "expired_card", "cvv_failure", "avs_failure", "do_not_honor", "generic")
_NOTHING_MOVED = "nothing was charged or recorded"


def _clause(message: str) -> str:
    """A message as a clause inside a sentence: "declined." + "; nothing..." read as "declined.;"."""
    return message.rstrip(" .;")


class GatewayError(RobotError):
    """Base of every error the gateway module raises. Its `code` is also the sandbox's wire code;
    no card number, CVV or bank account number is ever in its message or context."""

    code = "gateway_error"
    keeps_evidence = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.transaction_id: str | None = context.get("transaction_id")


class Declined(GatewayError):
    """The issuer or the processor declined: money did not move. Never retried."""

    code = "card_declined"
    job_outcome = Outcome.declined

    def __init__(self, message: str = "payment declined", reason: str = "generic", **context: Any) -> None:
        if reason not in DECLINE_REASONS:
            reason = "generic"
        super().__init__(message, reason=reason, **context)
        self.reason = reason

    @property
    def support_message(self) -> str:
        return f"declined ({self.reason.replace('_', ' ')}): {_clause(self.message)}; {_NOTHING_MOVED}"


class DuplicateTransaction(GatewayError):
    """Same card, amount and merchant inside the duplicate window, sent without an idempotency key."""

    code = "duplicate_transaction"
    job_outcome = Outcome.refused


class IdempotencyConflict(GatewayError):
    """The idempotency key was used before with different parameters (or another operation)."""

    code = "idempotency_conflict"


class InvalidRequest(GatewayError):
    """A field is missing or wrong (card number, expiry, CVV, amount...): names the field, never its value."""

    code = "invalid_request"
    job_outcome = Outcome.refused

    def __init__(self, field: str, message: str | None = None, **context: Any) -> None:
        super().__init__(message or f"{field}: invalid", field=field, **context)
        self.field = field


class NotFound(GatewayError):
    """The gateway knows no such transaction, customer, terminal or link."""

    code = "not_found"
    job_outcome = Outcome.refused


class NotVoidable(GatewayError):
    """The batch has closed (or the ACH debit is no longer pending, or refunds exist): refund instead."""

    code = "not_voidable"
    job_outcome = Outcome.refused


class NotRefundable(GatewayError):
    """Not captured yet, voided, declined, returned or already fully refunded."""

    code = "not_refundable"
    job_outcome = Outcome.refused


class RefundExceedsRefundable(NotRefundable):
    """The refund asked for more than is left to refund."""

    code = "refund_exceeds_refundable"

    def __init__(self, message: str, refundable: Any = None, **context: Any) -> None:
        super().__init__(message, refundable=refundable, **context)
        self.refundable = refundable


class TerminalError(GatewayError):
    code = "terminal_error"


class TerminalOffline(TerminalError):
    code = "terminal_offline"
    job_outcome = Outcome.unavailable

    @property
    def support_message(self) -> str:
        return f"the terminal is offline ({_clause(self.message)}); {_NOTHING_MOVED}. Check it is on and try again"


class TerminalBusy(TerminalError):
    code = "terminal_busy"
    job_outcome = Outcome.unavailable

    @property
    def support_message(self) -> str:
        return f"the terminal is busy with another payment ({_clause(self.message)}); {_NOTHING_MOVED}"


class TerminalTimeout(TerminalError):
    """Nobody presented a card before the request's timeout; nothing was charged."""

    code = "terminal_timeout"
    job_outcome = Outcome.timed_out

    @property
    def support_message(self) -> str:
        return f"the terminal timed out waiting for the customer ({_clause(self.message)}); {_NOTHING_MOVED}"


class TerminalCancelled(TerminalError):
    """Cancelled at the terminal by the customer, or by us; nothing was charged."""

    code = "terminal_cancelled"
    job_outcome = Outcome.cancelled

    @property
    def support_message(self) -> str:
        return f"cancelled at the terminal ({_clause(self.message)}); {_NOTHING_MOVED}"


class LinkExpired(GatewayError):
    code = "link_expired"
    job_outcome = Outcome.refused


class LinkNotOpen(GatewayError):
    """The link is paid or deactivated: it cannot be paid, sent or deactivated again."""

    code = "link_not_open"
    job_outcome = Outcome.refused


class AchReturned(GatewayError):
    """An ACH debit came back with an R-code; the money is gone again."""

    code = "ach_returned"

    def __init__(self, message: str, r_code: str, **context: Any) -> None:
        super().__init__(message, r_code=r_code, **context)
        self.r_code = r_code


class GatewayAuthError(GatewayError):
    """The merchant's gateway API key was refused: fix the vault entry; never retried."""

    code = "gateway_auth_error"
    job_outcome = Outcome.access_failed

    @property
    def support_message(self) -> str:
        return f"the gateway refused this merchant's API key ({_clause(self.message)}); fix it with `jobber-robot merchants`"


class GatewayUnavailable(GatewayError):
    """Timeout, 5xx or a dropped connection: the one gateway error retried, after a look-up by
    reference (the money may have moved)."""

    code = "gateway_unavailable"
    job_outcome = Outcome.unavailable

    @property
    def support_message(self) -> str:
        return (f"the gateway did not answer ({_clause(self.message)}); try again later with the same job id: if money "
                "moved, the robot finds it by the job's reference and records it once, never charging twice")


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

    def __init__(self, job_id: str, outcome: FenceOutcome, detail: str) -> None:
        super().__init__(f"job {job_id} was {outcome} while this worker ran it ({detail}); "
                         "nothing more is written into Jobber by this run", job=job_id, outcome=outcome)
        self.job_id = job_id
        self.outcome: FenceOutcome = outcome


class JobConflict(RobotError):
    """The idempotency key was used before for a different job."""

    code = "idempotency_conflict"


class JobNotFound(RobotError):
    code = "job_not_found"


class ScrubError(RobotError):
    """`fixtures record`: a value the scrubber must remove is still in what would be written, so
    nothing is written (the message names the kind and the file, never the value)."""

    code = "scrub_failed"


class HandoffError(RobotError):
    """A 2FA code or an invoice choice the job cannot take (not waiting, waiting for the other)."""

    code = "handoff_refused"
