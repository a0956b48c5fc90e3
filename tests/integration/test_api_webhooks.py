"""Webhooks over real HTTP: an endpoint registered through the API, a test event delivered by the
real delivery workflow (DBOS launched here, listening on the "webhooks" queue as a worker does)
to a receiver that fails twice then succeeds; the signature checked with the recipe docs/api.md
prints and with robot/webhooks/signing.py; the attempts in the delivery log."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.integration.intake_world import GOOD, intake_settings, serve_intake
from tests.integration.webhook_receiver import Receiver, documented_verify


@pytest.fixture
async def deliverer(tmp_path: Path) -> AsyncIterator[object]:
    from robot.jobs import dbos_app

    settings = intake_settings(tmp_path, webhook_retry_base_seconds=0.3, webhook_max_attempts=5)
    await dbos_app.launch(settings, executor_id="test-deliverer", listen=["webhooks"])
    try:
        yield settings
    finally:
        dbos_app.destroy()


async def test_a_test_event_is_signed_and_retried_with_back_off_until_the_receiver_takes_it(deliverer: object) -> None:
    import asyncio

    from robot.webhooks.signing import HEADER, SignatureError, verify

    receiver = Receiver(fail=2).start()
    try:
        with serve_intake(deliverer) as intake:  # type: ignore[arg-type]
            async with httpx.AsyncClient(base_url=intake.url, headers=GOOD, timeout=10) as http:
                ep = (await http.post("/webhook_endpoints", json={"url": receiver.url})).json()
                sent = (await http.post(f"/webhook_endpoints/{ep['id']}/test")).json()
                deadline = time.monotonic() + 60
                while len(receiver.got) < 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                got = list(receiver.wait(3, timeout=1))
                log = (await http.get(f"/webhook_endpoints/{ep['id']}/deliveries")).json()["data"]
                # a cancelled job: the cancelling process captures job.cancelled (as `jobs cancel` does)
                job = (await http.post("/jobs", json={"kind": "reconcile", "merchant": "acme"})).json()
                from robot.jobs.steering import cancel

                await asyncio.to_thread(cancel, intake.client, job["id"])
                deadline = time.monotonic() + 60
                while len(receiver.of("job.cancelled", job["id"])) < 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)  # (the deliverer runs on this loop: never block it)
                cancelled = receiver.of("job.cancelled", job["id"])
                assert len(cancelled) == 3, [g.headers.get("Jobber-Robot-Event-Type") for g in receiver.got]
                await asyncio.sleep(0.3)  # the last attempt's log row follows its answer
                jlog = (await http.get(f"/jobs/{job['id']}/webhook_deliveries")).json()["data"]
    finally:
        receiver.stop()
    bodies = {g.body for g in got}
    assert len(bodies) == 1, "every attempt sends the same payload"
    event = json.loads(got[0].body)
    assert event["id"] == sent["event_id"] and event["type"] == "webhook_endpoint.test"
    assert event["data"]["object"]["id"] == ep["id"] and "secret" not in event["data"]["object"]
    for g in got:
        header = g.headers[HEADER]
        documented_verify()(g.body, header, ep["secret"])  # the recipe in docs/api.md, as printed
        verify(g.body, header, ep["secret"])                 # the shipped helper
        assert g.headers["Jobber-Robot-Event-Id"] == event["id"]
    with pytest.raises(SignatureError):
        verify(got[0].body, got[0].headers[HEADER], "whsec_wrong")
    with pytest.raises(SignatureError):
        verify(got[0].body.replace(b"webhook_endpoint", b"webhook_endpoinT"), got[0].headers[HEADER], ep["secret"])
    with pytest.raises(SignatureError):
        verify(got[0].body, got[0].headers[HEADER], ep["secret"], now=time.time() + 3600)
    with pytest.raises(ValueError):
        documented_verify()(got[0].body, got[0].headers[HEADER], "whsec_wrong")
    # exponential back-off, as the deliveries log schedules it (base 0.3 s: 0.3 s, then 0.6 s), and no
    # attempt comes before its time; a loaded machine may only make it later, so no upper bound here
    def ts(v: str) -> float:
        return datetime.fromisoformat(v).timestamp()

    planned = [round(ts(a["next_attempt_at"]) - ts(a["attempted_at"]), 3) for a in log[:2]]
    assert planned == [0.3, 0.6], planned
    gap1, gap2 = got[1].at - got[0].at, got[2].at - got[1].at
    assert gap1 >= 0.3 - 0.05 and gap2 >= 0.6 - 0.05, (gap1, gap2)
    assert [(a["attempt"], a["succeeded"], a["status_code"]) for a in log] == [(1, False, 500), (2, False, 500),
                                                                              (3, True, 200)], log
    assert log[0]["next_attempt_at"] and log[2]["next_attempt_at"] is None
    ended = json.loads(cancelled[-1].body)
    assert ended["data"]["object"]["status"] == "cancelled" and ended["job_id"] == job["id"]
    assert [(a["event_type"], a["attempt"], a["succeeded"]) for a in jlog][-1] == ("job.cancelled", 3, True), jlog
