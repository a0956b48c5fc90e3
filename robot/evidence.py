"""Evidence of a failed job: screenshot, Playwright trace and page HTML, secrets masked.

Everything lands in `settings.artifacts_dir/<job_id>/` with fixed file names (never derived
from page content, so no secret can reach a file name). HTML and every text entry of the trace
zip pass through `robot.logging.redact_text` (registered secrets: password and its form-encoded
variants, TOTP seed, codes, cookies; card-number shaped digits). Password and code fields are
blacked out in the screenshot.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from robot.logging import get_logger, redact_text

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator, Page

_JOB_ID_RE = re.compile(r"[^A-Za-z0-9_.-]+")


def job_dir(artifacts_dir: Path, job_id: str) -> Path:
    safe = _JOB_ID_RE.sub("_", job_id).replace("..", "_").strip(".")[:100] or "job"
    d = artifacts_dir / safe
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def scrub_bytes(data: bytes) -> bytes:
    """Redact a blob when it is text; binary blobs (images) are kept as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redact_text(text).encode("utf-8")


def scrub_trace(src: Path, dest: Path) -> None:
    """Copy a trace zip entry by entry, redacting every text entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, scrub_bytes(zin.read(info.filename)))
    _write_private(dest, buf.getvalue())


def _secret_fields(page: "Page") -> list["Locator"]:
    from robot.locators import PageLocators

    fields: list["Locator"] = []
    for page_key, key in (("sign_in", "password"), ("mfa", "code")):
        fields.extend(PageLocators(page, page_key).candidates(key))
    return fields


async def capture(
    page: "Page | None",
    context: "BrowserContext | None",
    artifacts_dir: Path,
    job_id: str,
    *,
    trace_chunk: bool = False,
) -> list[Path]:
    """Save what the failing page looked like. Never raises: evidence must not mask the error.

    `trace_chunk`: the context is tracing a chunk for this job; stop it into the artifacts.
    """
    log = get_logger("evidence", job=job_id)
    out = job_dir(artifacts_dir, job_id)
    saved: list[Path] = []
    if page is not None and not page.is_closed():
        shot = out / "screenshot.png"
        try:
            data = await page.screenshot(full_page=True, mask=_secret_fields(page), timeout=5_000)
            _write_private(shot, data)
            saved.append(shot)
        except Exception as exc:  # noqa: BLE001 - best effort
            log.warning("screenshot failed", error=type(exc).__name__)
        html = out / "page.html"
        try:
            _write_private(html, redact_text(await page.content()).encode("utf-8"))
            saved.append(html)
        except Exception as exc:  # noqa: BLE001
            log.warning("saving page HTML failed", error=type(exc).__name__)
    if context is not None and trace_chunk:
        trace = out / "trace.zip"
        with tempfile.TemporaryDirectory(prefix="jobber-trace-") as tmp:  # the raw trace never sits in artifacts
            raw = Path(tmp) / "raw.zip"
            try:
                await context.tracing.stop_chunk(path=str(raw))
                scrub_trace(raw, trace)
                saved.append(trace)
            except Exception as exc:  # noqa: BLE001
                log.warning("saving the trace failed", error=type(exc).__name__)
    log.info("evidence saved", files=[p.name for p in saved], folder=str(out))
    return saved
