"""Issue 11 input safety at the HTTP intake (`serve` on a real port, real SQLite job store, real
vault): bad input is a 4xx naming the field and the rule, repeats no value, and queues nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.intake_world import CHARGE, GOOD, Intake, intake  # noqa: F401


def test_bad_amount_is_422_naming_amount_and_queues_nothing(intake: Intake) -> None:
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        for amount in ["1e30", "1" + "0" * 29, "1,0,0", "1e2", "1_0_0", "١٠٠", "1000000.01"]:
            r = http.post("/jobs", json={**CHARGE, "amount": amount})
            assert r.status_code == 422, (amount, r.text)
            assert r.json()["error"]["param"] == "amount" and r.json()["error"]["type"] == "invalid_request_error"
            assert amount not in r.text
    assert intake.jobs() == []


# --- item 6: nothing that looks like a card number is accepted, stored or repeated -------------

PANS = ["4111-1111-1111-1111", "4111 1111 1111 1111", "4111.1111.1111.1111", "５５５５ ５５５５ ５５５５ ４４４４"]


def _card_cases(pan: str) -> list[tuple[dict[str, object], str]]:
    return [
        ({**CHARGE, "tender": {"type": "card_token", "token": pan}}, "tender.token"),
        ({**CHARGE, "tender": {"type": "card_on_file", "customer_id": pan}}, "tender.customer_id"),
        ({**CHARGE, "tender": {"type": "ach_token", "token": pan}}, "tender.token"),
        ({**CHARGE, "invoice": None, "client": f"Jonas {pan}"}, "client"),
        ({"kind": "link", "merchant": "acme", "invoice": 1042, "send_via": "sms", "to": pan}, "to"),
        ({"kind": "refund", "merchant": "acme", "transaction_id": pan}, "transaction_id"),
        ({**CHARGE, "merchant": pan}, "merchant"),
    ]


@pytest.mark.parametrize("pan", PANS)
def test_card_numbers_are_refused_in_every_text_field_and_never_stored(intake: Intake, pan: str) -> None:
    digits = "".join(ch for ch in pan if ch.isdigit())
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        for n, (payload, field) in enumerate(_card_cases(pan)):
            r = http.post("/jobs", json={k: v for k, v in payload.items() if v is not None},
                          headers={"Idempotency-Key": f"k-{n}"})
            assert r.status_code == 422, (field, r.text)
            assert r.json()["error"]["param"] == field, (field, r.json())
            assert pan not in r.text and digits not in r.text
        if pan.isascii():  # the idempotency key is free text too (an HTTP header: ASCII only)
            r = http.post("/jobs", json=CHARGE, headers={"Idempotency-Key": f"order {pan}"})
            assert r.status_code == 422 and r.json()["error"]["param"] == "Idempotency-Key", r.text
            assert pan not in r.text
    assert intake.jobs() == [], "nothing was queued"
    stored = intake.store_bytes()
    assert digits.encode() not in stored and pan.encode() not in stored


# --- item 7: unknown merchants and out-of-range ids are refused at intake -------------------------


def test_unknown_merchant_and_out_of_range_ids_are_422_naming_the_field(intake: Intake) -> None:
    quote = {"kind": "quote_deposit", "merchant": "acme", "quote": 12, "amount": "10.00",
             "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}
    cases = [
        ({**CHARGE, "merchant": "zulu"}, "merchant"),             # a slug, but not in the vault
        ({**CHARGE, "invoice": 2**31}, "invoice"),                 # beyond Jobber's (GraphQL Int) numbers
        ({**CHARGE, "invoice": 10**30}, "invoice"),
        ({**quote, "quote": 10**20}, "quote"),
    ]
    with httpx.Client(base_url=intake.url, headers=GOOD, timeout=10) as http:
        for payload, field in cases:
            r = http.post("/jobs", json=payload)
            assert r.status_code == 422, (field, r.text)
            assert r.json()["error"]["param"] == field, r.json()
            assert "zulu" not in r.text and str(10**20) not in r.text
        r = http.post("/jobs/job-x/handoff", json={"invoice": 10**30})
        assert r.status_code == 422 and r.json()["error"]["param"] == "invoice", r.text
        # the merchants the vault knows are still taken, up to the largest number
        assert http.post("/jobs", json={**CHARGE, "invoice": 2**31 - 1}, headers={"Idempotency-Key": "a"}).status_code == 202
        assert http.post("/jobs", json={**CHARGE, "merchant": "bravo"}, headers={"Idempotency-Key": "b"}).status_code == 202
    assert len(intake.jobs()) == 2


# --- item 3: one Idempotency-Key, two requests at the same moment: one job, one answer each ----


def _race(intake: Intake, bodies: list[dict[str, object]], key: str) -> list[httpx.Response]:
    import threading

    barrier = threading.Barrier(len(bodies))
    out: list[httpx.Response | None] = [None] * len(bodies)
    clients = [httpx.Client(base_url=intake.url, headers={**GOOD, "Idempotency-Key": key}, timeout=20)
               for _ in bodies]
    for c in clients:  # connections open before the barrier, so the requests leave together
        assert c.get("/healthz").status_code == 200

    def send(i: int) -> None:
        barrier.wait()
        out[i] = clients[i].post("/jobs", json=bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for c in clients:
        c.close()
    assert all(r is not None for r in out)
    return out  # type: ignore[return-value]


def test_concurrent_requests_with_one_key_make_one_job_and_the_loser_is_told(intake: Intake) -> None:
    for n in range(3):
        bodies = [{**CHARGE, "amount": "10.00"}, {**CHARGE, "amount": "20.00"}]
        got = _race(intake, bodies, f"race-{n}")
        codes = sorted(r.status_code for r in got)
        # Stripe: the same key with another body is 400 idempotency_key_reused
        assert codes == [202, 400], [(r.status_code, r.text) for r in got]
        loser = next(r for r in got if r.status_code == 400)
        assert loser.json()["error"]["code"] == "idempotency_key_reused"
        winner = next(i for i, r in enumerate(got) if r.status_code == 202)
        job_id = got[winner].json()["id"]
        [stored] = [w for w in intake.jobs() if w.workflow_id == job_id]
        assert str(stored.input["args"][0].amount) == bodies[winner]["amount"], "the job is the winner's"
        # the same body twice at once: one queued, one replay of the first answer (same status, same job)
        same = _race(intake, [{**CHARGE, "amount": "30.00"}] * 2, f"same-{n}")
        assert [r.status_code for r in same] == [202, 202], [(r.status_code, r.text) for r in same]
        assert same[0].json()["id"] == same[1].json()["id"]
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in same) == ["", "true"]
    assert len(intake.jobs()) == 6


# --- item 8: the API key is checked before the body is read; the body is limited -----------------


def _raw(intake: Intake, head: str, body: bytes = b"", wait: float = 3.0) -> bytes:
    """Send request headers (and maybe a little of the body) and read what comes back within
    `wait` seconds, without sending the rest of the body the headers announce."""
    import socket

    host, port = intake.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        try:
            while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data


def test_a_wrong_key_is_refused_before_a_huge_body_is_read(intake: Intake) -> None:
    head = ("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "X-API-Key: wrong\r\nContent-Length: 50000000\r\n")
    got = _raw(intake, head, b'{"kind": "charge", ')
    assert got.startswith(b"HTTP/1.1 401"), got[:200]
    # a malformed body with a wrong key: still 401 (the body is not looked at)
    r = httpx.post(intake.url + "/jobs", content=b"{not json", headers={"X-API-Key": "wrong",
                                                                        "Content-Type": "application/json"})
    assert r.status_code == 401, r.text
    assert intake.jobs() == []


def test_a_body_over_64_kib_is_413_in_the_error_shape(intake: Intake) -> None:
    import json

    head = ("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {GOOD['X-API-Key']}\r\nContent-Length: 50000000\r\n")
    got = _raw(intake, head, b'{"kind": "charge", ')
    assert got.startswith(b"HTTP/1.1 413"), got[:200]
    assert json.loads(got.split(b"\r\n\r\n", 1)[1]) == {"error": {
        "type": "invalid_request_error", "code": "body_too_large", "message": "body: must be at most 65536 bytes",
        "param": "body"}}
    big = {**CHARGE, "client": "x" * 100, "pad": "y" * 70_000}

    def chunks() -> object:  # no Content-Length: the limit counts what arrives
        data = json.dumps(big).encode()
        for i in range(0, len(data), 8192):
            yield data[i:i + 8192]

    r = httpx.post(intake.url + "/jobs", content=chunks(), headers={**GOOD, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["param"] == "body", r.text
    # a job just under the limit is still taken
    assert httpx.post(intake.url + "/jobs", json=CHARGE, headers={**GOOD, "Idempotency-Key": "k"}).status_code == 202
    assert len(intake.jobs()) == 1
