"""Printing a JobResult: a rich summary for people, or JSON for programs."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from robot.cli.console import cell, out
from robot.jobs.models import JobResult, Outcome
from robot.money import fmt

STYLE = {
    Outcome.succeeded: "green", Outcome.pending: "cyan", Outcome.dry_run: "blue", Outcome.refused: "yellow",
    Outcome.declined: "red", Outcome.cancelled: "yellow", Outcome.timed_out: "yellow",
    Outcome.unavailable: "yellow", Outcome.needs_confirmation: "magenta", Outcome.needs_2fa: "magenta",
    Outcome.access_failed: "red", Outcome.recorded_with_mismatch: "red", Outcome.reversed: "magenta",
    Outcome.failed: "red",
}
TITLES = {
    "charge": "Charge", "deposit": "Deposit", "quote_deposit": "Quote deposit", "link": "Payment link",
    "link_reconcile": "Payment links reconciled", "refund": "Refund", "void": "Void", "reconcile": "Reconcile",
    "ach_check": "ACH return check",
}


# what amount_captured means for a kind: the money a refund sent back was not captured
MOVED_LABEL = {"refund": "Refunded", "void": "Voided"}


def _money(v: Decimal | None) -> str:
    return fmt(v) if v is not None else "—"


def render(result: JobResult) -> Panel:
    style = STYLE.get(result.outcome, "white")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()

    def row(label: str, value: Any) -> None:
        if value not in (None, "", []):
            facts.add_row(label, cell(value))

    row("Outcome", Text(result.outcome.value, style=f"bold {style}"))
    row("Merchant", result.merchant)
    row("Invoice", f"#{result.invoice}" if result.invoice else None)
    row("Quote", f"#{result.quote}" if result.quote else None)
    row("Client", result.client)
    row("Amount", _money(result.amount_requested) if result.amount_requested is not None else None)
    row(MOVED_LABEL.get(result.kind, "Captured"), _money(result.amount_captured) if result.amount_captured is not None else None)
    row("Tender", result.tender)
    row("Gateway txn", result.gateway_transaction_id)
    row("Gateway status", result.gateway_status)
    row("Jobber payment", result.jobber_payment_id)
    if result.balance_before is not None or result.balance_after is not None:
        row("Balance", f"{_money(result.balance_before)} → {_money(result.balance_after)}")
    if result.status_before or result.status_after:
        row("Status", f"{result.status_before or '—'} → {result.status_after or '—'}")
    row("Error", result.error_code)
    parts: list[Any] = [facts, Text(""), cell(result.message)]
    if result.candidates:
        t = Table(title="Open invoices (pick one)", title_justify="left")
        issued = any(c.issued_date for c in result.candidates)
        for col in ("Invoice", *(("Issued",) if issued else ()), "Due", "Total", "Balance", "Status"):
            t.add_column(col, justify="right" if col in ("Total", "Balance") else "left")
        for c in result.candidates:
            t.add_row(f"#{c.invoice}", *((str(c.issued_date or "—"),) if issued else ()), str(c.due_date or "—"),
                      fmt(c.total), fmt(c.balance), cell(c.status))
        parts += [Text(""), t]
    parts += _report_tables(result)
    if result.steps:
        steps = " · ".join(f"{s.step} {s.seconds:.1f}s" for s in result.steps)
        parts += [Text(""), Text(f"Steps: {steps}", style="dim")]
    if result.artifacts:
        parts += [cell("Evidence: " + ", ".join(result.artifacts), style="dim")]
    title = cell(f"{TITLES.get(result.kind, result.kind)} · job {result.job_id}")
    return Panel(Group(*parts), title=title, title_align="left", border_style=style)


def _report_tables(result: JobResult) -> list[Any]:
    report = result.report
    out: list[Any] = []
    if result.kind == "reconcile":
        for key in ("matched", "repaired", "missing_in_jobber", "unknown_in_jobber", "amount_mismatch"):
            rows = report.get(key) or []
            if not rows:
                continue
            t = Table(title=f"{key.replace('_', ' ').capitalize()} ({len(rows)})", title_justify="left")
            for col in ("Transaction", "Invoice", "Gateway net", "Jobber net", "Note"):
                t.add_column(col)
            for r in rows:
                t.add_row(cell(r.get("transaction")), cell(f"#{r.get('invoice') or r.get('jobber_invoice') or '—'}"),
                          cell(r.get("gateway_net", "—")), cell(r.get("jobber_net", "—")), cell(r.get("repair", "")))
            out += [Text(""), t]
    elif result.kind in ("link_reconcile", "ach_check"):
        for key, rows in report.items():
            if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
                continue
            t = Table(title=f"{key.replace('_', ' ').capitalize()} ({len(rows)})", title_justify="left")
            cols = [c for c in ("link", "link_id", "transaction", "txn_id", "invoice", "amount", "return_code",
                                "result", "balance_after", "message") if any(c in r for r in rows)]
            for c in cols:
                t.add_column(c)
            for r in rows:
                t.add_row(*[cell(r.get(c, "")) for c in cols])
            out += [Text(""), t]
    elif result.kind == "link" and report.get("url"):
        out += [Text(""), cell(f"Link: {report['url']}")]
    return out


def print_result(result: JobResult, *, json_output: bool, console: Console | None = None) -> None:
    if json_output:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        sys.stdout.flush()
        return

    (console or out).print(render(result))


def results_table(results: list[JobResult]) -> Table:
    t = Table(title="Demo results", title_justify="left")
    # fits 80 columns: each job's panel above has its full ids and gateway transaction
    t.add_column("Job", overflow="ellipsis", no_wrap=True, min_width=8, max_width=12)
    t.add_column("Kind", overflow="fold")
    t.add_column("Invoice", no_wrap=True, min_width=7)
    t.add_column("Outcome", overflow="fold")
    t.add_column("Amount", justify="right", no_wrap=True, min_width=10)
    t.add_column("Balance", justify="right", no_wrap=True, min_width=10)
    for r in results:
        t.add_row(cell(r.job_id), r.kind, f"#{r.invoice}" if r.invoice else "—",
                  Text(r.outcome.value, style=STYLE.get(r.outcome, "white")),
                  _money(r.amount_captured if r.amount_captured is not None else r.amount_requested),
                  _money(r.balance_after))
    return t
