"""The API's committed contract: docs/openapi.json.

`jobber-robot openapi` (or `make openapi`) writes it again, and a test compares it with what
`GET /openapi.json` serves, so a change to the contract shows up as a diff in review.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robot.api.app import create_app
from robot.config import load_settings

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def document() -> dict[str, Any]:
    """The document of the API's app."""
    return create_app(load_settings()).openapi()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
