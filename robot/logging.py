"""structlog set-up: readable lines on the console, JSON lines in a file, secrets never in either.

Secrets are dropped twice: by key name (password, seed, code, cookie, card data, ...) and by
value (every secret the robot has loaded is registered here, and anything that looks like a
card number is masked), so a secret that slips into a message or a URL is still caught.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from robot.cards import card_number_spans

REDACTED = "[REDACTED]"
SENSITIVE_KEYS = frozenset({
    "password", "passwd", "jobber_password", "seed", "totp_seed", "secret", "code", "otp",
    "cookie", "cookies", "storage_state", "card_number", "pan", "cvv", "cvc",
    "account_number", "routing_number", "api_key", "authorization", "x-api-key", "credential_key",
})

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it shows up later."""
    global _secret_re
    if not value or len(value) < 4:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def registered_secrets() -> frozenset[str]:
    with _secrets_lock:
        return frozenset(_secrets)


def redact_text(text: str) -> str:
    """Mask every registered secret and every card number (robot.cards: Luhn-valid 12-19 digits,
    grouped or not, bounded by non-alphanumerics, so a digit run inside an id is left alone).

    Both are found on the original text and the overlapping spans merged, so a short secret
    inside a card number (or a card number inside a password) cannot hide the rest of it.
    """
    spans: list[tuple[int, int, bool]] = []  # start, end, is_card
    spans.extend((start, end, True) for start, end in card_number_spans(text))
    pattern = _secret_re
    if pattern is not None:
        spans.extend((m.start(), m.end(), False) for m in pattern.finditer(text))
    if not spans:
        return text
    spans.sort()
    merged: list[list[Any]] = []
    for start, end, card in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] or card
        else:
            merged.append([start, end, card])
    out, last = [], 0
    for start, end, card in merged:
        out.append(text[last:start])
        out.append("[CARD]" if card else REDACTED)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_value(key: str | None, value: Any) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, MutableMapping):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [redact_value(None, v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return value


def redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict.keys()):
        event_dict[key] = redact_value(key if key != "event" else None, event_dict[key])
    return event_dict


def _redact_exc_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # format_exc_info has turned exc_info into text by now: scrub it too.
    if "exception" in event_dict and isinstance(event_dict["exception"], str):
        event_dict["exception"] = redact_text(event_dict["exception"])
    return event_dict


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    _redact_exc_processor,
    redact_processor,
]

_configured = False


class PrivateFileHandler(logging.FileHandler):
    """A FileHandler whose file is 0600 from its first byte, whatever the umask.

    The JSON log names merchants, invoices, amounts and job ids (secrets are masked, the rest is
    still the merchants' business), and logging.FileHandler opens with open(), i.e. 0666 & ~umask:
    0644 under the usual umask. A log file made earlier with a looser mode is tightened too.
    """

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


def _level(name: str | None, default: str) -> int:
    return int(getattr(logging, (name or default).upper(), logging.INFO))


def configure_logging(settings: Any = None, *, console: bool = True, level: str | None = None,
                      console_level: str | None = None) -> None:
    """Console (readable) + file (JSON) output through the stdlib root logger.

    The file keeps everything at `level` (settings.log_level); the console of a one-shot command
    shows only `console_level` (settings.console_log_level) because people read its rich summary
    instead; services pass console_level=settings.log_level. Safe to call more than once (the
    last call wins) so tests and the CLI can both use it.
    """
    global _configured
    lvl = _level(level, getattr(settings, "log_level", "INFO"))
    console_default = level or getattr(settings, "console_log_level", None) or logging.getLevelName(lvl)
    console_lvl = _level(console_level, console_default)
    handlers: list[logging.Handler] = []
    if console:
        h = logging.StreamHandler(sys.stderr)
        h.setLevel(console_lvl)
        h.setFormatter(structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())],
            foreign_pre_chain=_SHARED,
        ))
        handlers.append(h)
    if settings is not None:
        settings.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fh = PrivateFileHandler(settings.logs_dir / "robot.jsonl", encoding="utf-8")
        fh.setLevel(lvl)
        fh.setFormatter(structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.JSONRenderer(default=str)],
            foreign_pre_chain=_SHARED,
        ))
        handlers.append(fh)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_jobber_robot", False):
            root.removeHandler(old)
            old.close()
    for handler in handlers:
        handler._jobber_robot = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(lvl, console_lvl) if console else lvl)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not _configured:
        structlog.configure(
            processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
        _configured = True


def get_logger(name: str = "robot", **bound: Any) -> Any:
    if not _configured:
        configure_logging(console=True)
    return structlog.get_logger(name).bind(**bound)


def bind_context(**context: Any) -> None:
    """Bind merchant/job/step for everything logged in this task from now on."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in context.items() if v is not None})


def clear_context(keys: Iterable[str] | None = None) -> None:
    if keys is None:
        structlog.contextvars.clear_contextvars()
    else:
        structlog.contextvars.unbind_contextvars(*keys)
