"""Evidence of a failed job: screenshot, Playwright trace and page HTML, secrets masked.

Everything lands in `settings.artifacts_dir/<job_id>/` with fixed file names (never derived
from page content, so no secret can reach a file name), 0600. Password and code fields are
blacked out in the screenshot. HTML and every text entry of the trace zip go through a
`Scrubber`, which masks by shape, not by a list of names, because a list always misses the next
cookie (the pending sign-in cookie was missed) or the next form token:

- every cookie value: `Cookie` / `Set-Cookie` headers and `cookies` lists (the trace's network
  log, storage state) are masked structurally, name kept, value "[REDACTED]";
- every token-like hidden input value and every csrf/token `<meta>` content, in saved HTML and
  in the trace's DOM snapshots (hidden inputs hold CSRF/authenticity tokens, Auth0 `state`...);
- every value found that way, and every cookie of the browser context, wherever else it shows
  up (a form body, a URL, inline script), URL-encoded variants included;
- then `robot.logging.redact_text` (registered secrets: password, seed, codes; card numbers).

Playwright can only hand a trace over as a file, and that raw file holds the typed password and
every cookie; so does the trace it records as the browser works. Both are written in
`artifacts_dir/.unscrubbed/`, a 0700 spool, never the system temp folder: a process killed -9
between that write and its clean-up (an OOM kill, a deploy, the reliability suite's kills) left
them in /tmp for good. Each sits in its own folder with a lock its process holds while it works
(a raw trace while it is scrubbed, the browser's traces for the browser's life); a folder whose
lock nobody holds belongs to a dead process and the next capture, or the next session pool to
start, removes it (`sweep_unscrubbed`).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from robot.faultpoints import crash_point
from robot.locators import PageLocators
from robot.logging import REDACTED, get_logger, redact_text

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator, Page

_JOB_ID_RE = re.compile(r"[^A-Za-z0-9_.-]+")


def job_dir_path(artifacts_dir: Path, job_id: str) -> Path:
    """Where a job's evidence goes (not made)."""
    safe = _JOB_ID_RE.sub("_", job_id).replace("..", "_").strip(".")[:100] or "job"
    return artifacts_dir / safe


def job_dir(artifacts_dir: Path, job_id: str) -> Path:
    d = job_dir_path(artifacts_dir, job_id)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


UNSCRUBBED_DIR = ".unscrubbed"  # a job id never maps here: job folders never start with a dot
_LOCK_NAME = ".lock"
#: a spool folder with no lock file yet is being made (mkdtemp, then the lock); older than this,
#: its process died in between
_UNLOCKED_GRACE_SECONDS = 300.0


def sweep_unscrubbed(artifacts_dir: Path) -> int:
    """Remove the spool folders of processes that died (raw traces not yet scrubbed, a browser's
    traces); how many went.

    A folder is dead when its lock can be taken: flock locks die with their process, whatever
    its pid was (a restarted container reuses pids), and a live capture in this very process
    holds its own lock through another open file, so it is left alone too."""
    root = artifacts_dir / UNSCRUBBED_DIR
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return 0
    removed = 0
    for folder in folders:
        try:
            fd = os.open(folder / _LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            try:
                young = time.time() - folder.stat().st_mtime < _UNLOCKED_GRACE_SECONDS
            except OSError:
                continue
            if not young:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            continue
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live capture
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    if removed:
        get_logger("evidence").warning("removed raw traces left by a killed process", folders=removed)
    return removed


@contextmanager
def unscrubbed_spool(artifacts_dir: Path, prefix: str = "trace-") -> Iterator[Path]:
    """A private folder for raw traces, locked while this process works in it, then removed."""
    root = artifacts_dir / UNSCRUBBED_DIR
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))  # 0700
    fd = os.open(folder / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def drop_trace_files(traces_dir: Path | None, name: str | None, *, still_tracing: bool) -> None:
    """Delete what the browser recorded for one context's tracing `name` (`tracing.start(name=)`).

    Playwright keeps each chunk's action log (a typed password among them) until the browser
    closes, so a worker's browser that lived for weeks kept every job's in clear. A chunk is read
    only when it is stopped: once it is, it and the network copy zipped with it go
    (`still_tracing`); once the tracing stops, all of its files go. Other contexts' files and the
    shared `resources/` folder are left alone: another job may be recording into them."""
    if traces_dir is None or not name:
        return
    try:
        paths = list(traces_dir.iterdir())
    except OSError:
        return
    for path in paths:
        n = path.name
        ours = n.startswith(name + "-") or (not still_tracing and n.startswith(name + "."))
        if ours and path.is_file():
            path.unlink(missing_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


#: a hidden input's value that is a token whatever its name: 16+ characters of a token alphabet
#: (hex, base64, base64url, JWT) mixing letters and digits. Ids ("1042") and paths ("/invoices",
#: the sign-in form's `next`) are not tokens and stay readable in the evidence.
_TOKENISH_RE = re.compile(r"^(?!/)(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9+/=_.~-]{16,}$")
#: names that say "secret" whatever the value looks like
_SECRET_NAME_RE = re.compile(r"token|csrf|xsrf|nonce|state|secret|session|auth|sig|key|otp|pass", re.I)
_TAG_RE = re.compile(r"<(input|meta)\b[^>]*>", re.I)
_ATTR_RE = re.compile(r"""([^\s=/>"']+)\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+)""")
#: shortest harvested value replaced everywhere (shorter ones are masked where they were found)
_MIN_REPLACE = 6


def _hidden_secret(name: str, value: str) -> bool:
    return bool(value) and bool(_TOKENISH_RE.match(value) or _SECRET_NAME_RE.search(name))


def _meta_secret(name: str, content: str) -> bool:
    return bool(content) and name.lower() != "csrf-param" and bool(re.search(r"csrf|xsrf|token|nonce", name, re.I))


def _mask_cookie_header(name: str, value: str) -> str:
    if name.lower() == "set-cookie":  # "n=v; Path=/; HttpOnly" (possibly several, one per line)
        return "\n".join(f"{line.split('=', 1)[0]}={REDACTED}" + (";" + line.split(";", 1)[1] if ";" in line else "")
                         if "=" in line.split(";", 1)[0] else line for line in value.split("\n"))
    return "; ".join(f"{p.split('=', 1)[0].strip()}={REDACTED}" if "=" in p else p.strip()
                     for p in value.split(";") if p.strip())


class Scrubber:
    """Masks cookies and tokens in evidence text by shape; see the module docstring.

    `harvest` first (every text of one piece of evidence), then `scrub_text`: a value found in
    one entry (a token in the HTML) is masked in the others too (the form body that posted it).
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.values: set[str] = set()
        for v in known:
            self.add(v)

    def add(self, value: str | None) -> None:
        """A value to mask wherever it shows up (e.g. a cookie of the browser context)."""
        if value and value != REDACTED:
            self.values.add(value)

    # --- finding ------------------------------------------------------------------------------
    def harvest(self, text: str) -> None:
        for line in text.splitlines() or [text]:
            obj = _json_or_none(line)
            if obj is not None:
                self._walk(obj, collect=True)
        self._html(text, collect=True)

    # --- masking ------------------------------------------------------------------------------
    def scrub_text(self, text: str) -> str:
        self.harvest(text)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            obj = _json_or_none(line)
            if obj is not None:
                lines[i] = json.dumps(self._walk(obj, collect=False), ensure_ascii=False, separators=(",", ":"))
        text = self._html("\n".join(lines), collect=False)
        text = self._replace_values(text)
        return redact_text(text)

    def scrub_bytes(self, data: bytes) -> bytes:
        """Scrub a blob when it is text; binary blobs (images) are kept as they are."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        return self.scrub_text(text).encode("utf-8")

    def _replace_values(self, text: str) -> str:
        variants: set[str] = set()
        for v in self.values:
            if len(v) >= _MIN_REPLACE:
                variants |= {v, quote(v, safe=""), quote_plus(v), json.dumps(v)[1:-1]}
        if not variants:
            return text
        pattern = re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))
        return pattern.sub(REDACTED, text)

    def _walk(self, obj: Any, *, collect: bool) -> Any:
        if isinstance(obj, dict):
            name = obj.get("name")
            if isinstance(name, str) and name.lower() in ("cookie", "set-cookie") and isinstance(obj.get("value"), str):
                if collect:
                    self._cookie_header(name, obj["value"])
                else:
                    obj = {**obj, "value": _mask_cookie_header(name, obj["value"])}
            out = {}
            for k, v in obj.items():
                if k == "cookies" and isinstance(v, list):
                    v = [self._cookie(c, collect=collect) for c in v]
                out[k] = self._walk(v, collect=collect)
            return out if not collect else obj
        if isinstance(obj, list):
            if len(obj) >= 2 and isinstance(obj[0], str) and isinstance(obj[1], dict):
                obj = [obj[0], self._dom_attrs(obj[0], obj[1], collect=collect), *obj[2:]]
            walked = [self._walk(v, collect=collect) for v in obj]
            return obj if collect else walked
        return obj

    def _cookie(self, cookie: Any, *, collect: bool) -> Any:
        if not isinstance(cookie, dict) or "value" not in cookie:
            return cookie
        if collect:
            self.add(str(cookie["value"]))
            return cookie
        return {**cookie, "value": REDACTED}

    def _cookie_header(self, name: str, value: str) -> None:
        lines = value.split("\n") if name.lower() == "set-cookie" else [value]
        for line in lines:
            pairs = line.split(";")[:1] if name.lower() == "set-cookie" else line.split(";")
            for p in pairs:
                if "=" in p:
                    self.add(p.split("=", 1)[1].strip())

    def _dom_attrs(self, tag: str, attrs: dict[str, Any], *, collect: bool) -> dict[str, Any]:
        """A DOM snapshot node's attributes ([tag, {attrs}, children...] in the trace)."""
        lowered = {str(k).lower(): v for k, v in attrs.items()}
        key = None
        if tag.upper() == "INPUT" and str(lowered.get("type", "")).lower() == "hidden":
            if _hidden_secret(str(lowered.get("name", "")), str(lowered.get("value", ""))):
                key = "value"
        elif tag.upper() == "META" and _meta_secret(str(lowered.get("name", "")), str(lowered.get("content", ""))):
            key = "content"
        if key is None:
            return attrs
        real = next(k for k in attrs if str(k).lower() == key)
        if collect:
            self.add(str(attrs[real]))
            return attrs
        return {**attrs, real: REDACTED}

    def _html(self, text: str, *, collect: bool) -> str:
        def one(m: re.Match[str]) -> str:
            tag = m.group(0)
            attrs = {a.group(1).lower(): a for a in _ATTR_RE.finditer(tag)}

            def val(name: str) -> str:
                a = attrs.get(name)
                return a.group(2).strip("'\"") if a else ""

            key = None
            if m.group(1).lower() == "input" and val("type").lower() == "hidden" and _hidden_secret(val("name"), val("value")):
                key = "value"
            elif m.group(1).lower() == "meta" and _meta_secret(val("name"), val("content")):
                key = "content"
            if key is None:
                return tag
            if collect:
                self.add(val(key))
                return tag
            a = attrs[key]
            quote_char = a.group(2)[0] if a.group(2)[0] in "'\"" else '"'
            start, end = a.span(2)
            return tag[:start] + f"{quote_char}{REDACTED}{quote_char}" + tag[end:]

        return _TAG_RE.sub(one, text)


def _json_or_none(line: str) -> Any:
    line = line.strip()
    if not line or line[0] not in "{[":
        return None
    try:
        return json.loads(line)
    except ValueError:
        return None


def scrub_bytes(data: bytes) -> bytes:
    """Redact one blob on its own (no values harvested from other evidence)."""
    return Scrubber().scrub_bytes(data)


def scrub_trace(src: Path, dest: Path, scrubber: Scrubber | None = None) -> None:
    """Copy a trace zip entry by entry, every text entry scrubbed: all entries are harvested
    first, so a token seen in one (a page) is masked in every other (the request that sent it)."""
    scrubber = scrubber or Scrubber()
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
        for _name, data in entries:
            try:
                scrubber.harvest(data.decode("utf-8"))
            except UnicodeDecodeError:
                pass
        for name, data in entries:
            zout.writestr(name, scrubber.scrub_bytes(data))
    _write_private(dest, buf.getvalue())


def _secret_fields(page: "Page") -> list["Locator"]:
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
    scrubber = Scrubber()
    if context is not None:
        try:  # every cookie the browser holds is masked wherever it shows up
            for cookie in await context.cookies():
                scrubber.add(cookie.get("value"))
        except Exception as exc:  # noqa: BLE001 - best effort
            log.warning("reading the context's cookies failed", error=type(exc).__name__)
    sweep_unscrubbed(artifacts_dir)
    spools = ExitStack()
    try:
        folder = spools.enter_context(unscrubbed_spool(artifacts_dir))
    except OSError as exc:  # no private place for the raw trace: keep the rest, drop the trace
        log.warning("no spool for the raw trace; trace dropped", error=type(exc).__name__)
        if context is not None and trace_chunk:
            try:
                await context.tracing.stop_chunk()
            except Exception:  # noqa: BLE001
                pass
        saved += await _capture_into(page, None, out, None, scrubber, trace_chunk=False, log=log)
    else:
        with spools:
            saved += await _capture_into(page, context, out, folder, scrubber, trace_chunk=trace_chunk, log=log)
    log.info("evidence saved", files=[p.name for p in saved], folder=str(out))
    return saved


async def _capture_into(page: "Page | None", context: "BrowserContext | None", out: Path, spool: Path | None,
                        scrubber: Scrubber, *, trace_chunk: bool, log: Any) -> list[Path]:
    saved: list[Path] = []
    raw_trace: Path | None = None
    if context is not None and trace_chunk and spool is not None:
        try:
            raw_trace = spool / "raw.zip"
            await context.tracing.stop_chunk(path=str(raw_trace))
            crash_point("evidence:raw_trace")  # the raw trace on disk, not yet scrubbed
            with zipfile.ZipFile(raw_trace) as z:  # harvest the trace before the HTML is written
                for info in z.infolist():
                    try:
                        scrubber.harvest(z.read(info.filename).decode("utf-8"))
                    except UnicodeDecodeError:
                        pass
        except Exception as exc:  # noqa: BLE001
            raw_trace = None
            log.warning("saving the trace failed", error=type(exc).__name__)
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
            _write_private(html, scrubber.scrub_text(await page.content()).encode("utf-8"))
            saved.append(html)
        except Exception as exc:  # noqa: BLE001
            log.warning("saving page HTML failed", error=type(exc).__name__)
    if raw_trace is not None:
        trace = out / "trace.zip"
        try:
            scrub_trace(raw_trace, trace, scrubber)
            saved.append(trace)
        except Exception as exc:  # noqa: BLE001
            log.warning("saving the trace failed", error=type(exc).__name__)
    return saved
