"""`selectors check` against the mock site: clean on the normal layout, named drift on the redesign."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from robot.cli import app
from robot.cli.selectors_cmd import drifted, run_check
from robot.locators import registry
from tests.integration.robot_world import World, world  # noqa: F401


async def test_normal_layout_has_no_drift(world: World) -> None:
    results = await run_check(world.settings, world.vault, "acme")
    assert drifted(results) == []
    assert {r.page for r in results} == set(registry())  # every page of selectors/ was visited
    by_key = {(r.page, r.selector): r for r in results}
    assert by_key[("invoice", "collect_payment")].status == "ok"
    assert by_key[("collect_payment", "amount")].status == "ok"
    assert by_key[("login", "submit")].status == "ok"
    assert by_key[("two_factor", "code")].found  # passed during the first sign-in
    # the checked invoice has a payment: its row and its Edit/Refund/Delete dialogs were probed
    for key in ("row", "amount", "edit", "edit_dialog", "refund_amount", "refund_details", "confirm_delete"):
        assert by_key[("payment_row", key)].status == "ok", key
    for page in ("client", "quotes", "quote"):
        assert all(r.status == "ok" for r in results if r.page == page and not r.optional), page
    # everything else resolved by its first locator; only what needs a refusal or a Draft is skipped
    skipped = {(r.page, r.selector) for r in results if r.status == "skipped" and r.page != "two_factor"}
    assert skipped == {("collect_payment", "error"), ("invoice", "mark_as_sent")}
    assert by_key[("quote", "deposit_dialog")].status == "ok"  # opened on the Approved quote, cancelled
    assert not [r for r in results if r.status == "fallback"]
    # nothing was saved while probing the dialogs
    acc = world.account()
    assert [len(i["payments"]) for i in acc["invoices"] if i["number"] == 1070] == [1]
    assert all(q["deposits"] == [] for q in acc["quotes"])


def test_layout_variant_names_the_drifted_selectors(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.site.admin.faults(layout_variant="redesign")  # type: ignore[union-attr]
    s = world.settings
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("JOBBER_ROBOT_CREDENTIAL_KEY", s.credential_key.get_secret_value())  # type: ignore[union-attr]
    monkeypatch.setenv("JOBBER_ROBOT_ACTION_TIMEOUT_MS", "3000")
    result = CliRunner().invoke(app, ["selectors", "check", "--url", world.site.url, "--merchant", "acme"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "Collect Payment button not found on invoice page" in result.output
    # the balance moved to its fallback test id: resolved, not drift
    assert "balance-due" in result.output
    assert "[data-testid=invoice-list][aria-busy=false]" in result.output  # css shown verbatim
    assert "invoice balance not found" not in result.output
    # each drift line names the selector to fix in selectors/*.toml
    assert "(selector invoice.collect_payment)" in result.output
