"""`jobber-robot serve`: the HTTP intake for the POS back end (FastAPI; schema at /openapi.json).

- `POST /jobs` (X-API-Key; optional `Idempotency-Key`): validate the job (tokens only; a card
  number is refused), enqueue it, 202 {job_id, status}. The same Idempotency-Key (per merchant)
  returns the same job (200), never a second one; the same key with another payload is 409.
  A bad payload is 422 {"detail": [{"field", "rule"}]} naming each field, and nothing is enqueued.
- `GET /jobs/{id}`: status, step reached, outcome and result. `GET /jobs`: recent jobs.
- `POST /jobs/{id}/handoff` {"code": "123456"} or {"invoice": 1042}: answer a waiting job.
Every route but /openapi.json, /docs and /healthz needs X-API-Key; a wrong or missing key is 401.
The key is checked before a byte of the body is read, and a body over 64 KiB is 413 (a job is a
few hundred bytes): an unauthenticated caller cannot make the intake read, buffer or parse
anything. Values sent are never echoed in errors (they may be secrets).
"""

from __future__ import annotations

import asyncio
import hmac
from contextlib import asynccontextmanager
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from robot.jobs.models import _UNION_TAGS, MAX_DOCUMENT_NUMBER, Job
from robot.jobs.store import JobStatus, JobView

if TYPE_CHECKING:
    from robot.config import Settings


#: The largest request body the intake reads; a job is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
#: Routes that need no key (health checks, the schema and its viewer).
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
UNAUTHORIZED = "missing or wrong X-API-Key"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def key_ok(sent: str | None, expected: str | None) -> bool:
    return bool(expected) and bool(sent) and hmac.compare_digest(str(sent).encode(), str(expected).encode())


class KeyThenSizeGate:
    """ASGI middleware in front of the whole app: the API key first, then the body's size.

    FastAPI reads and parses the body before it runs the route's dependencies, so the key check
    as a dependency came after reading a body of any size. Here nothing of the body is read
    without the key; with it, at most MAX_BODY_BYTES are read (Content-Length announcing more is
    refused at once; a chunked body is counted as it arrives) and handed on to the app.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], expected_key: str | None,
                 limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.expected_key = expected_key
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not key_ok(headers.get("x-api-key"), self.expected_key):
            await _send_json(send, 401, {"detail": UNAUTHORIZED})
            return
        too_big = {"detail": [{"field": "body", "rule": f"must be at most {self.limit} bytes"}]}
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send_json(send, 413, too_big)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _send_json(send, 413, too_big)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as the server would

        await self.app(scope, replay, send)


async def _send_json(send: Send, status: int, content: Any) -> None:
    data = JSONResponse(content=content).body
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


class Enqueued(BaseModel):
    job_id: str
    status: str
    merchant: str
    kind: str
    created: bool = Field(description="false when the Idempotency-Key named a job already there")


class Handoff(BaseModel):
    code: str | None = Field(default=None, description="2FA code for a job waiting_for_2fa")
    invoice: int | None = Field(default=None, ge=1, le=MAX_DOCUMENT_NUMBER,
                                description="invoice number for a job waiting_for_confirmation")


class Problem(BaseModel):
    field: str
    rule: str


def _problems(errors: list[Any]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "header", "path", "query"):
            loc = loc[1:]
        parts = [p for p in loc if p not in _UNION_TAGS and not p.startswith("function-")]
        if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # a missing or unknown "kind" / tender "type": name the discriminator field
            parts.append(str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'\""))
        field = ".".join(parts) or "body"
        out.append({"field": field, "rule": str(err.get("msg", "invalid")).removeprefix("Value error, ")})
    return out


def create_app(settings: "Settings") -> FastAPI:
    from robot.jobs import dbos_app

    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        from robot.vault import Vault

        # the vault knows the merchants: opened (and its key checked) once, read per job
        state["vault"] = await asyncio.to_thread(Vault.from_settings, settings)
        await asyncio.to_thread(state["vault"].check)
        state["client"] = await asyncio.to_thread(dbos_app.client, settings)
        try:
            yield
        finally:
            await asyncio.to_thread(state["client"].destroy)

    app = FastAPI(title="Jobber payment robot — job intake", version=dbos_app.app_version(), lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _problems(list(exc.errors()))})

    expected_key = settings.api_key.get_secret_value() if settings.api_key else None
    app.add_middleware(KeyThenSizeGate, expected_key=expected_key)  # outermost: before any body is read

    def api_key(x_api_key: str | None = Header(default=None, alias="X-API-Key")) -> None:
        # the gate has checked already; kept so the schema documents the header on every route
        if not key_ok(x_api_key, expected_key):
            raise HTTPException(status_code=401, detail=UNAUTHORIZED)

    def client() -> Any:
        return state["client"]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/jobs", status_code=202, response_model=Enqueued, dependencies=[Depends(api_key)],
              responses={200: {"model": Enqueued}, 401: {}, 409: {}, 422: {"model": list[Problem]}})
    async def post_job(job: Job, idempotency_key: str | None = Header(  # type: ignore[valid-type]
            default=None, alias="Idempotency-Key", min_length=1, max_length=200)) -> Any:
        from robot.cards import CARD_NUMBER_RULE, looks_like_card_number
        from robot.errors import InputError
        from robot.jobs.queue import JobConflict, enqueue

        if idempotency_key is not None and looks_like_card_number(idempotency_key):
            # the key is hashed into the job id, but it is logged and shown on the way: free text
            return JSONResponse(status_code=422, content={"detail": [
                {"field": "Idempotency-Key", "rule": CARD_NUMBER_RULE}]})
        try:
            await asyncio.to_thread(state["vault"].check_known, job.merchant)
        except InputError as exc:
            return JSONResponse(status_code=422, content={"detail": [{"field": exc.field, "rule": exc.rule}]})
        try:
            job_id, created = await asyncio.to_thread(enqueue, job, client=client(), idempotency_key=idempotency_key)
        except JobConflict as exc:
            raise HTTPException(status_code=409, detail=exc.message) from None
        body = Enqueued(job_id=job_id, status="queued" if created else "existing", merchant=job.merchant,
                        kind=job.kind, created=created)
        if not created:
            from robot.jobs.store import get_job

            body.status = (await asyncio.to_thread(get_job, client(), job_id)).status
        return JSONResponse(status_code=202 if created else 200, content=body.model_dump())

    @app.get("/jobs", response_model=list[JobView], dependencies=[Depends(api_key)])
    async def list_jobs(status: JobStatus | None = None, merchant: str | None = None,
                        limit: int = Query(50, ge=1)) -> Any:
        from robot.jobs.store import list_jobs as _list

        return await asyncio.to_thread(_list, client(), status=status, merchant=merchant, limit=min(limit, 500))

    @app.get("/jobs/{job_id}", response_model=JobView, dependencies=[Depends(api_key)])
    async def get_job(job_id: str) -> Any:
        from robot.jobs.store import JobNotFound, get_job as _get

        try:
            return await asyncio.to_thread(_get, client(), job_id)
        except JobNotFound as exc:
            raise HTTPException(status_code=404, detail=exc.message) from None

    @app.post("/jobs/{job_id}/handoff", status_code=202, dependencies=[Depends(api_key)])
    async def handoff(job_id: str, body: Handoff) -> Any:
        from robot.errors import InputError
        from robot.jobs.handoff import HandoffError, clean_code, submit_choice, submit_code

        if (body.code is None) == (body.invoice is None):
            return JSONResponse(status_code=422, content={"detail": [
                {"field": "code", "rule": "give exactly one of code or invoice"}]})
        try:
            if body.code is not None:
                clean_code(body.code)
        except InputError as exc:
            return JSONResponse(status_code=422, content={"detail": [{"field": exc.field, "rule": exc.rule}]})
        try:
            if body.code is not None:
                await asyncio.to_thread(submit_code, client(), settings, job_id, body.code)
            else:
                await asyncio.to_thread(submit_choice, client(), job_id, int(body.invoice or 0))
        except HandoffError as exc:
            status = 404 if exc.message.startswith("no job") else 409
            raise HTTPException(status_code=status, detail=exc.message) from None
        return {"job_id": job_id, "accepted": True}

    return app


def serve(settings: "Settings", host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    from robot.errors import ConfigError

    if settings.api_key is None:
        raise ConfigError("set JOBBER_ROBOT_API_KEY: the intake refuses every request without one")
    uvicorn.run(create_app(settings), host=host or settings.serve_host, port=port or settings.serve_port,
                log_level="warning")
