"""The selector loader: the repo's files validate, bad files are refused with a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from robot.errors import ConfigError
from robot.locators import LocatorSpec, load_page, load_selectors, registry

PAGES = {"sign_in", "mfa", "identity_notice", "account_chooser", "app_shell", "invoices", "invoice", "collect_payment",
         "new_payment", "payment", "client", "quote", "quotes"}


def test_repo_selectors_load_and_validate() -> None:
    pages = load_selectors()
    assert PAGES <= set(pages)
    inv = pages["invoice"]
    assert inv.ready == "number"
    assert inv.selector("collect_payment").description == "Collect Payment button"
    assert inv.selector("collect_payment").locators[0].role == "button"
    # the client heading uses a role with a level
    assert pages["client"].selector("name").locators[0].level == 1
    # scopes resolve to defined selectors
    assert pages["collect_payment"].selector("amount").scope == "dialog"
    assert registry() is registry()


def test_regex_names_compile() -> None:
    spec = registry()["mfa"].selector("heading").locators[0]
    assert spec.name == "/Verify Your Identity/i"
    from robot.locators import _pattern

    pat = _pattern(spec.name)
    assert isinstance(pat, re.Pattern) and pat.search("verify your identity")
    assert _pattern(registry()["invoice"].selector("number").locators[1].label).search("Invoice number")
    assert _pattern("Log In") == "Log In"


def _write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(body)
    return p


def test_locator_needs_exactly_one_kind() -> None:
    with pytest.raises(ValueError):
        LocatorSpec(role="button", test_id="x")
    with pytest.raises(ValueError):
        LocatorSpec()
    with pytest.raises(ValueError):
        LocatorSpec(label="Amount", name="x")
    assert LocatorSpec(role="button", name="Save", exact=True).kind == "role"


@pytest.mark.parametrize(
    "body, message",
    [
        ('page = "p"\npath = "/"\nready = "nope"\n[selectors.a]\ndescription = "A"\nlocators = [{ test_id = "a" }]\n',
         "ready selector 'nope'"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nscope = "zz"\nlocators = [{ test_id = "a" }]\n',
         "scope 'zz'"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nscope = "b"\nlocators = [{ test_id = "a" }]\n'
         '[selectors.b]\ndescription = "B"\nscope = "a"\nlocators = [{ test_id = "b" }]\n', "cycle"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nlocators = []\n', "locators"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nlocators = [{ role = "button", css = "b" }]\n',
         "exactly one"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nlocators = [{ tesid = "a" }]\n', "tesid"),
        ('page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nlocators = [{ role = "button", name = "/(/" }]\n',
         "bad regex"),
        ('page = "p"\npath = "/"\nready = "a"\nselectors = 3\n', "selectors"),
        ('page = "p" path\n', "not valid TOML"),
    ],
)
def test_bad_files_are_refused_with_the_file_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "p", body)
    with pytest.raises(ConfigError) as info:
        load_page(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_page_name_must_match_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "other", 'page = "p"\npath = "/"\nready = "a"\n[selectors.a]\ndescription = "A"\nlocators = [{ test_id = "a" }]\n')
    with pytest.raises(ConfigError, match="must match the file name"):
        load_page(path)


def test_unknown_selector_key_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no selector 'nope' on page 'invoice'"):
        registry()["invoice"].selector("nope")


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no selector files"):
        load_selectors(tmp_path)


async def test_resolution_order_and_drift_on_a_static_page() -> None:
    """Fallbacks resolve in order; a missing control raises PageDriftError naming it."""
    from playwright.async_api import async_playwright

    from robot.browser import launch
    from robot.errors import PageDriftError
    from robot.locators import PageLocators

    async with async_playwright() as p:
        browser = await launch(p)
        page = await browser.new_page()
        await page.set_content(
            '<h1>Spring cleanup</h1><dl><dt id="n">Invoice #</dt><dd aria-labelledby="n">1042</dd>'
            '<dt id="b">Balance due</dt><dd aria-labelledby="b">$10.00</dd></dl>'
            '<div role="dialog" aria-label="Collect Payment"><label>Amount<input name="amount"></label></div>'
        )
        loc = PageLocators(page, "invoice", timeout_ms=2_000)  # a loaded machine is slow
        await loc.expect_ready()
        res = await loc.probe("balance")
        assert res.found and res.status == "fallback" and res.index == 1
        with pytest.raises(PageDriftError) as info:
            await loc.require("collect_payment")
        assert "Collect Payment button not found on invoice page" in str(info.value)
        amount = await PageLocators(page, "collect_payment", timeout_ms=500).require("amount")
        await amount.fill("5.00")
        assert await page.input_value("input[name=amount]") == "5.00"
        await browser.close()
