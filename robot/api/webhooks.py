"""Routes for webhooks: endpoints per installation, a test event, the delivery log; and the
webhook payloads documented in the OpenAPI document (`webhooks` section)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from robot.api.auth import require_key
from robot.api.errors import ApiError, responses
from robot.api.jobs import JOB_ID
from robot.api.schemas import DeliveryAttempt, DeliveryList
from robot.errors import InputError
from robot.jobs.queue import store_url
from robot.jobs.resource import JobResource
from robot.jobs.store import JobNotFound, get_job
from robot.webhooks.delivery import log_for
from robot.webhooks.endpoints import EventType, WebhookEndpoint, all_endpoints, create, delete, get
from robot.webhooks.events import publish_with_client

router = APIRouter(dependencies=[Depends(require_key)])

ENDPOINT_ID = Annotated[str, Path(pattern=r"^we_[0-9a-f]{16}$", description="the endpoint's id",
                                  examples=["we_3b1f0c9a2d4e4f6a"])]
SubscribableEvent = Literal["*", "job.finished", "job.failed", "job.cancelled", "job.needs_person"]


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra={"examples": [
        {"url": "https://pos.example.com/hooks/jobber-robot", "enabled_events": ["job.finished", "job.needs_person"]}]})

    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://[^\s/@]+(/[^\s]*)?$",
                     description="where events are POSTed (http or https)")
    enabled_events: list[SubscribableEvent] = Field(default_factory=lambda: ["*"], max_length=10,
                                                    description='event types; ["*"] for all')
    description: str | None = Field(default=None, max_length=500)


class EndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookEndpoint]


class Deleted(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: Literal[True] = True


class TestSent(BaseModel):
    event_id: str
    endpoint_id: str
    queued: Literal[True] = True


class JobEventData(BaseModel):
    object: JobResource


class JobEvent(BaseModel):
    """What every job webhook POSTs (signed: `Jobber-Robot-Signature`, see docs/api.md)."""

    id: str = Field(description="unique per event: drop a delivery whose id you have seen", examples=["evt_0f1e2d"])
    object: Literal["event"] = "event"
    type: EventType
    created: int = Field(description="unix seconds when the event was captured")
    job_id: str | None = None
    data: JobEventData


def _st(request: Request) -> Any:
    return request.app.state.api


def _url(request: Request) -> str:
    return store_url(_st(request).client)


def _missing() -> ApiError:
    return ApiError("webhook_endpoint_not_found", "no webhook endpoint with this id", "endpoint_id")


@router.post("/webhook_endpoints", status_code=201, response_model=WebhookEndpoint, summary="Register an endpoint",
             responses=responses("parameter_invalid"))
async def create_endpoint(request: Request, body: NewEndpoint) -> Any:
    """Events go to every enabled endpoint subscribed to their type. The answer holds the endpoint's
    signing `secret`, once: keep it to verify deliveries."""
    st = _st(request)
    try:
        return await asyncio.to_thread(create, body.url, st.settings, _url(request), events=list(body.enabled_events),
                                       description=body.description)
    except InputError as exc:
        raise ApiError("parameter_invalid", exc.message, exc.field) from None


@router.get("/webhook_endpoints", response_model=EndpointList, summary="List endpoints")
async def list_endpoints(request: Request) -> Any:
    return {"data": await asyncio.to_thread(all_endpoints, _url(request))}


@router.get("/webhook_endpoints/{endpoint_id}", response_model=WebhookEndpoint, summary="Get an endpoint",
            responses=responses("webhook_endpoint_not_found"))
async def get_endpoint(request: Request, endpoint_id: ENDPOINT_ID) -> Any:
    try:
        return await asyncio.to_thread(get, _url(request), endpoint_id)
    except KeyError:
        raise _missing() from None


@router.delete("/webhook_endpoints/{endpoint_id}", response_model=Deleted, summary="Delete an endpoint",
               responses=responses("webhook_endpoint_not_found"))
async def delete_endpoint(request: Request, endpoint_id: ENDPOINT_ID) -> Any:
    if not await asyncio.to_thread(delete, _url(request), endpoint_id):
        raise _missing()
    return {"id": endpoint_id}


@router.post("/webhook_endpoints/{endpoint_id}/test", status_code=202, response_model=TestSent,
             summary="Send a test event", responses=responses("webhook_endpoint_not_found"))
async def send_test(request: Request, endpoint_id: ENDPOINT_ID) -> Any:
    """Queue a `webhook_endpoint.test` event to this endpoint only, signed and retried like any other
    (a worker delivers it); its attempts show in `GET /webhook_endpoints/{id}/deliveries`."""
    st = _st(request)
    try:
        ep = await asyncio.to_thread(get, _url(request), endpoint_id)
    except KeyError:
        raise _missing() from None
    obj = ep.model_dump(mode="json", exclude={"secret"})
    eid = await asyncio.to_thread(publish_with_client, st.client, EventType.test.value, None, obj,
                                  uuid.uuid4().hex, only_endpoint=endpoint_id)
    return {"event_id": eid, "endpoint_id": endpoint_id}


def _attempts(rows: list[dict[str, Any]]) -> list[DeliveryAttempt]:
    def dt(ms: int | None) -> datetime | None:
        return datetime.fromtimestamp(ms / 1000, UTC) if ms else None

    return [DeliveryAttempt(event_id=r["event_id"], event_type=r["event_type"] or "", endpoint_id=r["endpoint_id"],
                            job_id=r["job_id"], attempt=r["attempt"], attempted_at=dt(r["attempted_at_ms"]),
                            succeeded=bool(r["succeeded"]), status_code=r["status_code"], error=r["error"],
                            duration_ms=r["duration_ms"], next_attempt_at=dt(r["next_attempt_at_ms"]))
            for r in rows]


@router.get("/webhook_endpoints/{endpoint_id}/deliveries", response_model=DeliveryList,
            summary="An endpoint's delivery log", responses=responses("webhook_endpoint_not_found"))
async def endpoint_deliveries(request: Request, endpoint_id: ENDPOINT_ID) -> Any:
    try:
        await asyncio.to_thread(get, _url(request), endpoint_id)
    except KeyError:
        raise _missing() from None
    return {"data": _attempts(await asyncio.to_thread(log_for, _url(request), endpoint_id=endpoint_id))}


@router.get("/jobs/{job_id}/webhook_deliveries", response_model=DeliveryList, summary="A job's delivery log",
            tags=["jobs"], responses=responses("job_not_found"))
async def job_deliveries(request: Request, job_id: JOB_ID) -> Any:
    """Every attempt to deliver this job's events, oldest first: when, to which endpoint, what came back."""
    st = _st(request)
    try:
        await asyncio.to_thread(get_job, st.client, job_id)
    except JobNotFound:
        raise ApiError("job_not_found", "no job with this id", "job_id") from None
    return {"data": _attempts(await asyncio.to_thread(log_for, _url(request), job_id=job_id))}


def document(app: FastAPI) -> None:
    """The events the robot POSTs, in the OpenAPI document's `webhooks` section."""
    about = {
        "job.finished": "A job ended with an outcome (`data.object.outcome`: succeeded, declined, needs_2fa, ...).",
        "job.failed": "A job's run raised (status failed): a person should look (`data.object.error`).",
        "job.cancelled": "A job was cancelled.",
        "job.needs_person": "A job waits for a 2FA code or an invoice choice (`data.object.waiting_for`); answer "
                            "with POST /jobs/{id}/handoff.",
    }
    for name, text in about.items():
        def receiver(event: JobEvent) -> None:  # pragma: no cover - documentation only
            """"""

        app.webhooks.post(name, summary=name, description=text + " Signed with `Jobber-Robot-Signature: "
                          "t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' keyed with the endpoint secret>`; "
                          "answer any 2xx within 10 s, else it is retried with exponential back-off.",
                          responses={200: {"description": "received"}})(receiver)
