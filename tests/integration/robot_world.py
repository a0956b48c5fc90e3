"""Shared helpers for the robot-core integration tests: a vault in a tmp dir, merchants, code providers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from fixtures.jobber_site.server import MockJobber
from robot.config import Settings, load_settings
from robot.sessions import SessionPool
from robot.twofactor import CodeProvider, TotpCodes
from robot.vault import MerchantCredentials, TwoFactorMode, Vault
from tests.plugin_mock_jobber import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    FRANCHISE_EMAIL,
    FRANCHISE_PASSWORD,
    PAGE_EMAIL,
    PAGE_PASSWORD,
    SMS_EMAIL,
    SMS_PASSWORD,
)

ACME = dict(merchant="acme", jobber_email=DEMO_EMAIL, jobber_password=SecretStr(DEMO_PASSWORD),
            two_factor=TwoFactorMode.totp, totp_seed=SecretStr(DEMO_TOTP_SECRET))
BRAVO = dict(merchant="bravo", jobber_email=SMS_EMAIL, jobber_password=SecretStr(SMS_PASSWORD),
             two_factor=TwoFactorMode.handoff)
#: one login holding two accounts (Delta Lawn North and South): the merchant is South
DELTA = dict(merchant="delta", jobber_email=FRANCHISE_EMAIL, jobber_password=SecretStr(FRANCHISE_PASSWORD),
             two_factor=TwoFactorMode.totp, totp_seed=SecretStr("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
             business_name="Delta Lawn South")
#: an account that records payments on the New Payment page
ECHO = dict(merchant="echo", jobber_email=PAGE_EMAIL, jobber_password=SecretStr(PAGE_PASSWORD),
            two_factor=TwoFactorMode.totp, totp_seed=SecretStr("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"))


@dataclass
class World:
    site: MockJobber
    settings: Settings
    vault: Vault
    tmp: Path

    def pool(self, code_provider: CodeProvider | None = None, totp: TotpCodes | None = None) -> SessionPool:
        # a fresh TOTP memory per pool: the mock was reset, so no code of this test was used yet
        return SessionPool(self.settings, self.vault, code_provider=code_provider, totp=totp or TotpCodes())

    def state(self) -> dict[str, Any]:
        assert self.site.admin is not None
        return self.site.admin.state()

    def account(self, email: str = DEMO_EMAIL) -> dict[str, Any]:
        return next(a for a in self.state()["accounts"] if a["email"] == email)

    def user(self, email: str = DEMO_EMAIL) -> dict[str, Any]:
        """The identity host's user (failed_logins, blocked, failed_codes, mfa_locked_until)."""
        return next(u for u in self.state()["users"] if u["email"] == email)

    def add(self, **overrides: Any) -> MerchantCredentials:
        creds = MerchantCredentials(**{**ACME, **overrides})
        self.vault.put(creds)
        return creds


def make_world(tmp_path: Path, site: MockJobber, **settings: Any) -> World:
    s = load_settings(data_dir=tmp_path / "data", jobber_url=site.url, host_resolver_rules=site.resolver_rules,
                      credential_key=Fernet.generate_key().decode(),
                      action_timeout_ms=4_000, navigation_timeout_ms=8_000, unavailable_retries=1, **settings)
    s.ensure_dirs()
    w = World(site=site, settings=s, vault=Vault.from_settings(s), tmp=tmp_path)
    for base in (ACME, BRAVO, DELTA, ECHO):
        w.vault.put(MerchantCredentials(**base))
    return w


@pytest.fixture
def world(tmp_path: Path, jobber: MockJobber) -> World:
    return make_world(tmp_path, jobber)


class OutboxCodes:
    """CodeProvider that reads the SMS the mock 'sent' to the merchant's phone."""

    def __init__(self, site: MockJobber) -> None:
        self.site = site
        self.asked: list[tuple[str, str, str]] = []

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        self.asked.append((merchant, channel, hint))
        assert self.site.admin is not None
        messages = await asyncio.to_thread(self.site.admin.outbox)
        sms = [m for m in messages if m["channel"] == "sms"]
        return sms[-1]["code"] if sms else None


class FixedCode:
    def __init__(self, code: str | None) -> None:
        self.code = code

    async def get_code(self, merchant: str, channel: str, hint: str) -> str | None:
        return self.code


def next_step_totp() -> TotpCodes:
    """A TOTP maker whose clock runs one step ahead (the mock accepts ±1 step of skew)."""
    return TotpCodes(clock=lambda: time.time() + 30)
