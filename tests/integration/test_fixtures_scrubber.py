"""The scrubber: known secrets and personal data fed through a recording are in no written file;
the fakes are stable (the same recording writes the same bytes); a value it cannot remove stops
the write before any file exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from robot.replay.har import Exchange, GatewayExchange, Snapshot
from robot.replay.record import BrowserRecorder, GatewayRecorder, SnapshotRecorder, write_recording
from robot.replay.scrub import Scrubber, ScrubError

PASSWORD = "Tr0ub4dor&3-secret"
SEED = "NB2W45DFOIZA4ZLTMVRXEZLUONSWC4TD"
TOTP_CODE = "739104"
COOKIE = "sess-5b1f0c9e7d2a4e8f9a6b3c1d"
DEVICE_COOKIE = "mfa-remembered-77aa99cc11ee"
APP_STATE = "app-state-8c1e2f3a4b5c6d7e"
TXN_STATE = "txn-state-1a2b3c4d5e6f7081"
AUTH_CODE = "authcode-0f9e8d7c6b5a4938"
CSRF = "csrf-Q2hlY2sgdGhpcyBvdXQ"
API_KEY = "sk_live_51Hq2c3d4e5f6g7h8"
CARD = "4242424242424242"
CLIENT = "Evangeline Castellanos"
CLIENT_EMAIL = "evangeline.c@castellanos-family.net"
LOGIN_EMAIL = "owner@greenthumb-landscaping.com"
PHONE = "(415) 555-0199"
ADDRESS = "1600 Amphitheatre Parkway"
USER = "Rosalind Featherstonehaugh"        # the signed-in user, shown in the app's top bar
GATEWAY_EMAIL = "e.castellanos@example.com"  # an address at example.com is still a person's
ORIGIN = "http://secure.jobber.test:54321"
IDENTITY = "http://login.jobber.test:54321"
SECRETS = [PASSWORD, SEED, TOTP_CODE, COOKIE, DEVICE_COOKIE, APP_STATE, TXN_STATE, AUTH_CODE, CSRF, API_KEY, CARD,
           CLIENT, CLIENT_EMAIL, LOGIN_EMAIL, PHONE, ADDRESS, USER, GATEWAY_EMAIL, "54321", "Castellanos", "evangeline"]


def _ex(seq: int, method: str, url: str, status: int, *, post: str | None = None, ctype: str = "",
        rtype: str = "text/html", body: str = "", req_headers: dict[str, str] | None = None,
        resp_headers: dict[str, str] | None = None) -> Exchange:
    headers = {"content-type": ctype, **(req_headers or {})} if ctype or req_headers else {}
    return Exchange(seq=seq, method=method, url=url, resource_type="document", request_headers=headers,
                    post_data=post, status=status, response_headers={"content-type": rtype, **(resp_headers or {})},
                    body=body.encode())


def _recording() -> tuple[BrowserRecorder, GatewayRecorder, SnapshotRecorder, list[dict[str, object]]]:
    b = BrowserRecorder()
    gql_answer = json.dumps({"data": {"invoices": [{"id": "7", "number": 1042, "client": {
        "id": "3", "name": CLIENT, "email": CLIENT_EMAIL, "phone": PHONE, "address": ADDRESS}}]}})
    b.exchanges = [
        _ex(0, "GET", f"{ORIGIN}/login?next=%2Finvoices", 302,
            resp_headers={"location": f"{IDENTITY}/authorize?redirect_uri={ORIGIN}%2Fauth%2Fcallback&state={APP_STATE}",
                          "set-cookie": f"_jobber_auth={COOKIE}; HttpOnly; Path=/"}),
        _ex(1, "GET", f"{IDENTITY}/u/login?state={TXN_STATE}", 200,
            body=f'<form><input type="hidden" name="state" value="{TXN_STATE}">'
                 f'<input name="username" value="{LOGIN_EMAIL}"><input name="password" value="{PASSWORD}"></form>'),
        _ex(2, "POST", f"{IDENTITY}/u/login?state={TXN_STATE}", 302, ctype="application/x-www-form-urlencoded",
            post=f"state={TXN_STATE}&username={LOGIN_EMAIL.replace('@', '%40')}&password={PASSWORD.replace('&', '%26')}",
            req_headers={"cookie": f"did={DEVICE_COOKIE}"},
            resp_headers={"location": f"/u/mfa-otp-challenge?state={TXN_STATE}"}),
        _ex(3, "POST", f"{IDENTITY}/u/mfa-otp-challenge?state={TXN_STATE}", 302,
            ctype="application/x-www-form-urlencoded", post=f"state={TXN_STATE}&code={TOTP_CODE}&action=default",
            resp_headers={"location": f"{ORIGIN}/auth/callback?code={AUTH_CODE}&state={APP_STATE}",
                          "set-cookie": f"auth0-mf={DEVICE_COOKIE}; HttpOnly"}),
        _ex(4, "GET", f"{ORIGIN}/invoices", 200,
            body=f'<html><head><meta name="csrf-token" content="{CSRF}"></head><body>'
                 f'<div id="root" data-company="Green Thumb" data-name="{USER}"></div>{LOGIN_EMAIL}</body></html>',
            req_headers={"cookie": f"_jobber_session={COOKIE}"}),
        _ex(5, "POST", f"{ORIGIN}/api/graphql", 200, ctype="application/json", rtype="application/json",
            post=json.dumps({"operationName": "InvoicesList", "query": "query InvoicesList { x }",
                             "variables": {"searchTerm": CLIENT}}),
            req_headers={"x-csrf-token": CSRF, "authorization": f"Bearer {API_KEY}"}, body=gql_answer),
        _ex(6, "POST", f"{ORIGIN}/api/graphql", 200, ctype="application/json", rtype="application/json",
            post=json.dumps({"operationName": "PaymentCreate", "query": "mutation PaymentCreate { x }",
                             "variables": {"input": {"details": f"txn_1234567890abcdef card {CARD} for {CLIENT}"}}}),
            body=json.dumps({"data": {"paymentCreate": {"payments": [{"id": "9"}], "userErrors": []}}})),
    ]
    g = GatewayRecorder()
    g.exchanges = [GatewayExchange(method="POST", path="/v1/charges", idempotency_key="job-1:gateway",
                                   request={"customer": "cus_x", "amount": "150.00", "card_number": CARD, "cvc": "123",
                                            "billing_details": {"name": CLIENT, "email": CLIENT_EMAIL}},
                                   status=200, response={"id": "txn_1234567890abcdef", "created": "2026-12-02T06:20:11Z",
                                                         "customer": {"name": CLIENT, "phone": PHONE,
                                                                      "email": GATEWAY_EMAIL},
                                                         "exp_month": 4, "exp_year": 2031})]
    s = SnapshotRecorder()
    s.snapshots = [
        Snapshot(page="mfa", url=f"{IDENTITY}/u/mfa-otp-challenge?state={TXN_STATE}",
                 html=f'<input name="code" value="{TOTP_CODE}">',
                 aria=f'- heading "Verify Your Identity" [level=1]\n- textbox "Enter your one-time code": "{TOTP_CODE}"\n'
                      f'- textbox "Password": {PASSWORD}',
                 required=["code"]),
        Snapshot(page="invoice", url=f"{ORIGIN}/invoices/7",
                 html=f"<h1>Lawn care</h1><a>{CLIENT}</a> {PHONE}<span class='topbar-user'>{USER}</span>",
                 aria=f'- heading "Lawn care" [level=1]\n- link "{CLIENT}"\n- text: {CLIENT_EMAIL}', required=["client"]),
    ]
    jobs = [{"job_id": "job-1", "job": {"client": CLIENT, "amount": "150.00"},
             "result": {"outcome": "succeeded", "message": f"recorded for {CLIENT} ({CLIENT_EMAIL})"}}]
    return b, g, s, jobs


def _write(directory: Path) -> list[Path]:
    b, g, s, jobs = _recording()
    scrub = Scrubber(secrets={"password": PASSWORD, "authenticator seed": SEED, "gateway API key": API_KEY},
                     origins={ORIGIN: "http://secure.jobber.test", IDENTITY: "http://login.jobber.test"})
    return write_recording(directory, meta={"scenario": "t", "login": {"email": LOGIN_EMAIL}}, jobs=jobs,
                           scrub=scrub, browser=b, gateway=g, snaps=s)


def _all_text(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text(encoding="utf-8") for p in directory.rglob("*") if p.is_file()}


def test_no_known_secret_or_personal_data_in_any_written_file(tmp_path: Path) -> None:
    written = _write(tmp_path / "rec")
    files = _all_text(tmp_path / "rec")
    assert {"recording.har", "gateway.json", "scenario.json", "snapshots.json"} <= set(files)
    assert len(written) == len(files)
    for name, text in files.items():
        low = text.lower()
        for secret in SECRETS:
            assert secret.lower() not in low, f"{secret!r} left in {name}"
            assert secret.replace("@", "%40").lower() not in low, f"{secret!r} (URL-encoded) left in {name}"
    har = files["recording.har"]
    # replaced by stable fakes the replay can still match on, not dropped
    assert "state=state-0001" in har and "state-0002" in har and "csrf-0001" in har
    assert "password=%5Bpassword%5D" in har and "code=%5Bcode%5D" in har
    assert "Client Alpha" in har and "person" in har and "@example.com" in har
    posts = [e["request"].get("postData", {}).get("text", "") for e in json.loads(har)["log"]["entries"]]
    assert any(re.search(r'"searchTerm":"Client [A-Z][a-z]+"', p) for p in posts)  # GraphQL variables carrying a name
    entries = json.loads(har)["log"]["entries"]
    names = {h["name"].lower() for e in entries for part in ("request", "response") for h in e[part]["headers"]}
    assert names <= {"content-type", "location"}  # no cookie, set-cookie, authorization, x-csrf-token
    assert all(e[part]["cookies"] == [] for e in entries for part in ("request", "response"))
    assert "http://secure.jobber.test/invoices" in har
    gateway = json.loads(files["gateway.json"])["exchanges"][0]
    assert gateway["request"]["card_number"] == "[card]" and gateway["request"]["cvc"] == "[card]"
    assert gateway["response"]["exp_year"] == 2030 and gateway["response"]["id"] == "txn_0000000000000001"
    assert '"[code]"' in files["snapshots/01-mfa.aria.yml"]


def test_the_same_recording_writes_the_same_bytes(tmp_path: Path) -> None:
    _write(tmp_path / "a")
    _write(tmp_path / "b")
    assert _all_text(tmp_path / "a") == _all_text(tmp_path / "b")


def test_a_value_it_cannot_remove_stops_the_write_before_any_file(tmp_path: Path) -> None:
    b, g, s, jobs = _recording()
    # a static asset is stored as it is (code, not data): a password inside it must stop the write
    b.exchanges.append(Exchange(seq=9, method="GET", url=f"{ORIGIN}/static/dist/app.js", resource_type="script",
                                request_headers={}, post_data=None, status=200,
                                response_headers={"content-type": "application/javascript"},
                                body=f'const p = "{PASSWORD}";'.encode()))
    scrub = Scrubber(secrets={"password": PASSWORD}, origins={ORIGIN: "http://secure.jobber.test"})
    with pytest.raises(ScrubError) as exc:
        write_recording(tmp_path / "rec", meta={}, jobs=jobs, scrub=scrub, browser=b, gateway=g, snaps=s)
    assert PASSWORD not in str(exc.value) and "password" in str(exc.value)
    assert not (tmp_path / "rec").exists()


@pytest.mark.slow
async def test_a_recording_of_the_mock_carries_none_of_its_secrets_and_re_records_byte_for_byte(tmp_path: Path) -> None:
    """A real recording (browser, mock site, sandbox): the demo login's password, seed and e-mail, the
    clients' names, e-mails and phones, the gateway key are nowhere; and it equals the committed one."""
    from fixtures.gateway_sandbox.scenarios import load as load_gateway
    from fixtures.scenarios import load
    from robot.replay.har import FIXTURES_DIR
    from robot.replay.runner import record_on_mock
    from robot.replay.scenarios import SCENARIOS

    await record_on_mock(SCENARIOS["account-chooser"], tmp_path)
    files = _all_text(tmp_path / "account-chooser")
    demo = [a for a in load("demo")["accounts"] if a["email"] == "franchise@delta.test"]
    known = {demo[0]["password"], demo[0]["two_factor"]["secret"], "franchise@delta.test",
             *(a["api_key"] for a in load_gateway("demo")["merchants"])}
    for account in demo:
        known.add(account["name"])  # the signed-in user
        for client in account["clients"]:
            known |= {client["name"], client["email"], client["phone"]}
    for merchant in load_gateway("demo")["merchants"]:
        known |= {c["email"] for c in merchant["customers"]}
    for name, text in files.items():
        for secret in known:
            assert secret not in text, f"a known secret or personal value left in {name}"
    committed = _all_text(FIXTURES_DIR / "account-chooser")
    assert files == committed, "re-recording changed the files (or the committed recording is out of date)"
