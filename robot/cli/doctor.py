"""`jobber-robot doctor MERCHANT`: the access checklist, live, for a support person.

At a terminal each step shows a spinner while it runs and its result, time, cause and fix when it
ends; elsewhere (a pipe, CI) each step is printed as it ends. `--json` prints only the report.
When Jobber asks for a text-message code and a person is at the terminal, the doctor asks for it
right there (masked phone number, deadline, hidden input) and goes on.

Exit status: 0 every check passed · 3 the merchant must act (password, 2FA, unblock, CAPTCHA) ·
4 Jobber changed a page (drift) · 5 Jobber is down (wait) · 6 our side (vault/config, gateway key,
network, this machine's clock) · 2 bad input. The README lists them too.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.text import Text

from robot.cli.console import err, out
from robot.config import get_settings
from robot.doctor import StepStatus, run_doctor, write_bundle
from robot.errors import RobotError
from robot.logging import configure_logging
from robot.twofactor import PromptCodeProvider

if TYPE_CHECKING:
    from robot.config import Settings
    from robot.doctor import DoctorReport, DoctorStep

_MARKS = {"pass": ("✔", "green"), "fail": ("✘", "red"), "skipped": ("–", "dim")}


def _step_lines(step: "DoctorStep") -> list[Text]:
    mark, style = _MARKS.get(step.status.value, ("…", "cyan"))
    head = Text.assemble((f"{mark} ", style), (step.title, "bold" if step.status is StepStatus.failed else ""),
                         (f"  {step.seconds:.1f} s", "dim"))
    lines = [head]
    if step.detail and step.status is StepStatus.passed:
        lines.append(Text(f"    {step.detail}", style="dim"))
    if step.cause and step.status is not StepStatus.passed:
        lines.append(Text(f"    {step.cause}", style="red" if step.status is StepStatus.failed else "dim"))
    if step.fix:
        lines.append(Text.assemble(("    fix: ", "bold"), (step.fix, "")))
    return lines


class Checklist:
    """The live checklist: finished steps above, the running one with a spinner."""

    def __init__(self, merchant: str, live: bool) -> None:
        self.merchant = merchant
        self.done: list[DoctorStep] = []
        self.running: DoctorStep | None = None
        self.live: Live | None = Live(self, console=err, refresh_per_second=8, transient=False) if live else None

    def __rich__(self) -> Group:
        parts: list[Any] = [Text(f"Doctor · {self.merchant}", style="bold")]
        for s in self.done:
            parts += _step_lines(s)
        if self.running is not None:
            parts.append(Spinner("dots", text=Text(f" {self.running.title}")))
        return Group(*parts)

    def on_step(self, step: "DoctorStep") -> None:
        if step.status is StepStatus.running:
            self.running = step
        else:
            self.running = None
            self.done.append(step)
            if self.live is None:
                for line in _step_lines(step):
                    err.print(line, soft_wrap=True)  # a command in a fix is never broken across lines

    def pause(self) -> None:
        if self.live is not None:
            self.live.stop()

    def resume(self) -> None:
        if self.live is not None:
            self.live.start()


def summary_line(report: "DoctorReport") -> Text:
    failed = report.first_failure
    if failed is None:
        return Text("every access check passed", style="bold green")
    who = {"merchant_must_act": "the merchant must act", "jobber_changed": "Jobber changed a page",
           "jobber_unavailable": "Jobber is down: wait and run again", "our_side": "our side must fix it"}
    return Text.assemble((f"{who.get(report.exit_class.value, report.exit_class.value)}", "bold red"),
                         (f" ({report.exit_class.value}, exit {report.exit_code}): {failed.title}", ""))


async def run_with_checklist(settings: "Settings", merchant: str, *, json_output: bool = False) -> "DoctorReport":
    """Run the doctor, showing the checklist (live at a terminal) unless `json_output`."""
    checklist = Checklist(merchant, live=not json_output and err.is_terminal)
    prompt = PromptCodeProvider(timeout_seconds=settings.handoff_timeout_seconds, pause=checklist.pause,
                                resume=checklist.resume)
    if checklist.live is not None:
        checklist.live.start()
    try:
        report = await run_doctor(settings, merchant, on_step=None if json_output else checklist.on_step,
                                  code_prompt=prompt)
    finally:
        if checklist.live is not None:
            checklist.live.stop()
    return report


def run_and_print(settings: "Settings", merchant: str, *, json_output: bool = False,
                  bundle: Path | None = None) -> int:
    """The command's body, shared with `merchants add --verify`; returns the exit status."""
    report = asyncio.run(run_with_checklist(settings, merchant, json_output=json_output))
    if bundle is not None:
        path = write_bundle(report, settings, bundle)
        if not json_output:
            err.print(f"[dim]bundle written: {escape(str(path))}[/dim]")
    if json_output:
        sys.stdout.write(json.dumps(report.to_json(), indent=1) + "\n")
    else:
        out.print(summary_line(report))
        if report.artifacts:
            out.print(Text("evidence: " + ", ".join(report.artifacts), style="dim"))
    return report.exit_code


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        merchant: str = typer.Argument(..., metavar="MERCHANT", help="merchant slug in the vault, e.g. acme"),
        json_output: bool = typer.Option(False, "--json", help="print the report as JSON only"),
        bundle: Path = typer.Option(None, "--bundle", metavar="FILE.zip",
                                    help="also write checklist, evidence, versions and settings (masked) to a zip"),
    ) -> None:
        """Check a merchant's whole access path (vault → Jobber's hosts → sign-in → 2FA → account →
        pages → gateway key), saying for each failure the cause and the fix. Moves no money,
        records nothing; submits the password at most once. Exit 0 ok, 3 the merchant must act,
        4 Jobber changed, 5 Jobber down, 6 our side."""
        if bundle is not None and bundle.suffix.lower() != ".zip":
            err.print("[red]invalid input: --bundle: must name a .zip file[/red]")
            raise typer.Exit(2)
        try:
            settings = get_settings()
            settings.ensure_dirs()
        except RobotError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from None
        configure_logging(settings, console=False)  # the checklist is the console's output
        raise typer.Exit(run_and_print(settings, merchant, json_output=json_output, bundle=bundle))


__all__ = ["Checklist", "register", "run_and_print", "run_with_checklist", "summary_line"]
