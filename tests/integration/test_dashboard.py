"""The support dashboard in a real browser, against `serve`'s real app (intake + /support) on a real
port, a real SQLite job store, the mock Jobber site, the sandbox gateway and — for the tests that
need jobs to run — a real `jobber-robot worker` process.

One module, one server set-up: `dash` (the serve app in a thread, staff user, merchants) and, for
the tests that run jobs, `dash_worker` (one worker process for the module). The long flows (a
2FA code handed over, an invoice picked, a new password and a retry, the doctor) are in the slow run.

Every page the tests visit is saved under test-results/dashboard/ at 1280x800.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from robot.vault import GatewayCredentials, MerchantCredentials
from tests.integration.robot_world import ACME, BRAVO, DELTA, ECHO
from tests.reliability.queue_env import RobotEnv, make_env, reset_world

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "dashboard"
STAFF, STAFF_PASSWORD = "dana", "staff-horse-battery-9"
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
WRONG_PASSWORD = "not-the-echo-password-1"


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@dataclass
class Dash:
    url: str
    env: RobotEnv
    site: Any
    sandbox: Any

    @property
    def support(self) -> str:
        return f"{self.url}/support"

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def sign_in(self, page: Page) -> None:
        page.goto(f"{self.support}/login")
        page.get_by_label("Name").fill(STAFF)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("navigation", name="Sections")).to_be_visible()

    def wait_job(self, job_id: str, until: Any = None, timeout: float = 180, worker: Any = None) -> Any:
        return self.env.wait_job(job_id, until, timeout=timeout, watch=[worker] if worker else None)


def _merchants() -> list[MerchantCredentials]:
    def gw(m: str, key: str | None = None) -> GatewayCredentials:
        return GatewayCredentials(merchant_id=m, api_key=SecretStr(key or f"sk_test_{m}"))

    return [
        MerchantCredentials(**{**ACME, "gateway": gw("acme")}),
        MerchantCredentials(**{**BRAVO, "gateway": gw("bravo")}),
        # the franchise login's North account: invoice numbers repeat there (3001 twice)
        MerchantCredentials(**{**DELTA, "business_name": "Delta Lawn North", "gateway": gw("acme", "sk_test_acme")}),
        # a password Jobber refuses: the job fails at sign-in and keeps its evidence
        MerchantCredentials(**{**ECHO, "jobber_password": SecretStr(WRONG_PASSWORD), "gateway": gw("acme")}),
    ]


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory, mock_jobber: Any, world_sandbox: Any) -> Iterator[Dash]:
    from robot.dashboard.mount import with_support
    from robot.dashboard.staff import StaffStore
    from robot.api.serve import create_app

    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path_factory.mktemp("dashboard"), mock_jobber, world_sandbox, merchants=_merchants(),
                   handoff_timeout_seconds=300, trace=True)
    StaffStore.from_settings(env.settings).add(STAFF, STAFF_PASSWORD)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = with_support(create_app(env.settings), env.settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="serve")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "serve did not start"
        thread.join(0.02)
    try:
        yield Dash(url=f"http://127.0.0.1:{port}", env=env, site=mock_jobber, sandbox=world_sandbox)
    finally:
        server.should_exit = True
        thread.join(15)
        env.stop_all()


@pytest.fixture(scope="module")
def dash_worker(dash: Dash) -> Any:
    """One `jobber-robot worker` process for the module's jobs."""
    return dash.env.worker("dash-w1")


@pytest.fixture(scope="module")
def failed_job(dash: Dash, dash_worker: Any) -> str:
    """A charge for echo, whose stored password Jobber refuses: finished access_failed, with evidence."""
    job_id = dash.env.enqueue({"kind": "charge", "merchant": "echo", "invoice": 5042,
                               "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    done = dash.wait_job(job_id, worker=dash_worker)
    assert done.outcome == "access_failed", done.message
    assert any(a.endswith("screenshot.png") for a in done.artifacts), done.artifacts
    return job_id


# --- default run ------------------------------------------------------------------------------


def test_no_session_no_csrf_no_entry(dash: Dash, page: Page) -> None:
    """Without a session every page sends to the sign-in, every other request is 401; a form
    without its CSRF token is refused (403) and changes nothing; sign-in failures are limited."""
    with dash.http() as c:
        r = c.get("/support/jobs", headers={"accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"].startswith("/support/login?next=%2Fsupport%2Fjobs")
        for path in ("/support/jobs", "/support/queue", "/support/merchants/acme", "/support/jobs/x/state",
                     "/support/jobs/x/artifacts/screenshot.png"):
            assert c.get(path).status_code == 401, path
        for path in ("/support/jobs/x/code", "/support/jobs/x/retry", "/support/merchants/acme/password"):
            assert c.post(path, data={"code": "123456", "password": "x" * 12}).status_code == 401, path
        # the sign-in form itself needs its token
        assert c.post("/support/login", data={"name": STAFF, "password": STAFF_PASSWORD}).status_code == 403
        # the intake beside it still wants its API key, and the dashboard's cookie is no key
        assert c.get("/jobs").status_code == 401

    page.goto(f"{dash.support}/jobs")
    expect(page).to_have_url(re.compile(r"/support/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "login")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "jr_support"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/support"
    anonymous = cookie["value"]

    page.get_by_label("Name").fill(STAFF)
    page.get_by_label("Password").fill("wrong password, surely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")

    page.get_by_label("Name").fill(STAFF)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{dash.support}/jobs")  # back where the visit began
    [cookie] = [c for c in page.context.cookies() if c["name"] == "jr_support"]
    assert cookie["value"] != anonymous, "signing in starts a new session"

    # every form that changes something carries the session's token; one sent without it is refused
    page.goto(f"{dash.support}/merchants/acme")
    shot(page, "merchant")
    for form in page.locator("form[method=post]").all():
        assert form.locator("input[type=hidden][name=csrf]").count() == 1
    before = dash.env.vault.get("acme").jobber_password.get_secret_value()
    page.locator("form[action$='/password'] input[name=csrf]").evaluate("el => el.remove()")
    page.get_by_label("New Jobber password").fill("a-new-password-123")
    page.get_by_role("button", name="Replace password").click()
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    assert dash.env.vault.get("acme").jobber_password.get_secret_value() == before
    # with its token, bad input is named (field and rule, the value not repeated) and changes nothing
    page.goto(f"{dash.support}/merchants/acme")
    seed_before = dash.env.vault.get("acme").totp_seed.get_secret_value()  # type: ignore[union-attr]
    page.get_by_label("New TOTP seed (base32)").fill("not base32 at all!")
    page.get_by_role("button", name="Replace TOTP seed").click()
    expect(page.get_by_role("alert")).to_have_text(
        "totp_seed: must be the base32 secret shown when the authenticator was set up")
    assert "not base32 at all!" not in page.content()
    assert dash.env.vault.get("acme").totp_seed.get_secret_value() == seed_before  # type: ignore[union-attr]

    # another site's page cannot post with this session: the cookie is SameSite=Strict, and a
    # forged token is refused even when the cookie is sent
    with dash.http() as c:
        c.cookies.set("jr_support", cookie["value"], domain="127.0.0.1", path="/support")
        assert c.get("/support/jobs").status_code == 200
        r = c.post("/support/merchants/acme/password", data={"csrf": "forged", "password": "x" * 14})
        assert r.status_code == 403
    assert dash.env.vault.get("acme").jobber_password.get_secret_value() == before

    # sign-in failures for one name are limited (the password is then not even checked)
    with dash.http() as c:
        login = c.get("/support/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        codes = [c.post("/support/login", data={"csrf": token, "name": "mallory", "password": f"guess-{i}"}).status_code
                 for i in range(6)]
        assert codes == [401] * 5 + [429]

    page.goto(f"{dash.support}/queue")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    with dash.http() as c:
        c.cookies.set("jr_support", cookie["value"], domain="127.0.0.1", path="/support")
        assert c.get("/support/jobs").status_code == 401, "a signed-out session is gone"


def test_a_failed_sign_in_does_not_log_what_was_typed(dash: Dash, caplog: pytest.LogCaptureFixture) -> None:
    """People type their password into the name field: a failed sign-in logs the name only when it
    is a staff user's, never an unknown one (nor a password)."""
    typed = "hunter2-typed-in-the-name-field"
    with caplog.at_level(logging.INFO), dash.http() as c:
        login = c.get("/support/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        assert c.post("/support/login", data={"csrf": token, "name": typed, "password": "x"}).status_code == 401
        assert c.post("/support/login", data={"csrf": token, "name": STAFF, "password": typed}).status_code == 401
    failures = [r for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 2, caplog.text
    assert typed not in caplog.text
    assert STAFF in caplog.text  # a known name is still logged, for the audit trail


def test_failed_job_evidence_and_artifact_route(dash: Dash, failed_job: str, dash_worker: Any, page: Page) -> None:
    """A failed job's page shows its steps and the screenshot inline; trace and HTML download for
    a signed-in user only; the artifact route serves nothing but the job's own evidence."""
    # a job whose client name is markup: shown as text, never run
    hostile_id = dash.env.enqueue({"kind": "charge", "merchant": "acme", "client": HOSTILE,
                                   "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    # another job's evidence folder, and a file beside the artifacts, that the route must not serve
    other = dash.env.settings.artifacts_dir / "job-other"
    other.mkdir(parents=True, exist_ok=True)
    (other / "screenshot.png").write_bytes(b"\x89PNG other job")
    (dash.env.settings.artifacts_dir / "screenshot.png").write_bytes(b"\x89PNG not a job's")

    dash.sign_in(page)
    page.goto(f"{dash.support}/jobs?outcome=access_failed")
    expect(page.get_by_role("link", name=failed_job)).to_be_visible()
    shot(page, "jobs")
    page.get_by_role("link", name=failed_job).click()
    expect(page.get_by_test_id("job-status")).to_have_text("finished · access failed")
    expect(page.get_by_test_id("job-message")).to_contain_text("password")
    expect(page.locator("table.steps tbody tr").first).to_be_visible()
    img = page.get_by_test_id("failure-screenshot")
    expect(img).to_be_visible()
    assert img.evaluate("el => el.complete && el.naturalWidth > 100")
    shot(page, "job-failed")
    page_text = page.content()
    assert WRONG_PASSWORD not in page_text

    base = f"{dash.support}/jobs/{failed_job}/artifacts"
    r = page.request.get(f"{base}/trace.zip")
    assert r.status == 200 and r.body()[:2] == b"PK" and "attachment" in r.headers["content-disposition"]
    r = page.request.get(f"{base}/page.html")
    assert r.status == 200 and "attachment" in r.headers["content-disposition"]
    assert r.headers["content-type"] == "application/octet-stream", "Jobber's HTML never renders in our origin"
    assert WRONG_PASSWORD.encode() not in r.body()
    assert page.request.get(f"{base}/screenshot.png").headers["content-type"] == "image/png"

    # nothing else through the route: other names, other folders, encoded tricks, other jobs
    for path in (f"{base}/vault.json", f"{base}/..%2F..%2Fvault.json", f"{base}/%2e%2e%2Fjob-other%2Fscreenshot.png",
                 f"{dash.support}/jobs/{failed_job}/artifacts/../../../vault.json",
                 f"{dash.support}/jobs/job-other/artifacts/screenshot.png",
                 f"{dash.support}/jobs/{hostile_id}/artifacts/screenshot.png",
                 f"{dash.support}/jobs/..%2Fjob-other/artifacts/screenshot.png",
                 f"{dash.support}/jobs/%2e%2e/artifacts/screenshot.png"):
        r = page.request.get(path, max_redirects=0)
        assert r.status in (404, 405), (path, r.status)
        body = r.body()
        assert b"PNG" not in body and b"gAAAA" not in body, path  # neither a screenshot nor the vault (Fernet)
    with dash.http() as c:  # and nothing at all without a session
        assert c.get(f"/support/jobs/{failed_job}/artifacts/screenshot.png").status_code == 401

    # the hostile client name: finished (no such client), shown as text, nothing ran
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    done = dash.wait_job(hostile_id, worker=dash_worker)
    assert done.status == "finished", done.message
    page.goto(f"{dash.support}/jobs/{hostile_id}")
    expect(page.get_by_test_id("job-client")).to_have_text(HOSTILE)
    page.goto(f"{dash.support}/jobs?merchant=acme")
    assert page.evaluate("() => window.__pwned") is None and not dialogs
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0


# --- slow run: the long flows -------------------------------------------------------------------


@pytest.mark.slow
def test_new_password_clears_the_refusal_and_retry_succeeds(dash: Dash, failed_job: str, dash_worker: Any,
                                                            page: Page) -> None:
    """Jobber refused echo's password: the merchant page says so; a person types the right one
    (write-only field), the refusal is forgotten, and a retry of the failed job signs in and pays."""
    from tests.plugin_mock_jobber import PAGE_EMAIL, PAGE_PASSWORD

    creds = dash.env.vault.get("echo")
    assert dash.env.vault.password_refused_at(creds) is not None
    dash.sign_in(page)
    page.goto(f"{dash.support}/merchants")
    expect(page.get_by_test_id("merchant-echo")).to_contain_text("password")
    shot(page, "merchants")
    page.get_by_role("link", name="echo", exact=True).click()
    expect(page.get_by_text("Jobber refused the stored password")).to_be_visible()
    field = page.get_by_label("New Jobber password")
    assert field.get_attribute("type") == "password" and field.input_value() == ""
    field.fill(PAGE_PASSWORD)
    page.get_by_role("button", name="Replace password").click()
    expect(page.get_by_role("status")).to_contain_text("Stored the Jobber password replaced")
    expect(page.get_by_text("Jobber refused the stored password")).to_have_count(0)
    assert PAGE_PASSWORD not in page.content()
    creds = dash.env.vault.get("echo")
    assert creds.jobber_password.get_secret_value() == PAGE_PASSWORD
    assert dash.env.vault.password_refused_at(creds) is None

    page.goto(f"{dash.support}/jobs/{failed_job}")
    page.get_by_role("button", name="Retry").click()
    expect(page).to_have_url(f"{dash.support}/jobs/{failed_job}-r1")
    expect(page.get_by_test_id("job-status")).to_have_text("finished · succeeded", timeout=180_000)
    assert dash.site.admin.invoice(5042, PAGE_EMAIL)["balance"] == "0.00"
    expect(page.get_by_text(f"Retry of {failed_job}")).to_be_visible()
    page.goto(f"{dash.support}/jobs/{failed_job}")
    expect(page.get_by_text(f"Retried as {failed_job}-r1")).to_be_visible()


@pytest.mark.slow
def _deadline(dash: Dash, job_id: str) -> str:
    """The waiting job's deadline as the pages write it (UTC, to the second)."""
    when = datetime.fromisoformat(dash.env.job(job_id).waiting_for["deadline"])
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_a_2fa_code_lets_the_waiting_job_finish(dash: Dash, dash_worker: Any, page: Page) -> None:
    """bravo's Jobber sends codes by SMS: the job waits; the person types the code on the queue
    page (a mistyped one is refused naming the field) and watches the job finish. A second job
    of the same merchant, queued behind it, is cancelled from its page while it waits its turn."""
    from tests.plugin_mock_jobber import SMS_EMAIL

    job_id = dash.env.enqueue({"kind": "charge", "merchant": "bravo", "invoice": 2001,
                               "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
    behind = dash.env.enqueue({"kind": "charge", "merchant": "bravo", "invoice": 2001,
                               "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
    dash.wait_job(job_id, lambda v: v.status == "waiting_for_2fa", worker=dash_worker)
    dash.sign_in(page)
    # the job behind it cannot start while the first waits (one job per merchant at a time): it is
    # cancelled while queued, so its cancel never races its run
    page.goto(f"{dash.support}/jobs/{behind}")
    expect(page.get_by_test_id("job-status")).to_contain_text("queued")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("job-status")).to_contain_text("cancelled", timeout=60_000)
    page.goto(f"{dash.support}/queue")
    card = page.get_by_test_id(f"waiting-{job_id}")
    expect(card).to_contain_text("verification code")
    expect(card).to_contain_text(f"before {_deadline(dash, job_id)}")
    shot(page, "queue-2fa")

    card.get_by_label("Verification code").fill("12ab")
    card.get_by_role("button", name="Hand the code over").click()
    expect(page.get_by_role("alert")).to_have_text("code: a verification code is 4 to 10 digits")
    assert dash.env.job(job_id).status == "waiting_for_2fa"

    sms = [m for m in dash.site.admin.outbox() if m["channel"] == "sms"]
    page.get_by_label("Verification code").fill(sms[-1]["code"])
    page.get_by_role("button", name="Hand the code over").click()
    expect(page.get_by_role("status").first).to_contain_text("Code handed over")
    expect(page.get_by_test_id("job-status")).to_have_text("finished · succeeded", timeout=180_000)
    shot(page, "job-finished")
    assert dash.site.admin.invoice(2001, SMS_EMAIL)["balance"] == "0.00"
    assert sms[-1]["code"] not in dash.env.stored_values()

    assert dash.env.job(behind).status == "cancelled"  # it never ran


@pytest.mark.slow
def test_pick_the_invoice_among_duplicate_numbers(dash: Dash, dash_worker: Any, page: Page) -> None:
    """Delta Lawn North has two invoices numbered #3001 (Hannah Brooks, Omar Haddad): the job waits;
    the queue page lists both with their clients; picking Omar's charges and records that one."""
    from tests.plugin_mock_jobber import FRANCHISE_EMAIL

    def inv(client: str) -> dict[str, Any]:
        return next(i for i in dash.site.admin.account(FRANCHISE_EMAIL, "Delta Lawn North")["invoices"]
                    if i["number"] == 3001 and i["client"] == client)

    hannah_before = inv("Hannah Brooks")["balance"]
    txns_before = len(dash.sandbox.admin.transactions("acme"))
    job_id = dash.env.enqueue({"kind": "charge", "merchant": "delta", "invoice": 3001,
                               "tender": {"type": "card_on_file", "customer_id": "cus_okafor"}})
    dash.wait_job(job_id, lambda v: v.status == "waiting_for_confirmation", worker=dash_worker)
    dash.sign_in(page)
    page.goto(f"{dash.support}/queue")
    card = page.get_by_test_id(f"waiting-{job_id}")
    expect(card.locator("tbody tr")).to_have_count(2)
    expect(card).to_contain_text("Omar Haddad")
    expect(card).to_contain_text("Hannah Brooks")
    expect(card).to_contain_text(f"before {_deadline(dash, job_id)}")  # the choice has a deadline too
    shot(page, "queue-pick-invoice")
    assert len(dash.sandbox.admin.transactions("acme")) == txns_before, "no money before a person picks"

    card.locator("tbody tr", has_text="Omar Haddad").get_by_role("radio").check()
    card.get_by_role("button", name="Use this invoice").click()
    expect(page.get_by_test_id("job-status")).to_have_text("finished · succeeded", timeout=180_000)
    assert inv("Omar Haddad")["balance"] == "0.00"
    assert inv("Hannah Brooks")["balance"] == hannah_before
    assert len(dash.sandbox.admin.transactions("acme")) == txns_before + 1


@pytest.mark.slow
def test_run_the_doctor_from_the_merchant_page(dash: Dash, page: Page) -> None:
    """"Run doctor" streams the checklist into the page as the steps run; the merchant's health
    then shows the doctor's result. Nothing is charged or recorded."""
    txns_before = len(dash.sandbox.admin.transactions("acme"))
    payments_before = dash.site.admin.invoice(1042)["payments"]
    dash.sign_in(page)
    page.goto(f"{dash.support}/merchants/acme")
    streamed: list[str] = []
    page.on("response", lambda r: streamed.append(r.url) if r.url.endswith("/events") else None)
    page.get_by_role("button", name="Run doctor").click()
    expect(page).to_have_url(re.compile(r"/support/doctor/[A-Za-z0-9_-]+$"))
    steps = page.get_by_test_id("doctor-step")
    # live: a step shows as running (a spinner) while the later ones have not come yet
    expect(page.locator("ol.checklist li.running")).to_have_count(1, timeout=60_000)
    expect(page.get_by_test_id("doctor-status")).to_have_text("Every check passed.", timeout=240_000)
    assert streamed, "the checklist came over the event stream"
    from robot.doctor import STEPS

    expect(steps).to_have_count(len(STEPS))
    for title in STEPS.values():
        expect(page.locator("li.pass", has_text=title)).to_have_count(1)
    shot(page, "doctor")
    assert len(dash.sandbox.admin.transactions("acme")) == txns_before
    assert dash.site.admin.invoice(1042)["payments"] == payments_before

    page.goto(f"{dash.support}/merchants/acme")
    expect(page.get_by_test_id("health")).to_contain_text("doctor")
    # the finished run's page, reloaded, shows the whole checklist without the stream
    page.go_back()
    expect(page.get_by_test_id("doctor-step")).to_have_count(len(STEPS))


@pytest.mark.slow
def test_the_doctor_asks_the_page_for_an_sms_code(dash: Dash, page: Page) -> None:
    """bravo's Jobber sends codes by SMS and no device is remembered: the doctor asks on its page,
    the person types the code there, and the checklist goes on to the end."""
    dash.env.vault.clear_storage_state("bravo")
    sent_before = len([m for m in dash.site.admin.outbox() if m["channel"] == "sms"])
    dash.sign_in(page)
    page.goto(f"{dash.support}/merchants/bravo")
    page.get_by_role("button", name="Run doctor").click()
    ask = page.locator("#doctor-ask")
    expect(ask).to_be_visible(timeout=120_000)
    expect(ask).to_contain_text("verification code")
    shot(page, "doctor-asks-code")
    sms = [m for m in dash.site.admin.outbox() if m["channel"] == "sms"]
    assert len(sms) == sent_before + 1
    ask.get_by_label("Verification code").fill(sms[-1]["code"])
    ask.get_by_role("button", name="Hand the code to the doctor").click()
    expect(page.get_by_test_id("doctor-status")).to_have_text("Every check passed.", timeout=240_000)
    expect(page.locator("li.pass", has_text="Two-step verification")).to_have_count(1)
    expect(ask).to_be_hidden()
    assert sms[-1]["code"] not in page.content()


@pytest.mark.slow
def test_jobber_robot_serve_answers_the_dashboard_beside_the_api(dash: Dash) -> None:
    """The real entry point (`jobber-robot serve`): the dashboard under /support, the API beside it
    behind its key, and `staff add` from a second process taking effect without a restart."""
    import subprocess

    from tests.reliability.queue_env import API_KEY, CLI, free_port

    port = free_port()
    proc = dash.env.start("serve", "--port", str(port), log="serve")
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, dash.env.log("serve")
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.25)
        with httpx.Client(base_url=url, timeout=30) as c:
            login = c.get("/support/login")
            assert login.status_code == 200 and "Sign in" in login.text
            assert c.get("/jobs").status_code == 401 and c.get("/jobs", headers={"X-API-Key": API_KEY}).status_code == 200
            token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            r = c.post("/support/login", data={"csrf": token, "name": STAFF, "password": STAFF_PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == "/support/"
            assert c.get("/support/merchants").status_code == 200

        # a staff user added by another process signs in at once; removed, their session ends
        def staff(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
            return subprocess.run([CLI, "staff", *args], input=input, env=dash.env.env, cwd=dash.env.tmp,
                                  capture_output=True, text=True, timeout=120)

        assert staff("add", "sam", "--stdin", input="sams-long-password-1\n").returncode == 0
        with httpx.Client(base_url=url, timeout=30) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/support/login").text).group(1)  # type: ignore[union-attr]
            r = c.post("/support/login", data={"csrf": token, "name": "sam", "password": "sams-long-password-1"})
            assert r.status_code == 303
            assert c.get("/support/queue").status_code == 200
            listed = staff("list")
            assert "sam" in listed.stdout and "sams-long-password-1" not in listed.stdout
            assert staff("remove", "sam").returncode == 0
            assert c.get("/support/queue").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=40)
    # it said where it listens, then one line per request: no key, cookie, form field or query
    said = dash.env.log("serve")
    assert f"Listening on {url}" in said and f"Support dashboard:    {url}/support/" in said, said
    assert re.search(r"^\d\d:\d\d:\d\d POST /support/login 303 \d+ ms$", said, re.M), said
    assert re.search(r"^\d\d:\d\d:\d\d GET /jobs 401 \d+ ms$", said, re.M), said
    for secret in (API_KEY, STAFF_PASSWORD, "sams-long-password-1", token, *c.cookies.values()):
        assert secret not in said
