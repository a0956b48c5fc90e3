"""No card number, CVV or bank account number in any log line or exception text of a gateway run,
nor in the sandbox's database (it keeps fingerprints and masked forms only)."""

from __future__ import annotations

import logging
import re
import traceback
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.config import load_settings
from robot.gateway import GatewayError
from robot.logging import configure_logging, get_logger
from tests.plugin_gateway import ACCOUNT, DECLINE, INSUFFICIENT, ROUTING, make_gateway

CARDS = ["378282246310005", "4000000000000002", "4000000000009995", "4111111111111112", "6011111111111117"]
CVV = "7391"         # 4 digits (Amex) so it is recognisable
CVV3 = "846"


def _leaks(text: str) -> list[str]:
    found = []
    digits_only = re.sub(r"[ -]", "", text)
    for card in CARDS + [ACCOUNT]:
        if card in text or card in digits_only:
            found.append(card)
    for cvv in (CVV, CVV3):
        if re.search(rf"(?<![0-9A-Za-z]){cvv}(?![0-9A-Za-z])", text):
            found.append(cvv)
    return found


async def test_no_card_data_in_logs_exceptions_or_db(tmp_path: Path, gateway_sandbox: GatewaySandbox,
                                                     caplog: pytest.LogCaptureFixture,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    assert _leaks(f"x {CARDS[0]} y") and _leaks(f"cvv={CVV}") and not _leaks("txn_a7391b 2026-11-25T11:30:04.739100Z")
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    settings = load_settings(data_dir=tmp_path, log_level="DEBUG")
    configure_logging(settings, console=True, level="DEBUG")
    for name in ("httpx", "httpcore", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def keep(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), "".join(traceback.format_exception(exc))])
        if isinstance(exc, GatewayError):
            texts.append(repr(exc.to_dict()))

    try:
        async with make_gateway(gateway_sandbox.url) as gw:
            log = get_logger("test.secrets")
            amex = await gw.tokenize_card(CARDS[0], 12, 2031, CVV)
            texts.append(repr(amex))
            await gw.charge(amex.id, Decimal("10.00"), idempotency_key="s-1")
            for number, cvv in ((DECLINE, CVV3), (INSUFFICIENT, CVV3)):
                tok = await gw.tokenize_card(number, 12, 2031, cvv)
                try:
                    await gw.charge(tok.id, Decimal("10.00"), idempotency_key=f"s-{number[-4:]}")
                except GatewayError as exc:
                    keep(exc)
            for number, cvv in ((CARDS[3], CVV3), (CARDS[4], "12"), (CARDS[0], CVV3), ("4111-1111", CVV3)):
                try:
                    await gw.tokenize_card(number, 12, 2031, cvv)
                except GatewayError as exc:
                    keep(exc)
            try:
                await gw.tokenize_card(CARDS[4], 12, 2001, CVV3)
            except GatewayError as exc:
                keep(exc)
            gateway_sandbox.admin.faults(fail_next=1, match="/tokens/card")
            await gw.tokenize_card(CARDS[4], 12, 2031, CVV3)  # retried after a 503
            bank = await gw.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")
            texts.append(repr(bank))
            try:
                await gw.add_bank_account("123456789", ACCOUNT, "Luis Garcia")
            except GatewayError as exc:
                keep(exc)
            # even a careless log call is masked by the redaction layer
            log.info("careless", card_number=CARDS[0], cvv=CVV, note=f"number {CARDS[1]}")
    finally:
        for h in logging.getLogger().handlers:
            h.flush()
        log_file = (settings.logs_dir / "robot.jsonl").read_text(encoding="utf-8")
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in ("httpx", "httpcore", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)

    out, err = capfd.readouterr()
    assert "gateway.tokenized" in log_file and "gateway.declined" in log_file, "the run was logged"
    assert len(texts) >= 10
    everything = {"json log": log_file, "console": out + err, "caplog": caplog.text,
                  "records": "\n".join(str(r.getMessage()) for r in caplog.records),
                  "exceptions": "\n".join(texts)}
    for where, text in everything.items():
        assert _leaks(text) == [], f"card data in {where}"
    db = b"".join(p.read_bytes() for p in Path(gateway_sandbox.data_dir).glob("gateway.sqlite3*"))
    assert _leaks(db.decode("latin-1")) == [], "card data in the sandbox database"
