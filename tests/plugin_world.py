"""Pytest plugin: the whole test world for the payment flows (and the job queue's tests).

Fixtures
- `world_sandbox` (session): one sandbox gateway (`GatewaySandbox`) for the run.
- `world_env` (session): settings (data dir in a temp folder, URLs of the mock site and the
  sandbox) and a vault with `acme` (TOTP) and `bravo` (SMS hand-off), both with gateway keys.
- `world_pool` (session, session event loop): ONE SessionPool (one browser) for every test.
- `flow_world` (function, session event loop): mock Jobber and the sandbox reset to "demo",
  a `FlowWorld` with `run(job)` → JobResult, helpers reading both admin APIs, and
  `record_by_hand` / `edit_by_hand` (a person in Jobber, through the app's GraphQL).

Refunds in Jobber are the payment edited down plus a Details line "Refund <id> $<amount> (<note>)":
`refunded(payment)` is the sum of those lines (as the robot reads it) and `refund_lines(payment)`
the lines themselves, parsed here on their own.

Async tests using these run on the session loop: put
`pytestmark = pytest.mark.asyncio(loop_scope="session")` in the test module.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from pydantic import SecretStr

from fixtures.jobber_site.server import MockJobber
from flows.pages.details import refunded_in
from robot.config import Settings, load_settings
from robot.jobs.models import JobResult, parse_job
from robot.sessions import SessionPool
from robot.twofactor import TotpCodes
from robot.vault import GatewayCredentials, MerchantCredentials, Vault
from tests.integration.robot_world import ACME, BRAVO, OutboxCodes
from tests.plugin_mock_jobber import gql, sign_in

GATEWAY_KEYS = {"acme": "sk_test_acme", "bravo": "sk_test_bravo"}

_PAYMENT_FIELDS = "id kind method amount date reference details"
PAYMENT_CREATE = f"""mutation PaymentCreate($input: PaymentCreateInput!) {{
  paymentCreate(input: $input) {{ payments {{ {_PAYMENT_FIELDS} }} userErrors {{ message path }} }} }}"""
PAYMENT_EDIT = f"""mutation PaymentEdit($id: ID!, $input: PaymentEditInput!) {{
  paymentEdit(paymentId: $id, input: $input) {{ payments {{ {_PAYMENT_FIELDS} }} userErrors {{ message path }} }} }}"""

_REFUND_LINE = re.compile(r"^Refund (\S+) \$(\d[\d,]*\.\d{2}) \((.*)\)$", re.M)


def refunded(payment: dict[str, Any]) -> str:
    """What the refund lines in a Jobber payment's Details add up to ("0.00" when none)."""
    return f"{refunded_in(payment['details']):.2f}"


def refund_lines(payment: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The refund lines of a Jobber payment's Details as (refund id, amount "40.00", note)."""
    return [(m.group(1), m.group(2).replace(",", ""), m.group(3)) for m in _REFUND_LINE.finditer(payment["details"])]


@dataclass
class WorldEnv:
    settings: Settings
    vault: Vault
    site: MockJobber
    sandbox: Any


@dataclass
class FlowWorld:
    env: WorldEnv
    pool: SessionPool
    results: list[JobResult] = field(default_factory=list)

    @property
    def site(self) -> MockJobber:
        return self.env.site

    @property
    def sandbox(self) -> Any:
        return self.env.sandbox

    @property
    def settings(self) -> Settings:
        return self.env.settings

    @property
    def vault(self) -> Vault:
        return self.env.vault

    # --- running jobs ------------------------------------------------------------------------
    async def run(self, job: Any, *, job_id: str | None = None, runner: Any = None, confirmer: Any = None) -> JobResult:
        """Run a job (a model or a dict; "merchant" defaults to acme) through flows.service.run_job."""
        from flows.service import run_job

        if isinstance(job, dict):
            job = parse_job({"merchant": "acme", **job})
        result = await run_job(job, job_id=job_id or f"t-{uuid.uuid4().hex[:10]}", settings=self.settings,
                               pool=self.pool, runner=runner, confirmer=confirmer, vault=self.vault)
        self.results.append(result)
        return result

    def gateway(self, merchant: str = "acme") -> Any:
        """A gateway client for the merchant (close it: `await gw.aclose()`)."""
        from robot.gateway import gateway_for

        return gateway_for(self.settings, self.vault.get(merchant).gateway)

    async def card_token(self, number: str = "4111111111111111", merchant: str = "acme") -> str:
        gw = self.gateway(merchant)
        try:
            return (await gw.tokenize_card(number, 12, 2030, "123")).id
        finally:
            await gw.aclose()

    async def bank_token(self, account: str = "000123456789", merchant: str = "acme") -> str:
        gw = self.gateway(merchant)
        try:
            return (await gw.add_bank_account("011000015", account, "Luis Garcia")).id
        finally:
            await gw.aclose()

    # --- Jobber's state (mock admin API) -------------------------------------------------------
    def invoice(self, number: int, email: str = "owner@acme.test") -> dict[str, Any]:
        assert self.site.admin is not None
        return self.site.admin.invoice(number, email)

    def payments(self, number: int, email: str = "owner@acme.test") -> list[dict[str, Any]]:
        return list(self.invoice(number, email)["payments"])

    def quote(self, number: int) -> dict[str, Any]:
        assert self.site.admin is not None
        return self.site.admin.quote(number)

    # --- a person in Jobber (the app's GraphQL, signed in over HTTP) ------------------------------
    def _by_hand(self, operation: str, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        api = sign_in(self.site)
        try:
            body = gql(api, operation, query, variables)
        finally:
            api.close()
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [], payload
        return list(payload["payments"])

    def record_by_hand(self, number: int, method: str, amount: str, details: str = "") -> dict[str, Any]:
        """A person (the demo owner) records a payment of `amount` on invoice #number (method an
        enum: "CASH")."""
        inv = self.invoice(number)
        [payment] = self._by_hand("PaymentCreate", PAYMENT_CREATE, {"input": {
            "clientId": str(inv["client_id"]), "method": method, "details": details,
            "allocations": [{"invoiceId": str(inv["id"]), "amount": amount}]}})
        return payment

    def edit_by_hand(self, payment_id: int, **changes: Any) -> dict[str, Any]:
        """A person edits a payment (PaymentEditInput fields: amount="90.00", details=...)."""
        [payment] = self._by_hand("PaymentEdit", PAYMENT_EDIT, {"id": str(payment_id), "input": changes})
        return payment

    # --- the gateway's state (sandbox admin API) --------------------------------------------------
    def txns(self, merchant: str = "acme", **filters: str) -> list[dict[str, Any]]:
        return list(self.sandbox.admin.transactions(merchant, **filters))

    def txn(self, txn_id: str) -> dict[str, Any]:
        return dict(self.sandbox.admin.transaction(txn_id))


def _make_sandbox(tmp: Path) -> Any:
    from fixtures.gateway_sandbox.server import GatewaySandbox

    return GatewaySandbox(tmp, scenario="demo").start()


@pytest.fixture(scope="session")
def world_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Our own sandbox gateway for the run (independent of the gateway plugin's fixtures)."""
    box = _make_sandbox(tmp_path_factory.mktemp("world-sandbox"))
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session")
def world_env(tmp_path_factory: pytest.TempPathFactory, mock_jobber: MockJobber, world_sandbox: Any) -> WorldEnv:
    tmp = tmp_path_factory.mktemp("flow-world")
    settings = load_settings(data_dir=tmp / "data", jobber_url=mock_jobber.url, gateway_url=world_sandbox.url,
                             host_resolver_rules=mock_jobber.resolver_rules,
                             credential_key=Fernet.generate_key().decode(), action_timeout_ms=4_000,
                             navigation_timeout_ms=8_000, unavailable_retries=1, trace=False)
    settings.ensure_dirs()
    vault = Vault.from_settings(settings)
    for base in (ACME, BRAVO):
        merchant = str(base["merchant"])
        gateway = GatewayCredentials(merchant_id=merchant, api_key=SecretStr(GATEWAY_KEYS[merchant]))
        vault.put(MerchantCredentials(**{**base, "gateway": gateway}))
    return WorldEnv(settings=settings, vault=vault, site=mock_jobber, sandbox=world_sandbox)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def world_pool(world_env: WorldEnv) -> AsyncIterator[SessionPool]:
    pool = SessionPool(world_env.settings, world_env.vault, code_provider=OutboxCodes(world_env.site))
    async with pool:
        yield pool


@pytest_asyncio.fixture(loop_scope="session")
async def flow_world(world_env: WorldEnv, world_pool: SessionPool) -> AsyncIterator[FlowWorld]:
    """Mock Jobber and the sandbox reset to "demo"; the shared pool signs in afresh (new TOTP memory:
    the reset site forgot the codes it accepted)."""
    assert world_env.site.admin is not None
    world_env.site.admin.reset("demo")
    world_env.sandbox.admin.reset("demo")
    world_pool.totp = TotpCodes()
    for merchant in ("acme", "bravo"):
        world_env.vault.clear_storage_state(merchant)
    yield FlowWorld(env=world_env, pool=world_pool)
    world_env.site.admin.clear_faults()
