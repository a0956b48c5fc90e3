"""How `jobs list`, `jobs list --needs-person` and `jobs show` look on a terminal.

Tables fit 80 columns: identifiers a person copies (job ids, amounts) never wrap, and the words of
a label (a kind, a status, an outcome) are shown with spaces, so a narrow column wraps between
words ("link reconcile"), never inside one ("link_reconcil e").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from robot.cli.console import cell
from robot.jobs.store import deadline_of
from robot.money import fmt

if TYPE_CHECKING:
    from robot.jobs.store import JobView

_STATUS_STYLE = {"failed": "red", "cancelled": "yellow", "waiting_for_2fa": "magenta",
                 "waiting_for_confirmation": "magenta", "running": "cyan", "queued": "cyan"}


def words(value: str | None) -> str:
    """A machine label for people: `link_reconcile` → `link reconcile` (wraps between words)."""
    return (value or "").replace("_", " ")


def age(seconds: float | None) -> str:
    s = int(seconds or 0)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


def compact_table(*columns: tuple[str, dict[str, Any]]) -> Table:
    # one space between columns (the box's divider) and no outer edge: 80 columns hold a row
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=0, show_edge=False)  # the box puts a space between
    for name, kw in columns:
        tight = kw.pop("_tight", False)
        t.add_column(name, **kw)
        t.columns[-1].max_width = -1 if tight else None  # set by whole_words
    return t


def jobs_table(rows: list["JobView"]) -> Table:
    """One row per job; `result` is the outcome of a finished job, else its status (✘: a failure)."""
    t = compact_table(("job", {"no_wrap": True}), ("merchant", {"overflow": "fold"}), ("kind", {"_tight": True}),
               ("invoice", {"no_wrap": True}), ("amount", {"justify": "right", "no_wrap": True}),
               ("age", {"no_wrap": True}), ("result", {}))
    for r in rows:
        label = r.outcome if (r.status == "finished" and r.outcome) else r.status
        style = "red" if r.failed else _STATUS_STYLE.get(r.status, "")
        result = ("✘ " if r.failed else "") + words(label) + (" ⚑" if r.flags else "")
        t.add_row(cell(r.job_id), cell(r.merchant or ""), words(r.kind), f"#{r.invoice}" if r.invoice else "",
                  fmt(r.amount) if r.amount is not None else "", age(r.age_seconds), Text(result, style=style))
    return whole_words(t)


def whole_words(t: Table) -> Table:
    """A column is never narrower than its longest word: rich shrinks wrapping columns to fit the
    terminal, and would otherwise break a word ("reconci…", "link_reconcil e")."""
    for col in t.columns:
        cells = [col.header, *col.cells]
        longest = max((len(w) for c in cells for w in str(getattr(c, "plain", c)).split()), default=0)
        col.min_width = max(col.min_width or 0, longest)
        if col.max_width == -1:  # a short label column: one word a line, the room left to the others
            col.max_width = col.min_width
    return t


def _until(deadline: datetime | None, now: datetime | None = None) -> str:
    if deadline is None:
        return "—"
    left = int((deadline - (now or datetime.now(UTC))).total_seconds())
    clock = deadline.astimezone().strftime("%H:%M:%S")
    return f"{clock} (over)" if left <= 0 else f"{clock} ({age(left)} left)"


def needs_person_table(rows: list["JobView"]) -> Group:
    """The person queue: what each job waits for, until when, and the command that answers it."""
    t = compact_table(("job", {"no_wrap": True}), ("merchant", {}), ("waits for", {}), ("deadline", {}))
    for r in rows:
        w = r.waiting_for or {}
        if w.get("kind") == "2fa":
            what = f"a 2FA code ({w.get('hint') or w.get('channel') or 'code'})"
        else:
            nums = ", ".join(f"#{c.get('invoice')}" for c in w.get("candidates", []))
            what = f"an invoice choice among {nums}"
        t.add_row(cell(r.job_id), cell(r.merchant or ""), cell(what), _until(deadline_of(r)))
    whole_words(t)
    hint = Text.assemble(("a code:          ", "bold"), "jobber-robot handoff JOB CODE\n",
                         ("pick an invoice: ", "bold"), "jobber-robot handoff JOB --invoice N")
    return Group(t, hint) if rows else Group(Text("no job waits for a person"))


def candidates_table(candidates: list[dict[str, Any]]) -> Table:
    t = compact_table(("invoice", {"no_wrap": True}), ("client", {}), ("balance", {"justify": "right", "no_wrap": True}),
               ("due", {"no_wrap": True}), ("status", {}))
    t.title = "Open invoices (pick one)"
    t.title_justify = "left"
    for c in candidates:
        bal = c.get("balance")
        t.add_row(cell(f"#{c.get('invoice')}"), cell(c.get("client") or "—"),
                  fmt(_dec(bal)) if bal is not None else "—", cell(c.get("due_date") or "—"),
                  cell(words(str(c.get("status") or ""))))
    return whole_words(t)


def _dec(v: Any) -> Any:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def trace_hint(artifacts: list[str]) -> str | None:
    """How to open a failed job's Playwright trace (a timeline of every action, with screenshots)."""
    trace = next((a for a in artifacts if a.endswith(".zip")), None)
    if trace is None:
        return None
    return f"open the trace: playwright show-trace {trace}   (or: python -m playwright show-trace {trace})"
