from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from robot.browser import find_browser
from robot.config import load_settings
from robot.errors import BrowserNotFound, ConfigError
from robot.jobs.models import JobResult, parse_job, validation_problems
from robot.money import fmt, parse_money


def test_money_refuses_float_and_third_decimal() -> None:
    assert parse_money("$1,234.50") == Decimal("1234.50")
    with pytest.raises(ValueError):
        parse_money(1.5)
    with pytest.raises(ValidationError):
        parse_job({"kind": "charge", "merchant": "acme", "invoice": 1, "amount": "1.001",
                   "tender": {"type": "card_token", "token": "tok_abc"}})
    assert fmt(Decimal("1234.5")) == "$1,234.50"


def test_job_errors_name_the_field_and_never_echo_a_card_number() -> None:
    pan = "4111111111111111"
    with pytest.raises(ValidationError) as info:
        parse_job({"kind": "charge", "merchant": "acme", "invoice": 1,
                   "tender": {"type": "card_token", "token": pan}})
    assert pan not in str(info.value)
    problems = validation_problems(info.value)
    assert problems == [{"field": "tender.token", "rule": "looks like a card or account number; tokenize it first (jobber-robot tokenize)"}]


def test_job_needs_invoice_or_client() -> None:
    with pytest.raises(ValidationError, match="give an invoice number or a client"):
        parse_job({"kind": "charge", "merchant": "acme", "tender": {"type": "card_token", "token": "tok_abc"}})


def test_result_serializes_money_as_strings() -> None:
    r = JobResult(job_id="j", kind="charge", merchant="acme", outcome="succeeded", amount_captured="150")
    assert '"amount_captured":"150.00"' in r.model_dump_json()


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBER_ROBOT_JOBBER_URL", "ftp://nope")
    with pytest.raises(ConfigError, match="JOBBER_ROBOT_JOBBER_URL"):
        load_settings()


def test_browser_finder_explains_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        find_browser(tmp_path / "no-such-chromium")
    assert find_browser().exists()
