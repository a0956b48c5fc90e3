"""Recorders: what the browser, the gateway client and the page snapshots saw, held in memory
until `write_recording` has scrubbed all of it (nothing unscrubbed touches the disk).

The browser side listens to the context's request events (no routing: the live site answers
as it would); the gateway side is an httpx transport around the real one; snapshots are taken
whenever the robot `require`s a control (robot.locators.require_observer), so each shows the page
exactly as the robot looked at it, tagged with the selectors it needed there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from robot.replay.har import (
    ASSETS,
    Exchange,
    GatewayExchange,
    Snapshot,
    dumps,
    har_document,
    har_entries,
    strip_scripts,
)
from robot.replay.scrub import Scrubber

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Request

    from robot.locators import PageLocators


class BrowserRecorder:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._by_request: dict[int, Exchange] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def attach(self, context: "BrowserContext") -> None:
        context.on("request", self._on_request)
        context.on("requestfinished", lambda r: self._spawn(self._finished(r)))
        context.on("requestfailed", self._on_failed)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_request(self, request: "Request") -> None:
        try:
            post = request.post_data
        except Exception:  # noqa: BLE001 - a binary body: not something the robot posts
            post = None
        ex = Exchange(seq=len(self.exchanges), method=request.method, url=request.url,
                      resource_type=request.resource_type,
                      request_headers={k.lower(): v for k, v in request.headers.items()}, post_data=post)
        self.exchanges.append(ex)
        self._by_request[id(request)] = ex

    def _on_failed(self, request: "Request") -> None:
        ex = self._by_request.get(id(request))
        if ex is not None:
            ex.failure = request.failure or "failed"

    async def _finished(self, request: "Request") -> None:
        ex = self._by_request.get(id(request))
        if ex is None:
            return
        response = await request.response()
        if response is None:
            ex.failure = "no response"
            return
        ex.status = response.status
        ex.response_headers = {k.lower(): v for k, v in (await response.all_headers()).items()}
        if not 300 <= response.status < 400:
            try:
                ex.body = await response.body()
            except Exception:  # noqa: BLE001 - the page dropped it (a fetch the app aborted)
                ex.failure = "body unavailable"  # not recorded: an empty answer would be a lie

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class GatewayRecorder(httpx.AsyncBaseTransport):
    """The gateway's real transport, with every exchange kept (in order) for the recording."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.exchanges: list[GatewayExchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        try:
            req_json = json.loads(body) if body else None
        except ValueError:
            req_json = body.decode("utf-8", "replace")
        try:
            resp_json = json.loads(content) if content else None
        except ValueError:
            resp_json = content.decode("utf-8", "replace")
        path = request.url.raw_path.decode()
        self.exchanges.append(GatewayExchange(method=request.method, path=path,
                                              idempotency_key=request.headers.get("idempotency-key"),
                                              request=req_json, status=response.status_code, response=resp_json))
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        """Each job's gateway client closes its transport: the recording outlives them (the
        recorder's owner closes `inner` once the scenario is done)."""


_TYPED = re.compile(r"^(\s*- (?:textbox|combobox|spinbutton|searchbox)\b[^:\n]*):.*$", re.M)


class SnapshotRecorder:
    """Snapshots of the page each time the robot requires a control (deduplicated by tree)."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self._last: dict[str, tuple[str, Snapshot]] = {}

    async def __call__(self, loc: "PageLocators", key: str, found: bool) -> None:
        if loc.scopes:
            return  # a page's selectors re-pointed at another dialog: not that page as such
        page = loc.page
        try:
            aria = await page.locator("body").aria_snapshot(timeout=2_000)
            html = await page.content()
        except Exception:  # noqa: BLE001 - the page was navigating: the next require snapshots it
            return
        name = loc.spec.page
        digest = hashlib.sha256(_TYPED.sub(r"\1", aria).encode()).hexdigest()  # typing is not a new page
        last = self._last.get(name)
        if last is not None and last[0] == digest:
            snap = last[1]
        else:
            snap = Snapshot(page=name, url=page.url, html=strip_scripts(html), aria=aria)
            self.snapshots.append(snap)
            self._last[name] = (digest, snap)
        bucket = snap.required if found else snap.missing
        if key not in bucket:
            bucket.append(key)


def _learn(scrub: Scrubber, browser: BrowserRecorder, gateway: GatewayRecorder, snaps: SnapshotRecorder,
           jobs: list[dict[str, Any]]) -> None:
    for ex in browser.exchanges:
        scrub.learn_url(ex.url)
        scrub.learn_headers(ex.request_headers)
        scrub.learn_headers(ex.response_headers)
        if ex.post_data:
            if "json" in ex.request_headers.get("content-type", ""):
                try:
                    scrub.learn_json(json.loads(ex.post_data))
                except ValueError:
                    scrub.learn_text(ex.post_data)
            else:
                scrub.learn_form(ex.post_data)
        if ex.body and not ex.is_static:
            text = ex.body.decode("utf-8", "replace")
            if "json" in ex.mime:
                try:
                    scrub.learn_json(json.loads(text))
                except ValueError:
                    scrub.learn_text(text)
            elif "html" in ex.mime:
                scrub.learn_html(text)
    for g in gateway.exchanges:
        scrub.learn_json(g.request)
        scrub.learn_json(g.response)
        if g.idempotency_key:
            scrub.learn_text(g.idempotency_key)
    for s in snaps.snapshots:
        scrub.learn_url(s.url)
        scrub.learn_html(s.html)
        scrub.learn_text(s.aria)
    scrub.learn_json(jobs)


def write_recording(directory: Path, *, meta: dict[str, Any], jobs: list[dict[str, Any]], scrub: Scrubber,
                    browser: BrowserRecorder, gateway: GatewayRecorder, snaps: SnapshotRecorder) -> list[Path]:
    """Scrub everything, check nothing collected is left, then (only then) write the files."""
    _learn(scrub, browser, gateway, snaps, jobs)
    assets: dict[str, bytes] = {}
    files: dict[str, str] = {}
    files["recording.har"] = dumps(har_document(har_entries(browser.exchanges, scrub, assets)))
    files["gateway.json"] = dumps({"exchanges": [
        {"method": g.method, "path": scrub.url(g.path), "idempotency_key": scrub.text(g.idempotency_key or "") or None,
         "request": scrub.json(g.request), "status": g.status, "response": scrub.json(g.response)}
        for g in gateway.exchanges]})
    index = []
    for i, s in enumerate(snaps.snapshots, start=1):
        stem = f"{i:02d}-{s.page}"
        files[f"snapshots/{stem}.html"] = scrub.html(s.html)
        files[f"snapshots/{stem}.aria.yml"] = scrub.aria(s.aria).rstrip("\n") + "\n"
        index.append({"file": stem, "page": s.page, "url": scrub.url(s.url), "required": sorted(s.required),
                      "missing": sorted(s.missing)})
    files["snapshots.json"] = dumps({"snapshots": index})
    files["scenario.json"] = dumps(scrub.json({**meta, "jobs": jobs}))
    checked = dict(files)
    for name, body in assets.items():
        checked[f"{ASSETS}/{name}"] = body.decode("utf-8", "replace")
    scrub.verify(checked)

    if directory.exists():
        shutil.rmtree(directory)
    (directory / "snapshots").mkdir(parents=True)
    (directory / ASSETS).mkdir()
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for name, body in assets.items():
        path = directory / ASSETS / name
        path.write_bytes(body)
        written.append(path)
    return written
