"""`jobber-robot webhooks ...`: the installation's webhook endpoints (the same as
/webhook_endpoints of the API) and their delivery logs; `jobber-robot openapi`: the committed
OpenAPI document (docs/openapi.json)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from robot.api.contract import COMMITTED, document, render
from robot.cli.console import err, out
from robot.config import get_settings
from robot.errors import InputError, RobotError
from robot.jobs import dbos_app
from robot.jobs.queue import store_url
from robot.webhooks.delivery import log_for
from robot.webhooks.endpoints import EventType, all_endpoints, create, delete, get
from robot.webhooks.events import publish_with_client

app = typer.Typer(help="Webhook endpoints the robot POSTs job events to (docs/api.md).", no_args_is_help=True)


@contextmanager
def _store() -> Iterator[tuple[Any, Any, str]]:
    try:
        settings = get_settings()
        settings.ensure_dirs()
    except RobotError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    c = dbos_app.client(settings)
    try:
        yield settings, c, store_url(c)
    except InputError as exc:
        err.print(f"[red]invalid input: {exc.message}[/red]")
        raise typer.Exit(2) from None
    except KeyError:
        err.print("[red]no webhook endpoint with this id (`jobber-robot webhooks list`)[/red]")
        raise typer.Exit(1) from None
    finally:
        c.destroy()


@app.command("add")
def add(url: str, event: list[str] = typer.Option(None, "--event", "-e", help="an event type (repeat); default all"),
        description: str = typer.Option(None, "--description")) -> None:
    """Register an endpoint; prints its id and, once, its signing secret."""
    with _store() as (settings, _c, url_):
        ep = create(url, settings, url_, events=event or [], description=description)
    out.print(ep.id)
    err.print(f"signing secret (shown once; keep it to verify deliveries): {ep.secret}")


@app.command("list")
def list_(json_output: bool = typer.Option(False, "--json")) -> None:
    """The registered endpoints (never their secrets)."""
    with _store() as (_s, _c, url_):
        eps = all_endpoints(url_)
    if json_output:
        print(json.dumps([e.model_dump(mode="json", exclude={"secret"}) for e in eps], indent=1))
        return
    t = Table()
    for col in ("id", "url", "events", "enabled"):
        t.add_column(col)
    for e in eps:
        t.add_row(e.id, e.url, ", ".join(e.enabled_events), "yes" if e.enabled else "no")
    out.print(t)


@app.command("remove")
def remove(endpoint_id: str) -> None:
    """Delete an endpoint (deliveries still waiting for it stop)."""
    with _store() as (_s, _c, url_):
        if not delete(url_, endpoint_id):
            raise KeyError(endpoint_id)
    out.print(f"{endpoint_id} removed")


@app.command("test")
def test(endpoint_id: str) -> None:
    """Send a signed test event to one endpoint (a worker delivers it); prints the event id."""
    with _store() as (_s, c, url_):
        ep = get(url_, endpoint_id)
        eid = publish_with_client(c, EventType.test.value, None, ep.model_dump(mode="json", exclude={"secret"}),
                                  uuid.uuid4().hex, only_endpoint=endpoint_id)
    out.print(eid)


@app.command("deliveries")
def deliveries(job_id: str = typer.Argument(None, help="a job id (default: every job)"),
               endpoint: str = typer.Option(None, "--endpoint", help="only this endpoint's"),
               json_output: bool = typer.Option(False, "--json")) -> None:
    """The delivery log: each attempt, when, to which endpoint, what came back."""
    with _store() as (_s, _c, url_):
        rows = log_for(url_, job_id=job_id, endpoint_id=endpoint)
    if json_output:
        print(json.dumps(rows, indent=1, default=str))
        return
    t = Table()
    for col in ("at", "event", "type", "endpoint", "attempt", "result", "next"):
        t.add_column(col)

    def at(ms: int | None) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S") if ms else ""

    for r in rows:
        result = "ok" if r["succeeded"] else (r["error"] or "failed")
        t.add_row(at(r["attempted_at_ms"]), r["event_id"], r["event_type"] or "", r["endpoint_id"], str(r["attempt"]),
                  f"{r['status_code'] or ''} {result}".strip(), at(r["next_attempt_at_ms"]))
    out.print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="webhooks")

    @root.command("openapi")
    def openapi(check: bool = typer.Option(False, "--check", help="exit 1 when docs/openapi.json is not current"),
                stdout: bool = typer.Option(False, "--stdout", help="print it instead of writing the file")) -> None:
        """Write the API's OpenAPI document to docs/openapi.json (the committed contract)."""
        text = render(document())
        if stdout:
            print(text, end="")
        elif check:
            if not COMMITTED.exists() or COMMITTED.read_text() != text:
                err.print(f"[red]{COMMITTED} is not current: run `jobber-robot openapi` (or `make openapi`)[/red]")
                raise typer.Exit(1)
        else:
            COMMITTED.write_text(text)
            out.print(str(COMMITTED))
