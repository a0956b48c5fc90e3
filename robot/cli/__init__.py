"""`jobber-robot` command line: one typer app, one module per command group."""

from __future__ import annotations

import os
import sys

import typer
from typer._click import exceptions as cx

from robot.cli import (
    bench,
    demo,
    doctor,
    fixtures_cmd,
    helpstyle,
    jobs,
    merchants,
    mock,
    payments,
    selectors_cmd,
    staff,
    system,
    tokenize,
    webhooks,
)
from robot.cli.console import err, interrupt_said
from robot.logging import redact_text

app = typer.Typer(
    name="jobber-robot",
    help="Headless robot that takes card and ACH payments into Jobber.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.add_typer(mock.app, name="mock")
app.add_typer(merchants.app, name="merchants")
app.add_typer(selectors_cmd.app, name="selectors")
app.add_typer(tokenize.app, name="tokenize")
app.add_typer(fixtures_cmd.app, name="fixtures")
app.add_typer(staff.app, name="staff")
system.register(app)
doctor.register(app)
demo.register(app)
payments.register(app)      # charge, deposit, refund, void, link, reconcile, ...
jobs.register(app)          # enqueue, worker, serve, handoff, jobs
webhooks.register(app)      # webhooks, openapi
bench.register(app)         # bench
helpstyle.use_click_style_help(app)


def main() -> None:
    """The `jobber-robot` entry point. Everything the robot writes is private to its user: the
    modules write their files 0600 themselves, and the umask 077 set here also covers what
    other code writes for it (SQLite's journal files, Chromium's profile and downloads)."""
    os.umask(0o077)

    try:
        code = app(standalone_mode=False)
    except cx.NoArgsIsHelpError:
        sys.exit(2)  # the help was printed
    except typer.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C outside a job (click's Abort)
            _interrupted()
        err.print("[red]aborted[/red]")
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C before the command started (or after it ended)
        _interrupted()
    except cx.ClickException as exc:
        err.print(f"[red]{usage_problem(exc)}[/red]")
        err.print("[dim]nothing was done; see --help[/dim]")
        sys.exit(exc.exit_code)
    if code == 130 and not interrupt_said():  # typer's own answer to Ctrl-C: exit 130, silently
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted() -> None:
    """Ctrl-C outside a payment job (doctor, selectors check, a prompt): one line, exit 130. Written
    to the real stderr: a live display (the doctor's checklist) may still hold the console's."""
    sys.__stderr__.write("interrupted (Ctrl-C): nothing more was done\n")
    sys.__stderr__.flush()
    sys.exit(130)


def usage_problem(exc: Exception) -> str:
    """Click's usage error without the values typed: click repeats an unexpected argument, an
    unknown option and a bad value as they were typed, and one of them may be a card number or
    a password put in the wrong place. The parameter and the rule are kept."""
    if isinstance(exc, cx.NoSuchOption):
        # the name as typed is not shown, even when it looks like one: `--crad4242…` or
        # `--xInfinity` carries a value glued to it. Click's close matches are our own names.
        known = sorted(set(getattr(exc, "possibilities", None) or ()))
        hint = f"; did you mean {' or '.join(known[:3])}?" if known else ""
        return f"invalid input: an option this command does not have (not shown: it may hold a value){hint}"
    if isinstance(exc, cx.MissingParameter):
        return f"invalid input: {exc.format_message()}"
    if isinstance(exc, cx.BadParameter):
        where = exc.param_hint or (exc.param.opts[0] if exc.param is not None and exc.param.opts else "a value")
        if isinstance(where, (list, tuple)):
            where = " / ".join(str(w) for w in where)
        kind = getattr(getattr(exc.param, "type", None), "name", "value")
        return f"invalid input: {where}: not a valid {kind}"
    message = exc.format_message()
    if "extra argument" in message:
        return "invalid input: unexpected extra argument(s) (not shown: they may be secrets)"
    if "requires an argument" in message:
        return f"invalid input: {message}"
    if isinstance(exc, cx.UsageError):
        return "invalid input: the command line could not be read (see --help)"
    return redact_text(message)
