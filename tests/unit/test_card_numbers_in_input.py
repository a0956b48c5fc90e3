"""Issue 11 item 6: a card number is refused in every token and text field of a job, at the CLI
too, and no error (the CLI's own usage errors included) ever repeats it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from robot.cli import app
from robot.config import get_settings
from robot.errors import RobotError
from robot.jobs.models import parse_job, validation_problems

PAN = "4111 1111 1111 1111"
DASHED = "4111-1111-1111-1111"


@pytest.mark.parametrize("token", [DASHED, "4111_1111_1111_1111", "tok_4111111111111111", "5555555555554444"])
def test_a_card_number_is_not_a_token(token: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_job({"kind": "charge", "merchant": "acme", "invoice": 1, "tender": {"type": "card_token", "token": token}})
    assert validation_problems(info.value) == [{"field": "tender.token", "rule": "looks like a card or account "
                                                "number; tokenize it first (jobber-robot tokenize)"}]
    assert token not in str(info.value)


def test_ordinary_tokens_and_names_pass() -> None:
    job = parse_job({"kind": "charge", "merchant": "acme", "client": "Jonas Okafor (unit 4B), 1042 Elm St",
                     "tender": {"type": "card_token", "token": "tok_9f8e7d6c5b4a39281706"}})
    assert job.tender.token == "tok_9f8e7d6c5b4a39281706"


def test_typed_errors_never_carry_a_card_number() -> None:
    assert PAN not in RobotError(f"no job {PAN}", job=PAN).message
    assert PAN not in str(RobotError(f"no job {PAN}").to_dict())


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()
    assert not (tmp_path / "data" / "jobs.sqlite").exists(), "nothing was queued"


@pytest.mark.parametrize(("args", "field"), [
    (["--amount", PAN, "--card-on-file", "cus_chen"], "amount"),
    (["--amount", DASHED, "--card-on-file", "cus_chen"], "amount"),
    (["--card-token", DASHED], "tender.token"),
    (["--card-on-file", PAN], "tender.customer_id"),
])
def test_cli_refuses_a_card_number_and_never_prints_it(cli, args: list[str], field: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("charge", "--merchant", "acme", "--invoice", "1042", *args)
    assert r.exit_code == 2, r.output
    assert field in r.output
    assert PAN not in r.output and DASHED not in r.output and "4111111111111111" not in r.output


def test_a_card_number_typed_into_a_number_option_is_not_echoed(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("charge", "--merchant", "acme", "--invoice", PAN, "--card-on-file", "cus_chen")
    assert r.exit_code == 2 and "invoice" in r.output  # the field named, its value not repeated
    assert PAN not in r.output
