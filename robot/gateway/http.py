"""HttpGateway: the gateway's REST API over httpx (the real processor's shape; the sandbox speaks it).

Safety rules kept here:
- The API key comes from the merchant's vault entry (GatewayCredentials), never from job input;
  it is registered as a secret so no log line can show it.
- Every money-moving call sends its idempotency key (header `Idempotency-Key`); the gateway stores
  it as the transaction's `reference`.
- Unknown outcome (timeout, 5xx, dropped connection): before any retry the transaction is looked
  up by its reference; only when it is not there is the call sent again (with the same key).
  Transient errors retry with tenacity (bounded attempts, jittered exponential back-off).
  Declines and every other typed error are never retried.
- Card numbers and CVVs are handled only inside `tokenize_card`; they are never logged, never in
  an exception, never in a repr.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, TypeVar

import httpx
from pydantic import SecretStr
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from robot.errors import (
    AchReturned,
    Declined,
    GatewayAuthError,
    GatewayError,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    RefundExceedsRefundable,
    TerminalCancelled,
    TerminalTimeout,
)
from robot.gateway.base import AmountLike
from robot.gateway.errors import ACH_RETURN_CODES, ERRORS_BY_CODE
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
    TerminalStatus,
    Transaction,
    TransactionStatus,
)
from robot.logging import get_logger, redact_text, register_secret
from robot.money import parse_money

T = TypeVar("T")
_SINGLE_SHOT: ContextVar[bool] = ContextVar("gateway_single_shot", default=False)
LONG_POLL_CHUNK = 25.0
CURRENCY = "USD"


def amount_str(amount: AmountLike | None, field: str = "amount") -> str | None:
    """Validate an amount (Decimal/int/str or Money; never float): > 0, two places, USD -> "12.50"."""
    if amount is None:
        return None
    if isinstance(amount, Money):
        if amount.currency != CURRENCY:
            raise InvalidRequest("currency", f"currency: only {CURRENCY} is supported")
        amount = amount.amount
    try:
        d = parse_money(amount)
    except ValueError as exc:
        raise InvalidRequest(field, f"{field}: {exc}") from None
    if d != d.quantize(Decimal("0.01")):
        raise InvalidRequest(field, f"{field}: must have at most 2 decimal places")
    if d <= 0:
        raise InvalidRequest(field, f"{field}: must be greater than 0")
    return f"{d:.2f}"


def _key(idempotency_key: str) -> str:
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255 or not idempotency_key.isprintable() \
            or " " in idempotency_key:
        raise InvalidRequest("idempotency_key", "idempotency_key: must be 1-255 printable characters without spaces")
    return idempotency_key


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def error_from_response(resp: httpx.Response) -> GatewayError:
    """Turn an error response into the typed error (messages pass through redaction)."""
    try:
        err = resp.json().get("error") or {}
        if not isinstance(err, dict):
            err = {}
    except ValueError:
        err = {}
    code = str(err.get("code") or "")
    message = redact_text(str(err.get("message") or f"gateway answered HTTP {resp.status_code}"))
    extra = {k: v for k, v in err.items() if k in ("transaction_id", "terminal_id", "request_id", "link_id", "link_status")}
    if resp.status_code >= 500 or code == "gateway_unavailable":
        return GatewayUnavailable(f"gateway unavailable: {message}", status=resp.status_code)
    if resp.status_code == 401 or code == "gateway_auth_error":
        return GatewayAuthError(f"gateway refused the merchant's API key: {message}")
    if code == "card_declined":
        return Declined(message, reason=str(err.get("reason") or "generic"), **extra)
    if code == "invalid_request":
        return InvalidRequest(str(err.get("field") or "request"), message, **extra)
    if code == "refund_exceeds_refundable":
        left = err.get("refundable")
        return RefundExceedsRefundable(message, refundable=Decimal(str(left)) if left is not None else None, **extra)
    if code == "ach_returned":
        return ERRORS_BY_CODE[code](message, r_code=str(err.get("r_code") or ""), **extra)
    cls = ERRORS_BY_CODE.get(code)
    if cls is not None and cls not in (Declined, InvalidRequest, RefundExceedsRefundable):
        return cls(message, **extra)
    if resp.status_code == 404:
        return NotFound(message)
    generic = GatewayError(message, status=resp.status_code, **extra)
    if code:
        generic.code = code
    return generic


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every gateway client of the process: loading the CA bundle costs about
    0.1 s, and each job makes its own client."""
    return httpx.create_ssl_context()


class HttpGateway:
    """The Gateway interface over HTTP for one merchant."""

    def __init__(self, base_url: str, creds: Any, *, timeout: float = 30.0, retry_attempts: int = 4,
                 backoff_initial: float = 0.25, backoff_max: float = 4.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        api_key = creds.api_key.get_secret_value()
        register_secret(api_key)
        self.merchant_id: str = creds.merchant_id
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry_attempts = max(1, retry_attempts)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport, verify=_tls_context(),
            headers={"Authorization": f"Bearer {api_key}", "X-Merchant-Id": self.merchant_id,
                     "User-Agent": "jobber-robot/0.1", "Accept": "application/json"})
        self.log = get_logger("robot.gateway", merchant=self.merchant_id)

    def __repr__(self) -> str:
        return f"HttpGateway(merchant_id={self.merchant_id!r}, base_url={self.base_url!r})"

    async def __aenter__(self) -> HttpGateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- transport ---------------------------------------------------------------------------------
    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(GatewayUnavailable),
            stop=stop_after_attempt(self.retry_attempts),
            wait=wait_random_exponential(multiplier=self.backoff_initial, max=self.backoff_max),
            reraise=True,
        )

    async def _send(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None, key: str | None = None,
                    timeout: float | None = None) -> dict[str, Any]:
        """One HTTP exchange: the JSON body, or a typed error (GatewayUnavailable when the outcome is unknown)."""
        headers = {"Idempotency-Key": key} if key else None
        try:
            resp = await self._client.request(method, path, json=json, params=params, headers=headers,
                                              timeout=timeout if timeout is not None else self.timeout)
        except httpx.TimeoutException:
            raise GatewayUnavailable(f"gateway timed out on {method} {path}") from None
        except httpx.TransportError as exc:
            raise GatewayUnavailable(f"gateway connection failed on {method} {path}: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            raise error_from_response(resp)
        if resp.headers.get("idempotent-replayed") == "true":
            self.log.info("gateway.replayed", path=path, reference=key)
        try:
            data: dict[str, Any] = resp.json()
            return data
        except ValueError:
            raise GatewayUnavailable(f"gateway sent an unreadable answer to {method} {path}") from None

    async def _read(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    json: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """A call that moves no money: safe to retry as it is (inside a money call's look-up it is tried
        once: the money call's own retry loop bounds the attempts)."""
        if _SINGLE_SHOT.get():
            return await self._send(method, path, params=params, json=json, timeout=timeout)
        async for attempt in self._retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.log.warning("gateway.retry", path=path, attempt=attempt.retry_state.attempt_number)
                return await self._send(method, path, params=params, json=json, timeout=timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _money(self, op: str, path: str, body: dict[str, Any], key: str,
                     lookup: Callable[[], Awaitable[T | None]], parse: Callable[[dict[str, Any]], T]) -> T:
        """A money-moving call. After an unknown outcome, look the result up before sending again."""
        unknown = False
        async for attempt in self._retrying():
            with attempt:
                n = attempt.retry_state.attempt_number
                if unknown:
                    token = _SINGLE_SHOT.set(True)
                    try:
                        found = await lookup()
                    finally:
                        _SINGLE_SHOT.reset(token)
                    if found is not None:
                        self.log.warning("gateway.recovered", op=op, reference=key, attempt=n)
                        return found
                    self.log.warning("gateway.retry", op=op, reference=key, attempt=n)
                try:
                    data = await self._send("POST", path, json=body, key=key)
                except GatewayUnavailable:
                    unknown = True
                    raise
                except Declined as exc:
                    self.log.info("gateway.declined", op=op, reference=key, reason=exc.reason,
                                  transaction_id=exc.transaction_id)
                    raise
                result = parse(data)
                self.log.info("gateway.ok", op=op, reference=key, id=getattr(result, "id", None),
                              status=str(getattr(result, "status", "")))
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _declined_or(txn: Transaction) -> Transaction:
        """A transaction found by reference that was declined: raise the decline it was."""
        if txn.status is TransactionStatus.declined:
            raise Declined("payment declined", reason=txn.decline_reason or "generic", transaction_id=txn.id)
        return txn

    # --- tokens and customers ------------------------------------------------------------------------
    async def tokenize_card(self, number: str | SecretStr, exp_month: int, exp_year: int, cvv: str | SecretStr, *,
                            postal_code: str | None = None, holder: str | None = None) -> CardToken:
        number = _reveal(number)
        cvv = _reveal(cvv)
        digits = "".join(ch for ch in number if ch not in " -")
        register_secret(digits)
        if not digits.isdigit() or not 12 <= len(digits) <= 19:
            raise InvalidRequest("number", "number: card number must be 12 to 19 digits")
        if not isinstance(cvv, str) or not cvv.isdigit() or not 3 <= len(cvv) <= 4:
            raise InvalidRequest("cvv", "cvv: security code must be 3 or 4 digits")
        body: dict[str, Any] = {"number": digits, "exp_month": exp_month, "exp_year": exp_year, "cvv": cvv}
        if postal_code:
            body["postal_code"] = postal_code
        if holder:
            body["holder"] = holder
        try:
            data = await self._read("POST", "/v1/tokens/card", json=body)
        finally:
            body.clear()
        token = CardToken.model_validate(data)
        self.log.info("gateway.tokenized", kind="card", token=token.id, brand=token.brand, last4=token.last4)
        return token

    async def add_bank_account(self, routing: str, account: str | SecretStr, holder: str,
                               type: Literal["checking", "savings"] = "checking") -> BankToken:
        account = _reveal(account)
        register_secret(account)
        body = {"routing": str(routing), "account": str(account), "holder": holder, "type": type}
        try:
            data = await self._read("POST", "/v1/tokens/bank", json=body)
        finally:
            body.clear()
        token = BankToken.model_validate(data)
        self.log.info("gateway.tokenized", kind="bank", token=token.id, bank_last4=token.bank_last4)
        return token

    async def create_customer(self, name: str, email: str | None = None, *, token: str | None = None) -> Customer:
        body: dict[str, Any] = {"name": name, "email": email}
        if token:
            body["token"] = token
        return Customer.model_validate(await self._read("POST", "/v1/customers", json=body))

    async def get_customer(self, customer_id: str) -> Customer:
        return Customer.model_validate(await self._read("GET", f"/v1/customers/{customer_id}"))

    async def add_payment_method(self, customer_id: str, token: str, *, default: bool = False) -> PaymentMethod:
        return PaymentMethod.model_validate(await self._read(
            "POST", f"/v1/customers/{customer_id}/payment_methods", json={"token": token, "default": default}))

    # --- money movement --------------------------------------------------------------------------------
    async def _find_txn(self, key: str) -> Transaction | None:
        txn = await self.find_by_reference(key)
        return self._declined_or(txn) if txn is not None else None

    async def charge(self, source: str, amount: AmountLike, *, idempotency_key: str, capture: bool = True,
                     customer_id: str | None = None, description: str = "") -> Transaction:
        key = _key(idempotency_key)
        body = {"source": source, "amount": amount_str(amount), "currency": CURRENCY, "capture": capture,
                "customer_id": customer_id, "description": description}
        return await self._money("charge", "/v1/transactions", body, key, lambda: self._find_txn(key),
                                 Transaction.model_validate)

    async def charge_card_on_file(self, customer_id: str, amount: AmountLike, *, idempotency_key: str,
                                  payment_method_id: str | None = None, description: str = "") -> Transaction:
        key = _key(idempotency_key)
        body = {"source": payment_method_id, "customer_id": customer_id, "amount": amount_str(amount),
                "currency": CURRENCY, "capture": True, "description": description}
        return await self._money("charge_card_on_file", "/v1/transactions", body, key,
                                 lambda: self._find_txn(key), Transaction.model_validate)

    async def capture(self, txn_id: str, amount: AmountLike | None = None, *, idempotency_key: str) -> Transaction:
        key = _key(idempotency_key)

        async def lookup() -> Transaction | None:
            txn = await self.get_transaction(txn_id)
            return txn if txn.status is not TransactionStatus.authorized else None

        body = {"amount": amount_str(amount)} if amount is not None else {}
        return await self._money("capture", f"/v1/transactions/{txn_id}/capture", body, key, lookup,
                                 Transaction.model_validate)

    async def void(self, txn_id: str, *, idempotency_key: str) -> Transaction:
        key = _key(idempotency_key)

        async def lookup() -> Transaction | None:
            txn = await self.get_transaction(txn_id)
            return txn if txn.status is TransactionStatus.voided else None

        return await self._money("void", f"/v1/transactions/{txn_id}/void", {}, key, lookup,
                                 Transaction.model_validate)

    async def refund(self, txn_id: str, amount: AmountLike | None = None, *, idempotency_key: str) -> Refund:
        key = _key(idempotency_key)

        async def lookup() -> Refund | None:
            data = await self._read("GET", "/v1/refunds", params={"reference": key})
            found = [Refund.model_validate(r) for r in data["data"] if r["transaction_id"] == txn_id]
            return found[-1] if found else None

        body = {"amount": amount_str(amount)} if amount is not None else {}
        return await self._money("refund", f"/v1/transactions/{txn_id}/refunds", body, key, lookup,
                                 Refund.model_validate)

    async def ach_debit(self, bank_token: str, amount: AmountLike, *, idempotency_key: str,
                        description: str = "") -> Transaction:
        key = _key(idempotency_key)
        body = {"token": bank_token, "amount": amount_str(amount), "currency": CURRENCY, "description": description}
        return await self._money("ach_debit", "/v1/ach/debits", body, key, lambda: self.find_by_reference(key),
                                 Transaction.model_validate)

    async def ach_status(self, txn_id: str) -> Transaction:
        """The ACH debit as it stands (pending / settled / voided); raises AchReturned with the R-code
        when the bank sent it back."""
        txn = await self.get_transaction(txn_id)
        if txn.status is TransactionStatus.returned:
            raise AchReturned(f"ACH debit {txn.id} was returned: {txn.return_code} "
                              f"({ACH_RETURN_CODES.get(txn.return_code or '', 'unknown reason')})",
                              r_code=txn.return_code or "", transaction_id=txn.id)
        return txn

    # --- terminals ----------------------------------------------------------------------------------------
    async def terminal_push(self, terminal_id: str, amount: AmountLike, *, idempotency_key: str,
                            timeout_seconds: int | None = None) -> TerminalRequest:
        key = _key(idempotency_key)

        async def lookup() -> TerminalRequest | None:
            data = await self._read("GET", "/v1/terminal_requests", params={"reference": key})
            return TerminalRequest.model_validate(data["data"][-1]) if data["data"] else None

        body: dict[str, Any] = {"amount": amount_str(amount), "currency": CURRENCY}
        if timeout_seconds is not None:
            body["timeout_seconds"] = int(timeout_seconds)
        return await self._money("terminal_push", f"/v1/terminals/{terminal_id}/requests", body, key, lookup,
                                 TerminalRequest.model_validate)

    async def terminal_request(self, request_id: str, wait_seconds: float = 0) -> TerminalRequest:
        wait = max(0.0, float(wait_seconds))
        data = await self._read("GET", f"/v1/terminal_requests/{request_id}", params={"wait": f"{wait:g}"},
                                timeout=self.timeout + wait)
        return TerminalRequest.model_validate(data)

    async def terminal_result(self, request_id: str, *, max_wait_seconds: float | None = None) -> Transaction:
        req = await self.terminal_request(request_id)
        budget = max_wait_seconds if max_wait_seconds is not None else req.timeout_seconds + 15
        deadline = time.monotonic() + budget
        while not req.status.final:
            left = deadline - time.monotonic()
            if left <= 0:
                req = await self.terminal_cancel(request_id)
                if not req.status.final or req.status is TerminalStatus.cancelled:
                    raise TerminalTimeout(f"no answer from terminal {req.terminal_id} within {budget:g} s; "
                                          "the request was cancelled", terminal_id=req.terminal_id,
                                          request_id=request_id)
                break
            req = await self.terminal_request(request_id, wait_seconds=min(LONG_POLL_CHUNK, left))
        self.log.info("gateway.terminal", request_id=request_id, status=req.status.value,
                      transaction_id=req.transaction_id)
        if req.status is TerminalStatus.approved:
            assert req.transaction_id is not None
            return await self.get_transaction(req.transaction_id)
        if req.status is TerminalStatus.declined:
            raise Declined("declined at the terminal", reason=req.decline_reason or "generic",
                           transaction_id=req.transaction_id, terminal_id=req.terminal_id)
        if req.status is TerminalStatus.timed_out:
            raise TerminalTimeout(f"the customer did not pay at terminal {req.terminal_id} within "
                                  f"{req.timeout_seconds} s", terminal_id=req.terminal_id, request_id=request_id)
        raise TerminalCancelled(f"the terminal request was cancelled by the {req.cancelled_by or 'customer'}",
                                terminal_id=req.terminal_id, request_id=request_id)

    async def terminal_cancel(self, request_id: str) -> TerminalRequest:
        return TerminalRequest.model_validate(await self._read("POST", f"/v1/terminal_requests/{request_id}/cancel"))

    # --- payment links ---------------------------------------------------------------------------------------
    async def create_link(self, amount: AmountLike, *, idempotency_key: str, description: str = "",
                          expires_in: int = 7 * 24 * 3600) -> PaymentLink:
        key = _key(idempotency_key)

        async def lookup() -> PaymentLink | None:
            data = await self._read("GET", "/v1/links", params={"reference": key})
            return PaymentLink.model_validate(data["data"][-1]) if data["data"] else None

        body = {"amount": amount_str(amount), "currency": CURRENCY, "description": description,
                "expires_in": int(expires_in)}
        return await self._money("create_link", "/v1/links", body, key, lookup, PaymentLink.model_validate)

    async def get_link(self, link_id: str) -> PaymentLink:
        return PaymentLink.model_validate(await self._read("GET", f"/v1/links/{link_id}"))

    async def list_links(self, status: str | None = None) -> list[PaymentLink]:
        data = await self._read("GET", "/v1/links", params={"status": status} if status else None)
        return [PaymentLink.model_validate(x) for x in data["data"]]

    async def deactivate_link(self, link_id: str) -> PaymentLink:
        return PaymentLink.model_validate(await self._read("POST", f"/v1/links/{link_id}/deactivate"))

    async def send_link(self, link_id: str, channel: Literal["sms", "email"], to: str) -> LinkDelivery:
        return LinkDelivery.model_validate(await self._read("POST", f"/v1/links/{link_id}/send",
                                                            json={"channel": channel, "to": to}))

    # --- reading -------------------------------------------------------------------------------------------------
    async def get_transaction(self, txn_id: str) -> Transaction:
        return Transaction.model_validate(await self._read("GET", f"/v1/transactions/{txn_id}"))

    async def find_by_reference(self, reference: str) -> Transaction | None:
        found = await self.list_transactions(reference=reference)
        return found[-1] if found else None

    async def list_transactions(self, since: datetime | None = None, until: datetime | None = None,
                                reference: str | None = None, *, status: str | None = None,
                                kind: str | None = None) -> list[Transaction]:
        params = {k: v for k, v in {"since": _iso(since) if since else None, "until": _iso(until) if until else None,
                                    "reference": reference, "status": status, "kind": kind}.items() if v}
        data = await self._read("GET", "/v1/transactions", params=params)
        return [Transaction.model_validate(x) for x in data["data"]]

    async def batch_status(self, batch_id: str | None = None) -> Batch:
        return Batch.model_validate(await self._read("GET", f"/v1/batches/{batch_id or 'current'}"))
