"""What the doctor reports: one `DoctorStep` per check, and a `DoctorReport` with an exit class.

The exit class says whose move it is, because that is what a support person needs first: the
merchant (a password, a 2FA seed or code, an unblock), Jobber (its pages changed: drift), Jobber
being down (wait), or our side (configuration, the gateway key, this machine's network or clock).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field


class StepStatus(str, Enum):
    running = "running"    # only in the `on_step` call made when a step starts
    passed = "pass"
    failed = "fail"
    skipped = "skipped"


class ExitClass(str, Enum):
    ok = "ok"
    merchant_must_act = "merchant_must_act"    # password, 2FA seed or code, unblock, CAPTCHA
    jobber_changed = "jobber_changed"          # a page or control the robot relies on changed (drift)
    jobber_unavailable = "jobber_unavailable"  # Jobber answers 5xx or error pages: wait, run again
    our_side = "our_side"                      # vault/config, gateway key, network, this machine's clock


#: the command's exit status per class (2 stays "bad input", as for every command of the CLI)
EXIT_CODES: dict[ExitClass, int] = {
    ExitClass.ok: 0,
    ExitClass.merchant_must_act: 3,
    ExitClass.jobber_changed: 4,
    ExitClass.jobber_unavailable: 5,
    ExitClass.our_side: 6,
}

#: the steps, in the order they run: name → title (the checklist's wording)
STEPS: dict[str, str] = {
    "vault": "Vault key and credentials decrypt",
    "hosts": "Jobber's hosts reachable (DNS, TLS, HTTP status)",
    "sign_in_page": "Sign-in page as expected",
    "password": "Password accepted",
    "mfa": "Two-step verification",
    "stops": "No block, CAPTCHA or safe mode",
    "device": "Remembered device valid",
    "account": "Lands on the merchant's business",
    "invoices": "Invoice list reachable",
    "selectors": "Every selector resolves on its pages",
    "gateway": "Gateway key valid (read-only call)",
}


class DoctorStep(BaseModel):
    name: str                                   # a key of STEPS
    title: str
    status: StepStatus
    seconds: float = 0.0
    detail: str = ""                            # what was seen (also on a pass)
    cause: str = ""                             # on a failure (or a skip): why, in plain words
    fix: str = ""                               # on a failure: what to do, with the command
    exit_class: ExitClass | None = None         # on a failure: whose move it is
    started_at: datetime | None = None


class DoctorReport(BaseModel):
    merchant: str
    run_id: str                                 # doctor-<merchant>-<UTC time>; names the evidence folder
    started_at: datetime
    finished_at: datetime | None = None
    steps: list[DoctorStep] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)   # screenshot, trace, HTML of the failing step
    versions: dict[str, str] = Field(default_factory=dict)
    password_attempts: int = 0                  # submitted by this run (0 or 1, never more)
    code_attempts: int = 0

    @property
    def first_failure(self) -> DoctorStep | None:
        return next((s for s in self.steps if s.status is StepStatus.failed), None)

    @property
    def exit_class(self) -> ExitClass:
        failed = self.first_failure
        return ExitClass.ok if failed is None else (failed.exit_class or ExitClass.our_side)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.exit_class]

    @property
    def ok(self) -> bool:
        return self.first_failure is None

    def step(self, name: str) -> DoctorStep:
        return next(s for s in self.steps if s.name == name)

    def to_json(self) -> dict[str, object]:
        """The `--json` document: the report plus its exit class and code."""
        return {**self.model_dump(mode="json"), "ok": self.ok, "exit_class": self.exit_class.value,
                "exit_code": self.exit_code}
