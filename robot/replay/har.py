"""A recording's files under `fixtures/pages/SCENARIO/`, written so a re-recording diffs cleanly.

    scenario.json       what ran (jobs, scrubbed) and what came of each (outcome, message)
    recording.har       the browser's exchanges in order (HAR 1.2; Playwright's route_from_har reads it)
    gateway.json        the gateway's HTTP exchanges in order
    snapshots.json      one row per page snapshot: page, address, the selectors the robot required
    snapshots/NN-PAGE.html, NN-PAGE.aria.yml   the DOM (scripts removed) and its accessibility tree

Static assets (the app's JS/CSS) go into `SCENARIO/assets/<sha256>.<ext>` and the HAR points at
them (`content._file`; Playwright reads only files beside the HAR, and git keeps one copy of
identical files across scenarios). JSON is written with sorted keys and two-space indents; HAR
times are a fixed fake clock (one millisecond per exchange), never the recording's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from robot.replay.scrub import FAKE_EPOCH, KEEP_REQUEST_HEADERS, KEEP_RESPONSE_HEADERS, Scrubber

FIXTURES_DIR = Path(__file__).resolve().parent.parent.parent / "fixtures" / "pages"
ASSETS = "assets"
STATIC_TYPES = ("text/css", "application/javascript", "text/javascript", "font/", "image/", "application/font")
STATIC_URL = re.compile(r"/static/|\.(?:js|css|woff2?|svg|png|ico)(?:\?|$)")
GRAPHQL_PATH = "/api/graphql"


def dumps(data: Any) -> str:
    """The one JSON format of every fixture file (sorted keys: a re-recording diffs line by line)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Exchange:
    """One browser request and its answer, as seen (unscrubbed, memory only)."""

    seq: int
    method: str
    url: str
    resource_type: str
    request_headers: dict[str, str]
    post_data: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    failure: str | None = None

    @property
    def mime(self) -> str:
        return self.response_headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def is_static(self) -> bool:
        return self.method == "GET" and (self.mime.startswith(STATIC_TYPES) or bool(STATIC_URL.search(self.url)))

    @property
    def is_graphql(self) -> bool:
        return self.method == "POST" and self.url.split("?", 1)[0].endswith(GRAPHQL_PATH)


@dataclass
class GatewayExchange:
    method: str
    path: str
    idempotency_key: str | None
    request: Any
    status: int
    response: Any


@dataclass
class Snapshot:
    page: str
    url: str
    html: str
    aria: str
    required: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _post_text(ex: Exchange, scrub: Scrubber) -> str | None:
    if ex.post_data is None:
        return None
    ctype = ex.request_headers.get("content-type", "")
    if "json" in ctype:
        try:
            return canonical_json(scrub.json(json.loads(ex.post_data)))
        except ValueError:
            return scrub.text(ex.post_data)
    if "x-www-form-urlencoded" in ctype:
        return scrub.form(ex.post_data)
    return scrub.text(ex.post_data)


def _body_text(ex: Exchange, scrub: Scrubber) -> str:
    raw = (ex.body or b"").decode("utf-8", errors="replace")
    if "json" in ex.mime:
        try:
            return canonical_json(scrub.json(json.loads(raw)))
        except ValueError:
            return scrub.text(raw)
    if "html" in ex.mime:
        return scrub.html(raw)
    return scrub.text(raw)


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or "json" in mime or "javascript" in mime or "xml" in mime or mime == ""


def har_entries(exchanges: list[Exchange], scrub: Scrubber, assets: dict[str, bytes]) -> list[dict[str, Any]]:
    """HAR entries (scrubbed); static bodies go to `assets` (name → bytes), once per URL."""
    entries = []
    seen_static: set[str] = set()
    for ex in exchanges:
        if ex.status is None or ex.failure:
            continue
        url = scrub.url(ex.url)
        if ex.is_static:
            if url in seen_static:
                continue
            seen_static.add(url)
        headers = [{"name": k, "value": ex.request_headers[k]} for k in KEEP_REQUEST_HEADERS if k in ex.request_headers]
        request: dict[str, Any] = {"method": ex.method, "url": url, "httpVersion": "HTTP/1.1", "headers": headers,
                                   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
        post = _post_text(ex, scrub)
        if post is not None:
            request["postData"] = {"mimeType": ex.request_headers.get("content-type", ""), "text": post}
        rheaders = []
        for k in KEEP_RESPONSE_HEADERS:
            if k in ex.response_headers:
                value = ex.response_headers[k]
                rheaders.append({"name": k, "value": scrub.url(value) if k == "location" else value})
        content: dict[str, Any] = {"mimeType": ex.response_headers.get("content-type", "")}
        body = ex.body or b""
        if ex.is_static and body:
            ext = {"text/css": "css", "application/javascript": "js", "text/javascript": "js"}.get(ex.mime, "bin")
            name = f"{hashlib.sha256(body).hexdigest()[:24]}.{ext}"
            assets[name] = body
            content.update(size=len(body), _file=f"{ASSETS}/{name}")
        elif _is_text(ex.mime):
            text = _body_text(ex, scrub) if body else ""
            content.update(size=len(text.encode()), text=text)
        else:
            content.update(size=len(body), text=base64.b64encode(body).decode(), encoding="base64")
        location = next((h["value"] for h in rheaders if h["name"] == "location"), "")
        entries.append({
            "startedDateTime": (FAKE_EPOCH + timedelta(milliseconds=len(entries))).isoformat().replace("+00:00", "Z"),
            "time": 0, "request": request,
            "response": {"status": ex.status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": rheaders,
                         "cookies": [], "content": content, "redirectURL": location, "headersSize": -1,
                         "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}, "_resourceType": ex.resource_type,
        })
    return entries


def har_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "jobber-robot fixtures record", "version": "1"},
                    "pages": [], "entries": entries}}


def strip_scripts(html_text: str) -> str:
    """A snapshot is structure: no scripts, no styles to fetch (it is loaded offline)."""
    html_text = re.sub(r"<script\b[^>]*>.*?</script>", "", html_text, flags=re.S | re.I)
    return re.sub(r"<link\b[^>]*>", "", html_text, flags=re.I)


def load_har(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "recording.har").read_text(encoding="utf-8"))


def entry_body(entry: dict[str, Any], directory: Path) -> bytes:
    content = entry["response"].get("content", {})
    if "_file" in content:
        return (directory / content["_file"]).resolve().read_bytes()
    text = content.get("text", "")
    if content.get("encoding") == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


def scenario_dirs(root: Path | None = None) -> list[Path]:
    """Every recorded scenario under the fixtures folder, by name."""
    root = root or FIXTURES_DIR
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "scenario.json").exists()) if root.exists() else []
