"""Mock site lifecycle and admin API: the two named hosts through LoopbackTransport, restarts,
mock mode, the `mock jobber` command, and `/_mock/` refusing malformed bodies (422 naming the
field, nothing changed)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.jobber_site.server import LoopbackTransport, MockJobber
from fixtures.jobber_site.store import Store
from fixtures.scenarios import load, names
from tests.plugin_mock_jobber import DEMO_EMAIL, FRANCHISE_EMAIL, PAGE_EMAIL, csrf_meta, sign_in

REPO = Path(__file__).resolve().parents[2]


def _doc(**account: Any) -> dict[str, Any]:
    """A one-account scenario document with one invoice; `account` overrides fields."""
    base: dict[str, Any] = {
        "email": "tiny@site.test", "password": "pw-123456", "name": "Tia Tiny", "company": "Tiny Co",
        "two_factor": None,
        "clients": [{"name": "Cal Client", "invoices": [
            {"number": 7, "subject": "Job", "status": "awaiting_payment",
             "line_items": [{"name": "Job", "quantity": "1", "unit_price": "10.00"}]}]}],
    }
    return {"accounts": [{**base, **account}]}


# -- hosts, transport, URLs ---------------------------------------------------------------------
def test_urls_and_resolver_rules(jobber: MockJobber) -> None:
    port = jobber.port
    assert jobber.url == f"http://secure.jobber.test:{port}"
    assert jobber.identity_url == f"http://login.jobber.test:{port}"
    assert jobber.resolver_rules == "MAP *.jobber.test 127.0.0.1"
    assert str(jobber.admin.base_url).rstrip("/") == f"http://127.0.0.1:{port}"
    with jobber.client() as c:
        assert str(c.base_url).rstrip("/") == jobber.url and c.follow_redirects is False


def test_loopback_transport_keeps_cookies_per_host(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        r = c.get("/invoices")
        assert r.request.url.host == "secure.jobber.test"  # the original request, not the loopback copy
        sent = r.request.headers.get("cookie", "")
        assert "_jobber_session=" in sent and "auth0=" not in sent and "did=" not in sent
        r = c.get(jobber.identity_url + "/_health")
        sent = r.request.headers.get("cookie", "")
        assert "auth0=" in sent and "_jobber_session" not in sent
    # without the transport the named host does not resolve: nothing here depends on DNS
    with httpx.Client(transport=LoopbackTransport(), timeout=5) as plain:
        assert plain.get(f"http://anything.invalid:{jobber.port}/_health").json() == {"ok": True}


def test_other_domain(tmp_path: Path) -> None:
    with MockJobber(tmp_path, domain="example.localhost") as site:
        assert site.url == f"http://secure.example.localhost:{site.port}"
        assert site.resolver_rules == "MAP *.example.localhost 127.0.0.1"
        with closing(sign_in(site)) as c:
            assert c.get("/invoices").status_code == 200
        with site.client() as c:
            assert c.get(f"http://login.jobber.test:{site.port}/u/login").status_code == 404  # app host now


# -- lifecycle -----------------------------------------------------------------------------------
def test_restart_keeps_data_and_sessions(tmp_path: Path) -> None:
    with MockJobber(tmp_path) as site:
        site.admin.reset(_doc())
        c = sign_in(site, "tiny@site.test", "pw-123456")
        port = site.port
    with MockJobber(tmp_path, port=port) as again:  # seeded only when new: the custom document stays
        assert [a["company"] for a in again.admin.state()["accounts"]] == ["Tiny Co"]
        assert c.get("/invoices").status_code == 200
        c.close()


def test_older_database_is_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "jobber.sqlite3"
    with closing(sqlite3.connect(db)) as old:
        old.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, password TEXT)")
        old.execute("INSERT INTO accounts(email, password) VALUES ('x@y.test', 'p')")
        old.commit()
    Store(db)
    with closing(sqlite3.connect(db)) as new:
        cols = [r[1] for r in new.execute("PRAGMA table_info(accounts)")]
        assert "user_id" in cols and "payment_ui" in cols
        assert new.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
    with MockJobber(tmp_path) as site:
        assert site.admin.account()["company"] == "Acme Lawn Care"


def test_no_admin_api_without_mock_mode(tmp_path: Path) -> None:
    with MockJobber(tmp_path, mock_mode=False) as site:
        assert site.admin.get("/_mock/state").status_code == 404
        with site.client() as c:
            assert c.get("/login").status_code == 302
            assert c.get(site.identity_url + "/_mock/state").status_code == 404


def test_scenarios_load() -> None:
    assert "demo" in names()
    demo = load("demo")
    demo["accounts"].clear()
    assert load("demo")["accounts"], "load returns a fresh copy"


def test_demo_logins(jobber: MockJobber) -> None:
    state = jobber.admin.state()
    by_company = {a["company"]: a for a in state["accounts"]}
    assert by_company["Acme Lawn Care"]["payment_ui"] == "dialog" and by_company["Echo Gardens"]["payment_ui"] == "page"
    assert [a["company"] for a in state["accounts"] if a["email"] == FRANCHISE_EMAIL] == \
        ["Delta Lawn North", "Delta Lawn South"]
    assert [u["email"] for u in state["users"]].count(FRANCHISE_EMAIL) == 1
    north = by_company["Delta Lawn North"]["invoices"]
    assert sorted(i["client"] for i in north if i["number"] == 3001) == ["Hannah Brooks", "Omar Haddad"]
    assert [i["client"] for i in north if i["number"] == 3005] == ["Omar Haddad", "Omar Haddad"]
    echo = by_company["Echo Gardens"]
    assert {i["status"] for i in echo["invoices"]} >= {"awaiting_payment", "draft"}
    assert [q["status"] for q in echo["quotes"]] == ["approved"] and echo["email"] == PAGE_EMAIL
    with closing(sign_in(jobber, PAGE_EMAIL, "echo-garden-31")) as c:
        assert c.get("/invoices").status_code == 200


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
def test_mock_jobber_command_prints_both_urls(tmp_path: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "robot", "mock", "jobber", "--port", str(port), "--data-dir", str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]  # printed once the port is bound
        assert lines[0].startswith(f"Listening on http://127.0.0.1:{port}")
        assert f"http://secure.localhost:{port}/" in lines[1] and f"http://login.localhost:{port}/" in lines[2]
        deadline = time.monotonic() + 90  # a loaded machine imports slowly; a dead process ends the wait at once
        with httpx.Client(transport=LoopbackTransport(), timeout=2) as c:
            while True:
                try:
                    r = c.get(f"http://secure.localhost:{port}/login")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                    time.sleep(0.1)
            assert r.status_code == 302 and r.headers["location"].startswith(f"http://login.localhost:{port}/authorize")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- admin API: state and counters ------------------------------------------------------------
def test_state_shows_users_and_counters(jobber: MockJobber) -> None:
    state = jobber.admin.state()
    assert {k: state[k] for k in ("sessions", "identity_sessions", "logins", "password_posts", "verifications",
                                  "code_posts")} == dict.fromkeys(
        ("sessions", "identity_sessions", "logins", "password_posts", "verifications", "code_posts"), 0)
    assert state["users"][0] == {"email": DEMO_EMAIL, "failed_logins": 0, "blocked": False, "failed_codes": 0,
                                 "mfa_locked_until": None}
    acme = jobber.admin.account()
    assert {"id", "email", "company", "payment_ui", "clients", "invoices", "quotes"} <= set(acme)


def test_reset_wipes_sessions_outbox_faults_and_clock(jobber: MockJobber) -> None:
    c = sign_in(jobber, "sms@bravo.test", "pool-party-77")
    jobber.admin.faults(safe_mode=True, payment_ui={"Acme Lawn Care": "page"})
    jobber.admin.clock(advance_seconds=3600)
    state = jobber.admin.reset("demo")
    assert (state["sessions"], state["identity_sessions"], state["logins"]) == (0, 0, 0)
    assert jobber.admin.outbox() == [] and jobber.admin.faults()["safe_mode"] is False
    assert jobber.admin.account()["payment_ui"] == "dialog"
    assert c.get("/invoices").status_code == 302
    c.close()


def test_inline_scenario_document(jobber: MockJobber) -> None:
    state = jobber.admin.reset(_doc(payment_ui="page"))
    [acc] = state["accounts"]
    assert (acc["company"], acc["payment_ui"], [i["number"] for i in acc["invoices"]]) == ("Tiny Co", "page", [7])
    with closing(sign_in(jobber, "tiny@site.test", "pw-123456")) as c:  # no two_factor: no challenge
        assert csrf_meta(c.get("/invoices").text)
    assert jobber.admin.state()["code_posts"] == 0


# -- admin API: malformed bodies ----------------------------------------------------------------
def _unchanged_after(jobber: MockJobber, send: Any) -> httpx.Response:
    """Send a bad request with a signed-in session, a fault and a moved clock in place; check
    that none of them changed."""
    c = sign_in(jobber)
    jobber.admin.faults(latency_ms=1)
    now = jobber.admin.clock(advance_seconds=60)
    before = jobber.admin.state()
    r = send()
    assert jobber.admin.faults()["latency_ms"] == 1
    after = jobber.admin.state()
    assert after["accounts"] == before["accounts"] and after["sessions"] == 1
    assert jobber.admin.clock() >= now
    assert c.get("/invoices").status_code == 200
    c.close()
    return r


def test_reset_with_a_number_for_scenario_is_a_422_not_a_500(jobber: MockJobber) -> None:
    """Reported defect: {"scenario": 12} crashed the loader (500) after the clock and faults
    were reset."""
    r = _unchanged_after(jobber, lambda: jobber.admin.post("/_mock/reset", json={"scenario": 12}))
    assert r.status_code == 422 and r.json()["field"] == "scenario" and r.json()["error"]


@pytest.mark.parametrize(("scenario", "field"), [
    (12, "scenario"),
    ([], "scenario"),
    (None, "scenario"),
    ("", "scenario"),
    ({"accounts": "none"}, "scenario.accounts"),
    ({"acounts": []}, "scenario.acounts"),
    ({"accounts": [7]}, "scenario.accounts[0]"),
    ({"accounts": [{"password": "p", "company": "C"}]}, "scenario.accounts[0].email"),
    ({"accounts": [{"email": "a@b.test", "company": "C"}]}, "scenario.accounts[0].password"),
    ({"accounts": [{"email": "a@b.test", "password": "p", "company": ""}]}, "scenario.accounts[0].company"),
    ({"accounts": [{"email": "a@b.test", "password": "p", "company": "C", "payment_ui": "popup"}]},
     "scenario.accounts[0].payment_ui"),
    ({"accounts": [{"email": "a@b.test", "password": "p", "company": "C", "two_factor": {"method": "totp",
                                                                                          "secret": "not base32!"}}]},
     "scenario.accounts[0].two_factor.secret"),
    ({"accounts": [{"email": "a@b.test", "password": "p", "company": "C", "two_factor": {"method": "email"}}]},
     "scenario.accounts[0].two_factor.method"),
    ({"accounts": [{"email": "a@b.test", "password": "p", "company": "C", "clients": {"name": "x"}}]},
     "scenario.accounts[0].clients"),
])
def test_reset_refuses_malformed_scenarios(jobber: MockJobber, scenario: Any, field: str) -> None:
    r = jobber.admin.post("/_mock/reset", json={"scenario": scenario})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


@pytest.mark.parametrize(("invoice", "field"), [
    ({"number": "abc"}, "number"),
    ({"number": True}, "number"),
    ({"number": 2**63}, "number"),
    ({"number": 1, "status": "sent"}, "status"),
    ({"number": 1, "due_date": "someday"}, "due_date"),
    ({"number": 1, "due_date": "today+xd"}, "due_date"),
    ({"number": 1, "line_items": [{"name": "x", "unit_price": 1.5}]}, "line_items[0].unit_price"),
    ({"number": 1, "line_items": [{"name": "x", "unit_price": "1.505"}]}, "line_items[0].unit_price"),
    ({"number": 1, "line_items": [{"name": "x", "unit_price": "1.00", "quantity": "-1"}]}, "line_items[0].quantity"),
    ({"number": 1, "line_items": [{"unit_price": "1.00"}]}, "line_items[0].name"),
    ({"number": 1, "payments": [{"method": "bitcoin", "amount": "1.00"}]}, "payments[0].method"),
    ({"number": 1, "payments": [{"method": "cash", "amount": "lots"}]}, "payments[0].amount"),
])
def test_reset_names_the_bad_invoice_field(jobber: MockJobber, invoice: dict[str, Any], field: str) -> None:
    doc = _doc(clients=[{"name": "Cal", "invoices": [{"number": 1}, invoice]}])
    r = _unchanged_after(jobber, lambda: jobber.admin.post("/_mock/reset", json={"scenario": doc}))
    assert r.status_code == 422 and r.json()["field"] == f"scenario.accounts[0].clients[0].invoices[1].{field}"


def test_reset_refuses_bad_quotes_and_bodies(jobber: MockJobber) -> None:
    doc = _doc(clients=[{"name": "Cal", "quotes": [{"number": 3, "status": "won"}]}])
    r = jobber.admin.post("/_mock/reset", json={"scenario": doc})
    assert r.status_code == 422 and r.json()["field"] == "scenario.accounts[0].clients[0].quotes[0].status"
    r = jobber.admin.post("/_mock/reset", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = jobber.admin.post("/_mock/reset", json=["demo"])
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = jobber.admin.post("/_mock/reset", json={"scenario": "demo", "wipe": True})
    assert r.status_code == 422 and r.json()["field"] == "wipe"
    r = jobber.admin.post("/_mock/reset", json={"scenario": "no-such-scenario"})
    assert r.status_code == 404 and r.json()["field"] == "scenario"
    r = jobber.admin.post("/_mock/reset", json={"scenario": "../demo"})
    assert r.status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"latency_ms": "100"}, "latency_ms"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"latency_ms": 1.5}, "latency_ms"),
    ({"error_rate": 2}, "error_rate"),
    ({"error_rate": True}, "error_rate"),
    ({"require_2fa": "yes"}, "require_2fa"),
    ({"captcha": 1}, "captcha"),
    ({"safe_mode": None}, "safe_mode"),
    ({"layout_variant": "legacy"}, "layout_variant"),
    ({"payment_ui": "page"}, "payment_ui"),
    ({"payment_ui": {"Nobody Inc": "page"}}, "payment_ui.Nobody Inc"),
    ({"payment_ui": {"Acme Lawn Care": "popup"}}, "payment_ui.Acme Lawn Care"),
    ({"force_logout": "now"}, "force_logout"),
    ({"end_app_sessions": 1}, "end_app_sessions"),
    ({"captcha": True, "bogus": 1}, "bogus"),
])
def test_faults_refuse_bad_values_and_change_nothing(jobber: MockJobber, body: dict[str, Any], field: str) -> None:
    before = jobber.admin.faults()
    r = _unchanged_after(jobber, lambda: jobber.admin.post("/_mock/faults", json=body))
    assert r.status_code == 422 and r.json()["field"] == field
    assert jobber.admin.faults() == {**before, "latency_ms": 1}


def test_faults_document(jobber: MockJobber) -> None:
    assert jobber.admin.faults() == {"latency_ms": 0, "error_rate": 0.0, "require_2fa": False, "captcha": False,
                                     "safe_mode": False, "layout_variant": None, "payment_ui": {},
                                     "restart_sign_in": False}
    out = jobber.admin.faults(layout_variant="more_actions", payment_ui={"Acme Lawn Care": "page"})
    assert out["layout_variant"] == "more_actions" and out["payment_ui"] == {"Acme Lawn Care": "page"}
    assert jobber.admin.account()["payment_ui"] == "page"
    out = jobber.admin.faults(payment_ui={"Echo Gardens": "dialog"}, layout_variant="redesign")
    assert out["payment_ui"] == {"Acme Lawn Care": "page", "Echo Gardens": "dialog"}  # merged per company
    out = jobber.admin.faults(payment_ui={"Acme Lawn Care": None})
    assert out["payment_ui"] == {"Echo Gardens": "dialog"}
    assert jobber.admin.clear_faults()["payment_ui"] == {}


def test_error_rate_fault_on_graphql_is_a_json_500(jobber: MockJobber) -> None:
    with closing(sign_in(jobber)) as c:
        jobber.admin.faults(error_rate=1)
        r = c.post("/api/graphql", json={"operationName": "CurrentAccount",
                                         "query": "query CurrentAccount { account { name } }"})
        assert r.status_code == 500 and r.json() == {"errors": [{"message": "Internal server error"}]}
        assert c.get("/invoices").status_code == 500
        assert jobber.admin.get("/_mock/state").status_code == 200  # the admin API is exempt


@pytest.mark.parametrize(("body", "field"), [
    ({"advance_seconds": "60"}, "advance_seconds"),
    ({"advance_seconds": True}, "advance_seconds"),
    ({"advance_seconds": 10**12}, "advance_seconds"),
    ({"set": "yesterday"}, "set"),
    ({"set": 1700000000}, "set"),
    ({"set": "9999-12-31T23:59:59Z"}, "set"),
    ({"travel": 5}, "travel"),
])
def test_clock_refuses_bad_values(jobber: MockJobber, body: dict[str, Any], field: str) -> None:
    before = jobber.admin.clock()
    r = jobber.admin.post("/_mock/clock", json=body)
    assert r.status_code == 422 and r.json()["field"] == field
    assert abs(_ts(jobber.admin.clock()) - _ts(before)) < 5


def _ts(iso_text: str) -> float:
    from fixtures.jobber_site.clock import parse_iso

    return parse_iso(iso_text).timestamp()


def test_clock_set_and_advance(jobber: MockJobber) -> None:
    assert jobber.admin.clock(set="2030-01-02T03:04:05Z") .startswith("2030-01-02T03:04:0")
    assert jobber.admin.clock(advance_seconds=86400).startswith("2030-01-03T03:04:")
