"""Replay a recording with no server: the browser's requests are answered from `recording.har`,
the gateway client's from `gateway.json`; anything not in the recording fails loudly.

Why not `route_from_har` alone: it matches a POST on its exact bytes and always serves the first
entry for a URL, so it cannot replay a stateful sequence (the same `InvoiceShow` before and after
a payment) nor a sign-in form whose secret fields were scrubbed. So:
- static assets (the app's JS/CSS): Playwright's `context.route_from_har(url=static)`;
- GraphQL POSTs: matched on operation name AND variables. A mutation must be the very next one
  the recording made (a new amount, a missing field, an extra save: unmatched); a query is
  answered with what the recording got for the same operation and variables after the same
  number of mutations (so `InvoiceShow` shows the balance as it was at that point);
- other requests (documents, redirects, forms): method + URL (+ the form with its secret fields
  as placeholders), the n-th time as the recording's n-th answer;
- everything else is aborted and listed in `unmatched`: a replay with any unmatched request fails.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx

from robot.replay.har import STATIC_URL, canonical_json, entry_body, load_har
from robot.replay.scrub import scrub_form

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Request, Route


def _gql_key(body: str | None) -> tuple[str, str, bool]:
    try:
        doc = json.loads(body or "")
    except ValueError:
        return ("", body or "", False)
    query = str(doc.get("query") or "")
    is_mutation = bool(re.match(r"\s*mutation\b", query))
    return (str(doc.get("operationName") or ""), canonical_json(doc.get("variables") or {}), is_mutation)


def _form_key(body: str | None) -> str:
    return scrub_form(body) if body else ""


class BrowserReplay:
    """The replay's router for one browser context."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.har_path = directory / "recording.har"
        entries = load_har(directory)["log"]["entries"]
        self.mutations: list[tuple[str, str, dict[str, Any]]] = []
        self.queries: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
        self.others: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        epoch = 0
        for e in entries:
            req = e["request"]
            url, method = req["url"], req["method"]
            body = (req.get("postData") or {}).get("text")
            if method == "POST" and url.split("?", 1)[0].endswith("/api/graphql"):
                op, variables, is_mutation = _gql_key(body)
                if is_mutation:
                    self.mutations.append((op, variables, e))
                    epoch += 1
                else:
                    self.queries[(epoch, op, variables)].append(e)
            elif not STATIC_URL.search(url):
                self.others[(method, url, _form_key(body) if method == "POST" else "")].append(e)
        self.epoch = 0
        self._served: dict[Any, int] = defaultdict(int)
        self.served = 0
        self.unmatched: list[str] = []

    async def attach(self, context: "BrowserContext") -> None:
        await context.route("**/*", self._route)  # first registered: asked last
        await context.route_from_har(self.har_path, url=STATIC_URL, not_found="fallback")

    async def _route(self, route: "Route", request: "Request") -> None:
        entry = self._match(request)
        if entry is None:
            if request.url.split("?", 1)[0].endswith("/api/graphql"):
                # answered as a server error at once (the app shows it), instead of a long wait
                await route.fulfill(status=500, content_type="application/json",
                                    body='{"errors":[{"message":"not in the recording (replay)"}]}')
            else:
                await route.abort("blockedbyclient")
            return
        self.served += 1
        resp = entry["response"]
        headers = {h["name"]: h["value"] for h in resp.get("headers", [])}
        location = headers.get("location")
        if location and 300 <= resp["status"] < 400 and request.is_navigation_request():
            # as Playwright's own HAR router does: the recorded redirects are followed here and
            # the navigation is sent once to where they end (a fulfilled 3xx would be followed by
            # the network stack, past the routes)
            target = urljoin(request.url, location)
            for _ in range(20):
                hop = self._peek(("GET", target, ""))
                if hop is None:
                    break
                hop_headers = {h["name"]: h["value"] for h in hop["response"].get("headers", [])}
                if not (300 <= hop["response"]["status"] < 400 and "location" in hop_headers):
                    break
                self._take(("GET", target, ""))
                self.served += 1
                target = urljoin(target, hop_headers["location"])
            await route._impl_obj._redirect_navigation_request(target)  # type: ignore[attr-defined]
            return
        await route.fulfill(status=resp["status"], headers=headers, body=entry_body(entry, self.directory))

    def _match(self, request: "Request") -> dict[str, Any] | None:
        url, method = request.url, request.method
        if url.split("?", 1)[0].endswith("/favicon.ico"):
            return {"response": {"status": 404, "headers": [], "content": {"text": ""}}}
        body = request.post_data
        if method == "POST" and url.split("?", 1)[0].endswith("/api/graphql"):
            op, variables, is_mutation = _gql_key(body)
            if is_mutation:
                expected = self.mutations[self.epoch] if self.epoch < len(self.mutations) else None
                if expected is None or (expected[0], expected[1]) != (op, variables):
                    want = f"{expected[0]} {expected[1]}" if expected else "no further mutation"
                    self.unmatched.append(f"GraphQL mutation {op} {variables} (the recording has {want} next)")
                    return None
                self.epoch += 1
                return expected[2]
            key: Any = (self.epoch, op, variables)
            found = self.queries.get(key)
            if not found:
                self.unmatched.append(f"GraphQL query {op} {variables} after {self.epoch} mutation(s)")
                return None
        else:
            key = (method, url, _form_key(body) if method == "POST" else "")
            found = self.others.get(key)
            if not found:
                self.unmatched.append(f"{method} {url}")
                return None
        return self._take(key)

    def _peek(self, key: Any) -> dict[str, Any] | None:
        found = self.others.get(key)
        if not found:
            return None
        return found[min(self._served[key], len(found) - 1)]

    def _take(self, key: Any) -> dict[str, Any]:
        found = self.queries.get(key) if isinstance(key[0], int) else self.others.get(key)
        assert found
        n = self._served[key]
        self._served[key] += 1
        return found[min(n, len(found) - 1)]


class GatewayReplay(httpx.AsyncBaseTransport):
    """The gateway's answers from `gateway.json`, in order, per method + path + key + body."""

    def __init__(self, directory: Path) -> None:
        data = json.loads((directory / "gateway.json").read_text(encoding="utf-8"))
        self.answers: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for ex in data["exchanges"]:
            self.answers[self._key(ex["method"], ex["path"], ex.get("idempotency_key"), ex.get("request"))].append(ex)
        self._served: dict[Any, int] = defaultdict(int)
        self.served = 0
        self.unmatched: list[str] = []

    @staticmethod
    def _key(method: str, path: str, key: str | None, body: Any) -> tuple[str, str, str, str]:
        return (method, path, key or "", canonical_json(body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        key = self._key(request.method, request.url.raw_path.decode(), request.headers.get("idempotency-key"), body)
        found = self.answers.get(key)
        if not found:
            self.unmatched.append(f"gateway {request.method} {request.url.raw_path.decode()} {canonical_json(body)}")
            raise httpx.ConnectError("not in the recording (replay)", request=request)
        n = self._served[key]
        self._served[key] += 1
        self.served += 1
        ex = found[min(n, len(found) - 1)]
        content = b"" if ex["response"] is None else json.dumps(ex["response"]).encode()
        return httpx.Response(ex["status"], headers={"content-type": "application/json"}, content=content,
                              request=request)
