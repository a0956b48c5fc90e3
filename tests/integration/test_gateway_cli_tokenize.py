"""`jobber-robot tokenize card|bank` against the sandbox: secrets from stdin, never arguments; only
the token and the masked card are printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.gateway_sandbox.server import GatewaySandbox
from robot.cli import app
from robot.config import load_settings
from robot.vault import MerchantCredentials, Vault, generate_key
from tests.plugin_gateway import ACCOUNT, ACME, ROUTING, VISA


@pytest.fixture
def cli_env(tmp_path: Path, gateway_sandbox: GatewaySandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    key = generate_key()
    settings = load_settings(data_dir=tmp_path, credential_key=key)
    settings.ensure_dirs()
    Vault.from_settings(settings).put(MerchantCredentials(
        merchant="acme", jobber_email="owner@acme.test", jobber_password="correct-horse-42", gateway=ACME))
    Vault.from_settings(settings).put(MerchantCredentials(
        merchant="nogw", jobber_email="owner@nogw.test", jobber_password="correct-horse-42"))
    env = {"JOBBER_ROBOT_DATA_DIR": str(tmp_path), "JOBBER_ROBOT_CREDENTIAL_KEY": key,
           "JOBBER_ROBOT_GATEWAY_URL": gateway_sandbox.url, "COLUMNS": "200"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def test_tokenize_card_json(cli_env: dict[str, str], gateway_sandbox: GatewaySandbox) -> None:
    result = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", "--stdin", "--json"],
                                input=f"{VISA}\n12/31\n123\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["token"].startswith("tok_") and data["last4"] == "1111" and data["brand"] == "Visa"
    assert (data["exp_month"], data["exp_year"]) == (12, 2031)
    assert VISA not in result.output
    # the token works for a charge
    import httpx

    r = httpx.post(f"{gateway_sandbox.url}/v1/transactions", headers={"Authorization": "Bearer sk_test_acme"},
                   json={"source": data["token"], "amount": "5.00"})
    assert r.status_code == 201


def test_tokenize_card_table_and_errors(cli_env: dict[str, str]) -> None:
    ok = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", "--stdin"],
                            input="4242 4242 4242 4242\n01/2030\n321\n")
    assert ok.exit_code == 0, ok.output
    assert "4242" in ok.output and "tok_" in ok.output and "4242424242424242" not in ok.output
    bad = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", "--stdin"],
                             input="4111111111111112\n12/31\n123\n")
    assert bad.exit_code == 2 and "number" in bad.output and "4111111111111112" not in bad.output
    past = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", "--stdin"], input=f"{VISA}\n01/20\n123\n")
    assert past.exit_code == 2 and "exp_year" in past.output
    noexp = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", "--stdin"], input=f"{VISA}\n1231\n123\n")
    assert noexp.exit_code == 2
    nogw = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "nogw", "--stdin"], input=f"{VISA}\n12/31\n123\n")
    assert nogw.exit_code == 1 and "gateway credentials" in nogw.output


def test_card_number_is_not_an_argument(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["tokenize", "card", "--merchant", "acme", VISA])
    assert result.exit_code == 2 and "never arguments" in result.output
    assert VISA not in result.output  # refused without echoing it back
    bank = CliRunner().invoke(app, ["tokenize", "bank", "--merchant", "acme", ROUTING, ACCOUNT])
    assert bank.exit_code == 2 and ACCOUNT not in bank.output
    assert "--number" not in CliRunner().invoke(app, ["tokenize", "card", "--help"]).output


def test_tokenize_bank(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["tokenize", "bank", "--merchant", "acme", "--stdin", "--json", "--type", "savings"],
                                input=f"{ROUTING}\n{ACCOUNT}\nLuis Garcia\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["token"].startswith("btok_") and data["bank_last4"] == "6789" and data["account_type"] == "savings"
    assert ACCOUNT not in result.output
    bad = CliRunner().invoke(app, ["tokenize", "bank", "--merchant", "acme", "--stdin"],
                             input=f"123456789\n{ACCOUNT}\nLuis Garcia\n")
    assert bad.exit_code == 2 and "routing" in bad.output
