"""The access doctor: why can this merchant's robot not get into Jobber, and whose move is it?

It runs the access path step by step, the way a job would, and reports each step with pass /
fail / skipped, its time and, on a failure, the cause in plain words and the fix (a command or
a person's action). It never moves money and never saves anything in Jobber; it submits the
password at most once, and never a password, seed or block the vault remembers Jobber refused.

Interface (used by `jobber-robot doctor`, `merchants add --verify` and the support dashboard):

    from robot.doctor import run_doctor, DoctorReport, DoctorStep, StepStatus, ExitClass, STEPS

    report: DoctorReport = await run_doctor(
        settings, "acme",
        on_step=callback,      # called with a copy of the DoctorStep when each step starts
                               # (status "running") and when it ends (pass / fail / skipped)
        code_prompt=provider,  # a robot.twofactor.CodeProvider asked when Jobber wants a code only
                               # a person has (SMS); None: nobody to ask, the step fails "needs a person"
        vault=None,            # default Vault.from_settings(settings)
    )
    report.steps             # [DoctorStep(name, title, status, seconds, detail, cause, fix, exit_class)]
    report.exit_class        # ExitClass.ok | merchant_must_act | jobber_changed | jobber_unavailable | our_side
    report.exit_code         # 0 | 3 | 4 | 5 | 6  (EXIT_CODES; the first failed step decides)
    report.first_failure     # the DoctorStep that decided, or None
    report.artifacts         # screenshot, trace and HTML of the failing step (masked), if any
    report.to_json()         # the `--json` document
    write_bundle(report, settings, "out.zip")   # checklist, evidence, versions, settings; secrets masked

`STEPS` lists every step name with its title, in order: vault, hosts, sign_in_page, password,
mfa, stops, device, account, invoices, selectors, gateway. Every run ends with every step
reported once (the ones after a failure as skipped, except the gateway, which is checked
whatever Jobber did). Each run is also written to the health store (robot.health) as the
merchant's latest access result.

`on_step` runs in the doctor's event loop and must not block; a callback that raises is logged
and ignored. The run takes one browser of its own (a SessionPool), so it can run beside a
worker.
"""

from robot.doctor.bundle import write_bundle
from robot.doctor.models import EXIT_CODES, STEPS, DoctorReport, DoctorStep, ExitClass, StepStatus
from robot.doctor.run import run_doctor

__all__ = ["EXIT_CODES", "STEPS", "DoctorReport", "DoctorStep", "ExitClass", "StepStatus", "run_doctor",
           "write_bundle"]
