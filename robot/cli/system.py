"""Small system commands: where the browser is, which version runs."""

from __future__ import annotations

import typer
from playwright.sync_api import sync_playwright

from robot import __version__
from robot.browser import find_browser, launch_options
from robot.cli.console import err, out
from robot.config import get_settings
from robot.errors import RobotError


def _launch_check(headless: bool) -> str:
    """Start the browser once and return its version: a Chromium that exists may still lack
    the system libraries it needs (Playwright's own download on a bare machine)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(headless, get_settings().browser_path))
        try:
            return browser.version
        finally:
            browser.close()


def register(app: typer.Typer) -> None:
    @app.command("browser")
    def browser(
        check: bool = typer.Option(False, "--check", help="also start it once (exit 1 when it cannot run)"),
    ) -> None:
        """Print the Chromium the robot will use (or how to install one)."""
        try:
            out.print(str(find_browser(get_settings().browser_path)))
            if check:
                out.print(f"starts: Chromium {_launch_check(headless=True)}")
        except RobotError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - Playwright's launch error, first line is the reason
            err.print(f"[red]the browser does not start: {str(exc).splitlines()[0]}[/red]")
            raise typer.Exit(1) from None

    @app.command("version")
    def version() -> None:
        """Print the robot's version."""
        out.print(__version__)
