"""`jobber-robot` command line: one typer app, one module per command group."""

from __future__ import annotations

import typer

from robot.cli import merchants, mock, system

app = typer.Typer(
    name="jobber-robot",
    help="Headless robot that takes card and ACH payments into Jobber.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.add_typer(mock.app, name="mock")
app.add_typer(merchants.app, name="merchants")
app.add_typer(__import__("robot.cli.selectors_cmd", fromlist=["app"]).app, name="selectors")
app.add_typer(__import__("robot.cli.tokenize", fromlist=["app"]).app, name="tokenize")
system.register(app)
__import__("robot.cli.payments", fromlist=["register"]).register(app)  # payments + demo
__import__("robot.cli.jobs", fromlist=["register"]).register(app)  # enqueue, worker, serve, handoff, jobs


def main() -> None:
    """The `jobber-robot` entry point. Everything the robot writes is private to its user: the
    modules write their files 0600 themselves, and the umask 077 set here also covers what
    other code writes for it (SQLite's journal files, Chromium's profile and downloads)."""
    import os

    os.umask(0o077)
    app()
