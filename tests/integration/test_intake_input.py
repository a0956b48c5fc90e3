"""Issue 11 input safety at the HTTP intake (`serve` on a real port, real SQLite job store, real
vault): bad input is a 4xx naming the field and the rule, repeats no value, and queues nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.intake_world import CHARGE, GOOD, Intake, intake  # noqa: F401


@pytest.mark.parametrize("amount", ["1e30", "1" + "0" * 29, "1,0,0", "1e2", "1_0_0", "١٠٠", "1000000.01"])
def test_bad_amount_is_422_naming_amount_and_queues_nothing(intake: Intake, amount: str) -> None:
    r = httpx.post(intake.url + "/jobs", json={**CHARGE, "amount": amount}, headers=GOOD, timeout=10)
    assert r.status_code == 422, r.text
    assert [p["field"] for p in r.json()["detail"]] == ["amount"]
    assert amount not in r.text
    assert intake.jobs() == []
