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

from flows.draft import Draft
from flows.registry import flow_for
from flows.runtime import Confirmer, DirectSteps, Fence, FlowContext, HeldJobber, NoConfirmer, StepRunner, no_fence
from robot.errors import JobFenced, NeedsConfirmation, PageDriftError, RobotError, VaultError
from robot.gateway import gateway_for
from robot.jobs.dbos_private import DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError
from robot.jobs.models import JobResult
from robot.logging import get_logger, redact_text
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from robot.config import Settings
    from robot.sessions import SessionPool
    from robot.vault import Vault


def _lost_the_job() -> tuple[type[BaseException], ...]:
    """This run no longer owns its job (fenced, or DBOS refused its checkpoint because the job was
    cancelled or taken over): not an outcome of the job. They pass through, so DBOS records
    nothing for this run and the job keeps the outcome of the execution that owns it."""
    return (JobFenced, DBOSWorkflowConflictIDError, DBOSWorkflowCancelledError)


def _outcome_for(exc: BaseException, draft: Draft | None = None) -> Outcome:
    """The error's own outcome (robot/errors.py), except that a refusal after the money moved and
    before Jobber took the record is not "refused" (that says nothing moved): it failed."""
    outcome = exc.job_outcome if isinstance(exc, RobotError) else Outcome.failed
    if outcome is Outcome.refused and draft is not None and draft.money_moved and not draft.recorded:
        return Outcome.failed
    return outcome


def _message_for(exc: BaseException, draft: Draft) -> str:
    """What went wrong and what to do, for a support person. Masked: an unexpected error's text
    (a page's, a library's) may quote a password, a code or a card number."""
    return redact_text(_plain_message_for(exc, draft))


def _plain_message_for(exc: BaseException, draft: Draft) -> str:
    if isinstance(exc, RobotError):
        msg = exc.support_message
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
                  vault: "Vault | None" = None, fence: Fence | None = None,
                  gateway_transport: Any = None) -> JobResult:
    """Run one job to a JobResult. Expected failures become outcomes; only bugs raise, and a run
    that lost its job (JobFenced from `fence`, checked before every write into Jobber).

    `gateway_transport` (an httpx transport) carries the gateway's HTTP: `fixtures record` passes
    one that records the exchanges, the replay one that answers them from the recording."""
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
    gateway = gateway_for(settings, creds.gateway, **({"transport": gateway_transport} if gateway_transport else {}))
    held = HeldJobber(pool.access(job.merchant, job_id))
    ctx = FlowContext(job_id=job_id, settings=settings, creds=creds, gateway=gateway, jobber=held,
                      runner=runner or DirectSteps(), confirmer=confirmer or NoConfirmer(),
                      fence=fence or no_fence)
    spec = flow_for(job.kind)
    log.info("job started", kind=job.kind, dry_run=job.dry_run)
    try:
        try:
            result: JobResult = await spec.run(ctx, job, draft)
        except _lost_the_job():
            await held.release()  # nothing went wrong on the page: this run just lost the job
            raise
        except RobotError as exc:
            if exc.keeps_evidence:
                await held.release(exc)  # the pool saves screenshot, trace and HTML for this job
                raise
            await held.release()  # a refusal or a gateway answer: the page is fine, no evidence
            result = failure_result(exc, draft, ctx)
        except BaseException as exc:
            await held.release(exc)  # the pool saves screenshot, trace and HTML for this job
            raise
        else:
            await held.release()
    except _lost_the_job() as exc:
        log.warning("job run superseded: no result recorded by this run", error=type(exc).__name__)
        raise
    except RobotError as exc:
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
