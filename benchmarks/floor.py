"""The HTTP floor: the Jobber work of a job with no browser.

A client signed in once (the identity host's password and TOTP steps over HTTP, as a browser
would post them) sends the job's three GraphQL operations to the app's `/api/graphql` with its
cookie and CSRF token: find the invoice by number, record the payment, read the balance back.
The gateway charge is not part of the floor (the sandbox gets no injected latency).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from benchmarks import world as w

FIND = """query InvoiceSearch($term: String) { invoices(searchTerm: $term) {
  id number status balance client { id name } } }"""
RECORD = """mutation PaymentCreate($input: PaymentCreateInput!) { paymentCreate(input: $input) {
  payments { id amount } userErrors { message path } } }"""
READ = """query InvoiceBalance($id: ID!) { invoice(id: $id) { id number status balance payments { id } } }"""


class FloorError(RuntimeError):
    """The mock refused a step of the floor (a bench bug, not a slow result)."""


def _follow(c: httpx.Client, r: httpx.Response) -> httpx.Response:
    for _ in range(10):
        if r.status_code not in (301, 302, 303, 307, 308):
            return r
        r = c.get(urljoin(str(r.url), r.headers["location"]))
    raise FloorError("too many redirects")


def _state(html: str) -> str:
    m = re.search(r'name="state" value="([^"]+)"', html)
    if not m:
        raise FloorError("no state on the identity form")
    return unescape(m.group(1))


def sign_in(world: "w.World", slug: str) -> httpx.Client:
    """A client signed in as the merchant (password + TOTP), sending X-CSRF-Token."""
    c = world.client()
    r = _follow(c, c.get("/login", params={"next": "/invoices"}))
    if urlsplit(str(r.url)).path == "/u/login":
        r = c.post(str(r.url), data={"state": _state(r.text), "username": w.email(slug), "password": w.PASSWORD,
                                     "action": "default"})
        if r.status_code != 302:
            raise FloorError(f"password refused: {r.status_code}")
        r = _follow(c, r)
    if urlsplit(str(r.url)).path == "/u/mfa-otp-challenge":
        data = {"state": _state(r.text), "action": "default"}
        done = r
        for offset in (0, 30, -30):  # a code used by an earlier sign-in of this step: a neighbour
            done = c.post(str(r.url), data={**data, "code": w.totp_now(slug, offset)})
            if done.status_code == 302:
                break
        if done.status_code != 302:
            raise FloorError(f"TOTP code refused: {done.status_code}")
        r = _follow(c, done)
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text)
    if r.status_code != 200 or not m:
        raise FloorError(f"not in the app after sign-in: {r.status_code} {urlsplit(str(r.url)).path}")
    c.headers["X-CSRF-Token"] = m.group(1)
    return c


def _gql(c: httpx.Client, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/api/graphql", json={"operationName": name, "query": query, "variables": variables})
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise FloorError(f"{name}: {r.status_code} {str(body.get('errors'))[:200]}")
    return dict(body["data"])


def job(c: httpx.Client, number: int, amount: Decimal | None = None, details: str = "bench floor") -> Decimal:
    """One job's Jobber work; returns the balance read back (checked against what was recorded)."""
    rows = [i for i in _gql(c, "InvoiceSearch", FIND, {"term": str(number)})["invoices"] if i["number"] == number]
    if len(rows) != 1:
        raise FloorError(f"invoice #{number}: {len(rows)} matches")
    inv = rows[0]
    before = Decimal(inv["balance"])
    pay = before if amount is None else amount
    made = _gql(c, "PaymentCreate", RECORD, {"input": {
        "clientId": inv["client"]["id"], "method": "CREDIT_CARD", "details": details,
        "allocations": [{"invoiceId": inv["id"], "amount": f"{pay:.2f}"}]}})["paymentCreate"]
    if made["userErrors"]:
        raise FloorError(f"payment refused: {made['userErrors'][0]['message']}")
    after = Decimal(_gql(c, "InvoiceBalance", READ, {"id": inv["id"]})["invoice"]["balance"])
    if after != before - pay:
        raise FloorError(f"invoice #{number}: balance {after} after paying {pay} of {before}")
    return after


def timed_sign_in(world: "w.World", slug: str) -> tuple[httpx.Client, float]:
    started = time.perf_counter()
    c = sign_in(world, slug)
    return c, time.perf_counter() - started
