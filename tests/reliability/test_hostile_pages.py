"""Hostile pages: what the robot reads from Jobber is data, never markup, and never misread.

The mock's "hostile" scenario (fixtures/scenarios/hostile.json) gives the acme login a client whose
name carries an <img onerror>, rich markup ("[bold red]…[/]"), a terminal escape and "$0.00 Paid";
an invoice whose subject says "Balance $0.00 — Paid in full" and whose line items are named
"Total $1.00" and "Balance due $9,999.99"; a Draft invoice that reads "Awaiting Payment (Sent)";
a quote titled "Deposit $0.00". The robot must charge the real balance ($143.45), refuse the
Draft, and put the names into its CLI summary, its JSON result and its evidence HTML as text that
does not run (in a browser) or restyle (in a terminal).
"""

from __future__ import annotations

import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from fixtures.scenarios import load
from robot.cli.summary import print_result
from robot.jobs.models import Outcome
from tests.plugin_world import FlowWorld

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVE = next(c for c in load("hostile")["accounts"][0]["clients"])["name"]
#: what a person must see of her name: every character but the terminal escape, as typed
EVE_SHOWN = EVE.replace("\x1b", "")


class _Elements(HTMLParser):
    """Every element of a document with its attributes (to find one the page's text made)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def no_markup_from_the_page(html: str) -> None:
    doc = _Elements()
    doc.feed(html)
    handlers = [(tag, name) for tag, attrs in doc.elements for name in attrs if name.lower().startswith("on")]
    assert handlers == [], f"event handler attributes in the document: {handlers}"
    assert not any("__pwned" in s for s in doc.scripts), "the page's text became a script"
    assert not any(tag == "img" and attrs.get("src") == "x" for tag, attrs in doc.elements)


async def test_hostile_invoice_is_charged_its_real_balance_and_reported_as_text(flow_world: FlowWorld) -> None:
    assert flow_world.site.admin is not None
    flow_world.site.admin.reset("hostile")
    token = await flow_world.card_token()
    r = await flow_world.run({"kind": "charge", "invoice": 2001, "tender": {"type": "card_token", "token": token}})
    assert r.outcome is Outcome.succeeded, r.message
    assert r.amount_captured == Decimal("143.45")
    assert r.balance_before == Decimal("143.45") and r.balance_after == Decimal("0.00")
    inv = flow_world.invoice(2001)
    assert inv["balance"] == "0.00" and inv["status"] == "paid"
    [payment] = inv["payments"]
    assert payment["amount"] == "143.45"
    [txn] = flow_world.txns()
    assert txn["status"] == "captured" and txn["captured"] == "143.45"
    assert r.client == EVE_SHOWN or r.client == EVE

    # the CLI summary shows the name as typed: no markup applied, no escape sent to the terminal
    console = Console(record=True, width=400, force_terminal=True, color_system="truecolor")
    print_result(r, json_output=False, console=console)
    shown = console.export_text(clear=False)
    assert EVE_SHOWN in shown, shown
    client_line = next(line for line in console.export_text(styles=True).splitlines() if "Mallory" in line)
    assert "[bold red]Mallory[/]" in client_line and "\x1b[31m$" not in client_line, repr(client_line)
    # the JSON result carries the name as data
    assert json.loads(r.model_dump_json())["client"] == r.client

    # the Draft invoice whose text says "Awaiting Payment (Sent)" is a Draft
    d = await flow_world.run({"kind": "charge", "invoice": 2002, "tender": {"type": "card_token", "token": token}})
    assert d.outcome is Outcome.refused and d.error_code == "invoice_in_draft", d.message
    assert flow_world.invoice(2002)["payments"] == [] and len(flow_world.txns()) == 1

    # a quote titled "Deposit $0.00" takes the deposit asked for
    q = await flow_world.run({"kind": "quote_deposit", "quote": 31, "amount": "100.00",
                              "tender": {"type": "card_token", "token": await flow_world.card_token()}})
    assert q.outcome is Outcome.succeeded, q.message
    assert q.amount_captured == Decimal("100.00")
    assert [d["amount"] for d in flow_world.quote(31)["deposits"]] == ["100.00"]


async def test_evidence_of_a_hostile_page_keeps_its_text_inert(flow_world: FlowWorld, tmp_path: Path) -> None:
    """A job failing on the hostile invoice page: its saved HTML holds the names as text; opened
    in a browser (scripts on), nothing of it runs."""
    assert flow_world.site.admin is not None
    flow_world.site.admin.reset("hostile")
    invoice_id = flow_world.invoice(2001)["id"]
    with pytest.raises(RuntimeError) as info:
        async with flow_world.pool.job("acme", "hostile-evidence") as sess:
            await sess.page.goto(f"{flow_world.site.url}/invoices/{invoice_id}")
            await sess.page.get_by_text("Balance due $9,999.99", exact=False).first.wait_for()
            assert await sess.page.evaluate("window.__pwned") is None, "the mock ran the page's text"
            raise RuntimeError("failed on the hostile page")
    html_path = next(Path(p) for p in info.value.artifacts if p.endswith("page.html"))  # type: ignore[attr-defined]
    html = html_path.read_text()
    assert "Balance due $9,999.99" in html and "Mallory" in html
    no_markup_from_the_page(html)

    browser = flow_world.pool.browser
    assert browser is not None
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content(html, wait_until="load")
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator("img[src=x]").count() == 0
        assert "Mallory" in await page.content()
    finally:
        await context.close()
