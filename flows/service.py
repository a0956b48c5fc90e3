"""THE entry point of the payment flows, used by the CLI and by the job queue.

    result = await run_job(job, job_id="j-123", settings=settings, pool=pool)

Builds the FlowContext (credentials from the vault, the merchant's gateway client, the
merchant's Jobber session from the pool), runs the job's flow, and turns every expected failure
into a JobResult with a message a support person can act on. It never raises for those:
refusals, gateway declines and terminal outcomes, access problems, selector drift, Jobber or
the gateway being unavailable. Timings per stage and evidence files are attached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flows.common import Draft, HeldJobber, NeedsConfirmation
from flows.registry import flow_for
from flows.runtime import Confirmer, DirectSteps, Fence, FlowContext, NoConfirmer, StepRunner, no_fence
from robot.errors import (
    AccessError,
    FlowRefused,
    InputError,
    JobberUnavailable,
    JobFenced,
    PageDriftError,
    RobotError,
    SessionExpired,
    TwoFactorRequired,
    VaultError,
)
from robot.gateway import errors as gw_errors
from robot.jobs.models import JobResult, Outcome
from robot.logging import get_logger

if TYPE_CHECKING:
    from robot.config import Settings
    from robot.sessions import SessionPool
    from robot.vault import Vault

# Failures that need no browser evidence: the page did what it should, a rule or the gateway said no.
_QUIET = (FlowRefused, InputError, gw_errors.GatewayError)


def _lost_the_job() -> tuple[type[BaseException], ...]:
    """This run no longer owns its job (fenced, or DBOS refused its checkpoint because the job was
    cancelled or taken over): not an outcome of the job. They pass through, so DBOS records
    nothing for this run and the job keeps the outcome of the execution that owns it."""
    from dbos._error import DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError

    return (JobFenced, DBOSWorkflowConflictIDError, DBOSWorkflowCancelledError)


def _outcome_for(exc: BaseException, draft: Draft | None = None) -> Outcome:
    if draft is not None and draft.money_moved and not draft.recorded and isinstance(exc, (FlowRefused, InputError)):
        return Outcome.failed  # not a refusal: money moved and Jobber would not take the record
    if isinstance(exc, NeedsConfirmation):
        return Outcome.needs_confirmation
    if isinstance(exc, gw_errors.Declined):
        return Outcome.declined
    if isinstance(exc, gw_errors.TerminalTimeout):
        return Outcome.timed_out
    if isinstance(exc, gw_errors.TerminalCancelled):
        return Outcome.cancelled
    if isinstance(exc, (gw_errors.TerminalOffline, gw_errors.TerminalBusy, gw_errors.GatewayUnavailable,
                        JobberUnavailable, SessionExpired)):
        return Outcome.unavailable
    if isinstance(exc, TwoFactorRequired):
        return Outcome.needs_2fa
    if isinstance(exc, (AccessError, gw_errors.GatewayAuthError, VaultError)):
        return Outcome.access_failed
    if isinstance(exc, (FlowRefused, InputError, gw_errors.NotVoidable, gw_errors.NotRefundable,
                        gw_errors.InvalidRequest, gw_errors.NotFound, gw_errors.LinkExpired,
                        gw_errors.LinkNotOpen, gw_errors.DuplicateTransaction)):
        return Outcome.refused
    return Outcome.failed


def _message_for(exc: BaseException, draft: Draft) -> str:
    """What went wrong and what to do, for a support person. Masked: an unexpected error's text
    (a page's, a library's) may quote a password, a code or a card number."""
    from robot.logging import redact_text

    return redact_text(_plain_message_for(exc, draft))


def _plain_message_for(exc: BaseException, draft: Draft) -> str:
    if isinstance(exc, gw_errors.Declined):
        msg = f"declined ({exc.reason.replace('_', ' ')}): {exc.message}; nothing was charged or recorded"
    elif isinstance(exc, gw_errors.TerminalTimeout):
        msg = f"the terminal timed out waiting for the customer ({exc.message}); nothing was charged or recorded"
    elif isinstance(exc, gw_errors.TerminalCancelled):
        msg = f"cancelled at the terminal ({exc.message}); nothing was charged or recorded"
    elif isinstance(exc, gw_errors.TerminalOffline):
        msg = f"the terminal is offline ({exc.message}); nothing was charged or recorded. Check it is on and try again"
    elif isinstance(exc, gw_errors.TerminalBusy):
        msg = f"the terminal is busy with another payment ({exc.message}); nothing was charged or recorded"
    elif isinstance(exc, gw_errors.GatewayAuthError):
        msg = f"the gateway refused this merchant's API key ({exc.message}); fix it with `jobber-robot merchants`"
    elif isinstance(exc, gw_errors.GatewayUnavailable):
        msg = (f"the gateway did not answer ({exc.message}); try again later with the same job id: if money moved, "
               "the robot finds it by the job's reference and records it once, never charging twice")
    elif isinstance(exc, RobotError):
        msg = exc.message
    else:
        first = str(exc).split("\n", 1)[0][:300]
        msg = f"unexpected {type(exc).__name__}: {first}"
    if draft.money_moved and not draft.recorded:
        txn = draft.fields.get("gateway_transaction_id")
        msg += (f". NOTE: the gateway already moved the money (transaction {txn}) but it is NOT recorded in "
                "Jobber yet: run this job again with the same job id (the gateway will not charge twice and the "
                "robot records it once), or record it by hand with the transaction id in Details")
    return msg


def _code_for(exc: BaseException) -> str:
    return exc.code if isinstance(exc, RobotError) else type(exc).__name__


def failure_result(exc: BaseException, draft: Draft, ctx: FlowContext | None) -> JobResult:
    if isinstance(exc, NeedsConfirmation):
        draft.set(candidates=exc.candidates)
    artifacts = [str(a) for a in getattr(exc, "artifacts", None) or []]
    if ctx is not None:
        artifacts = [*ctx.artifacts, *artifacts]
    if isinstance(exc, PageDriftError):
        draft.report["drift"] = {"page": exc.page, "selector": exc.selector, "control": exc.description}
    return draft.result(_outcome_for(exc, draft), _message_for(exc, draft), error_code=_code_for(exc),
                        steps=list(ctx.timings) if ctx else [], artifacts=artifacts)


async def run_job(job: Any, *, job_id: str, settings: "Settings", pool: "SessionPool",
                  runner: StepRunner | None = None, confirmer: Confirmer | None = None,
                  vault: "Vault | None" = None, fence: Fence | None = None) -> JobResult:
    """Run one job to a JobResult. Expected failures become outcomes; only bugs raise, and a run
    that lost its job (JobFenced from `fence`, checked before every write into Jobber)."""
    from robot.gateway import gateway_for

    log = get_logger("flows", merchant=job.merchant, job=job_id)
    draft = Draft(job_id=job_id, kind=job.kind, merchant=job.merchant)
    for name in ("invoice", "client", "quote"):
        if getattr(job, name, None) is not None:
            draft.set(**{name: getattr(job, name)})
    if getattr(job, "amount", None) is not None:
        draft.set(amount_requested=job.amount)
    if getattr(job, "transaction_id", None) is not None:
        draft.set(gateway_transaction_id=job.transaction_id)
    vault = vault or pool.vault
    try:
        creds = vault.get(job.merchant)
    except VaultError as exc:
        return failure_result(exc, draft, None)
    if creds.gateway is None:
        return draft.result(Outcome.access_failed, f"merchant {job.merchant} has no gateway credentials in the vault; "
                            "add them with `jobber-robot merchants`", error_code="no_gateway_credentials")
    gateway = gateway_for(settings, creds.gateway)
    held = HeldJobber(pool.access(job.merchant, job_id))
    ctx = FlowContext(job_id=job_id, settings=settings, creds=creds, gateway=gateway, jobber=held,
                      runner=runner or DirectSteps(), confirmer=confirmer or NoConfirmer(),
                      fence=fence or no_fence)
    spec = flow_for(job.kind)
    log.info("job started", kind=job.kind, dry_run=job.dry_run)
    try:
        try:
            result: JobResult = await spec.run(ctx, job, draft)
        except _QUIET as exc:
            await held.release()  # a refusal or a gateway answer: the page is fine, no evidence
            result = failure_result(exc, draft, ctx)
        except _lost_the_job():
            await held.release()  # nothing went wrong on the page: this run just lost the job
            raise
        except BaseException as exc:
            await held.release(exc)  # the pool saves screenshot, trace and HTML for this job
            raise
        else:
            await held.release()
    except _lost_the_job() as exc:
        log.warning("job run superseded: no result recorded by this run", error=type(exc).__name__)
        raise
    except (AccessError, PageDriftError, JobberUnavailable, SessionExpired, RobotError) as exc:
        result = failure_result(exc, draft, ctx)
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected page: a failed job with evidence
        log.exception("job failed unexpectedly")
        result = failure_result(exc, draft, ctx)
    finally:
        try:
            await gateway.aclose()
        except Exception:  # noqa: BLE001
            pass
    result = result.model_copy(update={"steps": list(ctx.timings),
                                       "artifacts": sorted({*result.artifacts, *ctx.artifacts})})
    log.info("job finished", outcome=result.outcome.value, error=result.error_code)
    return result
