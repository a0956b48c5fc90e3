"""`jobber-robot merchants ...`: the credential vault, for support staff.

Secrets are read from prompts (or stdin), never from arguments (shell history, `ps`).
`list`/`show` never print a secret.
"""

from __future__ import annotations

import json
import sys

import typer
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text

from robot import health
from robot.cli.console import err, out
from robot.cli.doctor import run_and_print
from robot.cli.jobs_view import compact_table, whole_words, words
from robot.config import get_settings
from robot.errors import InputError, RobotError
from robot.logging import configure_logging
from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode, Vault, generate_key

app = typer.Typer(help="Manage merchants' stored credentials (encrypted vault).", no_args_is_help=True)


def _vault() -> Vault:
    settings = get_settings()
    settings.ensure_dirs()
    return Vault.from_settings(settings)


def _secret(label: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            err.print(f"[red]{label}: expected a line on standard input[/red]")
            raise typer.Exit(2)
        return line
    return typer.prompt(label, hide_input=True)


def _fail(exc: Exception) -> None:
    """Bad input exits 2 (like every command of the CLI), anything else 1."""
    if isinstance(exc, ValidationError):
        for e in exc.errors(include_input=False):
            err.print(f"[red]{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}[/red]")
        raise typer.Exit(2)
    err.print(f"[red]{getattr(exc, 'message', str(exc))}[/red]")
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


@app.command("keygen")
def keygen() -> None:
    """Print a new vault key (set it as JOBBER_ROBOT_CREDENTIAL_KEY)."""
    out.print(generate_key())


@app.command("add")
def add(
    merchant: str = typer.Argument(..., help="merchant slug, e.g. acme"),
    email: str = typer.Option(..., "--email", help="Jobber sign-in e-mail"),
    two_factor: TwoFactorMode = typer.Option(TwoFactorMode.handoff, "--2fa", help="totp: robot makes codes from a seed; handoff: a person gives the code"),
    gateway_merchant: str = typer.Option(None, "--gateway-merchant", help="gateway merchant id"),
    jobber_url: str = typer.Option(None, "--jobber-url", help="override the Jobber URL for this merchant"),
    business_name: str = typer.Option(None, "--business-name",
                                      help="the Jobber account to land in when the login holds several"),
    stdin: bool = typer.Option(False, "--stdin", help="read secrets from standard input, one per line"),
    verify: bool = typer.Option(False, "--verify", help="run `jobber-robot doctor` on it right after adding "
                                "(exit status: the doctor's)"),
) -> None:
    """Add a merchant: prompts for the Jobber password, the TOTP seed (totp) and the gateway API key."""
    try:
        vault = _vault()
        if vault.has(merchant):
            err.print(f"[red]{merchant} exists already; use `merchants update`[/red]")
            raise typer.Exit(1)
        password = _secret("Jobber password", stdin)
        seed = _secret("TOTP seed (base32)", stdin) if two_factor is TwoFactorMode.totp else None
        gateway = None
        if gateway_merchant:
            gateway = GatewayCredentials(merchant_id=gateway_merchant, api_key=_secret("Gateway API key", stdin))
        creds = MerchantCredentials(merchant=merchant, jobber_email=email, jobber_password=password,
                                    two_factor=two_factor, totp_seed=seed, gateway=gateway, jobber_url=jobber_url,
                                    business_name=business_name)
        vault.put(creds)
    except (RobotError, ValidationError) as exc:
        _fail(exc)
    out.print(f"[green]added {merchant}[/green]")
    if verify:
        settings = get_settings()
        configure_logging(settings, console=False)
        raise typer.Exit(run_and_print(settings, merchant))


@app.command("list")
def list_(json_output: bool = typer.Option(False, "--json", help="print the merchants and their health as JSON")) -> None:
    """List merchants (no secrets) with their last access result (the latest job or doctor run),
    when it was, and the next action."""
    try:
        merchants = _vault().list()
        latest = health.latest_all(get_settings())
    except RobotError as exc:
        _fail(exc)
    if json_output:
        docs = []
        for m in merchants:
            h = latest.get(m.merchant)
            docs.append({**m.summary(), "health": h.model_dump(mode="json") if h else None})
        print(json.dumps(docs, indent=1))
        return

    table = compact_table(("merchant", {"no_wrap": True}), ("Jobber e-mail", {}), ("2FA", {}), ("last access", {}),
                          ("when", {"no_wrap": True}), ("next action", {}))
    for m in merchants:
        h = latest.get(m.merchant)
        if h is None:
            result, when, action = Text("not checked yet", style="dim"), "", f"jobber-robot doctor {m.merchant}"
        else:
            label = f"{'ok' if h.ok else '✘'} {words(h.result)} ({h.source})"
            result = Text(label, style="green" if h.ok else "red")
            when, action = health.age_text(h.at), h.next_action or "—"
        table.add_row(m.merchant, m.jobber_email, m.two_factor.value, result, when, action)
    out.print(whole_words(table))


@app.command("show")
def show(merchant: str) -> None:
    """Show one merchant's settings (secrets only as 'stored')."""
    try:
        vault = _vault()
        creds = vault.get(merchant)
        s = creds.summary()
        refused_at = vault.password_refused_at(creds)
    except RobotError as exc:
        _fail(exc)
    if refused_at:  # the robot will not sign in until the password is updated
        s["password"] = f"refused by Jobber at {refused_at}: `merchants update {merchant} --password`"
    table = Table("field", "value", show_header=False)
    for k, v in s.items():
        table.add_row(k, v)
    out.print(table)


@app.command("update")
def update(
    merchant: str,
    password: bool = typer.Option(False, "--password", help="prompt for a new Jobber password"),
    seed: bool = typer.Option(False, "--totp-seed", help="prompt for a new TOTP seed"),
    api_key: bool = typer.Option(False, "--api-key", help="prompt for a new gateway API key"),
    email: str = typer.Option(None, "--email"),
    two_factor: TwoFactorMode = typer.Option(None, "--2fa"),
    jobber_url: str = typer.Option(None, "--jobber-url"),
    business_name: str = typer.Option(None, "--business-name", help="the Jobber account to land in"),
    resume_sign_in: bool = typer.Option(False, "--resume-sign-in",
                                        help="a person cleared Jobber's block or CAPTCHA: let the robot sign in again"),
    stdin: bool = typer.Option(False, "--stdin", help="read secrets from standard input, one per line"),
) -> None:
    """Change what is stale (most often: `merchants update acme --password`). Drops the stored session."""
    try:
        vault = _vault()
        current = vault.get(merchant)
        changes: dict[str, object] = {"jobber_email": email, "two_factor": two_factor, "jobber_url": jobber_url,
                                      "business_name": business_name}
        if password:
            changes["jobber_password"] = _secret("New Jobber password", stdin)
        if seed:
            changes["totp_seed"] = _secret("New TOTP seed (base32)", stdin)
        if api_key:
            if current.gateway is None:
                err.print("[red]no gateway merchant stored; add one with --gateway-merchant on `add`[/red]")
                raise typer.Exit(1)
            changes["gateway"] = {"merchant_id": current.gateway.merchant_id, "api_key": _secret("New gateway API key", stdin)}
        vault.update(merchant, **changes)
        if resume_sign_in:
            vault.clear_sign_in_stop(merchant)
    except (RobotError, ValidationError) as exc:
        _fail(exc)
    out.print(f"[green]updated {merchant}[/green]")


@app.command("remove")
def remove(merchant: str, yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Remove a merchant and its stored browser session."""
    if not yes and not typer.confirm(f"Remove {merchant} and its stored session?"):
        raise typer.Exit(1)
    try:
        _vault().remove(merchant)
    except RobotError as exc:
        _fail(exc)
    out.print(f"[green]removed {merchant}[/green]")
