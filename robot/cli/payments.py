"""`jobber-robot charge|deposit|quote-deposit|link|refund|void|reconcile|ach-check`.

Each command builds the job model (bad input: the field and the rule, exit 2, nothing done)
and hands it to ONE seam, `execute`, which today runs the flow in this process with a session
pool; the job queue replaces only its body. Card numbers are never arguments: tokens only.
Exit codes: 0 succeeded / pending / dry run, 1 any other outcome, 2 bad input.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import typer
from pydantic import ValidationError

from robot.cli.console import err, plain, say_interrupted
from robot.cli.inprocess import JobInterrupted, execute_queued
from robot.cli.progress import SpinnerWatch
from robot.cli.summary import print_result
from robot.config import get_settings
from robot.errors import InputError, RobotError
from robot.jobs.models import JobResult, parse_job, validation_problems
from robot.vault import Vault

TENDER_HELP = "exactly one tender: --card-on-file, --card-token, --ach-token or --terminal"


def new_job_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def execute(job: Any, *, json_output: bool, wait: bool = True, job_id: str | None = None) -> JobResult:
    """Run one job through the job queue (SQLite, or Postgres when JOBBER_ROBOT_DATABASE_URL is set):
    enqueue it, run it with an in-process worker and return its result. With wait=False (or
    --no-wait) only enqueue it, print the job id and exit 0; a `jobber-robot worker` runs it.
    Ctrl-C cancels the job and exits 130."""
    try:
        return execute_queued(job, json_output=json_output, wait=wait, job_id=job_id,
                              watch=None if json_output else SpinnerWatch())
    except JobInterrupted as stop:
        interrupted(stop.job_id, stop.status, json_output=json_output)
        raise  # not reached: interrupted() exits


def interrupted(job_id: str | None, status: str | None, *, json_output: bool) -> None:
    """Ctrl-C: one line saying what became of the job, exit 130 (the shell's code for SIGINT)."""
    if job_id is None:
        line = "interrupted: nothing was queued"
    elif status == "cancelled":
        line = (f"interrupted: job {plain(job_id)} cancelled (`jobber-robot jobs retry {plain(job_id)}` resumes it "
                "from its last finished stage; the gateway never moves money twice for it)")
    else:
        line = f"interrupted: job {plain(job_id)} had already ended ({plain(status)}): `jobber-robot jobs show {plain(job_id)}`"
    if json_output:
        print(json.dumps({"job_id": job_id, "status": status, "interrupted": True}))
    say_interrupted(line)
    raise typer.Exit(130)


# --- building jobs -----------------------------------------------------------------------------


def _bad_input(problems: list[dict[str, str]]) -> None:
    for p in problems:
        err.print(f"[red]invalid input: {p['field']}: {p['rule']}[/red]")
    err.print("[dim]nothing was done[/dim]")
    raise typer.Exit(2)


def build_job(data: dict[str, Any]) -> Any:
    """The job model, or exit 2 naming each bad field and its rule (never echoing the value).

    The merchant must be in the vault: a job the robot cannot sign in for is refused here, as
    the HTTP intake refuses it, instead of being queued to fail later."""
    try:
        job = parse_job({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        _bad_input(validation_problems(exc))
    try:
        settings = get_settings()
        settings.ensure_dirs()
        Vault.from_settings(settings).check_known(job.merchant)
    except InputError as exc:
        _bad_input([{"field": exc.field, "rule": exc.rule}])
    except RobotError as exc:  # no vault key, a vault the key does not open: say so, do nothing
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    return job


def tender_of(card_on_file: str | None, payment_method: str | None, card_token: str | None,
              ach_token: str | None, terminal: str | None) -> dict[str, Any]:
    given = [t for t in (card_on_file, card_token, ach_token, terminal) if t]
    if len(given) != 1:
        _bad_input([{"field": "tender", "rule": f"give {TENDER_HELP}"}])
    if payment_method and not card_on_file:
        _bad_input([{"field": "tender.payment_method_id", "rule": "--payment-method goes with --card-on-file"}])
    if card_on_file:
        return {"type": "card_on_file", "customer_id": card_on_file, "payment_method_id": payment_method}
    if card_token:
        return {"type": "card_token", "token": card_token}
    if ach_token:
        return {"type": "ach_token", "token": ach_token}
    return {"type": "terminal", "terminal_id": terminal}


def finish(job: Any, json_output: bool, job_id: str | None, no_wait: bool = False) -> None:
    result = execute(job, json_output=json_output, job_id=job_id, wait=not no_wait)
    print_result(result, json_output=json_output)
    drift = result.error_code == "reconcile_drift"
    raise typer.Exit(0 if result.ok and not drift else 1)


# --- options shared by the commands --------------------------------------------------------------

MERCHANT = typer.Option(..., "--merchant", "-m", help="merchant slug in the vault, e.g. acme")
#: read as text and checked by the job's model (digits only): typer's int took "1042.00" and "1_042"
INVOICE = typer.Option(None, "--invoice", "-i", metavar="N", help="Jobber invoice number")
CLIENT = typer.Option(None, "--client", "-c", help="client name (when no invoice is pinned)")
DRY_RUN = typer.Option(False, "--dry-run", help="every check, no money moved, nothing recorded")
JSON = typer.Option(False, "--json", help="print the result as JSON")
JOB_ID = typer.Option(None, "--job-id", help="job id (re-run a job: the gateway never moves money twice for it)")
CARD_ON_FILE = typer.Option(None, "--card-on-file", help="gateway customer id whose saved card is charged")
PAYMENT_METHOD = typer.Option(None, "--payment-method", help="saved payment method id (default: the customer's default)")
CARD_TOKEN = typer.Option(None, "--card-token", help="card token from intake (jobber-robot tokenize)")
ACH_TOKEN = typer.Option(None, "--ach-token", help="bank account token (ACH debit)")
TERMINAL = typer.Option(None, "--terminal", help="terminal id to push the amount to")
NO_WAIT = typer.Option(False, "--no-wait", help="only enqueue the job and print its id; a worker runs it "
                       "(what `jobber-robot enqueue` always does)")


def charge(merchant: str = MERCHANT, invoice: str = INVOICE, client: str = CLIENT,
           amount: str = typer.Option(None, "--amount", "-a", help="amount (default: the invoice balance)"),
           card_on_file: str = CARD_ON_FILE, payment_method: str = PAYMENT_METHOD, card_token: str = CARD_TOKEN,
           ach_token: str = ACH_TOKEN, terminal: str = TERMINAL, dry_run: bool = DRY_RUN,
           json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Charge an invoice by card on file, card token, ACH token or terminal, and record it in Jobber."""
    tender = tender_of(card_on_file, payment_method, card_token, ach_token, terminal)
    job = build_job({"kind": "charge", "merchant": merchant, "invoice": invoice, "client": client,
                     "amount": amount, "tender": tender, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def deposit(merchant: str = MERCHANT, invoice: str = INVOICE, client: str = CLIENT,
            amount: str = typer.Option(..., "--amount", "-a", help="deposit amount"),
            card_on_file: str = CARD_ON_FILE, payment_method: str = PAYMENT_METHOD, card_token: str = CARD_TOKEN,
            ach_token: str = ACH_TOKEN, terminal: str = TERMINAL, dry_run: bool = DRY_RUN,
            json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Take a partial payment on an invoice (several until it is Paid)."""
    tender = tender_of(card_on_file, payment_method, card_token, ach_token, terminal)
    job = build_job({"kind": "deposit", "merchant": merchant, "invoice": invoice, "client": client,
                     "amount": amount, "tender": tender, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def quote_deposit(merchant: str = MERCHANT,
                  quote: str = typer.Option(..., "--quote", "-q", metavar="N", help="Jobber quote number"),
                  amount: str = typer.Option(..., "--amount", "-a", help="deposit amount"),
                  card_on_file: str = CARD_ON_FILE, payment_method: str = PAYMENT_METHOD,
                  card_token: str = CARD_TOKEN, ach_token: str = ACH_TOKEN, terminal: str = TERMINAL,
                  dry_run: bool = DRY_RUN, json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Collect a deposit on an Approved quote."""
    tender = tender_of(card_on_file, payment_method, card_token, ach_token, terminal)
    job = build_job({"kind": "quote_deposit", "merchant": merchant, "quote": quote, "amount": amount,
                     "tender": tender, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def link(merchant: str = MERCHANT, invoice: str = INVOICE, client: str = CLIENT,
         amount: str = typer.Option(None, "--amount", "-a", help="amount (default: the invoice balance)"),
         sms: str = typer.Option(None, "--sms", help="send the link by text message to this phone"),
         email: str = typer.Option(None, "--email", help="send the link by e-mail to this address"),
         reconcile: bool = typer.Option(False, "--reconcile", help="record every paid link in Jobber (once) "
                                        "and report expired ones, instead of creating a link"),
         dry_run: bool = DRY_RUN, json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Create a payment link and send it (or, with --reconcile, record paid links in Jobber)."""
    if reconcile:
        job = build_job({"kind": "link_reconcile", "merchant": merchant, "dry_run": dry_run})
    else:
        if bool(sms) == bool(email):
            _bad_input([{"field": "send_via", "rule": "give exactly one of --sms or --email"}])
        job = build_job({"kind": "link", "merchant": merchant, "invoice": invoice, "client": client,
                         "amount": amount, "send_via": "sms" if sms else "email", "to": sms or email,
                         "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def refund(merchant: str = MERCHANT,
           transaction: str = typer.Option(..., "--transaction", "-t", help="gateway transaction id"),
           amount: str = typer.Option(None, "--amount", "-a", help="amount (default: all that is left)"),
           dry_run: bool = DRY_RUN, json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Refund all or part of a transaction and record it on its Jobber payment."""
    job = build_job({"kind": "refund", "merchant": merchant, "transaction_id": transaction, "amount": amount,
                     "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def void(merchant: str = MERCHANT,
         transaction: str = typer.Option(..., "--transaction", "-t", help="gateway transaction id"),
         dry_run: bool = DRY_RUN, json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Void a transaction before settlement and delete its payment in Jobber."""
    job = build_job({"kind": "void", "merchant": merchant, "transaction_id": transaction, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def reconcile(merchant: str = MERCHANT,
              since: str = typer.Option(None, "--since", help="first day (YYYY-MM-DD)"),
              until: str = typer.Option(None, "--until", help="last day (YYYY-MM-DD)"),
              repair: bool = typer.Option(False, "--repair", help="finish in Jobber what jobs left half done: record missing payments and "
                                          "refunds, delete a voided one's payment, reverse a returned ACH debit's"),
              dry_run: bool = DRY_RUN, json_output: bool = JSON, job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Compare gateway transactions with Jobber payments; report drift (and repair it)."""
    job = build_job({"kind": "reconcile", "merchant": merchant, "since": since, "until": until,
                     "repair": repair, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


def ach_check(merchant: str = MERCHANT, dry_run: bool = DRY_RUN, json_output: bool = JSON,
              job_id: str = JOB_ID, no_wait: bool = NO_WAIT) -> None:
    """Reverse the Jobber payments of ACH debits that came back returned, and flag their jobs."""
    job = build_job({"kind": "ach_check", "merchant": merchant, "dry_run": dry_run})
    finish(job, json_output, job_id, no_wait)


#: every payment command, once: registered as a direct command (`jobber-robot charge ...`) and
#: under `jobber-robot enqueue` (whose group makes each one only enqueue), the same options in both
COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("charge", charge), ("deposit", deposit), ("quote-deposit", quote_deposit), ("link", link),
    ("refund", refund), ("void", void), ("reconcile", reconcile), ("ach-check", ach_check),
)


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS:
        app.command(name)(command)


__all__ = ["COMMANDS", "build_job", "execute", "new_job_id", "register"]
