"""`selectors check --fixtures` and `selectors suggest` on the committed recordings, offline: clean on
the normal layout; the mock's three redesigns (More Actions, a renamed button, a moved field) each
named; the right control ranked first for the renamed button and the moved field."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from robot.cli import app
from robot.replay import offline
from robot.replay import suggest as sg
from robot.replay.har import FIXTURES_DIR, scenario_dirs

ASYNC = pytest.mark.asyncio(loop_scope="module")

BASELINE = [d for d in scenario_dirs() if not d.name.startswith("drift-")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def offline_browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    from robot.browser import launch

    async with async_playwright() as pw:
        b = await launch(pw, headless=True)
        yield b
        await b.close()


async def _drift(offline_browser: object, name: str) -> dict[tuple[str, str], list[offline.Finding]]:
    return offline.drifted(await offline.check(offline_browser, [FIXTURES_DIR / name]))  # type: ignore[arg-type]


@ASYNC
async def test_the_normal_layout_recordings_have_no_drift(offline_browser: object) -> None:
    findings = await offline.check(offline_browser, BASELINE)  # type: ignore[arg-type]
    assert offline.drifted(findings) == {}
    pages = {f.resolution.page for f in findings}
    # what the scenarios show: both sign-in steps, the chooser, both payment shapes, refunds, voids, quotes
    assert {"sign_in", "mfa", "account_chooser", "invoices", "invoice", "collect_payment", "new_payment",
            "payment", "quote"} <= pages
    used = {(f.resolution.page, f.resolution.selector) for f in findings if f.snapshot.required}
    assert ("invoice", "collect_payment") in used  # optional in the file, required where the robot used it


@ASYNC
async def test_more_actions_is_named_as_found_only_by_a_fallback(offline_browser: object) -> None:
    bad = await _drift(offline_browser, "drift-more-actions")
    assert set(bad) == {("invoice", "more")}
    assert all(f.resolution.status == "fallback" for f in bad[("invoice", "more")])
    assert "found only by a fallback" in offline.message(bad[("invoice", "more")])


@ASYNC
async def test_renamed_button_is_named_and_suggest_ranks_it_first(offline_browser: object) -> None:
    bad = await _drift(offline_browser, "drift-renamed-button")
    assert set(bad) == {("invoice", "collect_payment")}
    where = bad[("invoice", "collect_payment")]
    assert offline.message(where).startswith("Collect Payment button not found on invoice page")
    t = sg.target("invoice", "collect_payment")
    cands = sg.rank(t, sg.parse_aria(where[0].snapshot.aria_path.read_text()))
    assert cands[0].node.role == "button" and cands[0].node.name == "Record Payment", [c.node.describe() for c in cands[:3]]


@ASYNC
async def test_moved_field_is_named_and_suggest_ranks_it_first(offline_browser: object) -> None:
    bad = await _drift(offline_browser, "drift-moved-field")
    assert set(bad) == {("collect_payment", "amount")}
    where = bad[("collect_payment", "amount")]
    t = sg.target("collect_payment", "amount")
    cands = sg.rank(t, sg.parse_aria(where[0].snapshot.aria_path.read_text()))
    assert (cands[0].node.role, cands[0].node.name) == ("textbox", "Amount USD"), [c.node.describe() for c in cands[:3]]
    # only the dialog's controls are candidates for a field scoped to it
    assert all(any(a.role == "dialog" for a in c.node.ancestors) for c in cands)
    page = await offline.offline_page(offline_browser)  # type: ignore[arg-type]
    try:
        await offline.load_snapshot(page, where[0].snapshot)
        await sg.verify(page, t, cands[:3])
    finally:
        await page.context.close()
    assert cands[0].resolves is True
    diff = sg.patch("collect_payment", "amount", cands[0].locator)
    assert '+locators = [{ role = "textbox", name = "Amount USD", exact = true }, { label = ' in diff
    assert diff.startswith("--- a/selectors/collect_payment.toml")


def test_cli_names_drift_and_prints_a_patch_it_does_not_apply() -> None:
    toml = (FIXTURES_DIR.parent.parent / "selectors" / "invoice.toml").read_text()
    runner = CliRunner()
    check = runner.invoke(app, ["selectors", "check", "--fixtures-dir", str(FIXTURES_DIR / "drift-renamed-button")],
                          env={"COLUMNS": "250"})
    out = " ".join(check.output.split())
    assert check.exit_code == 1, out
    assert "Collect Payment button not found on invoice page (selector invoice.collect_payment)" in out
    sug = runner.invoke(app, ["selectors", "suggest", "invoice.collect_payment", "--fixtures-dir",
                              str(FIXTURES_DIR / "drift-renamed-button")], env={"COLUMNS": "80"})
    assert sug.exit_code == 0, sug.output
    # the patch is printed whole (never wrapped to the terminal: it must apply as printed)
    assert ('\n+locators = [{ role = "button", name = "Record Payment", exact = true }, '
            '{ role = "button", name = "Collect Payment", exact = true }, '
            '{ role = "link", name = "Collect Payment", exact = true }]\n') in sug.output
    assert (FIXTURES_DIR.parent.parent / "selectors" / "invoice.toml").read_text() == toml  # never applied


def test_no_flow_imports_the_suggestions() -> None:
    """Suggestions are for a person to review: nothing that moves money may read them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for folder in ("flows", "robot/jobs", "robot/gateway"):
        for path in (root / folder).rglob("*.py"):
            assert "replay.suggest" not in path.read_text() and "replay import suggest" not in path.read_text(), path
