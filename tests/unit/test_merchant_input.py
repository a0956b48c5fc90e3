"""Issue 11 item 7 at the CLI: an unknown merchant is refused before anything is queued, and a
merchant's Jobber URL must be https (or http on a loopback / *.localhost / *.test host)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from robot.cli import app
from robot.config import get_settings
from robot.vault import Vault

SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBBER_ROBOT_CREDENTIAL_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args), input=input)

    yield run
    get_settings.cache_clear()


def _vault() -> Vault:
    get_settings.cache_clear()
    return Vault.from_settings(get_settings())


def _add(cli, merchant: str = "acme", *extra: str):  # type: ignore[no-untyped-def]
    return cli("merchants", "add", merchant, "--email", "owner@acme.test", "--stdin", *extra, input="pw-123456\n")


def test_enqueue_refuses_a_merchant_the_vault_does_not_know(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert _add(cli).exit_code == 0
    r = cli("enqueue", "charge", "--merchant", "zulu", "--invoice", "1042", "--card-on-file", "cus_chen")
    assert r.exit_code == 2, r.output
    assert "merchant" in r.output and "zulu" not in r.output
    assert not (tmp_path / "data" / "jobs.sqlite").exists(), "nothing was queued"
    r = cli("enqueue", "charge", "--merchant", "acme", "--invoice", str(2**31), "--card-on-file", "cus_chen")
    assert r.exit_code == 2 and "invoice" in r.output, r.output
    assert not (tmp_path / "data" / "jobs.sqlite").exists(), "nothing was queued"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://secure.getjobber.com", "file:///etc/passwd",
                                 "data:text/html,hi", "https://", "https://user:pw@secure.getjobber.com",
                                 "ftp://127.0.0.1", "https://bad host.com", "http://127.0.0.1.evil.com"])
def test_a_jobber_url_that_is_not_https_is_refused_at_add_and_update(cli, url: str) -> None:  # type: ignore[no-untyped-def]
    r = _add(cli, "acme", "--jobber-url", url)
    assert r.exit_code == 2, r.output
    assert "jobber_url" in r.output
    assert not _vault().has("acme")
    assert _add(cli, "acme").exit_code == 0
    r = cli("merchants", "update", "acme", "--jobber-url", url)
    assert r.exit_code == 2 and "jobber_url" in r.output, r.output
    assert _vault().get("acme").jobber_url is None, "nothing was changed"


@pytest.mark.parametrize("url", ["https://secure.getjobber.com", "http://127.0.0.1:8765", "http://[::1]:8765",
                                 "http://localhost:8765", "http://secure.jobber.test:8765", "http://app.localhost"])
def test_https_and_local_test_hosts_are_taken(cli, url: str) -> None:  # type: ignore[no-untyped-def]
    r = _add(cli, "acme", "--jobber-url", url)
    assert r.exit_code == 0, r.output
    assert _vault().get("acme").jobber_url == url
