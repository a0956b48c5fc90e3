"""Queue commands: `enqueue <kind> ...`, `worker`, `serve`, `handoff`, `jobs list|show|retry|cancel`.

`enqueue <kind>` takes exactly the options of the direct command of that kind: both are registered
from one table (robot/cli/payments.py `COMMANDS`); the `enqueue` group makes each one only enqueue
its job and print the id, as `--no-wait` does on a direct command.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import TypeAdapter, ValidationError

from robot.api.serve import serve as _serve
from robot.cli import payments
from robot.cli.console import err, out, plain
from robot.cli.inprocess import NO_WAIT
from robot.cli.jobs_view import candidates_table, jobs_table, needs_person_table, trace_hint
from robot.config import get_settings
from robot.errors import InputError, RobotError
from robot.jobs import dbos_app, links
from robot.jobs.handoff import clean_code, submit_choice, submit_code
from robot.jobs.models import DocumentNumber
from robot.jobs.queue import store_url
from robot.jobs.steering import cancel, retry
from robot.jobs.store import deadline_of, get_job, list_jobs
from robot.jobs.worker import run_worker
from robot.logging import configure_logging


def _enqueue_only(ctx: typer.Context) -> None:
    """The `enqueue` group: each payment command under it only enqueues its job (for this
    invocation: the flag is put back when the command's context closes)."""
    token = NO_WAIT.set(True)
    ctx.call_on_close(lambda: NO_WAIT.reset(token))


def _settings() -> Any:
    try:
        s = get_settings()
        s.ensure_dirs()
        return s
    except RobotError as exc:
        err.print(f"[red]{plain(exc.message)}[/red]")
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]{plain(message)}[/red]")
    raise typer.Exit(code)


@contextmanager
def _store() -> Iterator[Any]:
    """A job-store client for one command. A RobotError ends the command with its message: exit 2
    for bad input (an option's InputError), 1 otherwise."""
    c = dbos_app.client(_settings())
    try:
        yield c
    except InputError as exc:
        _fail(f"invalid input: --{exc.message}", 2)
    except RobotError as exc:
        _fail(exc.message)
    finally:
        c.destroy()


jobs_app = typer.Typer(help="List and steer queued jobs.", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list(status: str = typer.Option(None, "--status", metavar="STATUS",
                                         help="queued, running, waiting_for_2fa, waiting_for_confirmation, finished, "
                                         "failed (also a finished job whose outcome is a failure), cancelled"),
              outcome: str = typer.Option(None, "--outcome", metavar="OUTCOME",
                                          help="a finished job's outcome: succeeded, declined, access_failed, ..."),
              needs_person: bool = typer.Option(False, "--needs-person",
                                                help="the jobs waiting for a 2FA code or an invoice choice, with "
                                                "their deadlines"),
              merchant: str = typer.Option(None, "--merchant", "-m", metavar="MERCHANT"),
              limit: int = typer.Option(50, "--limit", "-n", metavar="N"),
              json_output: bool = typer.Option(False, "--json")) -> None:
    """Recent jobs: status, merchant, kind, invoice, amount, age, outcome (`jobs show JOB` for the rest)."""
    with _store() as c:
        rows = list_jobs(c, status=status, merchant=merchant, limit=limit, outcome=outcome,
                         needs_person=needs_person)
    if json_output:
        docs = []
        for r in rows:
            d = r.model_dump(mode="json", exclude={"result"})
            d["failed"] = r.failed
            if needs_person:
                dl = deadline_of(r)
                d["deadline"] = dl.isoformat() if dl else None
            docs.append(d)
        print(json.dumps(docs, indent=1))
        return
    out.print(needs_person_table(rows) if needs_person else jobs_table(rows))


@jobs_app.command("show")
def jobs_show(job_id: str = typer.Argument(..., metavar="JOB"), json_output: bool = typer.Option(False, "--json")) -> None:
    """One job: status, steps with times, what it waits for, outcome, flags, result, evidence."""
    with _store() as c:
        v = get_job(c, job_id)
        c_url = store_url(c)
    if json_output:
        print(json.dumps({**v.model_dump(mode="json"), "retry_of": links.retry_of(c_url, v.job_id),
                          "retried_as": links.retried_as(c_url, v.job_id)}, indent=1))
        return
    out.print(f"[bold]{plain(v.job_id)}[/bold]  {v.status}  {plain(v.merchant)} {plain(v.kind)}  age {v.age_seconds} s  "
              f"worker {plain(v.executor)}")
    if v.waiting_for:
        w = v.waiting_for
        until = f", until {w['deadline']}" if w.get("deadline") else ""
        if w.get("kind") == "2fa":
            out.print(f"waits for a verification code ({plain(w.get('hint', ''))}{plain(until)}): "
                      f"jobber-robot handoff {plain(v.job_id)} CODE")
        else:
            out.print(f"waits for a person to pick the invoice{plain(until)}: jobber-robot handoff {plain(v.job_id)} --invoice N")
            out.print(candidates_table(w.get("candidates", [])))
    for s in v.steps:
        secs = (s.finished_at - s.started_at).total_seconds() if s.started_at and s.finished_at else None
        out.print(f"  step {s.name:<16} {s.started_at:%H:%M:%S} {'' if secs is None else f'{secs:.2f} s'}"
                  f"{'  ' + plain(s.error) if s.error else ''}")
    if v.outcome:
        out.print(f"outcome: [bold]{plain(v.outcome)}[/bold]  {plain(v.message)}")
    if v.error:
        out.print(f"[red]error: {plain(v.error)}[/red]")
    if v.result is not None and v.result.candidates and not v.waiting_for:
        out.print(candidates_table([c.model_dump(mode="json") for c in v.result.candidates]))
    for f in v.flags:
        out.print(f"[bold red]flag: {plain(f)}[/bold red]")
    for a in v.artifacts:
        out.print(f"  evidence {plain(a)}", soft_wrap=True)
    hint = trace_hint(v.artifacts)
    if hint:
        out.print(hint, soft_wrap=True)
    _retry_lines(c_url, v.job_id)


def _retry_lines(url: str, job_id: str) -> None:
    """The retry links (robot/jobs/links.py): where this job came from and where it went."""
    before = links.retry_of(url, job_id)
    if before:
        out.print(f"retry of: {plain(before)}")
    after = links.retried_as(url, job_id)
    if after:
        out.print(f"retried as: {plain(', '.join(after))}")


@jobs_app.command("retry")
def jobs_retry(job_id: str) -> None:
    """Resume a failed/cancelled job (finished stages are not run again), or enqueue again a job that
    finished without moving money (needs_2fa, needs_confirmation, unavailable, ...)."""
    with _store() as c:
        new_id = retry(c, job_id)
    out.print(new_id)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job (a running one stops at its next stage)."""
    with _store() as c:
        v = cancel(c, job_id)
    out.print(f"{v.job_id} {v.status}")


def register(app: typer.Typer) -> None:
    enqueue_app = typer.Typer(help="Put a job on the queue and print its id (same options as the direct "
                                   "commands); `jobber-robot worker` runs it.", no_args_is_help=True,
                              callback=_enqueue_only)

    payments.register(enqueue_app)
    app.add_typer(enqueue_app, name="enqueue")
    app.add_typer(jobs_app, name="jobs")

    @app.command("worker")
    def worker(worker_id: str = typer.Option(None, "--worker-id", help="executor id, kept across restarts so "
                                             "a restarted worker resumes its jobs (default worker-<hostname>; "
                                             "env JOBBER_ROBOT_WORKER_ID)"),
               grace: float = typer.Option(30.0, "--grace", help="seconds running jobs get to finish on SIGTERM")) -> None:
        """Run queued jobs (shared browser and session pool) until SIGTERM."""
        settings = _settings()
        configure_logging(settings, console_level=settings.log_level)  # a service: show its steps
        wid = worker_id or dbos_app.default_worker_id()
        try:
            asyncio.run(run_worker(settings, executor_id=wid, grace=grace,
                                   on_ready=lambda: err.print(f"[green]worker {wid} ready[/green]")))
        except RobotError as exc:
            _fail(exc.message, 2)

    @app.command("serve")
    def serve(host: str = typer.Option(None, "--host", help="interface to bind (default JOBBER_ROBOT_SERVE_HOST: "
                                       "127.0.0.1, this machine only)"),
              port: int = typer.Option(None, "--port", help="port (default JOBBER_ROBOT_SERVE_PORT; 0: a free one, "
                                       "printed)")) -> None:
        """The POS API (POST /jobs, GET /jobs/JOB_ID, POST /jobs/JOB_ID/handoff; docs/api.md) and the support
        dashboard (/support/). Prints where it listens and one line per request."""
        settings = _settings()
        configure_logging(settings, console_level=settings.log_level)  # a service: show its steps
        try:
            _serve(settings, host, port)
        except RobotError as exc:
            _fail(exc.message, 2)

    @app.command("handoff")
    def handoff(job_id: str, code: str = typer.Argument(None, help="the verification code (2FA)"),
                invoice: str = typer.Option(None, "--invoice", metavar="N", help="the invoice a person picked")) -> None:
        """Answer a waiting job: a 2FA code, or the invoice number it should use."""
        if (code is None) == (invoice is None):
            _fail("give the CODE or --invoice N", 2)
        if code is not None:
            try:
                clean_code(code)
            except InputError as exc:
                _fail(f"invalid input: {exc.message}", 2)
        number = None
        if invoice is not None:
            try:
                number = TypeAdapter(DocumentNumber).validate_python(invoice)
            except ValidationError:
                _fail("invalid input: --invoice must be a whole number (digits only), 1 or more", 2)
        with _store() as c:
            if code is not None:
                submit_code(c, _settings(), job_id, code)
            else:
                assert number is not None
                submit_choice(c, job_id, number)
        out.print(f"handed over to {job_id}")
