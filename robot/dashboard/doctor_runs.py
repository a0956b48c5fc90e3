"""Doctor runs started from the dashboard: run in `serve`'s event loop, streamed to the page.

A run is kept in memory under a random key (the page's URL) with every step event it produced,
so a page opened late, or reloaded, replays the checklist from the start and then follows it
live. One run per merchant at a time; the last few finished runs are kept for their pages.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from robot.doctor import StepStatus, run_doctor
from robot.logging import get_logger, redact_text, register_secret

if TYPE_CHECKING:
    from robot.config import Settings

KEEP_FINISHED = 50
#: how long a doctor run waits for the person at the page to type a code Jobber sent (SMS)
CODE_WAIT_SECONDS = 300


@dataclass
class DoctorRun:
    key: str
    merchant: str
    by: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)   # name -> the step's latest state
    events: list[dict[str, Any]] = field(default_factory=list)       # every step event, in order
    end: dict[str, Any] | None = None                                # set when the run is over
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[Any] | None = None
    #: what the doctor asks the person now ({"channel", "hint", "deadline"}), while it waits
    asking: dict[str, Any] | None = None
    _answer: asyncio.Future[str | None] | None = None

    @property
    def done(self) -> bool:
        return self.end is not None

    def _notify(self) -> None:
        async def wake() -> None:
            async with self.changed:
                self.changed.notify_all()

        asyncio.get_running_loop().create_task(wake())

    def step(self, step: Any) -> None:
        """The doctor's on_step: must not block (it runs in the doctor's loop)."""
        data = {"key": step.name, "title": step.title, "status": step.status.value, "seconds": step.seconds
                if step.status is not StepStatus.running else None, "detail": step.detail, "cause": step.cause,
                "fix": step.fix}
        self.steps[step.name] = data
        self.events.append(data)
        self._notify()

    def finish(self, report: Any | None, error: str | None = None) -> None:
        if report is not None:
            failed = report.first_failure
            summary = ("Every check passed." if failed is None else
                       f"{failed.title}: {failed.cause}" + (f" Fix: {failed.fix}" if failed.fix else ""))
            self.end = {"ok": report.ok, "summary": summary, "exit_class": report.exit_class.value,
                        "exit_code": report.exit_code, "run_id": report.run_id}
        else:
            self.end = {"ok": False, "summary": f"The doctor itself failed ({error}); see serve's log.",
                        "exit_class": "our_side", "exit_code": 6, "run_id": None}
        self._notify()

    # --- a code only the person at the page has (the doctor's code_prompt) ----------------------
    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        """robot.twofactor.CodeProvider: ask on the run's page and wait for the answer."""
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        deadline = datetime.now(UTC) + timedelta(seconds=CODE_WAIT_SECONDS)
        self.asking = {"channel": channel, "hint": hint, "deadline": deadline.isoformat(timespec="seconds")}
        self.events.append({"key": "_ask", **self.asking})
        self._notify()
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), CODE_WAIT_SECONDS)
        except TimeoutError:
            return None
        finally:
            self.asking = None
            self._answer = None
            self.events.append({"key": "_asked"})
            self._notify()

    def answer(self, code: str) -> bool:
        """The person's code (already checked for shape). False when nothing is asked now."""
        if self._answer is None or self._answer.done():
            return False
        register_secret(code)
        self._answer.set_result(code)
        return True

    async def follow(self, start: int = 0, keepalive: float = 15.0) -> Any:
        """Yield ("step", data) for every event from `start`, then ("done", end); a ("ping", None)
        when nothing happened for `keepalive` seconds."""
        i = start
        while True:
            while i < len(self.events):
                event = self.events[i]
                i += 1
                if event["key"] == "_ask":
                    yield "ask", {k: v for k, v in event.items() if k != "key"}
                elif event["key"] == "_asked":
                    yield "asked", {}
                else:
                    yield "step", event
            if self.end is not None:
                yield "done", self.end
                return
            async with self.changed:
                try:
                    await asyncio.wait_for(self.changed.wait_for(
                        lambda: i < len(self.events) or self.end is not None), keepalive)
                except TimeoutError:
                    yield "ping", None


class DoctorRuns:
    def __init__(self, settings: "Settings") -> None:
        self.settings = settings
        self.runs: dict[str, DoctorRun] = {}
        self.log = get_logger("dashboard.doctor")

    def get(self, key: str) -> DoctorRun | None:
        return self.runs.get(key)

    def start(self, merchant: str, by: str, vault: Any = None) -> DoctorRun:
        """A new run for `merchant`, or the one already running for it."""
        for run in self.runs.values():
            if run.merchant == merchant and not run.done:
                return run
        self._trim()
        run = DoctorRun(key=secrets.token_urlsafe(12), merchant=merchant, by=by)
        self.runs[run.key] = run
        run.task = asyncio.get_running_loop().create_task(self._run(run, vault), name=f"doctor-{merchant}")
        return run

    async def _run(self, run: DoctorRun, vault: Any) -> None:
        log = self.log.bind(merchant=run.merchant, staff=run.by)
        log.info("doctor started from the dashboard")
        try:
            report = await run_doctor(self.settings, run.merchant, on_step=run.step, code_prompt=run,
                                      vault=vault)
        except Exception as exc:  # noqa: BLE001 - shown on the page, logged here
            log.exception("the doctor failed")
            run.finish(None, error=f"{type(exc).__name__}: {redact_text(str(exc))[:200]}")
            return
        log.info("doctor finished", exit_class=report.exit_class.value)
        run.finish(report)

    def _trim(self) -> None:
        finished = [r for r in self.runs.values() if r.done]
        for r in sorted(finished, key=lambda r: r.started_at)[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.runs[r.key]

    async def stop(self) -> None:
        for run in self.runs.values():
            if run.task is not None and not run.task.done():
                run.task.cancel()
