"""Routes for jobs: POST /jobs, GET /jobs, GET /jobs/{id}, handoff, artifacts."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from robot.api.auth import require_key
from robot.api.errors import ApiError, responses
from robot.api.idempotency import check_key, fingerprint
from robot.api.schemas import EXAMPLE_JOBS, Handoff, HandoffAccepted, JobList
from robot.errors import HandoffError, InputError, JobNotFound, RobotError
from robot.jobs import links, store
from robot.jobs.flags import all_flags
from robot.jobs.handoff import clean_code, submit_choice, submit_code
from robot.jobs.models import Job
from robot.jobs.queue import WORKFLOW, enqueue, new_job_id, store_url
from robot.jobs.resource import MONEY_KINDS, JobKind, JobResource, JobState, artifact_name, resource
from robot.jobs.store import view

router = APIRouter(dependencies=[Depends(require_key)])

JOB_ID = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$",
                             description="the job's id", examples=["job-7f3a0c1d2e4b5a6f7980"])]
ARTIFACT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"
_JOB_DIR_RE = re.compile(r"[^A-Za-z0-9_.-]+")
_MOVED = {"succeeded", "pending", "recorded_with_mismatch", "reversed"}

REPLAY_HEADERS = {
    "Idempotent-Replayed": {"description": "`true` when this answer replays the first request with this "
                                           "Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}},
    "Location": {"description": "the job's URL", "schema": {"type": "string"}},
}


def _state(request: Request) -> Any:
    return request.app.state.api


async def _view(st: Any, job_id: str) -> JobResource:
    """The job as the POS sees it, with its retry links and where the money went."""
    def build() -> JobResource:
        url = store_url(st.client)
        v = store.get_job(st.client, job_id)
        chain = links.chain(url, job_id)
        settled = None
        for jid in reversed(chain):
            w = v if jid == job_id else store.get_job(st.client, jid)
            if w.outcome in _MOVED and w.result is not None and w.result.gateway_transaction_id:
                settled = jid
                break
        return resource(v, retry_of=links.retry_of(url, job_id), retried_as=links.retried_as(url, job_id),
                        settled_by=settled)

    return await asyncio.to_thread(build)


def _not_found(exc: Exception) -> ApiError:
    return ApiError("job_not_found", "no job with this id", "job_id")


async def _check_at_door(st: Any, job: Any) -> None:
    """What the robot can know before queuing: the merchant exists, and can take the tender."""
    def check() -> None:
        vault = st.vault
        if not vault.has(job.merchant):
            raise ApiError("merchant_unknown", "merchant: no such merchant in the robot's vault "
                           "(`jobber-robot merchants list`)", "merchant")
        tender = getattr(job, "tender", None)
        if tender is not None or job.kind == "link":
            try:
                creds = vault.get(job.merchant)
            except RobotError:
                raise ApiError("merchant_unknown", "merchant: no such merchant in the robot's vault",
                               "merchant") from None
            if creds.gateway is None:
                param = "tender.type" if tender is not None else "kind"
                raise ApiError("tender_not_accepted", f"{param}: the merchant has no gateway account set up, so it "
                               "cannot take this tender (`jobber-robot merchants update MERCHANT --gateway-...`)",
                               param)

    await asyncio.to_thread(check)


@router.post(
    "/jobs", status_code=202, response_model=JobResource, summary="Queue a job",
    responses={202: {"description": "queued (or, with `Idempotent-Replayed: true`, the job the key named)",
                     "headers": REPLAY_HEADERS},
               **responses("body_invalid", "parameter_invalid", "merchant_unknown", "tender_not_accepted", "idempotency_key_missing",
                           "idempotency_key_reused", "idempotency_key_in_use", "body_too_large",
                           "service_unavailable")},
)
async def post_job(
    request: Request,
    job: Annotated[Job, Body(openapi_examples=EXAMPLE_JOBS)],  # type: ignore[valid-type]
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", description="Required for charge, deposit, quote_deposit, link, refund and void "
        "(optional for the rest): a unique key per intended job (a V4 UUID). Sending it again with the same body "
        "replays the first answer; kept 24 h (JOBBER_ROBOT_IDEMPOTENCY_KEY_HOURS).",
        examples=["5d1c0d4e-6f0e-4a59-9d1f-2b8f0a3c7e11"])] = None,
) -> Any:
    """Validate the job (tokens only: a card number is refused wherever it appears), check what the robot
    can know at the door (the merchant exists and can take the tender), and queue it. A worker runs it;
    follow it with `GET /jobs/{id}` or a webhook."""
    st = _state(request)
    check_key(idempotency_key)
    await _check_at_door(st, job)
    if job.kind in MONEY_KINDS and idempotency_key is None:
        raise ApiError("idempotency_key_missing", f"Idempotency-Key: required for a {job.kind} job (it moves money); "
                       "send a unique key per intended job so a retried request never moves money twice",
                       "Idempotency-Key")
    claim = None
    if idempotency_key is not None:
        fp = fingerprint("POST", "/jobs", job.model_dump(mode="json"))
        claim = await asyncio.to_thread(st.idempotency.claim, idempotency_key, fp)
        if not claim.won:
            body = await _view(st, claim.job_id)
            return JSONResponse(status_code=claim.status_code or 202, content=body.model_dump(mode="json"),
                                headers={"Idempotent-Replayed": "true", "Location": f"/jobs/{claim.job_id}"})
    job_id = new_job_id()
    try:
        await asyncio.to_thread(enqueue, job, client=st.client, job_id=job_id)
    except BaseException:
        if claim is not None:
            await asyncio.to_thread(st.idempotency.release, claim)
        raise
    if claim is not None:
        await asyncio.to_thread(st.idempotency.save, claim, 202, job_id)
    body = await _view(st, job_id)
    return JSONResponse(status_code=202, content=body.model_dump(mode="json"), headers={"Location": f"/jobs/{job_id}"})


def _decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,255}", cursor):
        raise ApiError("parameter_invalid", "cursor: pass the next_cursor of the page before, unchanged", "cursor")
    return cursor


@router.get("/jobs", response_model=JobList, summary="List jobs",
            responses=responses("parameter_invalid", "service_unavailable"))
async def list_jobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=255, description="`next_cursor` of the page before")] = None,
    status: Annotated[JobState | None, Query(description="only jobs in this state")] = None,
    merchant: Annotated[str | None, Query(max_length=63, description="only this merchant's jobs")] = None,
    kind: Annotated[JobKind | None, Query(description="only jobs of this kind")] = None,
) -> Any:
    """Jobs, newest first, one page at a time (`limit`, then `cursor` = `next_cursor`)."""
    st = _state(request)
    after = _decode_cursor(cursor)

    def page() -> JobList:
        # newest first, ties (SQLite stamps whole seconds) by id: one order for every page
        rows = sorted(st.client.list_workflows(name=WORKFLOW, sort_desc=True),
                      key=lambda r: (-(r.created_at or 0), r.workflow_id))
        if after is not None:
            ids = [r.workflow_id for r in rows]
            if after not in ids:
                raise ApiError("parameter_invalid", "cursor: no such page (pass next_cursor unchanged)", "cursor")
            rows = rows[ids.index(after) + 1:]
        flagged = all_flags(st.client)
        url = store_url(st.client)
        out: list[JobResource] = []
        has_more = False
        for r in rows:
            attrs = r.attributes or {}
            if merchant and attrs.get("merchant") != merchant:
                continue
            if kind and attrs.get("kind") != kind.value:
                continue
            v = view(st.client, r, detail=False, flags=flagged.get(r.workflow_id, []))
            if status and v.status != status.value:
                continue
            if len(out) == limit:
                has_more = True
                break
            out.append(resource(v, retry_of=links.retry_of(url, r.workflow_id),
                                retried_as=links.retried_as(url, r.workflow_id)))
        return JobList(data=out, has_more=has_more, next_cursor=out[-1].id if has_more and out else None)

    return await asyncio.to_thread(page)


@router.get("/jobs/{job_id}", response_model=JobResource, summary="Get a job",
            responses=responses("job_not_found", "service_unavailable"))
async def get_job(request: Request, job_id: JOB_ID) -> Any:
    """Status, the stages run, what it waits for, the typed result, artifacts and retry links."""
    try:
        return await _view(_state(request), job_id)
    except JobNotFound as exc:
        raise _not_found(exc) from None


@router.post("/jobs/{job_id}/handoff", status_code=202, response_model=HandoffAccepted,
             summary="Answer a job that waits for a person",
             responses=responses("parameter_invalid", "job_not_found", "handoff_refused"))
async def handoff(request: Request, job_id: JOB_ID, body: Handoff) -> Any:
    """A 2FA code for a job `waiting_for_2fa`, or the invoice a person picked for one
    `waiting_for_confirmation` (exactly one of `code`, `invoice`)."""
    st = _state(request)
    if (body.code is None) == (body.invoice is None):
        raise ApiError("parameter_invalid", "code: give exactly one of code or invoice", "code")
    try:
        if body.code is not None:
            clean_code(body.code)
    except InputError as exc:
        raise ApiError("parameter_invalid", exc.message, exc.field) from None
    try:
        if body.code is not None:
            await asyncio.to_thread(submit_code, st.client, st.settings, job_id, body.code)
        else:
            await asyncio.to_thread(submit_choice, st.client, job_id, int(body.invoice or 0))
    except HandoffError as exc:
        if exc.message.startswith("no job"):
            raise ApiError("job_not_found", "no job with this id", "job_id") from None
        raise ApiError("handoff_refused", exc.message) from None
    return {"job_id": job_id, "accepted": True}


@router.get("/jobs/{job_id}/artifacts/{name}", summary="Download a job's artifact",
            response_class=FileResponse,
            responses={200: {"description": "the file (screenshot, page HTML, action log, trace), masked",
                             "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}},
                       **responses("job_not_found", "artifact_not_found")})
async def get_artifact(request: Request, job_id: JOB_ID,
                       name: Annotated[str, Path(max_length=128, pattern=ARTIFACT_NAME,
                                                 description="an artifact's `name` from the job",
                                                 examples=["screenshot.png"])]) -> Any:
    """One file of a failed job's evidence (secrets masked at capture). Only names the job lists are
    served, from the job's own folder; the folder must be reachable from this server (a shared data dir)."""
    st = _state(request)
    try:
        v = await asyncio.to_thread(store.get_job, st.client, job_id)
    except JobNotFound as exc:
        raise _not_found(exc) from None
    missing = ApiError("artifact_not_found", "the job has no artifact of this name on this server", "name")
    if name not in {artifact_name(a) for a in v.artifacts}:
        raise missing
    folder = (st.settings.artifacts_dir / (_JOB_DIR_RE.sub("_", job_id).replace("..", "_").strip(".")[:100]
                                           or "job")).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise missing
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=name,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
