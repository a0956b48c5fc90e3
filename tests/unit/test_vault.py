import os
import stat
from pathlib import Path

import pytest

from robot.config import load_settings
from robot.errors import InputError, VaultError
from robot.vault import MerchantCredentials, Vault, generate_key

PASSWORD = "hunter2-very-secret"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"


def _vault(tmp_path: Path, key: str | None = None) -> Vault:
    return Vault.from_settings(load_settings(data_dir=tmp_path, credential_key=key))


def _creds(**kw: object) -> MerchantCredentials:
    base = dict(merchant="acme", jobber_email="owner@acme.test", jobber_password=PASSWORD,
                two_factor="totp", totp_seed=SEED, gateway={"merchant_id": "acme", "api_key": "sk_test_acme"})
    base.update(kw)
    return MerchantCredentials(**base)  # type: ignore[arg-type]


def test_vault_files_are_encrypted_and_private(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_creds())
    vault.save_storage_state("acme", {"cookies": [{"name": "_jobber_session", "value": "cookie-value-xyz"}]})
    for path in (tmp_path / "vault.json", tmp_path / "vault.key", tmp_path / "sessions" / "acme.state"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for path in (tmp_path / "vault.json", tmp_path / "sessions" / "acme.state"):
        blob = path.read_bytes()
        for secret in (PASSWORD, SEED, "sk_test_acme", "cookie-value-xyz", "owner@acme.test"):
            assert secret.encode() not in blob
    got = vault.get("acme")
    assert got.jobber_password.get_secret_value() == PASSWORD
    assert vault.load_storage_state("acme")["cookies"][0]["value"] == "cookie-value-xyz"


def test_summary_and_repr_never_show_secrets(tmp_path: Path) -> None:
    creds = _creds()
    text = repr(creds) + str(creds.summary())
    for secret in (PASSWORD, SEED, "sk_test_acme"):
        assert secret not in text


def test_wrong_key_is_refused_and_nothing_is_overwritten(tmp_path: Path) -> None:
    key = generate_key()
    _vault(tmp_path, key).put(_creds())
    before = (tmp_path / "vault.json").read_bytes()
    with pytest.raises(VaultError, match="does not open"):
        _vault(tmp_path, generate_key()).put(_creds(merchant="other"))
    assert (tmp_path / "vault.json").read_bytes() == before
    assert _vault(tmp_path, key).get("acme").merchant == "acme"


def test_password_update_is_one_call_and_drops_the_stale_session(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_creds())
    vault.save_storage_state("acme", {"cookies": []})
    vault.update("acme", jobber_password="new-password-2")
    assert vault.get("acme").jobber_password.get_secret_value() == "new-password-2"
    assert vault.load_storage_state("acme") is None


def test_new_gateway_key_keeps_the_session(tmp_path: Path) -> None:
    """Only sign-in changes drop the stored session (a handoff merchant would need a person's code)."""
    vault = _vault(tmp_path)
    vault.put(_creds())
    vault.save_storage_state("acme", {"cookies": []})
    vault.update("acme", jobber_email=None, jobber_url=None,  # what the CLI passes for options not given
                 gateway={"merchant_id": "acme", "api_key": "sk_test_new"})
    assert vault.get("acme").gateway.api_key.get_secret_value() == "sk_test_new"  # type: ignore[union-attr]
    assert vault.load_storage_state("acme") == {"cookies": []}


def test_bad_input_names_the_field_and_changes_nothing(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_creds())
    with pytest.raises(InputError) as info:
        vault.update("acme", totp_seed="not base32!")
    assert info.value.field == "totp_seed"
    assert vault.get("acme").totp_seed.get_secret_value() == SEED
    with pytest.raises(ValueError, match="totp needs totp_seed"):
        _creds(totp_seed=None)


def test_unknown_merchant_says_how_to_add_it(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="merchants add nobody"):
        _vault(tmp_path).get("nobody")


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    _vault(tmp_path).put(_creds())
    key_file = tmp_path / "vault.key"
    before = (tmp_path / "vault.json").read_bytes()
    key_file.chmod(0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        _vault(tmp_path).put(_creds(merchant="other"))
    assert (tmp_path / "vault.json").read_bytes() == before
    key_file.chmod(0o600)
    assert _vault(tmp_path).get("acme").merchant == "acme"
