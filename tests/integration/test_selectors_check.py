"""`selectors check` against the mock site: clean on the normal layout, named drift on the variants."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from robot.cli import app
from robot.cli.selectors_cmd import drifted, fallbacks, run_check
from robot.locators import registry
from tests.integration.robot_world import World, world  # noqa: F401

#: real worker / serve / CLI processes (or a whole selectors walk): the slow run (CI runs it too)
pytestmark = pytest.mark.slow


async def test_normal_layout_has_no_drift(world: World) -> None:
    results = await run_check(world.settings, world.vault, "acme")
    assert drifted(results) == [], [f"{r.page}.{r.selector}" for r in drifted(results)]
    assert {r.page for r in results} == set(registry())  # every page of selectors/ was visited
    by_key = {(r.page, r.selector): r for r in results}
    assert by_key[("sign_in", "submit")].status == "ok"
    assert by_key[("mfa", "code")].found  # passed during the first sign-in
    assert by_key[("invoice", "number")].status == "ok" and by_key[("invoice", "more")].status == "ok"
    assert by_key[("collect_payment", "amount")].status == "ok"  # Acme records payments in the pop-up
    assert by_key[("new_payment", "allocations")].status == "skipped"
    for page in ("client", "quotes", "quote", "invoices", "app_shell"):
        assert all(r.status == "ok" for r in results if r.page == page and not r.optional), page
    assert not fallbacks(results)
    # nothing was saved while probing
    acc = world.account()
    assert [len(i["payments"]) for i in acc["invoices"] if i["number"] == 1042] == [0]


async def test_the_new_payment_page_and_a_payment_page_are_checked_on_a_page_account(world: World) -> None:
    world.site.admin.faults(payment_ui={"Acme Lawn Care": "page"})  # type: ignore[union-attr]
    results = await run_check(world.settings, world.vault, "acme")
    by_key = {(r.page, r.selector): r for r in results}
    assert by_key[("new_payment", "allocations")].status == "ok"
    assert by_key[("collect_payment", "dialog")].status == "skipped"
    assert drifted(results) == []


def _cli(world: World, monkeypatch: pytest.MonkeyPatch) -> object:
    s = world.settings
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("JOBBER_ROBOT_CREDENTIAL_KEY", s.credential_key.get_secret_value())  # type: ignore[union-attr]
    monkeypatch.setenv("JOBBER_ROBOT_ACTION_TIMEOUT_MS", "3000")
    monkeypatch.setenv("JOBBER_ROBOT_HOST_RESOLVER_RULES", world.site.resolver_rules)
    return CliRunner().invoke(app, ["selectors", "check", "--url", world.site.url, "--merchant", "acme"],
                              env={"COLUMNS": "200"})


def test_more_actions_wording_is_named_drift_and_still_works(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.site.admin.faults(layout_variant="more_actions")  # type: ignore[union-attr]
    result = _cli(world, monkeypatch)
    out = " ".join(result.output.split())  # type: ignore[attr-defined]  # the console wraps long lines
    assert result.exit_code == 0, out  # type: ignore[attr-defined]
    assert "drift: More menu button on the invoice page was found only by a fallback" in out
    assert "(selector invoice.more)" in out


def test_redesign_names_the_missing_control(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.site.admin.faults(layout_variant="redesign")  # type: ignore[union-attr]
    result = _cli(world, monkeypatch)
    out = " ".join(result.output.split())  # type: ignore[attr-defined]  # the console wraps long lines
    assert result.exit_code == 1, out  # type: ignore[attr-defined]
    assert "Collect Payment button not found on invoice page" in out
    assert "(selector invoice.collect_payment)" in out
