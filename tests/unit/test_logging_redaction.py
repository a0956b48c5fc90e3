import json
import logging
from pathlib import Path

from robot.config import load_settings
from robot.logging import configure_logging, get_logger, redact_text, register_secret


def test_redaction_by_key_by_value_and_card_shape(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path)
    configure_logging(settings, console=True, console_level="INFO")  # both outputs carry every line
    register_secret("s3cret-passw0rd")
    log = get_logger(merchant="acme")
    log.info("login attempt", password="s3cret-passw0rd", note="typed s3cret-passw0rd into the field",
             seed="JBSWY3DPEHPK3PXP", code="123456", card="4111 1111 1111 1111", invoice=1042)
    try:
        raise RuntimeError("fill failed for value s3cret-passw0rd")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger().handlers[-1].flush()
    written = (tmp_path / "logs" / "robot.jsonl").read_text() + capsys.readouterr().err
    for secret in ("s3cret-passw0rd", "JBSWY3DPEHPK3PXP", "123456", "4111 1111 1111 1111"):
        assert secret not in written
    first = json.loads((tmp_path / "logs" / "robot.jsonl").read_text().splitlines()[0])
    assert first["merchant"] == "acme" and first["invoice"] == 1042
    assert first["password"] == "[REDACTED]"


def test_redact_text_leaves_ordinary_numbers() -> None:
    assert redact_text("invoice 1042 total 150.00 phone 5555550199") == "invoice 1042 total 150.00 phone 5555550199"
    # a number no other test registers as a secret, so the card-shape rule is what masks it
    assert redact_text("pan 4000056655665556") == "pan [CARD]"


def test_one_shot_console_shows_warnings_while_the_file_keeps_every_step(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path)
    configure_logging(settings, console=True)
    log = get_logger(merchant="acme")
    log.info("step started", step="verify")
    log.warning("invoice is past due", invoice=1051)
    for h in logging.getLogger().handlers:
        h.flush()
    console = capsys.readouterr().err
    assert "invoice is past due" in console and "step started" not in console
    events = [json.loads(line)["event"] for line in (tmp_path / "logs" / "robot.jsonl").read_text().splitlines()]
    assert events == ["step started", "invoice is past due"]


def test_a_short_secret_inside_a_card_number_does_not_unmask_the_rest() -> None:
    register_secret("5105")  # e.g. a PIN-like secret that happens to start a card number
    masked = redact_text("declined 5105 1051 0510 5100 for pw 5105!")
    assert masked == "declined [CARD] for pw [REDACTED]!"


# --- issue 11 item 14: card numbers are masked, pieces of identifiers are not ------------------
# (numbers no other test registers as a secret: registered secrets are masked wherever they are,
# so the card-shape rule is what is tested here)

#: Luhn-valid: 16, 15 and 12 digits
PAN16, PAN15, PAN12 = "4661318609139090", "379416520831471", "561029384758"
#: a job id whose hex happens to hold a Luhn-valid 16-digit run (it was logged as job-564c[CARD]bd)
DIGIT_RUN_JOB_ID = f"job-564c{PAN16}bd"


def _grouped(pan: str, sep: str) -> str:
    return sep.join(pan[i:i + 4] for i in range(0, len(pan), 4))


def test_an_id_with_a_long_digit_run_is_logged_whole(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    configure_logging(settings, console=False)
    get_logger(job=DIGIT_RUN_JOB_ID).info("job started", note=f"running {DIGIT_RUN_JOB_ID} now",
                                          txn=f"txn_ab{PAN15}cd")
    logging.getLogger().handlers[-1].flush()
    line = json.loads((tmp_path / "logs" / "robot.jsonl").read_text().splitlines()[-1])
    assert line["job"] == DIGIT_RUN_JOB_ID
    assert line["note"] == f"running {DIGIT_RUN_JOB_ID} now"
    assert line["txn"] == f"txn_ab{PAN15}cd"


def test_card_numbers_with_separators_and_bounded_by_punctuation_are_masked() -> None:
    shapes = [_grouped(PAN16, sep) for sep in (" ", "-", "_", " - ", "/", "\u00a0")] + [PAN15, PAN12, PAN16]
    for shown in shapes:
        for text in (f"card {shown} declined", f"(card={shown})", f"tok_{shown}", f"{shown}"):
            masked = redact_text(text)
            assert shown not in masked and "[CARD]" in masked, (text, masked)
    # a card number followed by more numbers (expiry, CVV) is still found
    assert redact_text(f"pan {_grouped(PAN16, ' ')} 12 30 123").startswith("pan [CARD]")
    # not Luhn-valid, too short, or a piece of a longer alphanumeric identifier: kept as it is
    not_luhn = PAN16[:-1] + str((int(PAN16[-1]) + 1) % 10)
    for kept in (f"card {_grouped(not_luhn, ' ')}", f"ref {PAN16[:11]}", f"id a{PAN16}", f"{PAN16}x",
                 DIGIT_RUN_JOB_ID, "at 2026-12-02T03:04:05.123456Z"):
        assert redact_text(kept) == kept, kept
