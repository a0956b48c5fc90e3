"""The access doctor against the mock Jobber (one server for the run) and the sandbox gateway, in a
real Chromium: each failure class with its cause, fix and exit class, and the mock's counts of
password and code submissions proving nothing refused was tried twice.

The two default-run tests stop early (a refused password, a text-message code); the runs that walk
every page (the selector walk takes ~10 s) and the other failure classes are in the slow run.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from fixtures.gateway_sandbox.server import GatewaySandbox
from fixtures.jobber_site.server import MockJobber
from robot import health
from robot.doctor import DoctorReport, DoctorStep, ExitClass, StepStatus, run_doctor, write_bundle
from robot.vault import GatewayCredentials
from tests.integration.robot_world import World, make_world
from tests.plugin_mock_jobber import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, follow, form_state

OTHER_SEED = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"  # valid base32, not the account's


@pytest.fixture
def doc(tmp_path: Path, jobber: MockJobber, gateway_sandbox: GatewaySandbox) -> World:
    w = make_world(tmp_path, jobber, gateway_url=gateway_sandbox.url)
    w.add(gateway=GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme")))
    return w


async def _run(w: World, merchant: str = "acme", code_prompt: Any = None,
               seen: list[DoctorStep] | None = None) -> DoctorReport:
    return await run_doctor(w.settings, merchant, code_prompt=code_prompt, vault=w.vault,
                            on_step=seen.append if seen is not None else None)


def _counts(w: World) -> tuple[int, int]:
    st = w.state()
    return st["password_posts"], st["code_posts"]


def _payments(w: World) -> list[tuple[int, str, int]]:
    return [(i["id"], i["balance"], len(i["payments"])) for a in w.state()["accounts"] for i in a["invoices"]]


def _failed(report: DoctorReport) -> DoctorStep:
    failed = report.first_failure
    assert failed is not None, [(s.name, s.status.value) for s in report.steps]
    return failed


def _every_step_once(report: DoctorReport) -> None:
    from robot.doctor import STEPS

    assert [s.name for s in report.steps] == list(STEPS)
    assert all(s.status is not StepStatus.running for s in report.steps)


class OutboxCodes:
    """A person at the terminal reading the SMS; `wrong` mistyped codes first."""

    def __init__(self, site: MockJobber, wrong: int = 0) -> None:
        self.site = site
        self.wrong = wrong
        self.hints: list[str] = []

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        self.hints.append(hint)
        if self.wrong > 0:
            self.wrong -= 1
            return "000000"
        assert self.site.admin is not None
        sms = [m for m in await asyncio.to_thread(self.site.admin.outbox) if m["channel"] == "sms"]
        return sms[-1]["code"] if sms else None


# --- the default run ------------------------------------------------------------------------------

@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_wrong_password_is_the_merchants_move_tried_once_and_the_bundle_holds_no_secret(
        doc: World, tmp_path: Path) -> None:
    doc.add(jobber_password="wrong-password-1",
            gateway=GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme")))
    seen: list[DoctorStep] = []
    report = await _run(doc, seen=seen)
    failed = _failed(report)
    assert failed.name == "password" and failed.exit_class is ExitClass.merchant_must_act
    assert "refused the e-mail or password" in failed.cause and "Wrong email or password" in failed.cause
    assert "merchants update acme --password" in failed.fix
    assert report.exit_code == 3 and report.password_attempts == 1
    _every_step_once(report)
    assert report.step("gateway").status is StepStatus.passed  # checked whatever Jobber said
    # the checklist went out live: each step once as it started, once as it ended
    assert [(s.name, s.status) for s in seen[:2]] == [("vault", StepStatus.running), ("vault", StepStatus.passed)]
    assert len(seen) == 2 * len(report.steps)
    assert _counts(doc) == (1, 0)

    # a second run (as a support person would try again) submits nothing
    again = await _run(doc)
    assert _failed(again).name == "password" and "not tried" in _failed(again).cause
    assert again.exit_class is ExitClass.merchant_must_act and again.password_attempts == 0
    assert _counts(doc) == (1, 0)
    latest = health.latest(doc.settings, "acme")
    assert latest is not None and not latest.ok and latest.result == "merchant_must_act"
    assert "--password" in latest.next_action

    # the bundle: checklist, evidence of the failing step, versions, settings; no secret inside
    assert report.artifacts, "the failing step's evidence"
    path = write_bundle(report, doc.settings, tmp_path / "bundle.zip")
    assert path.stat().st_mode & 0o777 == 0o600
    texts = _unzip_all(path.read_bytes())
    names = set(texts)
    assert {"checklist.txt", "report.json", "versions.json", "settings.json"} <= names
    assert any(n.startswith("evidence/") and n.endswith(".png") for n in names)
    assert any(n.startswith("evidence/") and n.endswith(".html") for n in names)
    assert "FAIL" in texts["checklist.txt"] and "merchants update acme --password" in texts["checklist.txt"]
    key = doc.settings.credential_key.get_secret_value()  # type: ignore[union-attr]
    cookies = [c["value"] for c in (doc.vault.load_storage_state("acme") or {}).get("cookies", [])]
    for secret in ["wrong-password-1", DEMO_PASSWORD, DEMO_TOTP_SECRET, "sk_test_acme", key, *cookies]:
        for name, text in texts.items():
            assert secret not in text, f"a test secret in {name}"


def _unzip_all(data: bytes, prefix: str = "") -> dict[str, str]:
    """Every member as text, nested zips (the trace) opened too."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            raw = z.read(info)
            if info.filename.endswith(".zip"):
                out.update(_unzip_all(raw, prefix + info.filename + "/"))
            out[prefix + info.filename] = raw.decode("utf-8", "replace")
    return out


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
async def test_a_text_message_code_is_asked_at_the_terminal_again_after_a_typo(doc: World) -> None:
    person = OutboxCodes(doc.site, wrong=1)  # mistypes once, is asked again
    seen: list[DoctorStep] = []
    report = await _run(doc, "bravo", code_prompt=person, seen=seen)
    assert report.step("mfa").status is StepStatus.passed, report.step("mfa")
    assert report.step("password").status is StepStatus.passed
    assert len(person.hints) == 2 and "XXX-XXX-0199" in person.hints[0]
    assert "refused the last code" in person.hints[1]
    # the password step had ended (and the MFA one started) before the person was asked
    names = [(s.name, s.status) for s in seen]
    assert names.index(("password", StepStatus.passed)) < names.index(("mfa", StepStatus.running))
    assert report.step("device").status is StepStatus.passed
    assert report.step("account").status is StepStatus.passed
    assert _counts(doc) == (1, 2)


# --- the slow run: every other failure class -------------------------------------------------------

pytest_slow = pytest.mark.slow


@pytest_slow
async def test_a_text_message_code_with_nobody_at_a_terminal_goes_to_a_person(doc: World) -> None:
    report = await _run(doc, "bravo")
    failed = _failed(report)
    assert failed.name == "mfa" and failed.exit_class is ExitClass.merchant_must_act
    assert "text message to XXX-XXX-0199" in failed.cause and "at a terminal" in failed.fix
    assert report.exit_code == 3
    assert _counts(doc) == (1, 0)  # no code sent


@pytest_slow
async def test_a_healthy_merchant_passes_every_step(doc: World) -> None:
    before = _payments(doc)
    report = await _run(doc)
    assert _payments(doc) == before  # nothing recorded in Jobber
    assert report.ok and report.exit_code == 0, [(s.name, s.status.value, s.cause) for s in report.steps]
    _every_step_once(report)
    assert "selectors resolve" in report.step("selectors").detail
    assert _counts(doc) == (1, 1)
    again = await _run(doc)  # the stored session: nothing typed
    assert again.ok and again.step("password").status is StepStatus.skipped
    assert _counts(doc) == (1, 1)
    latest = health.latest(doc.settings, "acme")
    assert latest is not None and latest.ok and latest.source == "doctor"


@pytest_slow
async def test_a_changed_totp_seed_is_named_and_its_codes_never_sent_again(doc: World) -> None:
    doc.vault.update("acme", totp_seed=OTHER_SEED)
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "mfa" and failed.exit_class is ExitClass.merchant_must_act
    assert "seed has changed" in failed.cause and "--totp-seed" in failed.fix
    assert _counts(doc) == (1, 1)
    again = await _run(doc)
    assert _failed(again).name == "mfa" and "not tried" in _failed(again).cause
    assert _counts(doc) == (2, 1)  # one password per run; the refused seed's code never again


@pytest_slow
async def test_clock_skew_is_our_side_and_the_seed_is_not_blamed(doc: World) -> None:
    assert doc.site.admin is not None
    doc.site.admin.clock(advance_seconds=150)  # Jobber's clock (its Date header) 150 s ahead of ours
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "mfa" and failed.exit_class is ExitClass.our_side, failed
    assert re.search(r"clock is -1[45]\d s off Jobber's", failed.cause) and "seed is right" in failed.cause
    assert "NTP" in failed.fix
    assert report.exit_code == 6
    assert _counts(doc) == (1, 1)  # the one code, made by Jobber's clock, was accepted
    assert doc.vault.seed_refused(doc.vault.get("acme")) is None


@pytest_slow
async def test_a_blocked_user_goes_to_the_owner_and_is_not_tried_again(doc: World) -> None:
    with doc.site.client() as c:  # someone else's ten wrong passwords
        for _ in range(10):
            r = follow(c, c.get("/login"))
            c.post(str(r.url), data={"state": form_state(r.text), "username": DEMO_EMAIL, "password": "nope",
                                     "action": "default"})
    before = _counts(doc)
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "stops" and failed.exit_class is ExitClass.merchant_must_act
    assert "blocked" in failed.cause and "unblock link" in failed.fix
    assert _counts(doc) == (before[0] + 1, 0)  # the one try that found the block
    again = await _run(doc)
    assert _failed(again).name == "stops"
    assert _counts(doc) == (before[0] + 1, 0)


@pytest_slow
async def test_a_captcha_goes_to_a_person_and_no_password_is_typed(doc: World) -> None:
    assert doc.site.admin is not None
    doc.site.admin.faults(captcha=True)
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "stops" and failed.exit_class is ExitClass.merchant_must_act
    assert "CAPTCHA" in failed.cause and "--resume-sign-in" in failed.fix
    assert _counts(doc) == (0, 0)


@pytest_slow
async def test_jobber_down_is_reported_as_such_with_nothing_typed(doc: World) -> None:
    assert doc.site.admin is not None
    doc.site.admin.faults(error_rate=1.0)
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "hosts" and failed.exit_class is ExitClass.jobber_unavailable
    assert "HTTP 500" in failed.cause and "wait" in failed.fix
    assert report.exit_code == 5 and report.step("gateway").status is StepStatus.passed
    assert _counts(doc) == (0, 0)


@pytest_slow
async def test_a_changed_layout_is_jobber_changed_naming_the_control(doc: World) -> None:
    assert doc.site.admin is not None
    doc.site.admin.faults(layout_variant="redesign")
    before = _payments(doc)
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "selectors" and failed.exit_class is ExitClass.jobber_changed
    assert "Collect Payment button not found on invoice page" in failed.cause
    assert report.exit_code == 4 and report.artifacts
    assert _payments(doc) == before  # the walk opened Jobber's payment forms and saved nothing
    assert _counts(doc) == (1, 1)


@pytest_slow
async def test_an_expired_remembered_device_needs_a_code_from_a_person(doc: World) -> None:
    assert doc.site.admin is not None
    first = await _run(doc, "bravo", code_prompt=OutboxCodes(doc.site))
    assert first.step("mfa").status is StepStatus.passed
    doc.site.admin.faults(expire_devices=True, force_logout=True)
    report = await _run(doc, "bravo")
    device = report.step("device")
    assert device.status is StepStatus.failed and device.exit_class is ExitClass.merchant_must_act
    assert "remembered device" in device.cause and "at a terminal" in device.fix
    assert report.exit_class is ExitClass.merchant_must_act
    assert _counts(doc) == (2, 1)


@pytest_slow
async def test_a_bad_gateway_key_is_our_side(doc: World) -> None:
    doc.vault.update("acme", gateway={"merchant_id": "acme", "api_key": "sk_test_not_it"})
    report = await _run(doc)
    failed = _failed(report)
    assert failed.name == "gateway" and failed.exit_class is ExitClass.our_side
    assert "refused the merchant's API key" in failed.cause and "--api-key" in failed.fix
    assert report.exit_code == 6
