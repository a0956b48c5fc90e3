"""The OpenAPI document: FastAPI's, finished so it reads well and says what the API does.

- FastAPI's own 422 schema (HTTPValidationError) is replaced by the one error shape;
- the document is committed as docs/openapi.json (robot/api/contract.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _finish(doc: dict[str, Any]) -> dict[str, Any]:
    for path in doc.get("paths", {}).values():
        for op in path.values():
            if not isinstance(op, dict):
                continue
            r422 = op.get("responses", {}).get("422")
            if r422 is not None:
                r422["content"] = {"application/json": {"schema": _ERROR_REF}}
                if r422.get("description") in (None, "", "Validation Error"):
                    r422["description"] = "`parameter_invalid` / `parameter_missing`: a field breaks its rule"
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _finish(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                webhooks=app.webhooks.routes, tags=[
                    {"name": "jobs", "description": "Queue jobs, follow them, answer them, fetch their evidence."},
                    {"name": "webhooks", "description": "Endpoints the robot POSTs events to, and their logs."},
                    {"name": "system", "description": "Liveness."}]))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
