"""The robot's browser loads only what a job needs (issue 15): no images, no web fonts, no
analytics hosts; the page itself and its data load as before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fixtures.jobber_site.server import MockJobber
from robot.browser import BLOCKED_HOSTS, launch_options


async def _load(site: MockJobber, tmp: Path, *, lean: bool) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    # a page on the mock's host with an image, a web font and an analytics script
    html = ("<html><head><style>@font-face{font-family:X;src:url(/static/nope.woff2)}body{font-family:X}</style>"
            "<script src='https://www.google-analytics.com/analytics.js'></script></head>"
            "<body><img id=i src='/static/logo.png'><p>hello</p></body></html>")
    async with async_playwright() as p:
        browser = await p.chromium.launch(**launch_options(host_resolver_rules=site.resolver_rules, lean=lean))
        try:
            context = await browser.new_context()
            page = await context.new_page()
            asked: list[str] = []
            failed: list[str] = []
            page.on("request", lambda r: asked.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            await page.route(site.url + "/lean-test", lambda route: route.fulfill(body=html, content_type="text/html"))
            await page.goto(site.url + "/lean-test")
            await page.wait_for_load_state("load")
            text = await page.inner_text("p")
            return {"asked": asked, "failed": failed, "text": text}
        finally:
            await browser.close()


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
def test_the_robots_browser_skips_images_fonts_and_analytics(jobber: MockJobber, tmp_path: Path) -> None:
    lean = asyncio.run(_load(jobber, tmp_path, lean=True))
    assert lean["text"] == "hello"
    assert not any(u.endswith((".png", ".woff2")) for u in lean["asked"]), lean["asked"]
    assert all("google-analytics" not in u for u in lean["asked"]) or \
        any("google-analytics" in u for u in lean["failed"]), lean
    # a person's (or a test's) browser loads them: the same page asks for the image and the font
    full = asyncio.run(_load(jobber, tmp_path, lean=False))
    assert any(u.endswith("/static/logo.png") for u in full["asked"]), full["asked"]
    assert "*.google-analytics.com" in BLOCKED_HOSTS
