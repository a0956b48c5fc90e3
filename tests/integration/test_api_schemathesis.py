"""Property-based run of schemathesis against the served OpenAPI document (a real server on a real
port, real job store and vault): for every operation, generated requests get no 5xx and answers
that match the document (status codes, content types, bodies, headers). Bounded: a few examples
per operation in the default run (derandomized: the same cases every run), more in the slow run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.intake_world import GOOD, intake_settings, serve_intake

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _fuzz(tmp: Path, examples: int, derandomize: bool) -> list[str]:
    ran: list[str] = []
    with serve_intake(intake_settings(tmp)) as intake:
        schema = schemathesis.openapi.from_url(intake.url + "/openapi.json")
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 12, [o.label for o in operations]
        for op in operations:
            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                      derandomize=derandomize, database=None)
            @given(case=op.as_strategy())
            def run(case: Any) -> None:
                case.call_and_validate(base_url=intake.url, headers=GOOD, checks=CHECKS, timeout=20)

            run()
            ran.append(op.label)
    return ran


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
def test_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    ran = _fuzz(tmp_path, examples=3, derandomize=True)
    assert "POST /jobs" in ran and "GET /jobs/{job_id}/artifacts/{name}" in ran


@pytest.mark.slow
def test_no_server_error_and_no_schema_violation_longer(tmp_path: Path) -> None:
    _fuzz(tmp_path, examples=60, derandomize=False)
