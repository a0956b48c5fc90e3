"""What a direct command (`charge`, `refund`, ..., `demo`) shows while its job runs.

At a terminal, one spinner line says what the robot waits for: the browser and the job store
starting, the job's turn on the queue (one job per merchant at a time), each stage in words, a
person's answer. A job that waits for a person also prints, once, the command that answers it
(at a terminal or not): a silent wait of minutes reads as a hang.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.status import Status

from robot.cli.console import err, plain

#: a stage (flows' STAGES) as the spinner says it
STAGE_WORDS = {
    "verify": "signing in to Jobber and checking the invoice",
    "verify_confirmed": "checking the invoice a person picked",
    "gateway": "talking to the payment gateway",
    "gateway_check": "checking the payment at the gateway (dry run: nothing moves)",
    "record": "recording the payment in Jobber",
    "verify_after": "reading the invoice back from Jobber",
    "send": "sending the payment link",
    "jobber": "reading the payments in Jobber",
}


def _clock(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return ""


def question_line(job_id: str, question: dict[str, Any]) -> str:
    """What a waiting job asks for and the command that answers it (rich markup, values escaped)."""
    until = _clock(question.get("deadline"))
    by = f" by {until}" if until else ""
    jid = plain(job_id)
    if question.get("kind") == "2fa":
        hint = f" ({plain(question['hint'])})" if question.get("hint") else ""
        return (f"job {jid} waits for a verification code{hint}{by}: "
                f"[bold]jobber-robot handoff {jid} CODE[/bold]")
    numbers = ", ".join(f"#{c.get('invoice')}" for c in question.get("candidates", []))
    return (f"job {jid} waits for a person to pick the invoice ({plain(numbers)}){by}: "
            f"[bold]jobber-robot handoff {jid} --invoice N[/bold]")


class SpinnerWatch:
    """robot.cli.inprocess.JobWatch on the error console."""

    def __init__(self, console: Console = err) -> None:
        self.console = console
        self.job_id: str | None = None
        self._status: Status | None = None

    def _show(self, text: str) -> None:
        if not self.console.is_terminal:
            return
        if self._status is None:
            self._status = self.console.status(text, spinner="dots")
            self._status.start()
        else:
            self._status.update(text)

    def starting(self) -> None:
        self._show("starting the robot: browser and job store…")

    def queued(self, job_id: str) -> None:
        self.job_id = job_id
        self.console.print(f"[dim]job {plain(job_id)} queued; running it here (Ctrl-C cancels it)[/dim]")
        self._show(f"job {plain(job_id)}: waiting for its turn (one job per merchant at a time)…")

    def draining(self, job_ids: list[str]) -> None:
        self.job_id = None  # the command's own job is done
        jobs = ", ".join(plain(j) for j in job_ids)
        self.console.print(f"[dim]this process also took {jobs} from the queue: letting it finish "
                           "(Ctrl-C hands it back to the queue)[/dim]", soft_wrap=True)
        self._show(f"finishing {jobs}…")

    def progress(self, job_id: str, what: str, value: Any) -> None:
        if job_id != self.job_id:
            return  # another job this process picked up
        jid = plain(job_id)
        if what == "step":
            self._show(f"job {jid}: {plain(STAGE_WORDS.get(str(value), f'stage {value}'))}…")
        elif what == "handoff" and value:
            self.console.print(question_line(job_id, value), soft_wrap=True)
            self._show(f"job {jid}: waiting for a person's answer…")
        elif what == "handoff":
            self._show(f"job {jid}: answer received, going on…")

    def pause(self) -> None:
        if self._status is not None:
            self._status.stop()

    def resume(self) -> None:
        if self._status is not None:
            self._status.start()

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
