"""Reading values off Jobber's pages: money, dates, numbers (text in, typed values out)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from robot.money import parse_money

MONEY_RE = re.compile(r"-?\(?\$-?[\d,]+(?:\.\d{1,2})?\)?")
DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
NUMBER_RE = re.compile(r"#\s*(\d+)")

#: Jobber's status labels → the robot's keys.
STATUS_KEYS = {
    "draft": "draft",
    "awaiting payment": "awaiting_payment",
    "past due": "past_due",
    "paid": "paid",
    "bad debt": "bad_debt",
    "voided": "voided",
    "awaiting response": "awaiting_response",
    "approved": "approved",
    "converted": "converted",
    "archived": "archived",
}


def money(text: str) -> Decimal:
    m = MONEY_RE.search(text)
    if not m:
        raise ValueError(f"no amount in {text!r}")
    return parse_money(m.group(0).replace("$-", "-$").replace("-$", "-"))


def money_or_zero(text: str | None) -> Decimal:
    if not text:
        return Decimal("0.00")
    try:
        return money(text)
    except ValueError:
        return Decimal("0.00")


def amounts(text: str) -> list[Decimal]:
    return [money(m.group(0)) for m in MONEY_RE.finditer(text)]


def iso_date(text: str) -> date | None:
    m = DATE_RE.search(text)
    return date.fromisoformat(m.group(1)) if m else None


_HUMAN_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%d %b %Y", "%m/%d/%Y", "%Y-%m-%d")


def page_date(text: str) -> date | None:
    """A date as Jobber shows it: "Sep 26, 2025" (or ISO, or "September 26, 2025"); None when the
    text carries no date ("Net 30", "Upon receipt")."""
    text = " ".join(text.replace("Sept ", "Sep ").split())
    for fmt in _HUMAN_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return iso_date(text)


def integer(text: str) -> int | None:
    """A whole number in a cell ("1042", "#1042")."""
    m = re.search(r"\d+", text)
    return int(m.group(0)) if m else None


def number(text: str) -> int | None:
    m = NUMBER_RE.search(text)
    return int(m.group(1)) if m else None


def status_key(label: str) -> str:
    return STATUS_KEYS.get(label.strip().lower(), label.strip().lower().replace(" ", "_"))


def cells(row_text: str) -> list[str]:
    """A table row's innerText split into its cells."""
    return [c.strip() for c in re.split(r"\t|\n", row_text) if c.strip()]
