"""Waiting on Jobber's GraphQL answers by operation name.

Jobber's app reads and writes through one GraphQL endpoint, so "the save has been answered" is a
POST to `…/graphql` whose body names the operation (`PaymentCreate`, `InvoiceShow`). Jobber's
real operation names are not public: a write also matches any GraphQL *mutation* when its
expected name is not seen, so a renamed operation does not stall a payment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from robot.errors import FlowRefused, JobberUnavailable, SessionExpired

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response


def _bodies(resp: "Response") -> list[dict[str, Any]]:
    req = resp.request
    if req.method != "POST" or not urlparse(req.url).path.rstrip("/").endswith("/graphql"):
        return []
    try:
        body = req.post_data_json
    except Exception:  # noqa: BLE001 - a body that is not JSON is not ours
        return []
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return [b for b in body if isinstance(b, dict)]
    return []


def is_operation(resp: "Response", name: str, *, mutation: bool = False) -> bool:
    for body in _bodies(resp):
        if body.get("operationName") == name:
            return True
        if mutation and str(body.get("query") or "").lstrip().startswith("mutation"):
            return True
    return False


@asynccontextmanager
async def expect_operation(page: "Page", name: str, *, timeout_ms: int, mutation: bool = False
                           ) -> AsyncIterator[Any]:
    """`async with expect_operation(page, "PaymentCreate", ...) as info: await save.click()`;
    then `await info.value` is the Response."""
    async with page.expect_response(lambda r: is_operation(r, name, mutation=mutation), timeout=timeout_ms) as info:
        yield info


async def press_and_wait(page: "Page", button: "Locator", operation: str, *, what: str, timeout_ms: int,
                         before_save: "Callable[[], Awaitable[None]] | None" = None) -> dict[str, Any]:
    """Press the control that saves, after `before_save` (the job's fence), and return the data of
    Jobber's answer to `operation` (see `result_of`)."""
    if before_save is not None:
        await before_save()
    async with expect_operation(page, operation, timeout_ms=timeout_ms, mutation=True) as info:
        await button.click()
    return await result_of(await info.value, what)


async def result_of(resp: "Response", what: str) -> dict[str, Any]:
    """The `data` of a GraphQL answer. 401: the session ended (nothing was saved); 5xx: Jobber is
    down; top-level errors: Jobber refused the request as a whole."""
    if resp.status == 401:
        raise SessionExpired(f"the Jobber session ended before {what} was saved; nothing was recorded")
    if resp.status >= 500:
        raise JobberUnavailable(f"Jobber answered {resp.status} to {what}; try again later")
    try:
        body = await resp.json()
    except Exception:  # noqa: BLE001
        body = {}
    if resp.status == 403:
        raise JobberUnavailable(f"Jobber refused {what} as out of date (403); reload and try again")
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") or []
    if errors and not body.get("data"):
        first = errors[0].get("message") if isinstance(errors[0], dict) else None
        raise FlowRefused(f"Jobber refused {what}: {first or 'no reason given'}")
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def user_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every `userErrors` entry of a mutation's payload(s)."""
    out: list[dict[str, Any]] = []
    for payload in data.values():
        if isinstance(payload, dict):
            out.extend(e for e in payload.get("userErrors") or [] if isinstance(e, dict))
    return out
