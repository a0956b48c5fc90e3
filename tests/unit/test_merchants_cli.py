"""`jobber-robot merchants`: the support person's tool for stale credentials."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from robot.cli import app
from robot.config import get_settings
from robot.vault import Vault

PASSWORD = "s3cret-Horse-99"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"
API_KEY = "sk_test_verysecret"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JOBBER_ROBOT_CREDENTIAL_KEY", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        get_settings.cache_clear()
        return runner.invoke(app, ["merchants", *args], input=input)

    yield run
    get_settings.cache_clear()


def _vault() -> Vault:
    get_settings.cache_clear()
    return Vault.from_settings(get_settings())


def test_add_list_show_never_print_secrets_and_files_are_private(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = cli("add", "acme", "--email", "owner@acme.test", "--2fa", "totp", "--gateway-merchant", "acme",
                "--stdin", input=f"{PASSWORD}\n{SEED}\n{API_KEY}\n")
    assert added.exit_code == 0, added.output
    listed, shown = cli("list"), cli("show", "acme")
    assert listed.exit_code == 0 and shown.exit_code == 0
    assert "owner@acme.test" in listed.output and "totp" in shown.output
    for out in (added.output, listed.output, shown.output):
        for secret in (PASSWORD, SEED, API_KEY):
            assert secret not in out
    creds = _vault().get("acme")
    assert creds.jobber_password.get_secret_value() == PASSWORD and creds.gateway is not None
    data = tmp_path / "data"
    for f in (data / "vault.json", get_settings().key_file):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert PASSWORD.encode() not in f.read_bytes() and SEED.encode() not in f.read_bytes()


def test_update_password_is_one_command_and_keeps_the_rest(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("add", "acme", "--email", "owner@acme.test", "--stdin", input=f"{PASSWORD}\n").exit_code == 0
    result = cli("update", "acme", "--password", "--stdin", input="n3w-Pass-1\n")
    assert result.exit_code == 0, result.output
    creds = _vault().get("acme")
    assert creds.jobber_password.get_secret_value() == "n3w-Pass-1" and creds.jobber_email == "owner@acme.test"


def test_bad_input_names_the_field_exits_2_and_stores_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("add", "acme", "--email", "not-an-email", "--stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 2
    assert "jobber_email" in result.output
    assert PASSWORD not in result.output
    assert not _vault().has("acme")
    no_seed = cli("add", "acme", "--email", "owner@acme.test", "--2fa", "totp", "--stdin", input=f"{PASSWORD}\n\n")
    assert no_seed.exit_code == 2 and not _vault().has("acme")


def test_wrong_key_is_a_clear_error_and_overwrites_nothing(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert cli("add", "acme", "--email", "owner@acme.test", "--stdin", input=f"{PASSWORD}\n").exit_code == 0
    vault_file = tmp_path / "data" / "vault.json"
    before = vault_file.read_bytes()
    monkeypatch.setenv("JOBBER_ROBOT_CREDENTIAL_KEY", Fernet.generate_key().decode())
    for args, stdin in ((("list",), None), (("update", "acme", "--password", "--stdin"), "other-Pass-2\n"),
                        (("add", "bravo", "--email", "b@bravo.test", "--stdin"), f"{PASSWORD}\n")):
        result = cli(*args, input=stdin)
        assert result.exit_code == 1
        assert "key" in result.output.lower()
    assert vault_file.read_bytes() == before


def test_remove_drops_the_merchant(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("add", "acme", "--email", "owner@acme.test", "--stdin", input=f"{PASSWORD}\n").exit_code == 0
    assert cli("remove", "acme", "--yes").exit_code == 0
    assert not _vault().has("acme")
    missing = cli("show", "acme")
    assert missing.exit_code != 0 and "acme" in missing.output


def test_list_shows_each_merchants_last_access_result_when_and_the_next_action(cli) -> None:  # type: ignore[no-untyped-def]
    import json
    from datetime import UTC, datetime, timedelta

    from robot import health

    assert cli("add", "acme", "--email", "owner@acme.test", "--stdin", input=f"{PASSWORD}\n").exit_code == 0
    assert cli("add", "bravo", "--email", "sms@bravo.test", "--stdin", input=f"{PASSWORD}\n").exit_code == 0
    get_settings.cache_clear()
    settings = get_settings()
    health.record(settings, health.HealthRecord(
        merchant="acme", source="doctor", ok=False, result="merchant_must_act", at=datetime.now(UTC) - timedelta(minutes=3),
        message="Password accepted: Jobber refused it", next_action="jobber-robot merchants update acme --password"))
    r = cli("list", "--json")
    assert r.exit_code == 0, r.output
    docs = {d["merchant"]: d for d in json.loads(r.output)}
    assert docs["acme"]["health"]["result"] == "merchant_must_act" and docs["acme"]["health"]["source"] == "doctor"
    assert docs["bravo"]["health"] is None
    assert PASSWORD not in r.output
    table = CliRunner().invoke(app, ["merchants", "list"], env={"COLUMNS": "80"}).output
    flat = " ".join(table.split())  # cells wrap between words
    assert "✘ merchant" in flat and "3 min ago" in flat and "update acme" in flat and "owner@acme.test" in flat
    assert "not checked" in flat and "doctor bravo" in flat
    assert max(len(line) for line in table.splitlines()) <= 80
