"""`jobber-robot staff add|list|remove`: who may sign in to the support dashboard.

The password comes from a hidden prompt (asked twice) or one line of standard input (`--stdin`,
or whenever stdin is not a terminal), never from an argument (shell history, `ps`).
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from robot.cli.console import err, out
from robot.config import get_settings
from robot.dashboard.staff import StaffStore, check_name
from robot.errors import InputError, RobotError

app = typer.Typer(help="Support staff who may sign in to the dashboard (`serve`, /support/).", no_args_is_help=True)


def _store() -> object:
    settings = get_settings()
    settings.ensure_dirs()
    return StaffStore.from_settings(settings)


def _fail(exc: RobotError) -> None:
    err.print(f"[red]{exc.message}[/red]")
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            err.print("[red]password: expected a line on standard input[/red]")
            raise typer.Exit(2)
        return line
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(name: str = typer.Argument(..., help="the staff user's sign-in name, e.g. dana"),
        stdin: bool = typer.Option(False, "--stdin", help="read the password from standard input")) -> None:
    """Add a staff user (password: hidden prompt, or one line of standard input)."""
    try:
        store = _store()
        check_name(name)
        store.add(name, _password(stdin))  # type: ignore[attr-defined]
    except RobotError as exc:
        _fail(exc)
    out.print(f"[green]added staff user {name}[/green]")


@app.command("list")
def list_() -> None:
    """List staff users (names and when they were added; never a hash)."""
    try:
        users = _store().list()  # type: ignore[attr-defined]
    except RobotError as exc:
        _fail(exc)
    t = Table("name", "added")
    for u in users:
        t.add_row(u.name, u.created_at.isoformat(timespec="seconds"))
    out.print(t)


@app.command("remove")
def remove(name: str) -> None:
    """Remove a staff user (their open dashboard sessions end at their next request)."""
    try:
        _store().remove(name)  # type: ignore[attr-defined]
    except RobotError as exc:
        _fail(exc)
    out.print(f"[green]removed staff user {name}[/green]")
