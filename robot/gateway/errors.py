"""The gateway's errors on the wire: its error codes → the typed errors (drawn with every other
error in robot/errors.py), and the ACH return codes the gateway reports.

Only `GatewayUnavailable` is retried (after a look-up by reference); a decline never is.
"""

from __future__ import annotations

from robot.errors import (
    DECLINE_REASONS,
    AchReturned,
    Declined,
    DuplicateTransaction,
    GatewayAuthError,
    GatewayError,
    GatewayUnavailable,
    IdempotencyConflict,
    InvalidRequest,
    LinkExpired,
    LinkNotOpen,
    NotFound,
    NotRefundable,
    NotVoidable,
    RefundExceedsRefundable,
    TerminalBusy,
    TerminalCancelled,
    TerminalError,
    TerminalOffline,
    TerminalTimeout,
)

ACH_RETURN_CODES = {
    "R01": "insufficient funds",
    "R02": "account closed",
    "R03": "no account / unable to locate account",
    "R04": "invalid account number",
}

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

# the gateway package's own names for its errors (robot.gateway re-exports them, as httpx does)
__all__ = [
    "ACH_RETURN_CODES", "DECLINE_REASONS", "ERRORS_BY_CODE", "AchReturned", "Declined", "DuplicateTransaction",
    "GatewayAuthError", "GatewayError", "GatewayUnavailable", "IdempotencyConflict", "InvalidRequest",
    "LinkExpired", "LinkNotOpen", "NotFound", "NotRefundable", "NotVoidable", "RefundExceedsRefundable",
    "TerminalBusy", "TerminalCancelled", "TerminalError", "TerminalOffline", "TerminalTimeout",
]
