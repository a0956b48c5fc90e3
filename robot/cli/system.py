"""Small system commands: where the browser is, which version runs."""

from __future__ import annotations

import typer

from robot import __version__
from robot.cli.console import err, out
from robot.errors import RobotError


def register(app: typer.Typer) -> None:
    @app.command("browser")
    def browser() -> None:
        """Print the Chromium the robot will use (or how to install one)."""
        from robot.browser import find_browser
        from robot.config import get_settings

        try:
            out.print(str(find_browser(get_settings().browser_path)))
        except RobotError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from None

    @app.command("version")
    def version() -> None:
        """Print the robot's version."""
        out.print(__version__)
