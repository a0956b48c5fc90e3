"""Queue commands: `enqueue <kind> ...`, `worker`, `serve`, `handoff`, `jobs list|show|retry|cancel`.

`enqueue <kind>` takes exactly the options of the direct command of that kind (the same typer
commands from robot/cli/payments.py, registered again in "enqueue only" mode) and prints the job
id. The direct commands get `--no-wait` the same way.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from robot.cli.console import err, out

PAYMENT_COMMANDS = ("charge", "deposit", "quote-deposit", "link", "refund", "void", "reconcile", "ach-check")


def _with_no_wait(callback: Any, *, always: bool) -> Any:
    """Wrap a payments command so its job is only enqueued (always, or with --no-wait)."""
    from robot.jobs.inprocess import NO_WAIT

    sig = inspect.signature(callback)

    @functools.wraps(callback)
    def wrapper(*args: Any, no_wait: bool = False, **kwargs: Any) -> Any:
        token = NO_WAIT.set(always or no_wait)
        try:
            return callback(*args, **kwargs)
        finally:
            NO_WAIT.reset(token)

    params = list(sig.parameters.values())
    if not always:
        params.append(inspect.Parameter(
            "no_wait", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
            default=typer.Option(False, "--no-wait", help="only enqueue the job and print its id; a worker runs it")))
        wrapper.__annotations__ = {**getattr(callback, "__annotations__", {}), "no_wait": bool}
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    del wrapper.__wrapped__  # typer must see the new signature, not the wrapped one
    return wrapper


def _settings() -> Any:
    from robot.config import get_settings
    from robot.errors import RobotError

    try:
        s = get_settings()
        s.ensure_dirs()
        return s
    except RobotError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


@contextmanager
def _store() -> Iterator[Any]:
    """A job-store client for one command. A RobotError ends the command with its message: exit 2
    for bad input (an option's InputError), 1 otherwise."""
    from robot.errors import InputError, RobotError
    from robot.jobs import dbos_app

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
def jobs_list(status: str = typer.Option(None, "--status", help="queued, running, waiting_for_2fa, "
                                         "waiting_for_confirmation, finished, failed, cancelled"),
              merchant: str = typer.Option(None, "--merchant", "-m"),
              limit: int = typer.Option(50, "--limit", "-n"),
              json_output: bool = typer.Option(False, "--json")) -> None:
    """Recent jobs: status, merchant, kind, age, outcome, step reached, flags."""
    from rich.table import Table

    from robot.jobs.store import list_jobs

    with _store() as c:
        rows = list_jobs(c, status=status, merchant=merchant, limit=limit)
    if json_output:
        print(json.dumps([r.model_dump(mode="json", exclude={"result"}) for r in rows], indent=1))
        return
    t = Table()
    t.add_column("job", no_wrap=True, min_width=24)
    for name in ("status", "merchant", "kind", "age", "outcome", "step", "flags"):
        t.add_column(name)
    for r in rows:
        age = f"{int(r.age_seconds or 0)} s" if (r.age_seconds or 0) < 120 else f"{int((r.age_seconds or 0) // 60)} min"
        flags = ", ".join(f.split(" — ", 1)[0] for f in r.flags)  # the full text: `jobs show`
        t.add_row(r.job_id, r.status, r.merchant or "", r.kind or "", age, r.outcome or "", r.step or "",
                  f"[red]{flags}[/red]" if flags else "")
    out.print(t)


@jobs_app.command("show")
def jobs_show(job_id: str, json_output: bool = typer.Option(False, "--json")) -> None:
    """One job: status, steps with times, what it waits for, outcome, flags, result, artifacts."""
    from robot.jobs.store import get_job

    with _store() as c:
        v = get_job(c, job_id)
    if json_output:
        print(v.model_dump_json(indent=1))
        return
    out.print(f"[bold]{v.job_id}[/bold]  {v.status}  {v.merchant} {v.kind}  age {v.age_seconds} s  worker {v.executor}")
    if v.waiting_for:
        w = v.waiting_for
        if w.get("kind") == "2fa":
            until = f", until {w['deadline']}" if w.get("deadline") else ""
            out.print(f"waits for a verification code ({w.get('hint', '')}{until}): "
                      f"jobber-robot handoff {v.job_id} CODE")
        else:
            nums = [c_["invoice"] for c_ in w.get("candidates", [])]
            out.print(f"waits for a person to pick the invoice among {nums}: "
                      f"jobber-robot handoff {v.job_id} --invoice N")
    for s in v.steps:
        secs = (s.finished_at - s.started_at).total_seconds() if s.started_at and s.finished_at else None
        out.print(f"  step {s.name:<16} {s.started_at:%H:%M:%S} {'' if secs is None else f'{secs:.2f} s'}"
                  f"{'  ' + s.error if s.error else ''}")
    if v.outcome:
        out.print(f"outcome: [bold]{v.outcome}[/bold]  {v.message}")
    if v.error:
        out.print(f"[red]error: {v.error}[/red]")
    for f in v.flags:
        out.print(f"[bold red]flag: {f}[/bold red]")
    for a in v.artifacts:
        out.print(f"  artifact {a}")


@jobs_app.command("retry")
def jobs_retry(job_id: str) -> None:
    """Resume a failed/cancelled job (finished stages are not run again), or enqueue again a job that
    finished without moving money (needs_2fa, needs_confirmation, unavailable, ...)."""
    from robot.jobs.store import retry

    with _store() as c:
        new_id = retry(c, job_id)
    out.print(new_id)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job (a running one stops at its next stage)."""
    from robot.jobs.store import cancel

    with _store() as c:
        v = cancel(c, job_id)
    out.print(f"{v.job_id} {v.status}")


def register(app: typer.Typer) -> None:
    # --no-wait on the direct payment commands (registered before this by robot.cli.payments)
    for info in app.registered_commands:
        if info.name in PAYMENT_COMMANDS and info.callback is not None:
            info.callback = _with_no_wait(info.callback, always=False)

    enqueue_app = typer.Typer(help="Put a job on the queue and print its id (same options as the direct "
                                   "commands); `jobber-robot worker` runs it.", no_args_is_help=True)
    from robot.cli import payments

    payments.register(enqueue_app)
    enqueue_app.registered_commands[:] = [
        i for i in enqueue_app.registered_commands if i.name in PAYMENT_COMMANDS and i.callback is not None]
    for info in enqueue_app.registered_commands:
        info.callback = _with_no_wait(info.callback, always=True)
    app.add_typer(enqueue_app, name="enqueue")
    app.add_typer(jobs_app, name="jobs")

    @app.command("worker")
    def worker(worker_id: str = typer.Option(None, "--worker-id", help="executor id, kept across restarts so "
                                             "a restarted worker resumes its jobs (default worker-<hostname>; "
                                             "env JOBBER_ROBOT_WORKER_ID)"),
               grace: float = typer.Option(30.0, "--grace", help="seconds running jobs get to finish on SIGTERM")) -> None:
        """Run queued jobs (shared browser and session pool) until SIGTERM."""
        import asyncio

        from robot.jobs import dbos_app
        from robot.jobs.worker import run_worker
        from robot.errors import RobotError
        from robot.logging import configure_logging

        settings = _settings()
        configure_logging(settings, console_level=settings.log_level)  # a service: show its steps
        wid = worker_id or dbos_app.default_worker_id()
        try:
            asyncio.run(run_worker(settings, executor_id=wid, grace=grace,
                                   on_ready=lambda: err.print(f"[green]worker {wid} ready[/green]")))
        except RobotError as exc:
            _fail(exc.message, 2)

    @app.command("serve")
    def serve(host: str = typer.Option(None, "--host"), port: int = typer.Option(None, "--port")) -> None:
        """HTTP intake for the POS back end: POST /jobs, GET /jobs/{id}, POST /jobs/{id}/handoff."""
        from robot.errors import RobotError
        from robot.jobs.intake import serve as _serve
        from robot.logging import configure_logging

        settings = _settings()
        configure_logging(settings, console_level=settings.log_level)  # a service: show its steps
        try:
            _serve(settings, host, port)
        except RobotError as exc:
            _fail(exc.message, 2)

    @app.command("handoff")
    def handoff(job_id: str, code: str = typer.Argument(None, help="the verification code (2FA)"),
                invoice: int = typer.Option(None, "--invoice", help="the invoice a person picked")) -> None:
        """Answer a waiting job: a 2FA code, or the invoice number it should use."""
        from robot.errors import InputError
        from robot.jobs.handoff import clean_code, submit_choice, submit_code

        if (code is None) == (invoice is None):
            _fail("give the CODE or --invoice N", 2)
        if code is not None:
            try:
                clean_code(code)
            except InputError as exc:
                _fail(f"invalid input: {exc.message}", 2)
        with _store() as c:
            if code is not None:
                submit_code(c, _settings(), job_id, code)
            else:
                submit_choice(c, job_id, int(invoice))
        out.print(f"handed over to {job_id}")
