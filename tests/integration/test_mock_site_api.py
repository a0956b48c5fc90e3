"""The mock site's JSON API: billing rules, bad input changing nothing, quotes, faults on the API."""

from __future__ import annotations

import time as _time  # only for measuring, never for waiting
from typing import Any

import httpx
import pytest

from fixtures.jobber_site.server import MockJobber

Json = dict[str, Any]


def _inv(api: httpx.Client, number: int) -> Json:
    inv = next(i for i in api.get("/api/invoices").json()["invoices"] if i["number"] == number)
    return api.get(f"/api/invoices/{inv['id']}").json()


def _quote(api: httpx.Client, number: int) -> Json:
    q = next(q for q in api.get("/api/quotes").json()["quotes"] if q["number"] == number)
    return api.get(f"/api/quotes/{q['id']}").json()


def _state(site: MockJobber) -> Json:
    """The admin state minus the ticking clock, for before/after comparisons."""
    st = site.admin.state()
    st.pop("now")
    return st


def _pay(api: httpx.Client, invoice_id: int, amount: Any, method: str = "credit_card", **kw: Any) -> httpx.Response:
    return api.post(f"/api/invoices/{invoice_id}/payments", json={"method": method, "amount": amount, **kw})


def test_me_and_demo_statuses(jobber_api: httpx.Client) -> None:
    me = jobber_api.get("/api/me").json()
    assert me["account"] == {"email": "owner@acme.test", "name": "Dana Owner", "company": "Acme Lawn Care"}
    assert me["layout_variant"] is None and len(me["today"]) == 10
    got = {i["number"]: (i["status"], i["status_label"], i["total"], i["balance"])
           for i in jobber_api.get("/api/invoices").json()["invoices"]}
    assert got == {
        1042: ("awaiting_payment", "Awaiting Payment", "150.00", "150.00"),
        1043: ("draft", "Draft", "80.00", "80.00"),
        1050: ("awaiting_payment", "Awaiting Payment", "220.00", "220.00"),
        1051: ("past_due", "Past Due", "95.50", "95.50"),
        1060: ("paid", "Paid", "60.00", "0.00"),
        1061: ("bad_debt", "Bad Debt", "45.00", "45.00"),
        1070: ("awaiting_payment", "Awaiting Payment", "1250.00", "1000.00"),
    }
    quotes = {q["number"]: (q["status"], q["total"]) for q in jobber_api.get("/api/quotes").json()["quotes"]}
    assert quotes == {12: ("approved", "400.00"), 13: ("draft", "120.00"), 14: ("awaiting_response", "300.00")}


def test_search_and_filter(jobber_api: httpx.Client) -> None:
    def nums(**params: str) -> list[int]:
        return [i["number"] for i in jobber_api.get("/api/invoices", params=params).json()["invoices"]]

    assert nums(q="1042") == [1042]
    assert nums(q="okafor") == [1050, 1051]
    assert nums(status="past_due") == [1051]
    assert nums(status="awaiting_payment", q="chen") == [1042]
    assert [c["name"] for c in jobber_api.get("/api/clients", params={"q": "pat"}).json()["clients"]] == ["Priya Patel"]


def test_invoice_detail_shape(jobber_api: httpx.Client) -> None:
    inv = _inv(jobber_api, 1070)
    assert inv["client"]["name"] == "Luis Garcia"
    assert inv["line_items"] == [{"name": "Irrigation system", "description": "Install, 6 zones", "quantity": "1",
                                  "unit_price": "1250.00", "total": "1250.00"}]
    (p,) = inv["payments"]
    assert (p["kind"], p["method"], p["method_label"], p["amount"], p["details"], p["refunded"], p["refundable"]) == \
        ("payment", "check", "Check", "250.00", "Check #2231", "0.00", "250.00")


def test_payment_to_paid_and_back(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    inv = _inv(jobber_api, 1042)
    r = _pay(jobber_api, inv["id"], "100.00", details="txn_1 Visa 4242", date="2026-01-02")
    assert r.status_code == 201
    p1 = r.json()
    assert (p1["amount"], p1["date"], p1["details"], p1["method_label"]) == ("100.00", "2026-01-02", "txn_1 Visa 4242", "Credit Card")
    p2 = _pay(jobber_api, inv["id"], 50, method="cash").json()
    assert jobber.admin.invoice(1042)["status"] == "paid"
    assert jobber.admin.invoice(1042)["balance"] == "0.00"
    assert _pay(jobber_api, inv["id"], "1.00").status_code == 409  # paid: nothing more to collect
    assert jobber_api.delete(f"/api/payments/{p2['id']}").status_code == 204
    assert (jobber.admin.invoice(1042)["status"], jobber.admin.invoice(1042)["balance"]) == ("awaiting_payment", "50.00")
    r = jobber_api.patch(f"/api/payments/{p1['id']}", json={"amount": "150.00", "details": "edited"})
    assert r.status_code == 200 and r.json()["details"] == "edited"
    assert jobber.admin.invoice(1042)["status"] == "paid"
    r = jobber_api.patch(f"/api/payments/{p1['id']}", json={"amount": "120.00", "method": "bank_transfer"})
    assert r.json()["method_label"] == "Bank Transfer"
    assert (jobber.admin.invoice(1042)["status"], jobber.admin.invoice(1042)["balance"]) == ("awaiting_payment", "30.00")


def test_refunds(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    inv = _inv(jobber_api, 1050)
    p = _pay(jobber_api, inv["id"], "220.00").json()
    assert jobber.admin.invoice(1050)["status"] == "paid"
    r = jobber_api.post(f"/api/payments/{p['id']}/refunds", json={"amount": "20.00", "details": "partial"})
    assert r.status_code == 201 and r.json()["amount"] == "20.00"
    r = jobber_api.post(f"/api/payments/{p['id']}/refunds", json={"amount": "200.01"})
    assert r.status_code == 422 and r.json()["field"] == "amount" and "$200.00" in r.json()["error"]
    assert jobber_api.post(f"/api/payments/{p['id']}/refunds", json={"amount": "200.00"}).status_code == 201
    st = jobber.admin.invoice(1050)
    assert (st["status"], st["balance"], st["payments"][0]["refunded"]) == ("awaiting_payment", "220.00", "220.00")
    assert jobber_api.get(f"/api/invoices/{inv['id']}").json()["payments"][0]["refundable"] == "0.00"
    assert jobber_api.post(f"/api/payments/{p['id']}/refunds", json={"amount": "0.01"}).status_code == 422
    r = jobber_api.patch(f"/api/payments/{p['id']}", json={"amount": "100.00"})
    assert r.status_code == 422  # below what was refunded


def test_draft_refused_until_marked_sent(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    inv = _inv(jobber_api, 1043)
    before = _state(jobber)
    r = _pay(jobber_api, inv["id"], "10.00")
    assert r.status_code == 409
    assert r.json()["error"] == "Payments can't be recorded on a draft invoice. Mark it as sent first."
    assert _state(jobber) == before
    r = jobber_api.post(f"/api/invoices/{inv['id']}/mark_sent")
    assert r.status_code == 200 and r.json()["status"] == "awaiting_payment"
    assert jobber_api.post(f"/api/invoices/{inv['id']}/mark_sent").status_code == 409
    assert _pay(jobber_api, inv["id"], "80.00").status_code == 201
    assert jobber.admin.invoice(1043)["status"] == "paid"


def test_bad_debt_and_past_due(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    assert _pay(jobber_api, _inv(jobber_api, 1061)["id"], "1.00").status_code == 409
    past = _inv(jobber_api, 1051)
    assert _pay(jobber_api, past["id"], "95.50").status_code == 201
    assert jobber.admin.invoice(1051)["status"] == "paid"
    # due dates follow the mock clock
    jobber.admin.clock(advance_seconds=40 * 86400)
    assert jobber.admin.invoice(1042)["status"] == "past_due"


@pytest.mark.parametrize(("body", "field"), [
    ({"method": "credit_card", "amount": "-5.00"}, "amount"),
    ({"method": "credit_card", "amount": "0"}, "amount"),
    ({"method": "credit_card", "amount": 0}, "amount"),
    ({"method": "credit_card", "amount": "1.234"}, "amount"),
    ({"method": "credit_card", "amount": 1.234}, "amount"),
    ({"method": "credit_card", "amount": "ten"}, "amount"),
    ({"method": "credit_card", "amount": True}, "amount"),
    ({"method": "credit_card"}, "amount"),
    ({"method": "bitcoin", "amount": "5.00"}, "method"),
    ({"amount": "5.00"}, "method"),
    ({"method": "cash", "amount": "5.00", "date": "2026-13-45"}, "date"),
    ({"method": "cash", "amount": "5.00", "date": "yesterday"}, "date"),
    ({"method": "cash", "amount": "150.01"}, "amount"),
])
def test_bad_input_changes_nothing(jobber: MockJobber, jobber_api: httpx.Client, body: Json, field: str) -> None:
    inv = _inv(jobber_api, 1042)
    before = _state(jobber)
    r = jobber_api.post(f"/api/invoices/{inv['id']}/payments", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["error"]
    assert _state(jobber) == before


def test_over_payment_message_names_balance(jobber_api: httpx.Client) -> None:
    r = _pay(jobber_api, _inv(jobber_api, 1070)["id"], "1000.01")
    assert r.json() == {"error": "Amount can't be more than the invoice balance ($1000.00).", "field": "amount"}


def test_bad_edit_changes_nothing(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    pid = _inv(jobber_api, 1070)["payments"][0]["id"]
    before = _state(jobber)
    for body in ({"amount": "1250.01"}, {"amount": "-1"}, {"method": "gold"}, {"date": "02/03/2026"}):
        r = jobber_api.patch(f"/api/payments/{pid}", json=body)
        assert r.status_code == 422, body
    assert jobber_api.patch(f"/api/payments/{pid}", json={"amount": "1250.00"}).status_code == 200  # whole total ok
    after = jobber.admin.invoice(1070)
    assert after["status"] == "paid" and before != _state(jobber)


def test_unknown_ids_and_csrf(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    assert jobber_api.get("/api/invoices/9999").json() == {"error": "not_found"}
    assert jobber_api.get("/api/invoices/9999").status_code == 404
    assert _pay(jobber_api, 9999, "1.00").status_code == 404
    assert jobber_api.patch("/api/payments/9999", json={"amount": "1"}).status_code == 404
    assert jobber_api.delete("/api/payments/9999").status_code == 404
    assert jobber_api.post("/api/payments/9999/refunds", json={"amount": "1"}).status_code == 404
    assert jobber_api.get("/api/clients/9999").status_code == 404
    assert jobber_api.get("/api/quotes/9999").status_code == 404
    huge = 2**64  # past SQLite's integers: still just an unknown id, not a 500
    assert jobber_api.get(f"/api/invoices/{huge}").json() == {"error": "not_found"}
    assert _pay(jobber_api, huge, "1.00").status_code == 404
    assert jobber_api.delete(f"/api/payments/{huge}").status_code == 404
    # the other account's invoice is invisible
    sam = next(i for i in jobber.admin.account("sms@bravo.test")["invoices"])
    assert jobber_api.get(f"/api/invoices/{sam['id']}").status_code == 404
    inv = _inv(jobber_api, 1042)
    before = _state(jobber)
    for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong"}):
        r = jobber_api.post(f"/api/invoices/{inv['id']}/payments", json={"method": "cash", "amount": "1.00"},
                            headers=headers)
        assert r.status_code == 403 and r.json() == {"error": "invalid_csrf"}
    assert _state(jobber) == before


def test_client_detail_and_billing_history(jobber_api: httpx.Client) -> None:
    cid = next(c["id"] for c in jobber_api.get("/api/clients").json()["clients"] if c["name"] == "Luis Garcia")
    d = jobber_api.get(f"/api/clients/{cid}").json()
    assert d["client"]["name"] == "Luis Garcia" and d["balance"] == "1000.00"
    assert [i["number"] for i in d["invoices"]] == [1070] and d["quotes"] == []
    assert [(h["type"], h["applied_to"], h["amount"]) for h in d["billing_history"]] == [
        ("Invoice", "Invoice #1070", "1250.00"), ("Payment", "Invoice #1070", "-250.00")]


def test_quote_deposit_and_convert(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    q12, q13, q14 = (_quote(jobber_api, n) for n in (12, 13, 14))
    assert q12["status_label"] == "Approved" and q14["status_label"] == "Awaiting Response"
    for q in (q13, q14):
        assert jobber_api.post(f"/api/quotes/{q['id']}/deposits", json={"method": "cash", "amount": "10"}).status_code == 409
        assert jobber_api.post(f"/api/quotes/{q['id']}/convert").status_code == 409
    r = jobber_api.post(f"/api/quotes/{q12['id']}/deposits", json={"method": "cash", "amount": "400.01"})
    assert r.status_code == 422 and "$400.00" in r.json()["error"]
    r = jobber_api.post(f"/api/quotes/{q12['id']}/deposits",
                        json={"method": "credit_card", "amount": "100.00", "details": "txn_dep Visa 4242"})
    assert r.status_code == 201 and r.json()["kind"] == "deposit"
    assert jobber.admin.quote(12)["deposits"][0]["amount"] == "100.00"
    r = jobber_api.post(f"/api/quotes/{q12['id']}/deposits", json={"method": "cash", "amount": "300.01"})
    assert r.status_code == 422 and "$300.00" in r.json()["error"]
    r = jobber_api.post(f"/api/quotes/{q12['id']}/convert")
    assert r.status_code == 200
    iid = r.json()["invoice_id"]
    inv = jobber_api.get(f"/api/invoices/{iid}").json()
    assert (inv["status"], inv["total"], inv["balance"]) == ("draft", "400.00", "300.00")
    assert inv["line_items"][0]["name"] == "Spring cleanup"
    (dep,) = inv["payments"]
    assert (dep["kind"], dep["amount"], dep["details"]) == ("deposit", "100.00", "txn_dep Visa 4242")
    q = jobber.admin.quote(12)
    assert (q["status"], q["invoice_id"]) == ("converted", iid)
    assert jobber_api.post(f"/api/quotes/{q12['id']}/convert").status_code == 409
    assert _pay(jobber_api, iid, "300.00").status_code == 409  # still Draft
    jobber_api.post(f"/api/invoices/{iid}/mark_sent")
    assert _pay(jobber_api, iid, "300.01").status_code == 422
    assert _pay(jobber_api, iid, "300.00").status_code == 201
    assert next(i for i in jobber.admin.account()["invoices"] if i["id"] == iid)["status"] == "paid"


def test_error_fault_on_api_and_pages(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    jobber.admin.faults(error_rate=1.0)
    r = jobber_api.get("/api/invoices")
    assert r.status_code == 500 and r.json() == {"error": "server_error"}
    r = jobber_api.get("/invoices")
    assert r.status_code == 500 and "Something went wrong" in r.text
    assert jobber.admin.state()["accounts"]  # the admin API is never faulted
    jobber.admin.faults(error_rate=0.5)
    codes = [jobber_api.get("/api/me").status_code for _ in range(20)]
    assert set(codes) == {200, 500}
    jobber.admin.clear_faults()
    assert jobber_api.get("/api/invoices").status_code == 200


def test_latency_fault(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    jobber.admin.faults(latency_ms=300)
    assert jobber.admin.faults()["latency_ms"] == 300
    t0 = _time.monotonic()
    assert jobber_api.get("/api/me").status_code == 200
    assert _time.monotonic() - t0 >= 0.3
    t0 = _time.monotonic()
    jobber.admin.state()
    assert _time.monotonic() - t0 < 0.3


def test_layout_variant_in_me(jobber: MockJobber, jobber_api: httpx.Client) -> None:
    jobber.admin.faults(layout_variant="redesign")
    assert jobber_api.get("/api/me").json()["layout_variant"] == "redesign"
    assert jobber.admin.get("/_mock/faults").json()["layout_variant"] == "redesign"
    jobber.admin.reset("demo")  # reset clears faults
    assert jobber.admin.get("/_mock/faults").json()["layout_variant"] is None


def test_reset_with_inline_scenario(jobber: MockJobber) -> None:
    doc = {"accounts": [{"email": "x@y.test", "password": "pw-123456", "name": "X", "company": "Y Co",
                         "two_factor": None, "clients": [{"name": "Z", "invoices": [
                             {"number": 1, "status": "awaiting_payment", "due_date": "today-1d",
                              "line_items": [{"name": "a", "quantity": "2", "unit_price": "10.25"}]}]}]}]}
    st = jobber.admin.reset(doc)
    (acc,) = st["accounts"]
    assert [(i["number"], i["status"], i["total"]) for i in acc["invoices"]] == [(1, "past_due", "20.50")]
    with httpx.Client(base_url=jobber.url) as c:  # no 2FA: straight in
        from tests.plugin_mock_jobber import form_token

        tok = form_token(c.get("/login").text)
        r = c.post("/login", data={"email": "x@y.test", "password": "pw-123456", "authenticity_token": tok})
        assert r.headers["location"] == "/invoices"
    assert jobber.admin.post("/_mock/reset", json={"scenario": "nope"}).status_code == 404


def test_clock_set(jobber: MockJobber) -> None:
    assert jobber.admin.clock(set="2030-01-01T00:00:00Z").startswith("2030-01-01T00:00")
    assert jobber.admin.clock(advance_seconds=3600).startswith("2030-01-01T01:00")


@pytest.mark.parametrize("body", [{"latency_ms": "abc"}, {"latency_ms": -5}, {"error_rate": 2}, {"error_rate": "0.5"},
                                  {"require_2fa": "yes"}, {"force_logout": 1}, {"layout_variant": "v2"}, {"nope": 1}])
def test_bad_fault_is_refused_and_changes_nothing(jobber: MockJobber, jobber_api: httpx.Client,
                                                  body: dict[str, object]) -> None:
    before = jobber.admin.get("/_mock/faults").json()
    sessions = jobber.admin.state()["sessions"]
    r = jobber.admin.post("/_mock/faults", json={**body, "force_logout": True} if "force_logout" not in body else body)
    assert r.status_code == 422 and r.json()["error"]
    assert jobber.admin.get("/_mock/faults").json() == before
    assert jobber.admin.state()["sessions"] == sessions  # the log-out in the same body did not happen
    assert jobber_api.get("/api/me").status_code == 200  # the site still answers


def test_bad_clock_change_is_refused_and_changes_nothing(jobber: MockJobber) -> None:
    from fixtures.jobber_site.clock import parse_iso

    now = parse_iso(jobber.admin.clock())
    for body in ({"advance_seconds": "3600"}, {"advance_seconds": True}, {"set": "not a date"},
                 {"set": "2030-01-01T00:00:00Z", "advance_seconds": "x"}):
        r = jobber.admin.post("/_mock/clock", json=body)
        assert r.status_code == 422, body
        assert abs((parse_iso(jobber.admin.clock()) - now).total_seconds()) < 60, body  # not moved
