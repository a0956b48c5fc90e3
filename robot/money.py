"""Money as Decimal with two places: parsing, validation and display. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

CENT = Decimal("0.01")


def parse_money(value: object) -> Decimal:
    """Parse "$1,234.50", "150", Decimal or int; refuse floats (they are not exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("must be a decimal string or integer, not a float")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("$", "").replace(",", "")
        negative = text.startswith("(") and text.endswith(")")
        text = text.strip("()")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount") from None
        if negative:
            d = -d
    else:
        raise ValueError("must be an amount")
    if not d.is_finite():
        raise ValueError("must be a finite amount")
    return d


def _two_places(d: Decimal) -> Decimal:
    if d != d.quantize(CENT):
        raise ValueError("must have at most 2 decimal places")
    return d.quantize(CENT)


def _positive(d: Decimal) -> Decimal:
    if d <= 0:
        raise ValueError("must be greater than 0")
    return d


def to_cents(d: Decimal) -> int:
    return int((d * 100).to_integral_value(ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def fmt(d: Decimal | None, currency: str = "USD") -> str:
    if d is None:
        return "—"
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.2f}"


_ser = PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")

#: Any amount with at most two decimals (balances may be 0 or negative).
Money = Annotated[Decimal, BeforeValidator(parse_money), AfterValidator(_two_places), _ser]
#: An amount to move: > 0, at most two decimals.
PositiveMoney = Annotated[Decimal, BeforeValidator(parse_money), AfterValidator(_two_places), AfterValidator(_positive), _ser]
