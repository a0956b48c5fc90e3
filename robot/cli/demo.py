"""`jobber-robot demo`: the whole product in one command, on the embedded test world.

Starts the mock Jobber site and the sandbox gateway in this process (free local ports, data
under <data_dir>/demo), stores the demo merchant `acme` in a demo vault, then runs real jobs
through the same `execute` seam the CLI uses:
  1. card-on-file charge of invoice #1042 (Margaret Chen, $150.00 → Paid);
  2. a $65.00 charge on invoice #1070 and a split refund of $40.00 + $25.00 against it;
  3. a payment link for invoice #1050, paid at the sandbox, then reconciled into Jobber.
Prints each summary and a final table; the mock site's URL is printed (invoice #1042 is Paid there).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import typer
from pydantic import SecretStr

from fixtures.gateway_sandbox.server import GatewaySandbox
from fixtures.jobber_site.server import MockJobber
from robot.cli.console import err, out
from robot.cli.payments import build_job, execute
from robot.cli.summary import print_result, results_table
from robot.config import get_settings
from robot.jobs.models import Outcome
from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode, Vault

DEMO_EMAIL = "owner@acme.test"
DEMO_PASSWORD = "correct-horse-42"  # the demo scenario's account (fixtures/scenarios/demo.json)
DEMO_TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"
DEMO_GATEWAY_KEY = "sk_test_acme"  # the sandbox's demo merchant key (fixtures/gateway_sandbox/scenarios)


def _env_for(data_dir: Path, jobber_url: str, gateway_url: str, resolver_rules: str) -> dict[str, str]:
    return {
        "JOBBER_ROBOT_DATA_DIR": str(data_dir / "robot"),
        "JOBBER_ROBOT_JOBBER_URL": jobber_url,
        # the mock's identity and app hosts have names of their own, mapped to this machine
        "JOBBER_ROBOT_HOST_RESOLVER_RULES": resolver_rules,
        "JOBBER_ROBOT_GATEWAY_URL": gateway_url,
        # the vault makes this key file (0600, atomically) on first use, like on a real install
        "JOBBER_ROBOT_CREDENTIAL_KEY_FILE": str(data_dir / "demo.key"),
    }


def _store_merchant() -> None:
    settings = get_settings()
    settings.ensure_dirs()
    vault = Vault.from_settings(settings)
    vault.put(MerchantCredentials(
        merchant="acme", jobber_email=DEMO_EMAIL, jobber_password=SecretStr(DEMO_PASSWORD),
        two_factor=TwoFactorMode.totp, totp_seed=SecretStr(DEMO_TOTP_SEED),
        gateway=GatewayCredentials(merchant_id="acme", api_key=SecretStr(DEMO_GATEWAY_KEY))))
    vault.clear_storage_state("acme")  # the site was just reset: its sessions are gone


def run_demo(data_dir: Path, *, keep_running: bool = False, json_output: bool = False) -> list[Any]:
    started = time.monotonic()
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    results: list[Any] = []
    err.print("[bold]Starting the test world[/bold] (mock Jobber site + sandbox gateway)…")
    # *.localhost names: distinct hosts (own cookies) that any browser resolves, so the links the
    # demo prints open for a person too
    with MockJobber(data_dir / "mock-jobber", scenario="demo", domain="localhost") as site, \
            GatewaySandbox(data_dir / "gateway-sandbox", scenario="demo") as sandbox:
        assert site.admin is not None and sandbox.admin is not None
        site.admin.reset("demo")
        sandbox.admin.reset("demo")
        saved = {k: os.environ.get(k) for k in ("JOBBER_ROBOT_DATA_DIR", "JOBBER_ROBOT_JOBBER_URL",
                                                   "JOBBER_ROBOT_HOST_RESOLVER_RULES", "JOBBER_ROBOT_GATEWAY_URL",
                                                   "JOBBER_ROBOT_CREDENTIAL_KEY_FILE")}
        os.environ.update(_env_for(data_dir, site.url, sandbox.url, site.resolver_rules))
        get_settings.cache_clear()
        try:
            _store_merchant()
            err.print(f"  mock Jobber site: {site.url}   sandbox gateway: {sandbox.url}")

            def run(data: dict[str, Any], title: str) -> Any:
                err.print(f"\n[bold cyan]▶ {title}[/bold cyan]")
                result = execute(build_job({"merchant": "acme", **data}), json_output=json_output)
                print_result(result, json_output=json_output)
                results.append(result)
                return result

            run({"kind": "charge", "invoice": 1042, "tender": {"type": "card_on_file", "customer_id": "cus_chen"}},
                "Card on file: charge invoice #1042 (Margaret Chen) its full balance")
            charge = run({"kind": "charge", "invoice": 1070, "amount": "65.00",
                          "tender": {"type": "card_on_file", "customer_id": "cus_garcia"}},
                         "Card on file: charge $65.00 on invoice #1070 (Luis Garcia)")
            if charge.gateway_transaction_id:
                for amount in ("40.00", "25.00"):
                    run({"kind": "refund", "transaction_id": charge.gateway_transaction_id, "amount": amount},
                        f"Split refund: {amount} of {charge.gateway_transaction_id}")
            link = run({"kind": "link", "invoice": 1050, "send_via": "email", "to": "jonas.okafor@example.com"},
                       "Payment link for invoice #1050 (Jonas Okafor), sent by e-mail")
            link_id = link.report.get("link_id")
            if link_id:
                err.print(f"\n[dim]The customer pays link {link_id} (sandbox admin)…[/dim]")
                sandbox.admin.pay_link(link_id)
                run({"kind": "link_reconcile"}, "Reconcile paid payment links into Jobber")
            paid = site.admin.invoice(1042)
            if not json_output:
                out.print()
                out.print(results_table(results))
                out.print(f"\nMock Jobber site: [link={site.url}]{site.url}[/link]")
                out.print(f"Invoice #1042 is [bold]{paid['status']}[/bold] (balance ${paid['balance']}): "
                          f"{site.url}/invoices/{paid['id']}")
                out.print(f"[dim]demo took {time.monotonic() - started:.1f}s; data in {data_dir}[/dim]")
                if not keep_running:
                    out.print(f"[dim]To look at it in a browser: `jobber-robot mock jobber --data-dir "
                              f"{data_dir / 'mock-jobber'}` (the demo's site, as it was left), or "
                              "`jobber-robot demo --keep-running`.[/dim]")
            if keep_running:
                err.print(f"\n[bold]Servers stay up[/bold] for you to look around: {site.url} — sign in as "
                          f"{DEMO_EMAIL}; its password and authenticator seed are the demo scenario's test data "
                          "(fixtures/scenarios/demo.json). Press Ctrl-C to stop.")
                try:
                    threading.Event().wait()
                except KeyboardInterrupt:
                    pass
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
    ok = {Outcome.succeeded, Outcome.pending}
    if any(r.outcome not in ok for r in results) or len(results) != 6:
        raise typer.Exit(1)
    return results


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        keep_running: bool = typer.Option(False, "--keep-running", help="leave the servers up to look around"),
        data_dir: Path = typer.Option(None, "--data-dir", help="where the demo keeps its data (default DATA_DIR/demo)"),
        json_output: bool = typer.Option(False, "--json", help="print each result as JSON"),
    ) -> None:
        """Run the product end to end on the mock Jobber site and the sandbox gateway."""
        run_demo(data_dir or get_settings().data_path / "demo", keep_running=keep_running, json_output=json_output)
