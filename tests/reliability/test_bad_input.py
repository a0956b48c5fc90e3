"""Bad input, generated: job payloads and `jobber-robot enqueue …` command lines with hostile values.

Each example puts one bad value into one field of an otherwise good job (wrong types, huge and
unicode strings, negative / NaN / infinite / 3-decimal / exponent amounts, card numbers with and
without separators, injection strings, control characters, unknown merchants; on the command
line also stray arguments and unknown options). Each must be refused with a typed error naming
the field, must not repeat the value, and must change nothing: the job store, the mock Jobber's
and the sandbox's state are compared before and after every example.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from robot.jobs.models import parse_job, validation_problems
from tests.reliability.queue_env import make_env

CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
DEPOSIT = {"kind": "deposit", "merchant": "acme", "invoice": 1050, "amount": "10.00",
           "tender": {"type": "card_on_file", "customer_id": "cus_okafor"}}
QUOTE = {"kind": "quote_deposit", "merchant": "acme", "quote": 12, "amount": "10.00",
         "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
REFUND = {"kind": "refund", "merchant": "acme", "transaction_id": "txn_0123456789abcdef", "amount": "1.00"}
GOOD = [CHARGE, DEPOSIT, QUOTE, REFUND]

CARDS = ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444", "378282246310005"]
INJECTION = ["'; DROP TABLE workflow_status; --", "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x}",
             "../../etc/passwd", "[bold red]x[/]", "\x1b[31mred", "\x00nul", "a\nb", "%s%s%n"]
BAD_AMOUNTS = ["-1.00", "0", "0.00", "NaN", "nan", "Infinity", "-inf", "1.234", "1e3", "1E-2", "12,50", " 1.00",
               "1.00 ", "$5.00", "٣.٠٠", "1_000", "0x10", "", "9" * 40, "10000000.00"]

hostile_text = st.one_of(st.sampled_from(CARDS + INJECTION), st.text(min_size=0, max_size=40),
                         st.text(min_size=5000, max_size=6000).map(lambda s: s or "x" * 5000))
wrong_type = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
bad_amount = st.one_of(st.sampled_from(BAD_AMOUNTS), st.floats(allow_nan=True, allow_infinity=True),
                       st.decimals(allow_nan=True).map(str).filter(lambda s: not _fine_amount(s)))
#: what a lax int reads as a number and nobody meant as one ("1.0" → 1, "1_042" → 1042, true → 1)
MISREAD_NUMBERS = ["1.0", "+7", "1_042", " 1042", "1042 ", "\t1042\n", True, False, 1.0, 1042.0]
bad_number = st.one_of(st.integers(max_value=0), st.integers(min_value=2**31),
                       st.sampled_from(["1e3", 10.5, "10.5", "#1042", *MISREAD_NUMBERS]),
                       hostile_text.filter(lambda s: not _fine_number(s)))


def _fine_number(s: str) -> bool:
    """A document number as a string of digits is a number (a POS may send "1042")."""
    return s.isascii() and s.isdigit() and 1 <= int(s) < 2**31


def _fine_amount(s: str) -> bool:
    import re

    return bool(re.fullmatch(r"\d{1,10}(\.\d{1,2})?", s)) and float(s) > 0 and float(s) <= 1_000_000


@st.composite
def bad_payload(draw: st.DrawFn) -> tuple[dict[str, Any], str, Any]:
    """(payload, field path that is bad, the bad value)."""
    job = json.loads(json.dumps(draw(st.sampled_from(GOOD))))
    fields = [f for f in ("merchant", "amount", "invoice", "quote", "tender.customer_id", "transaction_id", "client",
                          "extra") if f.split(".")[0] in job or f in ("client", "extra")]
    field = draw(st.sampled_from(fields))
    if field == "amount":
        value = draw(st.one_of(bad_amount, wrong_type.filter(lambda v: v is not None)))
    elif field in ("invoice", "quote"):
        value = draw(bad_number)
    elif field == "merchant":
        # a well-formed slug of no merchant is the intake's vault check (the command-line test below)
        value = draw(st.one_of(hostile_text, wrong_type, st.sampled_from(["ACME", "a"])).filter(
            lambda v: not (isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,62}", v))))
    elif field == "client":
        if job["kind"] not in ("charge", "deposit"):
            field, value = "extra", "x"
        else:
            value = draw(st.one_of(st.sampled_from(CARDS), st.just(""), st.text(min_size=201, max_size=300),
                                   wrong_type.filter(lambda v: v is not None)))
    elif field == "extra":
        value = draw(hostile_text)
    else:
        value = draw(st.one_of(hostile_text.filter(lambda s: not s.isascii() or len(s) < 4 or not s.isalnum()),
                               st.sampled_from(CARDS), wrong_type))
    if field == "extra":
        job["password"] = value
    elif "." in field:
        a, b = field.split(".")
        job[a][b] = value
    else:
        job[field] = value
    return job, ("password" if field == "extra" else field), value


def _shown(value: Any) -> list[str]:
    """The forms in which a value would be repeated back (long enough to be a real echo)."""
    if not isinstance(value, str) or len(value.strip()) < 6:
        return []
    return [value, json.dumps(value)[1:-1]]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(bad_payload())
def test_a_bad_payload_is_refused_naming_the_field(case: tuple[dict[str, Any], str, Any]) -> None:
    payload, field, value = case
    with pytest.raises(ValidationError) as info:
        parse_job(payload)
    problems = validation_problems(info.value)
    text = json.dumps(problems)
    names = [p["field"] for p in problems]
    assert any(n == field or n.startswith(field + ".") or field.startswith(n) for n in names) or \
        (field in ("invoice", "client") and names == ["body"]), (field, problems)
    for shown in _shown(value):
        assert shown not in text, f"{field}: the value is repeated back"


@pytest.mark.parametrize("value", MISREAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", ["invoice", "quote"])
def test_a_document_number_is_taken_as_written_or_refused(field: str, value: Any) -> None:
    job = {"kind": "charge", "merchant": "acme", "invoice": 1042,
           "tender": {"type": "card_on_file", "customer_id": "cus_chen"}} if field == "invoice" else \
          {"kind": "quote_deposit", "merchant": "acme", "quote": 7, "amount": "10.00",
           "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
    assert parse_job({**job, field: "1042"}).model_dump()[field] == 1042  # digits are a number
    with pytest.raises(ValidationError) as info:
        parse_job({**job, field: value})
    assert [p["field"] for p in validation_problems(info.value)] == [field]


# --- the command line ------------------------------------------------------------------------

class _Quiet:
    """The robot env without its variables in a failing example's report (they hold keys)."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.settings = env.settings

    def __repr__(self) -> str:
        return "<robot env>"


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory, mock_jobber: Any, world_sandbox: Any) -> Any:
    env = make_env(tmp_path_factory.mktemp("bad-cli"), mock_jobber, world_sandbox)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.env.items() if k.startswith("JOBBER_ROBOT_")})
    from robot.config import get_settings

    get_settings.cache_clear()
    try:
        yield _Quiet(env)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        env.stop_all()


def _store_rows(env: Any) -> list[tuple[Any, ...]]:
    db = env.settings.data_path / "jobs.sqlite"
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db)) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [(t, *row) for t in sorted(tables) for row in c.execute(f'SELECT * FROM "{t}"')]


def _world(env: Any, site: Any, sandbox: Any) -> Any:
    box = {k: v for k, v in sandbox.admin.state().items() if k != "now"}  # the clock moves on
    jobber = {k: v for k, v in site.admin.state().items() if k != "now"}
    return _store_rows(env), jobber, box


def run_cli(args: list[str]) -> tuple[int, str]:
    from robot.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["jobber-robot", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        sys.argv = argv
    return code, out.getvalue() + err.getvalue()


BASE = {"charge": ["-m", "acme", "--invoice", "1042", "--card-on-file", "cus_chen"],
        "deposit": ["-m", "acme", "--invoice", "1050", "--amount", "10.00", "--card-on-file", "cus_okafor"],
        "quote-deposit": ["-m", "acme", "--quote", "12", "--amount", "10.00", "--card-on-file", "cus_chen"],
        "refund": ["-m", "acme", "--transaction", "txn_0123456789abcdef", "--amount", "1.00"]}
OPTION_FIELD = {"-m": "merchant", "--invoice": "invoice", "--amount": "amount", "--quote": "quote",
                "--card-on-file": "tender.customer_id", "--transaction": "transaction_id"}
cli_text = st.one_of(st.sampled_from(CARDS + INJECTION + BAD_AMOUNTS),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                             min_size=1, max_size=30))


@st.composite
def bad_command(draw: st.DrawFn) -> tuple[list[str], str | None, str]:
    kind = draw(st.sampled_from(sorted(BASE)))
    args = list(BASE[kind])
    how = draw(st.sampled_from(["value", "value", "value", "extra", "option"]))
    value = draw(cli_text)
    if how == "extra":
        return ["enqueue", kind, *args, value], None, value
    if how == "option":
        return ["enqueue", kind, *args, f"--x{value.strip('-') or 'y'}", "1"], None, value
    options = [a for a in args[::2] if a in OPTION_FIELD]
    option = draw(st.sampled_from(options))
    i = args.index(option)
    if option in ("--amount",):
        value = draw(st.sampled_from(BAD_AMOUNTS + CARDS).filter(bool))
    if option == "-m":
        value = draw(st.one_of(st.sampled_from(CARDS + ["nosuchmerchant", "ACME"]), cli_text))
    args[i + 1] = value
    if value.startswith("-"):
        args[i] = f"{option}={value}" if option.startswith("--") else option + value
        del args[i + 1]
    return ["enqueue", kind, *args], OPTION_FIELD[option], value


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(bad_command())
@example((["enqueue", "charge", *BASE["charge"], "--xInfinity", "1"], None, "Infinity"))  # found by CI
@example((["enqueue", "charge", "-m", "acme", "--invoice", "1042.00", "--card-on-file", "cus_chen"], "invoice",
          "1042.00"))  # found by hypothesis: typer's int read it as invoice 1042
@example((["enqueue", "quote-deposit", "-m", "acme", "--quote", "1_2", "--amount", "10.00", "--card-on-file", "cus_chen"],
          "quote", "1_2"))
def test_a_bad_command_line_is_refused_naming_the_field_and_changes_nothing(
        cli_env: Any, mock_jobber: Any, world_sandbox: Any, case: tuple[list[str], str | None, str]) -> None:
    args, field, value = case
    if field is not None and _valid_anyway(field, value):
        return  # a value that is good after all (hypothesis found a valid token or amount)
    before = _world(cli_env, mock_jobber, world_sandbox)
    code, out = run_cli(args)
    assert code == 2, f"exit {code} for {args!r}: {out}"
    assert "invalid input" in out, out
    if field is not None:
        flag = next(a for a in args if a.startswith(next(o for o, f in OPTION_FIELD.items() if f == field)))
        assert field.split(".")[-1] in out or flag.split("=")[0] in out or "tender" in out, out
    flat = " ".join(out.split())
    for shown in _shown(value.strip()):
        assert shown not in out and " ".join(shown.split()) not in flat, f"the value is repeated back: {out}"
    assert _world(cli_env, mock_jobber, world_sandbox) == before, "something changed"


def _valid_anyway(field: str, value: str) -> bool:
    base = {"merchant": "acme", "kind": "refund", "transaction_id": "txn_0123456789abcdef"}
    key = {"tender.customer_id": None}.get(field, field)
    if key is None:
        try:
            parse_job({**CHARGE, "tender": {"type": "card_on_file", "customer_id": value}})
            return True
        except (ValidationError, ValueError):
            return False
    try:
        parse_job({**(base if key in ("merchant", "transaction_id", "amount") else CHARGE), key: value}
                  if key != "quote" else {**QUOTE, "quote": value})
    except (ValidationError, ValueError):
        return False
    return key != "merchant" or value in ("acme", "bravo")


def test_state_helpers_see_a_change(cli_env: Any, mock_jobber: Any, world_sandbox: Any, tmp_path: Path) -> None:
    """The comparison can fail: a good command line enqueues a job, and the store shows it."""
    before = _world(cli_env, mock_jobber, world_sandbox)
    code, out = run_cli(["enqueue", "charge", *BASE["charge"]])
    assert code == 0, out
    assert _world(cli_env, mock_jobber, world_sandbox) != before


def test_enqueue_and_no_wait_only_enqueue_and_leave_the_next_command_alone(cli_env: Any, mock_jobber: Any,
                                                                           world_sandbox: Any) -> None:
    """Both spellings come from one command table: `enqueue charge` and `charge --no-wait` put the
    job on the queue, print its id and move no money (no worker runs here); neither leaves the
    process in "enqueue only" mode for the command after it."""
    from robot.cli.inprocess import NO_WAIT

    for args in (["enqueue", "charge", *BASE["charge"]], ["charge", *BASE["charge"], "--no-wait"]):
        rows, jobber, box = _world(cli_env, mock_jobber, world_sandbox)
        code, out = run_cli(args)
        assert code == 0, out
        assert re.search(r"\bjob-[0-9a-f]{20}\b", out), out
        after_rows, after_jobber, after_box = _world(cli_env, mock_jobber, world_sandbox)
        assert len(after_rows) > len(rows)                    # the job is in the store
        assert (after_jobber, after_box) == (jobber, box)     # nothing charged, nothing recorded
        assert NO_WAIT.get() is False
