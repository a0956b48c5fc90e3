"""What a flow knows so far about its job, turned into the job's result at the end, also when
the flow fails half way (the service then adds the outcome and the message)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robot.jobs.models import JobResult, StepTiming
from robot.outcomes import Outcome


@dataclass
class Draft:
    """What a flow knows so far; the service turns it into a JobResult, also on failure."""

    job_id: str
    kind: str
    merchant: str
    fields: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    money_moved: bool = False
    recorded: bool = False

    def set(self, **kw: Any) -> None:
        self.fields.update({k: v for k, v in kw.items() if v is not None})

    def result(self, outcome: Outcome, message: str, *, error_code: str | None = None,
               steps: list[StepTiming] | None = None, artifacts: list[str] | None = None) -> JobResult:
        return JobResult(job_id=self.job_id, kind=self.kind, merchant=self.merchant, outcome=outcome,
                         message=message, error_code=error_code, steps=steps or [],
                         artifacts=artifacts or [], report=dict(self.report), **self.fields)
