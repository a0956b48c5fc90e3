"""Run a scenario's jobs through the robot (flows.service.run_job) while recording, or against a
recording with no server at all.

Recording against the mock starts the mock Jobber site and the gateway sandbox in-process, both
with their clocks at a fixed instant (so dates, due dates and "today" do not churn between
re-recordings), and signs in with the demo login's own password and authenticator seed.
Recording against a real account uses the vault's merchant and the configured gateway instead.

The gateway is recorded too (its HTTP exchanges, scrubbed, in `gateway.json`) and replayed by an
httpx transport: a money flow replays fully offline, and the gateway's answers (transaction ids
the robot writes into Jobber) are the recorded ones, so the Jobber side matches byte for byte.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

from fixtures.gateway_sandbox.scenarios import load as load_gw
from fixtures.gateway_sandbox.server import GatewaySandbox
from fixtures.jobber_site.server import MockJobber
from fixtures.jobber_site.store import resolve_date
from fixtures.scenarios import load
from flows.service import run_job
from robot.config import load_settings
from robot.jobs.models import parse_job
from robot.locators import require_observer
from robot.logging import redact_text
from robot.replay.har import FIXTURES_DIR
from robot.replay.record import BrowserRecorder, GatewayRecorder, SnapshotRecorder, write_recording
from robot.replay.replay import BrowserReplay, GatewayReplay
from robot.replay.scenarios import Scenario, resolve_job
from robot.replay.scrub import Scrubber
from robot.sessions import SessionPool
from robot.twofactor import PromptCodeProvider, TotpCodes
from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode, Vault

if TYPE_CHECKING:
    from robot.config import Settings
    from robot.jobs.models import JobResult
    from robot.vault import Vault

#: the mock's clocks during a recording (a fixed day: dates on pages do not churn)
MOCK_NOW = datetime(2026, 6, 15, 15, 0, 0, tzinfo=UTC)
CANON_APP = "http://secure.jobber.test"
CANON_IDENTITY = "http://login.jobber.test"
REPLAY_PASSWORD = "replay-only-password"
REPLAY_SEED = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
RESULT_FIELDS = ("outcome", "error_code", "message", "gateway_transaction_id", "amount_captured", "balance_after",
                 "status_after", "jobber_payment_id", "invoice")


def result_row(result: "JobResult") -> dict[str, Any]:
    data = result.model_dump(mode="json")
    return {k: data.get(k) for k in RESULT_FIELDS}


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its message masked as this process masks text.

    An error's message is masked when it is raised, a success message is not, and the secrets
    registered in this process (another test's six-digit code, say) differ from the recording
    process's: masking both sides the same way makes the comparison independent of both.
    """
    return {**row, "message": redact_text(row.get("message") or "")}


def _fixed_dates(doc: Any, today: Any) -> Any:
    """The demo scenario with its "today-10d" dates made absolute (seeded as of MOCK_NOW)."""
    if isinstance(doc, dict):
        return {k: _fixed_dates(v, today) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_fixed_dates(v, today) for v in doc]
    if isinstance(doc, str) and doc.startswith("today"):
        return resolve_date(doc, today)
    return doc


def _demo_login(email: str, business_name: str | None) -> dict[str, Any]:
    accounts = [a for a in load("demo")["accounts"] if a["email"] == email]
    if not accounts:
        raise ValueError(f"the mock's demo has no login {email}")
    return accounts[0]


def _gateway_key(merchant: str) -> str:
    return next(m["api_key"] for m in load_gw("demo")["merchants"] if m["id"] == merchant)


@dataclass
class Recording:
    browser: BrowserRecorder = field(default_factory=BrowserRecorder)
    gateway: GatewayRecorder = field(default_factory=GatewayRecorder)
    snaps: SnapshotRecorder = field(default_factory=SnapshotRecorder)
    jobs: list[dict[str, Any]] = field(default_factory=list)


async def run_jobs(scenario: Scenario, *, settings: "Settings", vault: "Vault", merchant: str,
                   pool_kwargs: dict[str, Any], rec: Recording) -> None:
    """The scenario's jobs, in order, through the robot's own entry point, recorded."""
    results: list[Any] = []
    async with SessionPool(settings, vault, context_hook=rec.browser.attach, **pool_kwargs) as pool:
        for i, job in enumerate(scenario.jobs, start=1):
            resolved = resolve_job(job, results)
            token = require_observer.set(rec.snaps)
            try:
                result = await run_job(parse_job({"merchant": merchant, **resolved}), job_id=f"{scenario.name}-{i}",
                                       settings=settings, pool=pool, vault=vault, gateway_transport=rec.gateway)
            finally:
                require_observer.reset(token)
            await rec.browser.drain()
            results.append(result)
            rec.jobs.append({"job_id": f"{scenario.name}-{i}", "job": resolved, "result": result_row(result)})
        await rec.browser.drain()
    await rec.gateway.inner.aclose()


async def record_on_mock(scenario: Scenario, out_root: Path | None = None,
                         extra_secrets: dict[str, str] | None = None) -> list[Path]:
    """Record `scenario` against the mock Jobber site and the gateway sandbox (both in-process)."""
    out_root = out_root or FIXTURES_DIR
    login = _demo_login(scenario.login, scenario.business_name)
    seed = (login.get("two_factor") or {}).get("secret")
    api_key = _gateway_key(scenario.gateway_merchant)
    with tempfile.TemporaryDirectory(prefix="jobber-record-") as tmp_name:
        tmp = Path(tmp_name)
        doc = _fixed_dates(load("demo"), MOCK_NOW.date())
        sandbox = GatewaySandbox(tmp / "gateway", scenario="demo").start()
        try:
            with MockJobber(tmp / "site", scenario=doc) as site:
                assert site.admin is not None
                site.admin.clock(set=MOCK_NOW.isoformat())
                sandbox.admin.clock(set=MOCK_NOW.isoformat())
                if scenario.layout_variant:
                    site.admin.faults(layout_variant=scenario.layout_variant)
                offset = MOCK_NOW.timestamp() - time.time()
                settings = load_settings(data_dir=tmp / "data", jobber_url=site.url, gateway_url=sandbox.url,
                                         host_resolver_rules=site.resolver_rules, trace=False,
                                         credential_key=Fernet.generate_key().decode())
                settings.ensure_dirs()
                vault = Vault.from_settings(settings)
                vault.put(MerchantCredentials(
                    merchant=scenario.name, jobber_email=scenario.login, jobber_password=SecretStr(login["password"]),
                    two_factor=TwoFactorMode.totp if seed else TwoFactorMode.handoff,
                    totp_seed=SecretStr(seed) if seed else None, business_name=scenario.business_name,
                    gateway=GatewayCredentials(merchant_id=scenario.gateway_merchant, api_key=SecretStr(api_key))))
                rec = Recording()
                await run_jobs(scenario, settings=settings, vault=vault, merchant=scenario.name,
                               pool_kwargs={"totp": TotpCodes(clock=lambda: time.time() + offset)}, rec=rec)
                scrub = Scrubber(secrets={"password": login["password"], "authenticator seed": seed or "",
                                          "gateway API key": api_key, **(extra_secrets or {})},
                                 origins={site.url: CANON_APP, site.identity_url: CANON_IDENTITY})
                meta = {"scenario": scenario.name, "description": scenario.description, "recorded_from": "mock",
                        "app_url": CANON_APP, "layout_variant": scenario.layout_variant,
                        "login": {"email": scenario.login, "business_name": scenario.business_name,
                                  "two_factor": "totp" if seed else "sms"}}
                return write_recording(out_root / scenario.name, meta=meta, jobs=rec.jobs, scrub=scrub,
                                       browser=rec.browser, gateway=rec.gateway, snaps=rec.snaps)
        finally:
            sandbox.stop()


async def record_on_account(scenario: Scenario, *, merchant: str, settings: "Settings", vault: "Vault",
                            out_root: Path | None = None) -> list[Path]:
    """Record `scenario` on a real Jobber account (the vault's merchant, the configured gateway).

    The jobs must fit that account (its invoice numbers, its clients): pass a scenario built from
    a jobs file. 2FA codes are asked of the person at the terminal when there is no seed."""
    creds = vault.get(merchant)
    app_url = (creds.jobber_url or settings.jobber_url).rstrip("/")
    rec = Recording()
    await run_jobs(scenario, settings=settings, vault=vault, merchant=merchant,
                   pool_kwargs={"code_provider": PromptCodeProvider()}, rec=rec)
    secrets = {"password": creds.jobber_password.get_secret_value()}
    if creds.totp_seed is not None:
        secrets["authenticator seed"] = creds.totp_seed.get_secret_value()
    if creds.gateway is not None:
        secrets["gateway API key"] = creds.gateway.api_key.get_secret_value()
    scrub = Scrubber(secrets=secrets, origins={})
    meta = {"scenario": scenario.name, "description": scenario.description, "recorded_from": "account",
            "app_url": app_url, "layout_variant": None,
            "login": {"email": creds.jobber_email, "business_name": creds.business_name,
                      "two_factor": creds.two_factor.value}}
    return write_recording((out_root or FIXTURES_DIR) / scenario.name, meta=meta, jobs=rec.jobs, scrub=scrub,
                           browser=rec.browser, gateway=rec.gateway, snaps=rec.snaps)


# --- replay -----------------------------------------------------------------------------------


@dataclass
class ReplayReport:
    scenario: str
    expected: list[dict[str, Any]]
    got: list[dict[str, Any]]
    unmatched: list[str]
    served: int

    @property
    def ok(self) -> bool:
        return not self.unmatched and self.expected == self.got

    def describe(self) -> str:
        lines = [f"{self.scenario}: {'same outcomes as recorded' if self.ok else 'DIFFERS from the recording'}"
                 f" ({self.served} answers from the recording)"]
        for want, got in zip(self.expected, self.got, strict=False):
            if want != got:
                diff = {k: (want.get(k), got.get(k)) for k in want if want.get(k) != got.get(k)}
                lines.append(f"  job {want.get('job_id')}: recorded vs replayed {diff}")
        lines += [f"  not in the recording: {u}" for u in self.unmatched]
        return "\n".join(lines)


async def replay(directories: Iterable[Path], *, work_dir: Path, context_options: dict[str, Any] | None = None,
                 gateway_url: str = "http://gateway.replay.invalid", resolver_rules: str | None = "MAP *.jobber.test 127.0.0.1") -> list[ReplayReport]:
    """Replay each recorded scenario (one browser for all of them); nothing is served by a server."""
    dirs = list(directories)
    metas = {d: json.loads((d / "scenario.json").read_text(encoding="utf-8")) for d in dirs}
    settings = load_settings(data_dir=work_dir, jobber_url=CANON_APP, gateway_url=gateway_url,
                             host_resolver_rules=resolver_rules, trace=False,
                             credential_key=Fernet.generate_key().decode(), action_timeout_ms=6_000,
                             navigation_timeout_ms=8_000, unavailable_retries=0)
    settings.ensure_dirs()
    vault = Vault.from_settings(settings)
    current: dict[str, BrowserReplay] = {}

    async def hook(context: Any) -> None:
        await current["browser"].attach(context)

    reports = []
    async with SessionPool(settings, vault, context_hook=hook, context_options=context_options,
                           totp=TotpCodes()) as pool:
        for d in dirs:
            meta = metas[d]
            merchant = meta["scenario"]
            login = meta["login"]
            vault.put(MerchantCredentials(
                merchant=merchant, jobber_email=login["email"], jobber_password=SecretStr(REPLAY_PASSWORD),
                two_factor=TwoFactorMode.totp, totp_seed=SecretStr(REPLAY_SEED), jobber_url=meta["app_url"],
                business_name=login.get("business_name"),
                gateway=GatewayCredentials(merchant_id="replay", api_key=SecretStr("sk_replay_only"))))
            current["browser"] = browser = BrowserReplay(d)
            gateway = GatewayReplay(d)
            got = []
            for job in meta["jobs"]:
                result = await run_job(parse_job({"merchant": merchant, **job["job"]}), job_id=job["job_id"],
                                       settings=settings, pool=pool, vault=vault, gateway_transport=gateway)
                got.append(comparable({"job_id": job["job_id"], **result_row(result)}))
            await pool.close_merchant(merchant)
            expected = [comparable({"job_id": j["job_id"], **j["result"]}) for j in meta["jobs"]]
            reports.append(ReplayReport(scenario=merchant, expected=expected, got=got,
                                        unmatched=browser.unmatched + gateway.unmatched,
                                        served=browser.served + gateway.served))
    return reports
