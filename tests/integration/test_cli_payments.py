"""The payment commands through the CLI (typer CliRunner): JSON result, bad input → exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from robot.cli import app
from robot.config import get_settings, load_settings
from robot.twofactor import DEFAULT_TOTP
from robot.vault import GatewayCredentials, MerchantCredentials, Vault
from tests.integration.robot_world import ACME
from tests.plugin_world import WorldEnv


@pytest.fixture
def cli_env(tmp_path: Path, world_env: WorldEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorldEnv]:
    """Env vars pointing the CLI at the test world, a fresh data dir and a vault with acme."""
    assert world_env.site.admin is not None
    world_env.site.admin.reset("demo")
    world_env.sandbox.admin.reset("demo")
    key = Fernet.generate_key().decode()
    env = {"JOBBER_ROBOT_DATA_DIR": str(tmp_path / "data"), "JOBBER_ROBOT_CREDENTIAL_KEY": key,
           "JOBBER_ROBOT_JOBBER_URL": world_env.site.url, "JOBBER_ROBOT_GATEWAY_URL": world_env.sandbox.url,
           "JOBBER_ROBOT_HOST_RESOLVER_RULES": world_env.site.resolver_rules,
           "JOBBER_ROBOT_ACTION_TIMEOUT_MS": "4000", "JOBBER_ROBOT_TRACE": "false", "COLUMNS": "200"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = load_settings()
    settings.ensure_dirs()
    Vault.from_settings(settings).put(MerchantCredentials(**{
        **ACME, "gateway": GatewayCredentials(merchant_id="acme", api_key=SecretStr("sk_test_acme"))}))
    get_settings.cache_clear()
    DEFAULT_TOTP._last_step.clear()  # the site was reset: it forgot the codes this process sent
    yield world_env
    get_settings.cache_clear()


def _drop_closed_log_streams() -> None:
    """DBOS adds a StreamHandler on the stream of the first run (CliRunner's, closed afterwards);
    the next in-process run would flush it and fail. Drop handlers whose stream is closed."""
    import logging

    for logger in [logging.getLogger(), *[logging.getLogger(n) for n in logging.root.manager.loggerDict]]:
        for h in list(getattr(logger, "handlers", [])):
            stream = getattr(h, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                logger.removeHandler(h)


def invoke(args: list[str]) -> "Result":
    _drop_closed_log_streams()
    try:
        return CliRunner().invoke(app, args)
    finally:
        _drop_closed_log_streams()


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
def test_charge_with_json_output(cli_env: WorldEnv) -> None:
    result = invoke(["charge", "--merchant", "acme", "--invoice", "1042", "--card-on-file", "cus_chen", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "succeeded" and data["invoice"] == 1042
    assert data["amount_captured"] == "150.00" and data["balance_after"] == "0.00"
    assert [s["step"] for s in data["steps"]] == ["verify", "gateway", "record", "verify_after"]
    assert cli_env.site.admin is not None
    inv = cli_env.site.admin.invoice(1042)
    assert inv["status"] == "paid" and data["gateway_transaction_id"] in inv["payments"][0]["details"]
    [txn] = cli_env.sandbox.admin.transactions("acme")
    assert txn["id"] == data["gateway_transaction_id"] and txn["captured"] == "150.00"


@pytest.mark.slow  # long: the default run stays under 5 minutes; CI runs it
def test_refusal_exits_1_with_the_reason(cli_env: WorldEnv) -> None:
    result = invoke(["charge", "--merchant", "acme", "--invoice", "1043", "--card-on-file", "cus_chen", "--json"])
    assert result.exit_code == 1, result.output
    assert result.stdout.strip(), result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "refused" and data["error_code"] == "invoice_in_draft"
    assert cli_env.sandbox.admin.transactions("acme") == []


@pytest.mark.parametrize(("args", "field", "rule"), [
    (["--invoice", "1042", "--amount", "12.345", "--card-on-file", "cus_chen"], "amount", "at most 2 decimal places"),
    (["--invoice", "1042", "--amount", "-5", "--card-on-file", "cus_chen"], "amount", "greater than 0"),
    (["--invoice", "1042", "--card-on-file", "cus_chen", "--card-token", "tok_x1234"], "tender", "exactly one"),
    (["--invoice", "1042"], "tender", "exactly one"),
    (["--card-on-file", "cus_chen"], "body", "give an invoice number or a client"),
    (["--invoice", "1042", "--card-token", "4111111111111111"], "tender.token", "tokenize it first"),
])
def test_bad_input_exits_2_naming_field_and_rule_and_does_nothing(cli_env: WorldEnv, args: list[str], field: str,
                                                                  rule: str) -> None:
    result = invoke(["charge", "--merchant", "acme", *args])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"invalid input: {field}" in said and rule in said
    assert "4111111111111111" not in result.output  # a card number is never echoed
    assert cli_env.sandbox.admin.transactions("acme") == []
    assert cli_env.site.admin is not None and cli_env.site.admin.invoice(1042)["payments"] == []
