"""One error shape for every non-2xx answer of the API, Stripe's:

    {"error": {"type": "invalid_request_error", "code": "parameter_invalid",
               "message": "amount: must be greater than 0", "param": "amount"}}

`type` is the family (what a client branches on), `code` the stable reason (listed in CODES and
docs/api.md), `param` the field, header or query parameter at fault (null when none), `message`
for a person. No value from the request is ever echoed: messages are built from field names and
rules only (a value sent may be a card number or a code).

FastAPI's own answers (404 for an unknown path, 405, 422 from validation, HTTPException) and an
unexpected exception (500) are turned into this shape by the handlers installed here.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from robot.jobs.models import _UNION_TAGS  # the union tags pydantic puts in error paths
from robot.logging import get_logger, redact_text


class ErrorType(str, Enum):
    invalid_request_error = "invalid_request_error"
    authentication_error = "authentication_error"
    idempotency_error = "idempotency_error"
    rate_limit_error = "rate_limit_error"
    api_error = "api_error"


#: every stable code: (HTTP status, type, what it means). docs/api.md lists the same table (a test
#: compares them).
CODES: dict[str, tuple[int, ErrorType, str]] = {
    "parameter_invalid": (422, ErrorType.invalid_request_error, "a field breaks its rule; `param` names it"),
    "parameter_missing": (422, ErrorType.invalid_request_error, "a required field is absent; `param` names it"),
    "body_invalid": (400, ErrorType.invalid_request_error, "the body is not a JSON object"),
    "body_too_large": (413, ErrorType.invalid_request_error, "the body is over 64 KiB"),
    "merchant_unknown": (422, ErrorType.invalid_request_error, "no such merchant in the robot's vault"),
    "tender_not_accepted": (422, ErrorType.invalid_request_error,
                            "the merchant cannot take this tender (no gateway account set up)"),
    "api_key_invalid": (401, ErrorType.authentication_error, "X-API-Key missing or wrong"),
    "idempotency_key_missing": (400, ErrorType.idempotency_error,
                                "a money-moving job needs an Idempotency-Key header"),
    "idempotency_key_invalid": (422, ErrorType.idempotency_error, "the Idempotency-Key breaks its rule"),
    "idempotency_key_reused": (400, ErrorType.idempotency_error,
                               "the key was used with another request (other path or body)"),
    "idempotency_key_in_use": (409, ErrorType.idempotency_error,
                               "a request with this key is still being processed; retry shortly"),
    "job_not_found": (404, ErrorType.invalid_request_error, "no job with this id"),
    "artifact_not_found": (404, ErrorType.invalid_request_error, "the job has no artifact of this name here"),
    "webhook_endpoint_not_found": (404, ErrorType.invalid_request_error, "no webhook endpoint with this id"),
    "resource_not_found": (404, ErrorType.invalid_request_error, "no such path"),
    "method_not_allowed": (405, ErrorType.invalid_request_error, "the path does not take this method"),
    "handoff_refused": (409, ErrorType.invalid_request_error,
                        "the job does not wait for this answer now (or waits for another kind)"),
    "job_state_conflict": (409, ErrorType.invalid_request_error, "the job's state does not allow this now"),
    "rate_limited": (429, ErrorType.rate_limit_error,
                     "too many requests with a wrong key from this address; retry after `Retry-After` seconds"),
    "service_unavailable": (503, ErrorType.api_error, "the job store cannot be reached; retry"),
    "internal_error": (500, ErrorType.api_error, "an unexpected error; nothing was queued"),
}


class ErrorBody(BaseModel):
    type: ErrorType = Field(description="the error's family")
    code: str = Field(description="stable reason; see the codes table in docs/api.md",
                      examples=["parameter_invalid"], json_schema_extra={"enum": sorted(CODES)})
    message: str = Field(description="for a person; never repeats a value that was sent")
    param: str | None = Field(default=None, description="the field, header or query parameter at fault",
                              examples=["amount"])


class ErrorResponse(BaseModel):
    """What every non-2xx answer holds."""

    error: ErrorBody

    model_config = {"json_schema_extra": {"examples": [{"error": {
        "type": "invalid_request_error", "code": "parameter_invalid",
        "message": "amount: must be greater than 0", "param": "amount"}}]}}


class ApiError(Exception):
    """Raised by routes; answered in the one shape."""

    def __init__(self, code: str, message: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        status, etype, meaning = CODES[code]
        self.status = status
        self.code = code
        self.type = etype
        self.message = redact_text(message or meaning)
        self.param = param
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.type.value, "code": self.code, "message": self.message, "param": self.param}}

    def response(self) -> JSONResponse:
        return JSONResponse(status_code=self.status, content=self.body(), headers=self.headers)


def error_body(code: str, message: str | None = None, param: str | None = None) -> tuple[int, dict[str, Any]]:
    e = ApiError(code, message, param)
    return e.status, e.body()


def responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status its codes can give, in the error shape."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in ("api_key_invalid", "rate_limited", *codes, "internal_error"):
        status, _etype, meaning = CODES[code]
        entry = out.setdefault(status, {"model": ErrorResponse, "description": ""})
        entry["description"] = "; ".join(filter(None, [entry["description"], f"`{code}`: {meaning}"]))
    return out


# --- validation errors ------------------------------------------------------------------------


def _param(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    if loc and loc[0] in ("body", "header", "path", "query"):
        loc = loc[1:]
    parts = [p for p in loc if p not in _UNION_TAGS and not p.startswith("function-")]
    if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        # a missing or unknown "kind" / tender "type": name the discriminator field
        parts.append(str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'\""))
    return ".".join(parts) or "body"


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    """The first problem of a pydantic/FastAPI validation as one error (Stripe reports one)."""
    if not errors:
        return ApiError("parameter_invalid", "the request is invalid", "body")
    err = errors[0]
    param = _param(err)
    if err.get("type") == "json_invalid" or (err.get("type") in ("model_attributes_type", "dict_type")
                                             and param == "body"):
        return ApiError("body_invalid", "the body must be a JSON object", "body")
    rule = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    code = "parameter_missing" if err.get("type") == "missing" else "parameter_invalid"
    if param == "body" and "invoice number or a client" in rule:
        param = "invoice"  # the job names neither its invoice nor its client
        code = "parameter_missing"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return ApiError(code, f"{param}: {rule}{more}", param)


_STATUS_CODES = {404: "resource_not_found", 405: "method_not_allowed", 401: "api_key_invalid",
                 413: "body_too_large", 429: "rate_limited", 503: "service_unavailable"}


def install(app: FastAPI) -> None:
    """Every error the app can answer, in the one shape."""
    log = get_logger("api")

    @app.exception_handler(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_error(list(exc.errors())).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code)
        if code is None:
            code = "internal_error" if exc.status_code >= 500 else "parameter_invalid"
        e = ApiError(code)
        return JSONResponse(status_code=exc.status_code, content=e.body(), headers=getattr(exc, "headers", None))

    @app.exception_handler(sa.exc.OperationalError)
    async def _store_down(_req: Request, exc: Exception) -> JSONResponse:
        log.error("the job store cannot be reached", error=type(exc).__name__,
                  detail=redact_text(str(getattr(exc, "orig", exc)))[:200])
        return ApiError("service_unavailable", headers={"Retry-After": "5"}).response()

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error answering a request", error=type(exc).__name__,
                  detail=redact_text(str(exc))[:300])
        return ApiError("internal_error").response()
