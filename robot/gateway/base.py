"""The gateway interface the flows call. `HttpGateway` (robot/gateway/http.py) implements it.

Rules every implementation keeps:
- Every call that moves money takes `idempotency_key`; the key is also the resulting
  transaction's (or refund's / terminal request's / link's) `reference`, so
  `find_by_reference(key)` finds it. Same key + same parameters -> the original result, no
  second movement; same key + other parameters -> `IdempotencyConflict`.
- Amounts are `Decimal` (two places) or `Money`; a float is refused (`InvalidRequest("amount")`).
- Errors are the typed ones of robot/errors.py (GatewayError and below). Only `GatewayUnavailable` is retried.
- Waiting (terminals) is a server-side long-poll: the client never sleeps.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from pydantic import SecretStr

from robot.gateway.models import (
    BankToken,
    Batch,
    CardToken,
    Customer,
    LinkDelivery,
    Money,
    PaymentLink,
    PaymentMethod,
    Refund,
    TerminalRequest,
    Transaction,
)

AmountLike = Decimal | Money
DEFAULT_TERMINAL_TIMEOUT = 120


@runtime_checkable
class Gateway(Protocol):
    merchant_id: str

    # --- tokens and the customer vault ---------------------------------------------------
    async def tokenize_card(self, number: str | SecretStr, exp_month: int, exp_year: int, cvv: str | SecretStr, *,
                            postal_code: str | None = None, holder: str | None = None) -> CardToken:
        """The only place a card number and CVV are handled; returns a token + masked card."""
        ...

    async def add_bank_account(self, routing: str, account: str | SecretStr, holder: str,
                               type: Literal["checking", "savings"] = "checking") -> BankToken:
        ...

    async def create_customer(self, name: str, email: str | None = None, *, token: str | None = None) -> Customer:
        ...

    async def get_customer(self, customer_id: str) -> Customer:
        ...

    async def add_payment_method(self, customer_id: str, token: str, *, default: bool = False) -> PaymentMethod:
        ...

    # --- money movement --------------------------------------------------------------------
    async def charge(self, source: str, amount: AmountLike, *, idempotency_key: str, capture: bool = True,
                     customer_id: str | None = None, description: str = "") -> Transaction:
        """Sale (capture=True) or authorization (capture=False). `source` is a card token (tok_...)
        or a saved payment method (pm_...). Raises Declined (a declined transaction is recorded)."""
        ...

    async def capture(self, txn_id: str, amount: AmountLike | None = None, *, idempotency_key: str) -> Transaction:
        ...

    async def charge_card_on_file(self, customer_id: str, amount: AmountLike, *, idempotency_key: str,
                                  payment_method_id: str | None = None, description: str = "") -> Transaction:
        """Charge the customer's saved card (the default one unless `payment_method_id`)."""
        ...

    async def void(self, txn_id: str, *, idempotency_key: str) -> Transaction:
        """Only before the batch closes (ACH: only while pending); otherwise NotVoidable."""
        ...

    async def refund(self, txn_id: str, amount: AmountLike | None = None, *, idempotency_key: str) -> Refund:
        """Full (amount None: everything refundable) or partial; the sum never exceeds captured."""
        ...

    async def ach_debit(self, bank_token: str, amount: AmountLike, *, idempotency_key: str,
                        description: str = "") -> Transaction:
        """Starts `pending`; settles by the gateway's clock, or is returned with an R-code."""
        ...

    async def ach_status(self, txn_id: str) -> Transaction:
        """The ACH debit as it stands; raises AchReturned(r_code) when it was returned."""
        ...

    # --- terminals ---------------------------------------------------------------------------
    async def terminal_push(self, terminal_id: str, amount: AmountLike, *, idempotency_key: str,
                            timeout_seconds: int | None = None) -> TerminalRequest:
        """Put the amount on the terminal; it waits for the customer up to timeout_seconds (None: the
        terminal's own setting, 120 s by default). TerminalOffline / TerminalBusy when it cannot."""
        ...

    async def terminal_request(self, request_id: str, wait_seconds: float = 0) -> TerminalRequest:
        """Current state; with wait_seconds the server holds the call until the state changes
        or the wait ends (long-poll)."""
        ...

    async def terminal_result(self, request_id: str, *, max_wait_seconds: float | None = None) -> Transaction:
        """Long-poll until the request is final: the approved Transaction, or raises
        Declined / TerminalTimeout / TerminalCancelled (TerminalTimeout also when max_wait ends)."""
        ...

    async def terminal_cancel(self, request_id: str) -> TerminalRequest:
        ...

    # --- payment links -------------------------------------------------------------------------
    async def create_link(self, amount: AmountLike, *, idempotency_key: str, description: str = "",
                          expires_in: int = 7 * 24 * 3600) -> PaymentLink:
        ...

    async def get_link(self, link_id: str) -> PaymentLink:
        ...

    async def deactivate_link(self, link_id: str) -> PaymentLink:
        ...

    async def send_link(self, link_id: str, channel: Literal["sms", "email"], to: str) -> LinkDelivery:
        ...

    async def list_links(self, status: str | None = None) -> list[PaymentLink]:
        ...

    # --- reading ---------------------------------------------------------------------------------
    async def get_transaction(self, txn_id: str) -> Transaction:
        ...

    async def find_by_reference(self, reference: str) -> Transaction | None:
        """The newest transaction whose reference is `reference`, or None."""
        ...

    async def list_transactions(self, since: datetime | None = None, until: datetime | None = None,
                                reference: str | None = None, *, status: str | None = None,
                                kind: str | None = None) -> list[Transaction]:
        """The merchant's transactions, oldest first; since/until bound created_at (until exclusive)."""
        ...

    async def batch_status(self, batch_id: str | None = None) -> Batch:
        """The given batch, or the merchant's currently open batch."""
        ...

    async def aclose(self) -> None:
        ...
