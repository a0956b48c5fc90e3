"""`jobber-robot fixtures`: record Jobber's pages for CI (scrubbed), replay them with no server.

    jobber-robot fixtures record dialog-payments          # against the mock (started in-process)
    jobber-robot fixtures record --all                    # every scenario: one command re-records all
    jobber-robot fixtures record my-account --merchant acme --jobs jobs.json   # a real account
    jobber-robot fixtures replay                          # every recording, offline
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import typer
from rich.markup import escape

from robot.cli.console import err, out
from robot.config import load_settings
from robot.errors import RobotError
from robot.logging import configure_logging
from robot.replay.har import FIXTURES_DIR, scenario_dirs
from robot.replay.runner import record_on_account, record_on_mock, replay
from robot.replay.scenarios import SCENARIOS, Scenario
from robot.replay.scenarios import scenario as find
from robot.vault import Vault

app = typer.Typer(help="Fixture pages: record a scenario (scrubbed) and replay it offline.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """The scenarios `record` knows, and which are recorded."""
    for name, sc in SCENARIOS.items():
        mark = "recorded" if (FIXTURES_DIR / name / "scenario.json").exists() else "not recorded"
        out.print(f"[bold]{name}[/bold] ({mark}): {escape(sc.description)}")


@app.command("record")
def record(
    scenario: str = typer.Argument(None, help="Scenario name (see `fixtures list`), or a new name with --jobs"),
    all_: bool = typer.Option(False, "--all", help="Re-record every known scenario against the mock"),
    out_dir: Path = typer.Option(None, "--out", help="Folder of recordings (default: fixtures/pages)"),
    merchant: str = typer.Option(None, "--merchant", "-m",
                                 help="Record on this vault merchant's real Jobber account instead of the mock"),
    jobs: Path = typer.Option(None, "--jobs", help="JSON list of jobs for a real account (its own invoices)"),
) -> None:
    """Run a scenario through the robot and save its HAR, gateway exchanges and page snapshots,
    scrubbed (nothing is written when the scrubber finds anything it should have removed)."""
    try:
        settings = load_settings()
        configure_logging(settings, console=False)
        if merchant is not None:
            if not scenario or jobs is None:
                err.print("[red]--merchant needs a scenario name and --jobs FILE (the account's own invoices)[/red]")
                raise typer.Exit(2)

            try:
                job_list = json.loads(jobs.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                err.print(f"[red]--jobs: not a readable JSON list of jobs ({type(exc).__name__})[/red]")
                raise typer.Exit(2) from None
            sc = Scenario(name=scenario, description=f"recorded on a real account ({len(job_list)} jobs)",
                          login="(account)", jobs=job_list)
            paths = asyncio.run(record_on_account(sc, merchant=merchant, settings=settings,
                                                  vault=Vault.from_settings(settings), out_root=out_dir))
            out.print(f"[green]recorded {scenario}[/green]: {len(paths)} files")
            return
        names = list(SCENARIOS) if all_ else [find(scenario).name] if scenario else []
        if not names:
            err.print("[red]give a scenario (see `jobber-robot fixtures list`) or --all[/red]")
            raise typer.Exit(2)
        for name in names:
            paths = asyncio.run(record_on_mock(SCENARIOS[name], out_dir))
            out.print(f"[green]recorded {name}[/green]: {len(paths)} files under {paths[0].parent}")
    except RobotError as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None


@app.command("replay")
def replay_(
    scenarios: list[str] = typer.Argument(None, help="Recorded scenarios (default: all)"),
    fixtures_dir: Path = typer.Option(None, "--fixtures-dir", help="Folder of recordings (default: fixtures/pages)"),
) -> None:
    """Run the recorded jobs again against the recordings only (no server): same outcomes, or exit 1."""
    configure_logging(load_settings(), console=False)
    root = fixtures_dir or FIXTURES_DIR
    dirs = [root / s for s in scenarios] if scenarios else scenario_dirs(root)
    missing = [d.name for d in dirs if not (d / "scenario.json").exists()]
    if missing or not dirs:
        err.print(f"[red]not recorded: {', '.join(missing) or 'nothing under ' + str(root)}[/red]")
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="jobber-replay-") as tmp:
        reports = asyncio.run(replay(dirs, work_dir=Path(tmp)))
    for r in reports:
        out.print(f"[{'green' if r.ok else 'red'}]{escape(r.describe())}[/]")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)
