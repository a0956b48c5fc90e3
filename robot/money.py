"""Money as Decimal with two places: parsing, validation and display. Never float.

Two parsers, for two sources:
- `parse_amount` is THE rule for an amount a person or the POS asks the robot to move (CLI,
  HTTP intake, job models all use it through `PositiveMoney`): ASCII digits with at most one dot
  and two decimals, > 0, at most the configured ceiling. It is strict on purpose: "1,0,0", "1e2",
  "1_0_0" or Arabic-Indic digits are all things `Decimal()` or `int()` happily read as 100, and
  a payment robot must not guess what a mistyped amount meant.
- `parse_money` reads amounts the way Jobber's pages print them ("$1,234.50", "($5.00)").
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from robot.config import get_settings
from robot.errors import ConfigError, InputError

CENT = Decimal("0.01")
#: JOBBER_ROBOT_MAX_AMOUNT's default: no single job moves more than this.
DEFAULT_AMOUNT_CEILING = Decimal("1000000.00")
# ASCII only (re.ASCII; [0-9], not \d which also matches other scripts' digits); one dot; two decimals.
_AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
_NEAR_RE = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?", re.ASCII)
AMOUNT_FORMAT_RULE = "must be digits with at most one dot and two decimals, e.g. 150 or 150.50"


def configured_ceiling() -> Decimal:
    """The process's JOBBER_ROBOT_MAX_AMOUNT (the CLI, `serve` and workers all read it from the
    environment); the default when the settings cannot be read (that error is reported elsewhere)."""
    try:
        return get_settings().max_amount
    except ConfigError:
        return DEFAULT_AMOUNT_CEILING


def parse_amount(value: object, *, ceiling: Decimal | None = None, field: str = "amount") -> Decimal:
    """An amount to move, as Decimal with two places, or InputError(field, rule).

    Accepts a str matching the rule, an int, or a finite Decimal (from code); refuses floats,
    bools and everything else. The rule never quotes the value (it may be a mistyped card number).
    The ceiling is compared before any quantize, so a 30-digit amount is refused, not a crash.
    """
    limit = configured_ceiling() if ceiling is None else ceiling
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InputError(field, AMOUNT_FORMAT_RULE + " (a string, not a float)")
    if isinstance(value, str):
        if len(value) > 40 or not _AMOUNT_RE.fullmatch(value):
            # name the part of the rule a plain decimal broke ("-5", "12.345"), else the format
            if _NEAR_RE.fullmatch(value):
                raise InputError(field, "must be greater than 0" if value.startswith("-")
                                 else "must have at most 2 decimal places")
            raise InputError(field, AMOUNT_FORMAT_RULE)
        d = Decimal(value)
    elif isinstance(value, int):
        d = Decimal(value)
    else:
        if not value.is_finite():
            raise InputError(field, AMOUNT_FORMAT_RULE)
        d = value
    if d <= 0:
        raise InputError(field, "must be greater than 0")
    if d > limit:
        raise InputError(field, f"must be at most {fmt(limit)} (JOBBER_ROBOT_MAX_AMOUNT)")
    if d != d.quantize(CENT):
        raise InputError(field, "must have at most 2 decimal places")
    return d.quantize(CENT)


def _amount_field(value: object) -> Decimal:
    # pydantic names the field (its loc); the rule alone is the message
    try:
        return parse_amount(value)
    except InputError as exc:
        raise ValueError(exc.rule) from None


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
            raise ValueError("is not an amount") from None  # never echo: it may be a card number
        if negative:
            d = -d
    else:
        raise ValueError("must be an amount")
    if not d.is_finite():
        raise ValueError("must be a finite amount")
    return d


def _two_places(d: Decimal) -> Decimal:
    try:
        if d != d.quantize(CENT):
            raise ValueError("must have at most 2 decimal places")
        return d.quantize(CENT)
    except InvalidOperation:  # more digits than the context holds: an error, not a crash
        raise ValueError("is too large") from None


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
#: An amount to move (job inputs): `parse_amount`'s rule.
PositiveMoney = Annotated[Decimal, BeforeValidator(_amount_field), _ser, WithJsonSchema({
    "type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "examples": ["150.00"],
    "description": "dollars as a decimal string, at most two decimals, greater than 0 "
                   "(at most JOBBER_ROBOT_MAX_AMOUNT)"})]
