"""Issue 11 item 5: one amount rule (robot/money.py) for the CLI, the intake and the job models.

An amount is ASCII digits with at most one dot and two decimals, > 0 and at most the configured
ceiling (JOBBER_ROBOT_MAX_AMOUNT, default $1,000,000.00). Anything else is a typed error naming
`amount` that never repeats the value; nothing crashes (no traceback, no 500).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from robot.cli import app
from robot.config import get_settings
from robot.errors import InputError
from robot.jobs.models import parse_job, validation_problems
from robot.money import AMOUNT_FORMAT_RULE, parse_amount

BAD_AMOUNTS: list[object] = [
    "1e30", "1" + "0" * 29, 10**30, "1,0,0", "1e2", "1E2", "1_0_0", "١٠٠", "１００", "100\u00a0", " 100", "100.",
    ".50", "1.234", "1.2.3", "-5", "+5", "0", "0.00", "$100", "NaN", "Infinity", "", "1000000.01", 1.5, True,
    Decimal("NaN"), Decimal("-1"),
]


def _charge(amount: object) -> dict[str, object]:
    return {"kind": "charge", "merchant": "acme", "invoice": 1042, "amount": amount,
            "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
def test_bad_amounts_are_a_typed_error_naming_amount(value: object) -> None:
    with pytest.raises(InputError) as info:
        parse_amount(value)
    assert info.value.field == "amount"
    with pytest.raises(ValidationError) as job_info:
        parse_job(_charge(value))
    problems = validation_problems(job_info.value)
    assert [p["field"] for p in problems] == ["amount"], problems
    if isinstance(value, str) and len(value.strip()) > 1:
        said = str(job_info.value).replace(AMOUNT_FORMAT_RULE, "")  # the rule's own example "150.50"
        assert value.strip() not in said, "the value was repeated back"


@pytest.mark.parametrize(("value", "expected"), [
    ("150", "150.00"), ("150.5", "150.50"), ("150.50", "150.50"), (150, "150.00"), ("0.01", "0.01"),
    ("1000000.00", "1000000.00"), (Decimal("95.5"), "95.50"),
])
def test_good_amounts(value: object, expected: str) -> None:
    assert parse_amount(value) == Decimal(expected)
    assert str(parse_job(_charge(value)).amount) == expected


def test_the_ceiling_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBER_ROBOT_MAX_AMOUNT", "500")
    get_settings.cache_clear()
    try:
        assert parse_job(_charge("500.00")).amount == Decimal("500.00")
        with pytest.raises(ValidationError) as info:
            parse_job(_charge("500.01"))
        assert validation_problems(info.value)[0]["field"] == "amount"
        assert "$500.00" in validation_problems(info.value)[0]["rule"]
    finally:
        monkeypatch.delenv("JOBBER_ROBOT_MAX_AMOUNT")
        get_settings.cache_clear()


@pytest.mark.parametrize("value", ["1e30", "1" + "0" * 29, "1,0,0", "١٠٠"])
def test_cli_refuses_bad_amounts_with_exit_2_and_no_traceback(value: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["charge", "--merchant", "acme", "--invoice", "1042", "--amount", value,
                                     "--card-on-file", "cus_chen"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2, (r.output, r.exception)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    assert "amount" in r.output and "Traceback" not in r.output
    assert value not in r.output
    assert not (tmp_path / "data" / "jobs.sqlite").exists(), "nothing was queued"
