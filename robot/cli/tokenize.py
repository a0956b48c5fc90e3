"""`jobber-robot tokenize card|bank --merchant M`: turn a card or bank account into a gateway token.

Card numbers, CVVs and account numbers are read from a hidden prompt or, with --stdin, from
standard input (one per line) — never from arguments (shell history, `ps`). Only the token and
the masked form are printed. The merchant's gateway API key comes from the vault.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

import typer
from rich.table import Table

from robot.cli.console import err, out
from robot.config import load_settings
from robot.errors import InvalidRequest, RobotError
from robot.gateway import gateway_for
from robot.logging import register_secret
from robot.vault import Vault

app = typer.Typer(help="Tokenize a card or bank account at the gateway (secrets from a prompt or stdin).",
                  no_args_is_help=True)

EXPIRY_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")
#: Catches anything typed after the options, so a card or account number given as an argument is
#: refused without being echoed back (click's own "unexpected extra argument" error would print it).
STRAY = typer.Argument(None, hidden=True, show_default=False)


def _refuse_stray(stray: list[str] | None) -> None:
    if stray:
        for value in stray:
            register_secret(value)
        err.print("[red]arguments: card numbers, CVVs and account numbers are never arguments (shell history, "
                  "`ps`); give them at the hidden prompt or on standard input with --stdin[/red]")
        err.print("[dim]nothing was done[/dim]")
        raise typer.Exit(2)


def _read(label: str, from_stdin: bool, hide: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            err.print(f"[red]{label}: expected a line on standard input[/red]")
            raise typer.Exit(2)
        return line
    return typer.prompt(label, hide_input=hide)


def _gateway(merchant: str, gateway_url: str | None) -> Any:
    settings = load_settings()
    settings.ensure_dirs()
    creds = Vault.from_settings(settings).get(merchant)
    if creds.gateway is None:
        err.print(f"[red]{merchant} has no gateway credentials; add them with "
                  f"`jobber-robot merchants update {merchant} --gateway-merchant ID`[/red]")
        raise typer.Exit(1)
    return gateway_for(settings, creds.gateway, base_url=gateway_url)


def _show(kind: str, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(data))
        return
    table = Table(title=f"{kind} token", show_header=False)
    for k, v in data.items():
        table.add_row(k, str(v))
    out.print(table)


def _fail(exc: Exception) -> None:
    """Bad input (the gateway names the field: number, expiry, CVV, routing...) exits 2 like every
    command's bad input; anything else (gateway down, API key refused) exits 1."""
    field = getattr(exc, "field", None)
    msg = getattr(exc, "message", None) or type(exc).__name__
    err.print(f"[red]{msg}[/red]" + (f" [dim](field: {field})[/dim]" if field and field not in msg else ""))
    if isinstance(exc, InvalidRequest):
        err.print("[dim]nothing was done[/dim]")
        raise typer.Exit(2)
    raise typer.Exit(1)


@app.command("card")
def card(
    merchant: str = typer.Option(..., "--merchant", help="merchant slug in the vault"),
    stdin: bool = typer.Option(False, "--stdin", help="read card number, expiry (MM/YY) and CVV from stdin, one per line"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    postal_code: str = typer.Option(None, "--postal-code", help="billing ZIP/postal code (for AVS)"),
    gateway_url: str = typer.Option(None, "--gateway-url", help="override the gateway URL"),
    stray: list[str] = STRAY,
) -> None:
    """Tokenize a card: prompts (hidden) for the number and CVV, and for the expiry."""
    _refuse_stray(stray)
    number = _read("Card number", stdin, hide=True).replace(" ", "").replace("-", "")
    register_secret(number)
    expiry = _read("Expiry (MM/YY)", stdin, hide=False)
    cvv = _read("CVV", stdin, hide=True)
    m = EXPIRY_RE.match(expiry)
    if not m:
        err.print("[red]expiry: must be MM/YY or MM/YYYY[/red]")
        raise typer.Exit(2)
    month, year = int(m.group(1)), int(m.group(2))
    year = year + 2000 if year < 100 else year

    async def run() -> Any:
        async with _gateway(merchant, gateway_url) as gw:
            return await gw.tokenize_card(number, month, year, cvv, postal_code=postal_code)

    try:
        tok = asyncio.run(run())
    except RobotError as exc:
        _fail(exc)
    finally:
        number = cvv = ""  # noqa: F841 - drop the references as early as possible
    _show("card", {"token": tok.id, "brand": tok.brand, "first6": tok.first6, "last4": tok.last4,
                   "masked": f"{tok.first6}{'•' * 6}{tok.last4}", "exp_month": tok.exp_month,
                   "exp_year": tok.exp_year, "merchant": merchant}, as_json)


@app.command("bank")
def bank(
    merchant: str = typer.Option(..., "--merchant", help="merchant slug in the vault"),
    account_type: str = typer.Option("checking", "--type", help="checking or savings"),
    stdin: bool = typer.Option(False, "--stdin", help="read routing number, account number and holder name from stdin"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    gateway_url: str = typer.Option(None, "--gateway-url", help="override the gateway URL"),
    stray: list[str] = STRAY,
) -> None:
    """Tokenize a bank account for ACH: prompts for routing, account (hidden) and holder name."""
    _refuse_stray(stray)
    if account_type not in ("checking", "savings"):
        err.print("[red]--type: must be checking or savings[/red]")
        raise typer.Exit(2)
    routing = _read("Routing number", stdin, hide=False)
    account = _read("Account number", stdin, hide=True)
    register_secret(account)
    holder = _read("Account holder name", stdin, hide=False)

    async def run() -> Any:
        async with _gateway(merchant, gateway_url) as gw:
            return await gw.add_bank_account(routing, account, holder, account_type)  # type: ignore[arg-type]

    try:
        tok = asyncio.run(run())
    except RobotError as exc:
        _fail(exc)
    finally:
        account = ""  # noqa: F841
    _show("bank", {"token": tok.id, "bank_last4": tok.bank_last4, "routing_last4": tok.routing_last4,
                   "holder": tok.holder, "account_type": tok.account_type, "merchant": merchant}, as_json)
