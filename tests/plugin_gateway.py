"""Pytest plugin: the sandbox gateway for the whole run, reset to a scenario per test.

Fixtures
- `sandbox` (session): one `GatewaySandbox` server for the run, data in a temp dir.
- `gateway_sandbox` (function): the same server reset to "demo" (faults cleared, clock real);
  use `.url` and `.admin` (reset, state, merchant, transactions(merchant), transaction(id),
  clock(advance_seconds=), close_batch, ach_return(txn, code), terminal(id, action, ...),
  pay_link(id), expire_link(id), outbox, faults(...), clear_faults).
- `gateway` (function): an `HttpGateway` for merchant acme (api key sk_test_acme) on that server,
  with fast retry back-off for tests.

Helpers: `ACME`, `BRAVO` (GatewayCredentials), `make_gateway(url, creds, **options)`,
`merchants_scenario("m3", "m4")` (the demo document plus merchants with api key sk_test_<id>, the
demo customers and a terminal tmr_<id>), `creds_for("m3")`; test card numbers as constants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.gateway.http import HttpGateway
from robot.vault import GatewayCredentials

ACME = GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme"))
BRAVO = GatewayCredentials(merchant_id="bravo", api_key=SecretStr("sk_test_bravo"))
VISA = "4111111111111111"
VISA_2 = "4242424242424242"
DECLINE = "4000000000000002"
INSUFFICIENT = "4000000000009995"
EXPIRED = "4000000000000069"
CVV_FAIL = "4000000000000127"
ROUTING = "011000015"   # a valid ABA routing number
ACCOUNT = "000123456789"


def creds_for(merchant: str) -> GatewayCredentials:
    return GatewayCredentials(merchant_id=merchant, api_key=SecretStr(f"sk_test_{merchant}"))


def merchants_scenario(*merchant_ids: str) -> dict[str, Any]:
    """The demo scenario plus more merchants (for queue/scale tests): `admin.reset(merchants_scenario("m3", "m4"))`."""
    from fixtures.gateway_sandbox.scenarios import load

    doc = load("demo")
    customers = [c for c in doc["merchants"][0]["customers"]]
    for mid in merchant_ids:
        doc["merchants"].append({
            "id": mid, "name": mid.title(), "api_key": f"sk_test_{mid}",
            "customers": [{**c, "payment_methods": [{**pm, "id": f"{pm['id']}_{mid}"} for pm in c["payment_methods"]]}
                          for c in customers],
            "terminals": [{"id": f"tmr_{mid}", "name": "Counter", "timeout_seconds": 120}]})
    return doc


class CountingTransport(httpx.AsyncHTTPTransport):
    """A real transport that notes each request it sends: proves what was retried and what not."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        return await super().handle_async_request(request)


def make_gateway(url: str, creds: GatewayCredentials = ACME, **options: Any) -> HttpGateway:
    opts: dict[str, Any] = {"timeout": 10.0, "retry_attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05}
    opts.update(options)
    return HttpGateway(url, creds, **opts)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewaySandbox]:
    """One sandbox gateway server for the whole test run."""
    with GatewaySandbox(tmp_path_factory.mktemp("gateway-sandbox"), scenario="demo") as server:
        yield server


@pytest.fixture
def gateway_sandbox(sandbox: GatewaySandbox) -> GatewaySandbox:
    """The sandbox gateway, freshly reset to the "demo" scenario for this test."""
    assert sandbox.admin is not None
    sandbox.admin.reset("demo")
    return sandbox


@pytest.fixture
async def gateway(gateway_sandbox: GatewaySandbox) -> AsyncIterator[HttpGateway]:
    """HttpGateway for merchant acme against the freshly reset sandbox."""
    gw = make_gateway(gateway_sandbox.url)
    yield gw
    await gw.aclose()
