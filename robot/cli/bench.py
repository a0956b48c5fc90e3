"""`jobber-robot bench [--quick] [--json FILE] [--plot FILE]`: speed and memory beside the floors.

Starts its own test world (mock Jobber site + sandbox gateway on free local ports, in a child
process, data in a temp dir) and measures every variant in one run (benchmarks/). Prints the
figures and the issue's targets, met or missed. A slow result is a finding, not a failure: the
exit code is 0 whatever the speed, 1 only when the bench itself could not run (a job failed, the
world did not start).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from benchmarks import report, run, sleeps, targets
from robot.cli.console import err, out
from robot.logging import redact_text


def register(app: typer.Typer) -> None:
    @app.command("bench")
    def bench(
        quick: bool = typer.Option(False, "--quick", help="fewer samples, no 16-context memory or 8-merchant run "
                                                          "(under 2 minutes; what CI runs)"),
        json_file: Path = typer.Option(None, "--json", help="write every figure and target verdict to this JSON file"),
        plot_file: Path = typer.Option(None, "--plot", help="write the plot (PNG) here, e.g. docs/bench.png"),
    ) -> None:
        """Benchmark the robot beside its HTTP floor and a naive robot; report the speed targets."""
        # the bench package pulls matplotlib and psutil: loaded by this command only

        sizes = run.Sizes.quick_run() if quick else run.Sizes.full_run()
        try:
            results = asyncio.run(run.run(sizes, say=lambda s: err.print(f"[dim]bench: {s}…[/dim]")))
        except Exception as exc:  # noqa: BLE001 - any failure of the bench itself: exit 1 with its reason

            err.print(f"[red]bench failed: {type(exc).__name__}: {redact_text(str(exc)[:500])}[/red]")
            raise typer.Exit(1) from None
        verdicts = targets.judge(results, sleeps_found=len(sleeps.unmarked()))
        report.print_all(out, results, verdicts)
        if json_file is not None:
            report.write_json(json_file, results, verdicts)
            err.print(f"[dim]figures written to {json_file}[/dim]")
        if plot_file is not None:
            report.plot(plot_file, results)
            err.print(f"[dim]plot written to {plot_file}[/dim]")
