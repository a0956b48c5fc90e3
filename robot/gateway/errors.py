"""Typed gateway errors: one hierarchy under RobotError that flows can act on.

Every error carries a stable `code` (also used on the wire by the sandbox) and never a card
number, CVV or bank account number in its message or context. Only `GatewayUnavailable` is
transient (retried); a decline is never retried.
"""

from __future__ import annotations

from typing import Any

from robot.errors import RobotError

DECLINE_REASONS = ("insufficient_funds", "expired_card", "cvv_failure", "avs_failure", "do_not_honor", "generic")
ACH_RETURN_CODES = {
    "R01": "insufficient funds",
    "R02": "account closed",
    "R03": "no account / unable to locate account",
    "R04": "invalid account number",
}


class GatewayError(RobotError):
    """Base of every error the gateway module raises."""

    code = "gateway_error"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.transaction_id: str | None = context.get("transaction_id")


class Declined(GatewayError):
    """The issuer or the processor declined: money did not move. Never retried."""

    code = "card_declined"

    def __init__(self, message: str = "payment declined", reason: str = "generic", **context: Any) -> None:
        if reason not in DECLINE_REASONS:
            reason = "generic"
        super().__init__(message, reason=reason, **context)
        self.reason = reason


class DuplicateTransaction(GatewayError):
    """Same card, amount and merchant inside the duplicate window, sent without an idempotency key."""

    code = "duplicate_transaction"


class IdempotencyConflict(GatewayError):
    """The idempotency key was used before with different parameters (or another operation)."""

    code = "idempotency_conflict"


class InvalidRequest(GatewayError):
    """A field is missing or wrong (card number, expiry, CVV, amount...): names the field, never its value."""

    code = "invalid_request"

    def __init__(self, field: str, message: str | None = None, **context: Any) -> None:
        super().__init__(message or f"{field}: invalid", field=field, **context)
        self.field = field


class NotFound(GatewayError):
    code = "not_found"


class NotVoidable(GatewayError):
    """The batch has closed (or the ACH debit is no longer pending, or refunds exist): refund instead."""

    code = "not_voidable"


class NotRefundable(GatewayError):
    """Not captured yet, voided, declined, returned or already fully refunded."""

    code = "not_refundable"


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


class TerminalBusy(TerminalError):
    code = "terminal_busy"


class TerminalTimeout(TerminalError):
    """Nobody presented a card before the request's timeout; nothing was charged."""

    code = "terminal_timeout"


class TerminalCancelled(TerminalError):
    """Cancelled at the terminal by the customer, or by us; nothing was charged."""

    code = "terminal_cancelled"


class LinkExpired(GatewayError):
    code = "link_expired"


class LinkNotOpen(GatewayError):
    """The link is paid or deactivated: it cannot be paid, sent or deactivated again."""

    code = "link_not_open"


class AchReturned(GatewayError):
    """An ACH debit came back with an R-code; the money is gone again."""

    code = "ach_returned"

    def __init__(self, message: str, r_code: str, **context: Any) -> None:
        super().__init__(message, r_code=r_code, **context)
        self.r_code = r_code


class GatewayAuthError(GatewayError):
    """The merchant's gateway API key was refused: fix the vault entry; never retried."""

    code = "gateway_auth_error"


class GatewayUnavailable(GatewayError):
    """Timeout, 5xx or a dropped connection: transient, retried after a look-up by reference."""

    code = "gateway_unavailable"
    transient = True


#: Wire code -> class, for the HTTP client's error mapping.
ERRORS_BY_CODE: dict[str, type[GatewayError]] = {
    cls.code: cls
    for cls in (
        GatewayError, Declined, DuplicateTransaction, IdempotencyConflict, InvalidRequest, NotFound,
        NotVoidable, NotRefundable, RefundExceedsRefundable, TerminalError, TerminalOffline, TerminalBusy,
        TerminalTimeout, TerminalCancelled, LinkExpired, LinkNotOpen, AchReturned, GatewayAuthError,
        GatewayUnavailable,
    )
}
