"""Shared rich consoles: stdout for results, stderr for progress and errors.

Text that comes from outside (Jobber's pages: client names, line items, messages built from
them; a job id someone typed) is data: `plain()` makes it safe to put into a rich markup string
and `cell()` into a table, so a "[bold]" or "[/]" in a client name is shown as typed (it is not
styling, and an unmatched closing tag does not crash the summary), and a terminal control
sequence (ESC…) in it never reaches the person's terminal.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

out = Console()
err = Console(stderr=True)

#: C0 and C1 control characters but tab and newline: ESC starts terminal sequences (colours,
#: titles, hyperlinks, cursor moves); the rest have no place in a value shown to a person
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(value: Any) -> str:
    """`value` as text without control characters."""
    return _CONTROL.sub("", str(value))


def plain(value: Any) -> str:
    """`value` for a rich markup string: control characters dropped, markup escaped."""
    return escape(printable(value))


def cell(value: Any, style: str = "") -> Text:
    """`value` for a table cell or a panel line: a Text (rich parses no markup in it)."""
    if isinstance(value, Text):
        return value
    return Text(printable(value), style=style)


_interrupt_said = False


def say_interrupted(line: str) -> None:
    """Ctrl-C's one line (the CLI's entry point adds none of its own after it)."""
    global _interrupt_said
    _interrupt_said = True
    err.print(f"[yellow]{line}[/yellow]", soft_wrap=True)


def interrupt_said() -> bool:
    return _interrupt_said
