import os
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from robot.browser import find_browser
from robot.config import load_settings
from robot.errors import BrowserNotFound, ConfigError
from robot.jobs.models import JobResult, parse_job, validation_problems
from robot.money import fmt, parse_money


def test_money_refuses_float_and_third_decimal() -> None:
    assert parse_money("$1,234.50") == Decimal("1234.50")
    with pytest.raises(ValueError):
        parse_money(1.5)
    with pytest.raises(ValidationError):
        parse_job({"kind": "charge", "merchant": "acme", "invoice": 1, "amount": "1.001",
                   "tender": {"type": "card_token", "token": "tok_abc"}})
    assert fmt(Decimal("1234.5")) == "$1,234.50"


def test_job_errors_name_the_field_and_never_echo_a_card_number() -> None:
    pan = "4111111111111111"
    with pytest.raises(ValidationError) as info:
        parse_job({"kind": "charge", "merchant": "acme", "invoice": 1,
                   "tender": {"type": "card_token", "token": pan}})
    assert pan not in str(info.value)
    problems = validation_problems(info.value)
    assert problems == [{"field": "tender.token", "rule": "looks like a card or account number; tokenize it first (jobber-robot tokenize)"}]


def test_job_needs_invoice_or_client() -> None:
    with pytest.raises(ValidationError, match="give an invoice number or a client"):
        parse_job({"kind": "charge", "merchant": "acme", "tender": {"type": "card_token", "token": "tok_abc"}})


def test_result_serializes_money_as_strings() -> None:
    r = JobResult(job_id="j", kind="charge", merchant="acme", outcome="succeeded", amount_captured="150")
    assert '"amount_captured":"150.00"' in r.model_dump_json()


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBER_ROBOT_JOBBER_URL", "ftp://nope")
    with pytest.raises(ConfigError, match="JOBBER_ROBOT_JOBBER_URL"):
        load_settings()


def test_browser_finder_explains_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        find_browser(tmp_path / "no-such-chromium")
    assert find_browser().exists()


def test_browser_finder_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A set path, then Playwright's own Chromium, then the system one, then the install hint."""
    import robot.browser as browser

    own, system, explicit = (tmp_path / n for n in ("own-chrome", "chromium", "my-chrome"))
    for f in (own, system, explicit):
        f.touch()
    monkeypatch.setattr(browser, "SYSTEM_CANDIDATES", (str(system),))
    monkeypatch.setattr(browser.shutil, "which", lambda _name: None)
    monkeypatch.setattr(browser, "playwright_chromium", lambda: own)
    assert find_browser(explicit) == explicit
    assert find_browser() == own
    monkeypatch.setattr(browser, "playwright_chromium", lambda: None)
    assert find_browser() == system
    system.unlink()
    with pytest.raises(BrowserNotFound, match="playwright install chromium"):
        find_browser()


def test_env_example_lists_every_setting_with_a_comment() -> None:
    from robot.config import ENV_PREFIX, Settings

    lines = (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
    documented = {}
    for i, line in enumerate(lines):
        if line.startswith(ENV_PREFIX):
            documented[line.split("=", 1)[0]] = i
    expected = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(documented) == expected
    for name, i in documented.items():  # each variable, or the group it stands in, has a comment above
        j = i
        while j > 0 and lines[j - 1].startswith(ENV_PREFIX):
            j -= 1
        assert j > 0 and lines[j - 1].startswith("#"), f"{name} has no comment above it"


def test_env_example_copied_as_dotenv_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp .env.example .env` must work: empty values mean the default, not an empty path."""
    for name in list(os.environ):
        if name.startswith("JOBBER_ROBOT_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text((Path(__file__).parents[2] / ".env.example").read_text())
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.browser_path is None
    assert s.credential_key is None and s.api_key is None
    assert s.key_file == tmp_path / ".data" / "vault.key"
    assert s.system_database_url == f"sqlite:///{tmp_path / '.data' / 'jobs.sqlite'}"


def test_browser_check_starts_it_or_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """setup.sh relies on `browser --check`: exit 0 only when the browser really starts."""
    from typer.testing import CliRunner

    from robot.cli import app
    from robot.config import get_settings

    get_settings.cache_clear()
    ok = CliRunner().invoke(app, ["browser", "--check"])
    assert ok.exit_code == 0 and "starts: Chromium" in ok.output
    monkeypatch.setenv("JOBBER_ROBOT_BROWSER_PATH", "/bin/true")  # exists, is no browser
    get_settings.cache_clear()
    try:
        bad = CliRunner().invoke(app, ["browser", "--check"])
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1 and "does not start" in bad.output
