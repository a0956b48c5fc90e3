"""`jobber-robot doctor` and `merchants add --verify` as a support person runs them: a real CLI
process, at a real terminal (a pty) when a text-message code must be typed."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fixtures.gateway_sandbox.server import GatewaySandbox
from fixtures.jobber_site.server import MockJobber
from robot.config import load_settings
from robot.vault import MerchantCredentials, Vault
from tests.integration.robot_world import BRAVO
from tests.plugin_mock_jobber import DEMO_EMAIL, DEMO_TOTP_SECRET

CLI = [sys.executable, "-m", "robot"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(tmp_path: Path, site: MockJobber, sandbox: GatewaySandbox) -> dict[str, str]:
    return {**os.environ, "JOBBER_ROBOT_DATA_DIR": str(tmp_path / "data"),
            "JOBBER_ROBOT_CREDENTIAL_KEY": Fernet.generate_key().decode(),
            "JOBBER_ROBOT_JOBBER_URL": site.url, "JOBBER_ROBOT_GATEWAY_URL": sandbox.url,
            "JOBBER_ROBOT_HOST_RESOLVER_RULES": site.resolver_rules, "JOBBER_ROBOT_ACTION_TIMEOUT_MS": "4000",
            "COLUMNS": "100"}


def test_doctor_json_for_a_merchant_the_vault_does_not_hold_is_our_side(
        tmp_path: Path, jobber: MockJobber, gateway_sandbox: GatewaySandbox) -> None:
    env = _env(tmp_path, jobber, gateway_sandbox)
    p = subprocess.run([*CLI, "doctor", "nosuch", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 6, p.stderr
    doc = json.loads(p.stdout)
    assert doc["exit_class"] == "our_side" and doc["exit_code"] == 6 and not doc["ok"]
    vault = doc["steps"][0]
    assert vault["name"] == "vault" and vault["status"] == "fail"
    assert "merchants add nosuch" in vault["fix"]
    assert {s["status"] for s in doc["steps"][1:]} == {"skipped"}
    bad = subprocess.run([*CLI, "doctor", "nosuch", "--bundle", str(tmp_path / "b.txt")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--bundle" in bad.stderr


class Terminal:
    """A CLI process on a pty: what it prints, and typing into it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.text = ""

    def expect(self, pattern: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.plain):
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]):
                raise AssertionError(f"{pattern!r} not shown; the terminal shows:\n{self.text[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 1.0))
            if ready:
                try:
                    self.text += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the process closed the pty
                    pass
        return self.text

    @property
    def plain(self) -> str:
        return _ANSI.sub("", self.text)

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 180) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 1.0)
            if ready:
                try:
                    self.text += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        return self.proc.wait(timeout=max(1, deadline - time.monotonic()))


@pytest.mark.slow
def test_at_a_terminal_the_text_message_code_is_asked_hidden_and_asked_again_after_a_typo(
        tmp_path: Path, jobber: MockJobber, gateway_sandbox: GatewaySandbox) -> None:
    env = _env(tmp_path, jobber, gateway_sandbox)
    settings = load_settings(data_dir=env["JOBBER_ROBOT_DATA_DIR"], credential_key=env["JOBBER_ROBOT_CREDENTIAL_KEY"])
    settings.ensure_dirs()
    Vault.from_settings(settings).put(MerchantCredentials(**BRAVO))
    term = Terminal([*CLI, "doctor", "bravo"], env)
    try:
        term.expect(r"XXX-XXX-0199")
        term.expect(r"Type it by \d\d:\d\d:\d\d")
        term.expect(r"Code: ")
        term.type("000000")
        term.expect(r"refused the last code", timeout=60)
        shown = len(term.text)
        term.expect(r"(?s)refused the last code.*Code: ")
        assert jobber.admin is not None
        code = [m for m in jobber.admin.outbox() if m["channel"] == "sms"][-1]["code"]
        term.type(code)
        status = term.finish()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert "000000" not in term.text and code not in term.text[shown:]  # the input was hidden
    assert status == 0, term.text[-3000:]
    assert "every access check passed" in term.plain
    assert jobber.admin.state()["code_posts"] == 2 and jobber.admin.state()["password_posts"] == 1


@pytest.mark.slow
def test_merchants_add_verify_runs_the_doctor_and_exits_with_its_status(
        tmp_path: Path, jobber: MockJobber, gateway_sandbox: GatewaySandbox) -> None:
    env = _env(tmp_path, jobber, gateway_sandbox)
    p = subprocess.run([*CLI, "merchants", "add", "zeta", "--email", DEMO_EMAIL, "--2fa", "totp", "--stdin",
                        "--verify"], env=env, input=f"not-the-password\n{DEMO_TOTP_SECRET}\n",
                       capture_output=True, text=True, timeout=180)
    assert "added zeta" in p.stdout
    assert p.returncode == 3, p.stdout + p.stderr
    assert "Password accepted" in p.stderr and "merchants update zeta --password" in p.stderr
    assert "the merchant must act" in p.stdout
    assert jobber.admin is not None and jobber.admin.state()["password_posts"] == 1

    bundle = tmp_path / "zeta.zip"
    p = subprocess.run([*CLI, "doctor", "zeta", "--json", "--bundle", str(bundle)], env=env, capture_output=True,
                       text=True, timeout=180)
    assert p.returncode == 3 and json.loads(p.stdout)["steps"][3]["cause"].startswith("not tried")
    assert jobber.admin.state()["password_posts"] == 1  # the refused password was not submitted again
    with zipfile.ZipFile(bundle) as z:
        assert "checklist.txt" in z.namelist()
        assert not any(b"not-the-password" in z.read(n) for n in z.namelist())
