"""Webhook endpoints, registered per installation (`POST /webhook_endpoints`,
`jobber-robot webhooks add`). The signing secret is made here, shown once at creation, and
kept sealed with the vault key (the job store never holds it in clear)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import BaseModel, Field

from robot.errors import InputError
from robot.vault import seal, unseal
from robot.webhooks.store import db, endpoints

if TYPE_CHECKING:
    from robot.config import Settings


class EventType(str, Enum):
    job_finished = "job.finished"            # the job ended with an outcome (succeeded, declined, needs_2fa...)
    job_failed = "job.failed"                # the job's run raised: a person should look
    job_cancelled = "job.cancelled"
    job_needs_person = "job.needs_person"    # waits for a 2FA code or an invoice choice
    test = "webhook_endpoint.test"           # sent by POST /webhook_endpoints/{id}/test


JOB_EVENTS = (EventType.job_finished, EventType.job_failed, EventType.job_cancelled, EventType.job_needs_person)


class WebhookEndpoint(BaseModel):
    id: str = Field(examples=["we_3b1f0c9a2d4e4f6a"])
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str = Field(examples=["https://pos.example.com/hooks/jobber-robot"])
    enabled_events: list[str] = Field(description='event types, or ["*"] for all', examples=[["*"]])
    description: str | None = None
    enabled: bool = True
    created_at: datetime
    secret: str | None = Field(default=None, description="the signing secret: given once, when the endpoint is made",
                               examples=["whsec_9c2..."])


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048 \
            or parts.username or parts.password:
        raise InputError("url", "an http:// or https:// URL without user or password, at most 2048 characters")
    return url


def check_events(names: list[str]) -> list[str]:
    allowed = {e.value for e in EventType} - {EventType.test.value}
    if not names:
        return ["*"]
    for n in names:
        if n != "*" and n not in allowed:
            raise InputError("enabled_events", f"each one of *, {', '.join(sorted(allowed))}")
    return ["*"] if "*" in names else sorted(set(names))


def _row(r: sa.RowMapping, secret: str | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(id=r["id"], url=r["url"], enabled_events=json.loads(r["events"]),
                           description=r["description"], enabled=bool(r["enabled"]),
                           created_at=datetime.fromtimestamp(r["created_at_ms"] / 1000, UTC), secret=secret)


def create(url: str, settings: "Settings", store_url: str, *, events: list[str] | None = None,
           description: str | None = None) -> WebhookEndpoint:
    url = check_url(url)
    chosen = check_events(list(events or []))
    if description is not None and len(description) > 500:
        raise InputError("description", "at most 500 characters")
    secret = "whsec_" + secrets.token_urlsafe(32)
    eid = "we_" + uuid.uuid4().hex[:16]
    with db(store_url).begin() as c:
        c.execute(sa.insert(endpoints).values(id=eid, url=url, secret_sealed=seal(settings, secret),
                                              events=json.dumps(chosen), description=description, enabled=True,
                                              created_at_ms=int(time.time() * 1000)))
    return get(store_url, eid).model_copy(update={"secret": secret})


def get(store_url: str, endpoint_id: str) -> WebhookEndpoint:
    with db(store_url).connect() as c:
        r = c.execute(sa.select(endpoints).where(endpoints.c.id == endpoint_id)).mappings().first()
    if r is None:
        raise KeyError(endpoint_id)
    return _row(r)


def all_endpoints(store_url: str) -> list[WebhookEndpoint]:
    with db(store_url).connect() as c:
        rows = c.execute(sa.select(endpoints).order_by(endpoints.c.created_at_ms)).mappings().all()
    return [_row(r) for r in rows]


def delete(store_url: str, endpoint_id: str) -> bool:
    with db(store_url).begin() as c:
        return bool(c.execute(sa.delete(endpoints).where(endpoints.c.id == endpoint_id)).rowcount)


def secret_of(store_url: str, endpoint_id: str, settings: "Settings") -> str | None:
    with db(store_url).connect() as c:
        sealed = c.execute(sa.select(endpoints.c.secret_sealed).where(endpoints.c.id == endpoint_id)).scalar()
    return unseal(settings, sealed) if sealed else None


def subscribed(store_url: str, event_type: str) -> list[str]:
    """The enabled endpoints an event of this type goes to (a test event goes to one, by name)."""
    return [e.id for e in all_endpoints(store_url)
            if e.enabled and ("*" in e.enabled_events or event_type in e.enabled_events)]
