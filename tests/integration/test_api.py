"""Issue 13, the POS-facing API over real HTTP (`serve`'s app on a real port, real SQLite job
store, real vault): the one error shape on every status, Stripe idempotency, validation at the
door, pagination and filters, artifacts for an authorised caller only, webhook endpoints, and the
committed OpenAPI document."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.intake_world import CHARGE, GOOD, Intake, intake_settings, serve_intake

DEPOSIT = {"kind": "deposit", "merchant": "acme", "invoice": 1042, "amount": "50.00",
           "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server for the tests of this module (each counts only the jobs it queued)."""
    from pydantic import SecretStr

    from robot.vault import MerchantCredentials, Vault

    s = intake_settings(tmp_path_factory.mktemp("api"))
    Vault.from_settings(s).put(MerchantCredentials(merchant="charlie", jobber_email="c@example.com",
                                                   jobber_password=SecretStr("pw-charlie-1")))  # no gateway account
    with serve_intake(s) as i:
        yield i


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def assert_error(r: httpx.Response, status: int, code: str, param: Any = ...) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "code", "message", "param"}, body
    assert body["error"]["code"] == code, body
    if param is not ...:
        assert body["error"]["param"] == param, body
    return body["error"]


def test_every_non_2xx_answer_has_the_one_error_shape(intake: Intake) -> None:
    before = len(intake.jobs())
    with httpx.Client(base_url=intake.url, timeout=10) as http:
        e = assert_error(http.post("/jobs", json=CHARGE), 401, "api_key_invalid", "X-API-Key")
        assert e["type"] == "authentication_error"
        assert_error(http.get("/jobs/x", headers={"X-API-Key": "nope"}), 401, "api_key_invalid")
        http.headers.update(GOOD)
        assert_error(http.get("/no-such-path"), 404, "resource_not_found")
        assert_error(http.get("/jobs/job-nope"), 404, "job_not_found", "job_id")
        assert_error(http.delete("/jobs"), 405, "method_not_allowed")
        assert_error(http.post("/jobs", content=b"{not json", headers={"Content-Type": "application/json"}),
                     400, "body_invalid", "body")
        assert_error(http.post("/jobs", json={**CHARGE, "amount": "-5"}, headers=key()), 422, "parameter_invalid",
                     "amount")
        assert_error(http.post("/jobs", json={k: v for k, v in CHARGE.items() if k != "merchant"}, headers=key()),
                     422, "parameter_missing", "merchant")
        # neither invoice nor client: the missing target is named
        assert_error(http.post("/jobs", json={k: v for k, v in CHARGE.items() if k != "invoice"}, headers=key()),
                     422, "parameter_missing", "invoice")
        assert_error(http.get("/jobs", params={"limit": 0}), 422, "parameter_invalid", "limit")
        assert_error(http.get("/jobs", params={"status": "done"}), 422, "parameter_invalid", "status")
        assert_error(http.post("/jobs", json=CHARGE), 400, "idempotency_key_missing", "Idempotency-Key")
        assert_error(http.post("/jobs/job-x/handoff", json={}), 422, "parameter_invalid", "code")
        assert_error(http.get("/webhook_endpoints/we_0000000000000000"), 404, "webhook_endpoint_not_found")
        r = http.post("/jobs", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
        assert_error(r, 413, "body_too_large", "body")
        assert len(intake.jobs()) == before, "a refused request queues nothing"
        # a conflict: a code handed to a job that waits for none
        queued = http.post("/jobs", json={"kind": "reconcile", "merchant": "acme"}).json()["id"]
        assert_error(http.post(f"/jobs/{queued}/handoff", json={"code": "123456"}), 409, "handoff_refused")
        assert_error(http.post("/jobs/job-nope/handoff", json={"code": "123456"}), 404, "job_not_found")


def test_a_key_guesser_is_rate_limited_and_the_right_key_still_passes(tmp_path: Path) -> None:
    from robot.api.auth import BAD_KEYS_PER_MINUTE

    with serve_intake(intake_settings(tmp_path)) as i, httpx.Client(base_url=i.url, timeout=10) as http:
        for n in range(BAD_KEYS_PER_MINUTE):
            assert_error(http.get("/jobs", headers={"X-API-Key": f"guess-{n}"}), 401, "api_key_invalid")
        e = assert_error(http.get("/jobs", headers={"X-API-Key": "guess-x"}), 429, "rate_limited", "X-API-Key")
        assert e["type"] == "rate_limit_error"
        assert http.get("/jobs", headers=GOOD).status_code == 200


def test_error_codes_are_listed_in_the_docs() -> None:
    from robot.api.errors import CODES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for code, (status, etype, _meaning) in CODES.items():
        assert f"| `{code}` | {status} | `{etype.value}` |" in doc, code


def test_money_moving_jobs_need_a_key_and_a_replay_returns_the_first_answer(intake: Intake) -> None:
    before = len(intake.jobs())
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        # two identical deposits without a key: both refused, nothing queued (never two charges)
        for _ in range(2):
            assert_error(http.post("/jobs", json=DEPOSIT), 400, "idempotency_key_missing", "Idempotency-Key")
        assert len(intake.jobs()) == before
        k = key()
        first = http.post("/jobs", json=DEPOSIT, headers=k)
        assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers, first.text
        job = first.json()
        assert job["object"] == "job" and job["status"] == "queued" and job["kind"] == "deposit"
        assert first.headers["Location"] == f"/jobs/{job['id']}"
        again = http.post("/jobs", json=DEPOSIT, headers=k)
        assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == job["id"]
        # the same key, another body: 400 idempotency_key_reused (Stripe), nothing queued
        assert_error(http.post("/jobs", json={**DEPOSIT, "amount": "60.00"}, headers=k), 400,
                     "idempotency_key_reused", "Idempotency-Key")
        assert_error(http.post("/jobs", json=DEPOSIT, headers={"Idempotency-Key": "x" * 256}), 422,
                     "idempotency_key_invalid", "Idempotency-Key")
        # a key is optional for a kind that moves no money
        r = http.post("/jobs", json={"kind": "reconcile", "merchant": "acme"})
        assert r.status_code == 202, r.text
    assert len(intake.jobs()) == before + 2


def test_keys_expire_after_the_documented_time(tmp_path: Path) -> None:
    with serve_intake(intake_settings(tmp_path, idempotency_key_hours=0.0003)) as i:  # ~1 s
        import time

        with httpx.Client(base_url=i.url, headers=GOOD, timeout=10) as http:
            k = key()
            a = http.post("/jobs", json=DEPOSIT, headers=k).json()["id"]
            time.sleep(1.5)  # the key's documented lifetime, shortened for the test, runs out
            r = http.post("/jobs", json=DEPOSIT, headers=k)
            assert r.status_code == 202 and "Idempotent-Replayed" not in r.headers
            assert r.json()["id"] != a
        assert len(i.jobs()) == 2


def test_validation_at_the_door(intake: Intake) -> None:
    before = len(intake.jobs())
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        assert_error(http.post("/jobs", json={**CHARGE, "merchant": "zulu"}, headers=key()), 422, "merchant_unknown",
                     "merchant")
        # charlie has no gateway account: no tender can be taken for it
        assert_error(http.post("/jobs", json={**CHARGE, "merchant": "charlie"}, headers=key()), 422,
                     "tender_not_accepted", "tender.type")
    assert len(intake.jobs()) == before


def test_list_pages_with_a_cursor_and_filters(intake: Intake) -> None:
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        ids = [http.post("/jobs", json={**CHARGE, "invoice": 1000 + n, "merchant": "acme" if n % 2 else "bravo"},
                         headers=key()).json()["id"] for n in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            page = http.get("/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            assert page["object"] == "list" and len(page["data"]) <= 2
            seen += [j["id"] for j in page["data"]]
            if not page["has_more"]:
                assert page["next_cursor"] is None
                break
            cursor = page["next_cursor"]
        assert set(ids) <= set(seen) and len(seen) == len(set(seen)) == len(intake.jobs()), "each job once"
        acme = http.get("/jobs", params={"merchant": "acme", "limit": 100}).json()["data"]
        assert {j["merchant"] for j in acme} == {"acme"} and {ids[1], ids[3]} <= {j["id"] for j in acme}
        assert not {ids[0], ids[2], ids[4]} & {j["id"] for j in acme}
        assert http.get("/jobs", params={"kind": "refund"}).json()["data"] == []
        charges = http.get("/jobs", params={"status": "queued", "kind": "charge", "limit": 100}).json()["data"]
        assert set(ids) <= {j["id"] for j in charges} and {j["kind"] for j in charges} == {"charge"}
        assert_error(http.get("/jobs", params={"cursor": "job-gone"}), 422, "parameter_invalid", "cursor")


def test_artifacts_only_for_an_authorised_caller_and_only_the_jobs_own(intake: Intake) -> None:
    """A finished job's evidence, served by name from its folder; never a worker path in the job."""
    from dbos import SetWorkflowID  # noqa: F401 - the job is made through the real store below

    from robot.jobs.models import JobResult, Outcome

    folder = intake.settings.artifacts_dir / "job-art"
    folder.mkdir(parents=True)
    (folder / "screenshot.png").write_bytes(b"\x89PNG fake")
    (intake.settings.data_path / "secret.txt").write_text("not yours")
    result = JobResult(job_id="job-art", kind="charge", merchant="acme", outcome=Outcome.failed,
                       artifacts=[str(folder / "screenshot.png")])
    _finished_job(intake, "job-art", result)
    with httpx.Client(base_url=intake.url, timeout=10) as http:
        assert_error(http.get("/jobs/job-art/artifacts/screenshot.png"), 401, "api_key_invalid")
        http.headers.update(GOOD)
        job = http.get("/jobs/job-art").json()
        assert job["artifacts"] == [{"name": "screenshot.png", "url": "/jobs/job-art/artifacts/screenshot.png"}]
        assert str(intake.settings.data_path) not in json.dumps(job), "no worker path in the answer"
        r = http.get(job["artifacts"][0]["url"])
        assert r.status_code == 200 and r.content == b"\x89PNG fake" and r.headers["content-type"] == "image/png"
        import http.client as hc

        host, port = intake.url.removeprefix("http://").split(":")
        for bad in ("../../secret.txt", "..%2F..%2Fsecret.txt", "%2e%2e%2f%2e%2e%2fsecret.txt", "..",
                    "secret.txt", "trace.zip", ".hidden"):
            conn = hc.HTTPConnection(host, int(port), timeout=10)  # sends the path as written
            conn.request("GET", f"/jobs/job-art/artifacts/{bad}", headers=GOOD)
            resp = conn.getresponse()
            text = resp.read().decode()
            conn.close()
            assert resp.status in (404, 422), (bad, resp.status)
            assert "not yours" not in text and "error" in json.loads(text)
        assert_error(http.get("/jobs/job-nope/artifacts/screenshot.png"), 404, "job_not_found")


def _finished_job(intake: Intake, job_id: str, result: Any) -> None:
    """A job the store holds as finished with `result` (the way a worker leaves it)."""
    import asyncio

    from robot.jobs import dbos_app
    from robot.jobs.models import parse_job
    from robot.jobs.queue import enqueue

    enqueue(parse_job(CHARGE), client=intake.client, job_id=job_id)
    # the workflow's output as DBOS stores it for a finished job
    sysdb = intake.client._sys_db
    import sqlalchemy as sa
    from dbos._serialization import DefaultSerializer

    with sysdb.engine.begin() as c:
        c.execute(sa.text("UPDATE workflow_status SET status='SUCCESS', output=:o, queue_name=NULL "
                          "WHERE workflow_uuid=:w"), {"o": DefaultSerializer().serialize(result), "w": job_id})
    del asyncio, dbos_app


def test_webhook_endpoints_are_registered_listed_and_deleted(intake: Intake) -> None:
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        r = http.post("/webhook_endpoints", json={"url": "http://127.0.0.1:9/hook", "enabled_events": ["job.finished"]})
        assert r.status_code == 201, r.text
        ep = r.json()
        assert ep["secret"].startswith("whsec_") and ep["enabled_events"] == ["job.finished"]
        listed = http.get("/webhook_endpoints").json()["data"]
        assert [e["id"] for e in listed] == [ep["id"]] and listed[0]["secret"] is None, "the secret is shown once"
        assert ep["secret"].encode() not in intake.store_bytes(), "the secret is stored sealed"
        assert_error(http.post("/webhook_endpoints", json={"url": "ftp://x"}), 422, "parameter_invalid", "url")
        assert_error(http.post("/webhook_endpoints", json={"url": "http://x/y", "enabled_events": ["job.paid"]}),
                     422, "parameter_invalid")
        t = http.post(f"/webhook_endpoints/{ep['id']}/test")
        assert t.status_code == 202 and t.json()["event_id"].startswith("evt_")
        assert http.delete(f"/webhook_endpoints/{ep['id']}").json()["deleted"] is True
        assert_error(http.delete(f"/webhook_endpoints/{ep['id']}"), 404, "webhook_endpoint_not_found")


def test_the_served_openapi_document_is_the_committed_one(intake: Intake) -> None:
    import difflib

    from robot.api.contract import COMMITTED, render

    served = render(httpx.get(intake.url + "/openapi.json").json())
    committed = COMMITTED.read_text()
    if served != committed:
        diff = "".join(difflib.unified_diff(committed.splitlines(True), served.splitlines(True),
                                            "docs/openapi.json (committed)", "GET /openapi.json"))
        pytest.fail("the API contract changed; review the diff, then run `make openapi` and commit it:\n" + diff)
    doc = json.loads(served)
    assert doc["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": doc["components"]["securitySchemes"]
        ["ApiKey"]["description"]}
    post = doc["paths"]["/jobs"]["post"]
    assert not any(p["name"] == "X-API-Key" for p in post.get("parameters", [])), "the key is a scheme, not a header"
    assert post["requestBody"]["content"]["application/json"]["examples"]
    assert set(doc["webhooks"]) == {"job.finished", "job.failed", "job.cancelled", "job.needs_person"}
    schemas = doc["components"]["schemas"]
    assert schemas["JobState"]["enum"] and schemas["Outcome"]["enum"] and schemas["JobKind"]["enum"]
    assert "ErrorResponse" in schemas and "HTTPValidationError" not in schemas
    for status, resp in post["responses"].items():
        if status.startswith(("4", "5")):
            assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}


def test_added_routers_sit_behind_the_gate_and_a_crash_is_a_500_in_the_error_shape(tmp_path: Path) -> None:
    """The app factory's extension point (the support dashboard mounts its router there)."""
    from fastapi import APIRouter

    from robot.api.app import create_app

    extra = APIRouter()

    @extra.get("/boom")
    async def boom() -> None:
        raise RuntimeError("card 4111111111111111 in an unexpected error")

    import threading
    import time as _t

    import uvicorn

    app = create_app(intake_settings(tmp_path), routers=[extra])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        _t.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}/boom"
        assert_error(httpx.get(url), 401, "api_key_invalid")
        e = assert_error(httpx.get(url, headers=GOOD), 500, "internal_error", None)
        assert e["type"] == "api_error" and "4111" not in e["message"]
    finally:
        server.should_exit = True
        t.join(15)
