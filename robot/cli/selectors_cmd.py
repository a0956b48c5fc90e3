"""`jobber-robot selectors list|check`: the locator data, and which of it still resolves live.

`check` signs in as a merchant and walks the pages the robot uses (the identity host's sign-in,
the app's frame, invoices, an open invoice, whichever way it records a payment, a payment's own
page with its Edit and Delete dialogs, the client, a quote), probing every selector and saving
nothing. A control that resolves by none of its locators is drift, reported in words ("Collect
Payment button not found on invoice page"), exit status 1; one found only by a fallback locator
is named as drift too (the robot still works).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from playwright.async_api import async_playwright
from rich.markup import escape
from rich.table import Table

from flows.pages.tab import JobberTab
from flows.pages.walk import check_app, check_sign_in, drift_message, drifted, fallbacks, skipped
from robot.browser import launch
from robot.cli.console import err, out
from robot.config import load_settings
from robot.errors import RobotError
from robot.locators import Resolution, registry
from robot.logging import configure_logging
from robot.replay import offline
from robot.replay import suggest as sg
from robot.replay.har import scenario_dirs
from robot.sessions import SessionPool
from robot.twofactor import PromptCodeProvider
from robot.vault import Vault

if TYPE_CHECKING:
    from collections.abc import Callable

    from robot.config import Settings
    from robot.twofactor import CodeProvider
    from robot.vault import Vault

app = typer.Typer(help="Selectors (Jobber's pages as data): list them, check them on a live site.",
                  no_args_is_help=True)

__all__ = ["app", "drift_message", "drifted", "fallbacks", "run_check"]


async def run_check(settings: "Settings", vault: "Vault", merchant: str, url: str | None = None,
                    code_provider: "CodeProvider | None" = None,
                    say: "Callable[[str], None] | None" = None) -> list[Resolution]:
    """Sign in as `merchant` and probe every page's selectors; returns one row per selector.
    `say(words)` is told what it does now (the command's spinner).

    The sign-in goes through the session pool, so a refused password or authenticator seed is
    never submitted again by a check (each try spends one of Jobber's few before a lock-out)."""
    tell = say or (lambda words: None)
    timeout = settings.action_timeout_ms
    tell("starting the browser…")
    async with SessionPool(settings, vault, code_provider=code_provider, jobber_url=url) as pool:
        assert pool.browser is not None
        creds = vault.get(merchant)
        base = (url or creds.jobber_url or settings.jobber_url).rstrip("/")
        tell("checking Jobber's sign-in page (signed out)…")
        anon = await pool.browser.new_context()
        try:
            results = await check_sign_in(JobberTab(await anon.new_page(), base, timeout))
        finally:
            await anon.close()
        results += skipped("identity_notice", why="shown only when Jobber blocks a sign-in")
        tell(f"signing in to Jobber as {merchant}…")
        async with pool.job(merchant, "selectors-check") as sess:
            tell("checking the app's pages: invoices, payment forms, a client, a quote (nothing is saved)…")
            login = sess.last_login
            mfa = registry()["mfa"].selectors
            if login is not None and login.verified_2fa:
                results += [Resolution(page="mfa", selector=k, description=s.description, optional=s.optional,
                                       found=not s.optional, via="passed during sign-in" if not s.optional
                                       else "not needed on this sign-in", status="ok" if not s.optional else "skipped")
                            for k, s in mfa.items()]
            else:
                results += skipped("mfa", why="asked only on a new device")
            results += skipped("account_chooser", why="passed during sign-in" if login is not None and login.ok
                                else "not shown")
            assert sess.tab is not None
            results += await check_app(sess.tab)
    return results


def _table(results: list[Resolution]) -> Table:
    table = Table(title="Selectors on the live site")
    for col in ("page", "selector", "control", "result", "resolved by"):
        table.add_column(col)
    style = {"ok": "green", "fallback": "yellow", "missing": "red", "skipped": "dim"}
    for r in results:
        status = r.status if not (r.status == "missing" and r.optional) else "absent (optional)"
        table.add_row(r.page, r.selector, escape(r.description),
                      f"[{style.get(r.status, 'white')}]{status}[/]", escape(r.via or ""))
    return table


def _fixture_dirs(given: list[Path] | None) -> list[Path]:
    """Scenario folders: the given ones (a scenario, or a folder of them), else every committed
    recording of the normal layout (the drift-* variants are checked when named)."""
    if given:
        out: list[Path] = []
        for p in given:
            out += [p] if (p / "scenario.json").exists() else scenario_dirs(p)
        return out
    return [d for d in scenario_dirs() if not json.loads((d / "scenario.json").read_text())["layout_variant"]]


async def _with_browser(fn: Any) -> Any:
    settings = load_settings()
    async with async_playwright() as pw:
        browser = await launch(pw, headless=True, explicit=settings.browser_path)
        try:
            return await fn(browser)
        finally:
            await browser.close()


def _check_fixtures(dirs: list[Path]) -> None:
    if not dirs:
        err.print("[red]no recorded fixtures found (record some with `jobber-robot fixtures record`)[/red]")
        raise typer.Exit(2)
    findings = asyncio.run(_with_browser(lambda b: offline.check(b, dirs)))
    bad = offline.drifted(findings)
    snaps = len({f.snapshot.name for f in findings})
    out.print(f"checked {len(findings)} selector uses on {snaps} snapshots of {len(dirs)} recordings "
              f"({', '.join(d.name for d in dirs)})")
    missing = False
    for (_page, _key), where in sorted(bad.items()):
        fallback_only = all(f.resolution.status == "fallback" for f in where)
        missing |= not fallback_only
        out.print(f"[{'yellow' if fallback_only else 'red'}]{escape(offline.message(where))}[/]")
    if missing:
        out.print("[dim]repair help: jobber-robot selectors suggest PAGE.SELECTOR --fixtures-dir DIR[/dim]")
        raise typer.Exit(1)
    if not bad:
        out.print("[green]every selector resolves on the recorded pages[/green]")


@app.command("check")
def check(
    url: str = typer.Option(None, "--url", help="Jobber base URL (default: the merchant's or the settings')"),
    merchant: str = typer.Option(None, "--merchant", "-m", help="Merchant to sign in as (default: the only one)"),
    fixtures: bool = typer.Option(False, "--fixtures", help="Check against the recorded fixture pages, offline"),
    fixtures_dir: list[Path] = typer.Option(None, "--fixtures-dir",
                                            help="Recording(s) to check (implies --fixtures; default: every "
                                                 "committed recording of the normal layout)"),
) -> None:
    """Sign in and report, per page and per selector, which still resolve (or, with --fixtures,
    check the recorded snapshots offline and name the drifted selectors)."""
    if fixtures or fixtures_dir:
        _check_fixtures(_fixture_dirs(fixtures_dir))
        return
    try:
        settings = load_settings()
        configure_logging(settings, console=False)
        vault = Vault.from_settings(settings)
        if merchant is None:
            names = [c.merchant for c in vault.list()]
            if len(names) != 1:
                err.print("[red]give --merchant (the vault holds "
                          f"{', '.join(names) or 'no merchant'})[/red]")
                raise typer.Exit(2)
            merchant = names[0]
        status = err.status("starting…", spinner="dots")
        if err.is_terminal:
            status.start()
        try:
            prompt = PromptCodeProvider(timeout_seconds=settings.handoff_timeout_seconds, pause=status.stop,
                                        resume=status.start if err.is_terminal else None)
            results = asyncio.run(run_check(settings, vault, merchant, url, prompt, say=status.update))
        finally:
            status.stop()
    except RobotError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    out.print(_table(results))
    for r in fallbacks(results):
        out.print(f"[yellow]drift: {escape(r.description)} on the {r.page} page was found only by a fallback "
                  f"({escape(r.via or '')})[/yellow] (selector {r.page}.{r.selector}): Jobber changed this control")
    bad = drifted(results)
    for r in bad:
        out.print(f"[red]{drift_message(r)}[/red] (selector {r.page}.{r.selector})")
    if bad:
        raise typer.Exit(1)
    out.print("[green]every required selector resolves[/green]")


@app.command("list")
def list_() -> None:
    """Print every page's selectors and their locators, in order."""
    table = Table(title="Selectors (selectors/*.toml)")
    for col in ("page", "selector", "control", "optional", "locators (first wins)"):
        table.add_column(col)
    for page, spec in registry().items():
        for key, sel in spec.selectors.items():
            scope = f" [dim](in {sel.scope})[/dim]" if sel.scope else ""
            table.add_row(page, key + scope, sel.description, "yes" if sel.optional else "",
                          escape(" | ".join(loc.describe() for loc in sel.locators)))
    out.print(table)


@app.command("suggest")
def suggest(
    selector: str = typer.Argument(None, help="PAGE.SELECTOR (default: every selector drifted on the recordings)"),
    fixtures_dir: list[Path] = typer.Option(None, "--fixtures-dir", help="Recording(s) to read (default: the "
                                            "committed ones of the normal layout)"),
    top: int = typer.Option(5, "--top", min=1, max=20, help="Candidates shown per selector"),
) -> None:
    """Rank candidates for a drifted selector from the snapshots' accessibility tree and print a
    TOML patch to review. Nothing is changed: apply the patch yourself after checking it."""
    dirs = _fixture_dirs(fixtures_dir)
    if selector is not None and (selector.count(".") != 1 or selector.split(".")[0] not in registry()
                                 or selector.split(".")[1] not in registry()[selector.split(".")[0]].selectors):
        err.print("[red]selector: give PAGE.SELECTOR as listed by `jobber-robot selectors list`[/red]")
        raise typer.Exit(2)

    async def run(browser: Any) -> list[tuple[str, str, list[Any], str]]:
        findings = await offline.check(browser, dirs)
        bad = offline.drifted(findings)
        wanted = [tuple(selector.split("."))] if selector else sorted(bad)
        page = await offline.offline_page(browser)
        shown = []
        try:
            for page_key, key in wanted:
                where = bad.get((page_key, key)) or [f for f in findings if (f.resolution.page, f.resolution.selector)
                                                     == (page_key, key)]
                if not where:
                    shown.append((page_key, key, [], "no recorded snapshot shows this page"))
                    continue
                snap = where[0].snapshot
                t = sg.target(page_key, key)
                cands = sg.rank(t, sg.parse_aria(snap.aria_path.read_text(encoding="utf-8")))[:top]
                await offline.load_snapshot(page, snap)
                await sg.verify(page, t, cands)
                shown.append((page_key, key, cands, snap.name))
        finally:
            await page.context.close()
        return shown

    results = asyncio.run(_with_browser(run))
    if not results:
        out.print("[green]nothing drifted on the recordings: no suggestion needed[/green]")
        return
    for page_key, key, cands, where in results:
        table = Table(title=f"{page_key}.{key} — candidates from {where}")
        for col in ("rank", "score", "control (role \"name\")", "unique on the snapshot"):
            table.add_column(col)
        for i, c in enumerate(cands, start=1):
            table.add_row(str(i), f"{c.score:.2f}", escape(c.node.describe()), "yes" if c.resolves else "no")
        out.print(table)
        best = next((c for c in cands if c.resolves), None)
        if best is None:
            out.print(f"[yellow]no candidate resolves uniquely for {page_key}.{key}: edit selectors/{page_key}.toml "
                      "by hand[/yellow]")
            continue
        out.print(f"[bold]suggested patch (review it; it is not applied):[/bold]")
        out.print(sg.patch(page_key, key, best.locator), markup=False, highlight=False, soft_wrap=True)
