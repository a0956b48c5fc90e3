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
            assert [p["field"] for p in r.json()["detail"]] == ["amount"]
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
            assert field in [p["field"] for p in r.json()["detail"]], (field, r.json())
            assert pan not in r.text and digits not in r.text
        if pan.isascii():  # the idempotency key is free text too (an HTTP header: ASCII only)
            r = http.post("/jobs", json=CHARGE, headers={"Idempotency-Key": f"order {pan}"})
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == "Idempotency-Key", r.text
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
            assert [p["field"] for p in r.json()["detail"]] == [field], r.json()
            assert "zulu" not in r.text and str(10**20) not in r.text
        r = http.post("/jobs/job-x/handoff", json={"invoice": 10**30})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "invoice", r.text
        # the merchants the vault knows are still taken, up to the largest number
        assert http.post("/jobs", json={**CHARGE, "invoice": 2**31 - 1}).status_code == 202
        assert http.post("/jobs", json={**CHARGE, "merchant": "bravo"}).status_code == 202
    assert len(intake.jobs()) == 2
