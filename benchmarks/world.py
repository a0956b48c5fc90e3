"""The bench's test world: a mock Jobber site and a sandbox gateway in a child process, seeded
with many merchants, plus the robot's settings and vault for them.

The servers run in a child process so the bench process holds only what a worker holds (DBOS,
the session pool, the browser's driver): its memory and CPU are the worker's.

Merchants (each a Jobber account with TOTP and a gateway merchant with a saved card):
- `m01`..`m16`: warm jobs, throughput and memory (contexts kept open);
- `c01`..: one cold job each (a first sign-in; TOTP codes are one use per 30 s step);
- `n01`..: one naive job each (fresh browser, fresh context, full sign-in);
- `floor`: the HTTP floor.
Every merchant has `invoices` open invoices, numbered 5001.., with distinct totals; `m01` also
has row invoices 9001.. ($500.00), half of them with `ROWS` cash payments already on them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
from cryptography.fernet import Fernet
from pydantic import SecretStr

from robot.config import Settings, load_settings
from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode, Vault

DOMAIN = "jobber.test"
PASSWORD = "bench-pass-2026"
FIRST_INVOICE = 5001
ROWS_INVOICE = 9001
ROWS = 20
TEST_CARD = "4111111111111111"  # the sandbox's approving test card


def _slug_secret(slug: str) -> str:
    """A fixed TOTP seed per merchant (base32 of its name, padded): the run is reproducible."""
    import base64

    return base64.b32encode(f"bench-{slug}-seed-0123".encode()[:20]).decode().rstrip("=")


@dataclass
class Plan:
    """How many merchants of each role and invoices each: sized by the run."""

    warm_merchants: int = 8
    cold: int = 4
    naive: int = 4
    invoices: int = 40
    row_invoices: int = 6    # half with ROWS payments, half with none

    def slugs(self) -> list[str]:
        return ([f"m{i:02d}" for i in range(1, self.warm_merchants + 1)] + [f"c{i:02d}" for i in range(1, self.cold + 1)]
                + [f"n{i:02d}" for i in range(1, self.naive + 1)] + ["floor"])


def email(slug: str) -> str:
    return f"owner@{slug}.test"


def invoice_total(m: int, n: int) -> str:
    return f"{40 + n}.{m % 100:02d}"


def scenarios(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The mock site's and the sandbox's scenario documents for the plan."""
    accounts, merchants = [], []
    for m, slug in enumerate(plan.slugs(), start=1):
        invoices = [{"number": FIRST_INVOICE + n, "subject": f"Visit {n}", "status": "awaiting_payment",
                     "issued_date": "today-2d", "due_date": "today+20d",
                     "line_items": [{"name": "Service", "description": "", "quantity": "1",
                                     "unit_price": invoice_total(m, n)}]}
                    for n in range(plan.invoices)]
        if slug == "m01":
            for r in range(plan.row_invoices):
                rows = ROWS if r % 2 else 0
                invoices.append({"number": ROWS_INVOICE + r, "subject": f"Season {r}", "status": "awaiting_payment",
                                 "issued_date": "today-30d", "due_date": "today+20d",
                                 "line_items": [{"name": "Season", "description": "", "quantity": "1",
                                                 "unit_price": "500.00"}],
                                 "payments": [{"amount": "1.00", "method": "cash", "date": "today-1d",
                                               "details": f"visit {k}"} for k in range(rows)]})
        accounts.append({
            "email": email(slug), "password": PASSWORD, "name": f"Owner {slug}", "company": f"Bench {slug}",
            "two_factor": {"method": "totp", "secret": _slug_secret(slug)},
            "clients": [{"name": f"Client {slug}", "email": f"client@{slug}.example.com", "phone": "555-0100",
                         "invoices": invoices}],
        })
        merchants.append({
            "id": slug, "name": f"Bench {slug}", "api_key": f"sk_test_{slug}",
            "customers": [{"id": f"cus_{slug}", "name": f"Client {slug}", "email": f"client@{slug}.example.com",
                           "payment_methods": [{"id": f"pm_{slug}", "card": TEST_CARD, "exp_month": 12,
                                                "exp_year": 2031, "default": True}]}],
            "terminals": [],
        })
    gateway = {"description": "the bench's merchants",
               "settings": {"ach_settle_seconds": 172800, "duplicate_window_seconds": 300,
                            "terminal_timeout_seconds": 120},
               "merchants": merchants}
    return {"accounts": accounts}, gateway


def creds(slug: str) -> MerchantCredentials:
    return MerchantCredentials(merchant=slug, jobber_email=email(slug), jobber_password=SecretStr(PASSWORD),
                               two_factor=TwoFactorMode.totp, totp_seed=SecretStr(_slug_secret(slug)),
                               gateway=GatewayCredentials(merchant_id=slug, api_key=SecretStr(f"sk_test_{slug}")))


def totp_secret(slug: str) -> str:
    return _slug_secret(slug)


def totp_now(slug: str, offset: int = 0) -> str:
    import time

    return pyotp.TOTP(_slug_secret(slug)).at(time.time() + offset)


# --- the child process ---------------------------------------------------------------------------


def serve_main() -> None:
    """Child process (`python -m benchmarks.world DIR`): both servers, seeded from DIR/site.json and
    DIR/gateway.json; prints their ports as one JSON line, stops when its standard input closes."""
    import json
    import sys

    from fixtures.gateway_sandbox.server import GatewaySandbox
    from fixtures.jobber_site.server import MockJobber

    root = Path(sys.argv[1])
    site_doc = json.loads((root / "site.json").read_text())
    gateway_doc = json.loads((root / "gateway.json").read_text())
    with MockJobber(root / "mock-jobber", scenario=site_doc, domain=DOMAIN) as site, \
            GatewaySandbox(root / "gateway-sandbox", scenario=gateway_doc) as sandbox:
        print(json.dumps({"site": site.port, "sandbox": sandbox.port}), flush=True)
        sys.stdin.read()  # blocks until the parent closes it (or goes away)


@dataclass
class World:
    """The running test world as the bench sees it (admin clients on loopback)."""

    plan: Plan
    tmp: Path
    site_port: int
    sandbox_port: int
    settings: Settings
    vault: Vault
    server_pid: int
    site_doc: dict[str, Any] = field(repr=False, default_factory=dict)
    gateway_doc: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://secure.{DOMAIN}:{self.site_port}"

    @property
    def identity_url(self) -> str:
        return f"http://login.{DOMAIN}:{self.site_port}"

    @property
    def resolver_rules(self) -> str:
        return f"MAP *.{DOMAIN} 127.0.0.1"

    def site_admin(self) -> Any:
        from fixtures.jobber_site.server import Admin

        return Admin(f"http://127.0.0.1:{self.site_port}", timeout=60)

    def sandbox_admin(self) -> Any:
        from fixtures.gateway_sandbox.server import Admin

        return Admin(base_url=f"http://127.0.0.1:{self.sandbox_port}", timeout=60)

    def client(self) -> httpx.Client:
        """An HTTP client on the app host (cookies per named host, no automatic redirects)."""
        from fixtures.jobber_site.server import LoopbackTransport

        return httpx.Client(transport=LoopbackTransport(), base_url=self.url, follow_redirects=False, timeout=30)

    def latency(self, ms: int) -> None:
        """The mock's injected latency on every request but its admin API's."""
        with self.site_admin() as admin:
            admin.faults(latency_ms=ms)


@contextmanager
def started(plan: Plan, *, queue_concurrency: int = 8, trace: bool | None = None,
            database_url: str | None = None) -> Iterator[World]:
    """The world for `plan` in a temp dir (removed after): servers up, merchants in the vault."""
    site_doc, gateway_doc = scenarios(plan)
    with tempfile.TemporaryDirectory(prefix="jobber-bench-") as tmp_name:
        tmp = Path(tmp_name)
        servers = tmp / "servers"
        servers.mkdir(mode=0o700)
        (servers / "site.json").write_text(json.dumps(site_doc))
        (servers / "gateway.json").write_text(json.dumps(gateway_doc))
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.world", str(servers)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=open(servers / "servers.log", "wb"))  # noqa: SIM115
        try:
            assert proc.stdout is not None and proc.stdin is not None
            line = proc.stdout.readline()  # the child's first line, once both servers answer
            if not line:
                raise RuntimeError("the test world (mock Jobber site + sandbox) did not start: "
                                   + (servers / "servers.log").read_text(errors="replace")[-2000:])
            ports = json.loads(line)
            site_port, sandbox_port = int(ports["site"]), int(ports["sandbox"])
            extra: dict[str, Any] = {} if trace is None else {"trace": trace}
            if database_url:
                extra["database_url"] = database_url
            settings = load_settings(
                data_dir=tmp / "robot", jobber_url=f"http://secure.{DOMAIN}:{site_port}",
                gateway_url=f"http://127.0.0.1:{sandbox_port}", host_resolver_rules=f"MAP *.{DOMAIN} 127.0.0.1",
                credential_key=Fernet.generate_key().decode(), queue_concurrency=queue_concurrency,
                action_timeout_ms=15_000, navigation_timeout_ms=20_000, unavailable_retries=1,
                session_idle_seconds=3600, log_level="WARNING", **extra)
            settings.ensure_dirs()
            vault = Vault.from_settings(settings)
            for slug in plan.slugs():
                if slug != "floor":
                    c = creds(slug)
                    vault.put(c)
                    c.register_secrets()
            assert proc.pid is not None
            yield World(plan=plan, tmp=tmp, site_port=site_port, sandbox_port=sandbox_port, settings=settings,
                        vault=vault, server_pid=proc.pid, site_doc=site_doc, gateway_doc=gateway_doc)
        finally:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(5)


if __name__ == "__main__":
    serve_main()
