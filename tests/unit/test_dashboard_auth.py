"""Dashboard staff (`jobber-robot staff`), sessions and the sign-in limit, without a server."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from robot.cli import app
from robot.config import get_settings
from robot.dashboard.app import _safe_next
from robot.dashboard.auth import LoginLimiter, Sessions
from robot.dashboard.staff import StaffStore

PASSWORD = "staff-horse-battery-9"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOBBER_ROBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JOBBER_ROBOT_CREDENTIAL_KEY", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        get_settings.cache_clear()
        return runner.invoke(app, ["staff", *args], input=input)

    yield run
    get_settings.cache_clear()


def test_staff_add_list_remove_keeps_only_an_encrypted_argon2_hash(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = cli("add", "dana", "--stdin", input=f"{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    store = StaffStore.from_settings(get_settings())
    raw = store.path.read_bytes()
    assert PASSWORD.encode() not in raw and b"argon2" not in raw and b"dana" not in raw, "encrypted at rest"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    [user] = store.list()
    assert user.name == "dana" and user.password_hash.startswith("$argon2id$")
    assert store.verify("dana", PASSWORD) and not store.verify("dana", PASSWORD + "x")
    assert not store.verify("nobody", PASSWORD)

    listed = cli("list")
    assert listed.exit_code == 0 and "dana" in listed.output and "argon2" not in listed.output
    again = cli("add", "dana", "--stdin", input=f"{PASSWORD}\n")
    assert again.exit_code == 2 and "name: a staff user of that name exists already" in again.output
    short = cli("add", "eve", "--stdin", input="short\n")
    assert short.exit_code == 2 and "password: at least 12 characters" in short.output and "short" not in \
        short.output.replace("password: at least", "")
    bad = cli("add", "Not A Name", "--stdin", input=f"{PASSWORD}\n")
    assert bad.exit_code == 2 and "name: a lowercase name" in bad.output
    assert cli("remove", "dana").exit_code == 0
    assert not store.verify("dana", PASSWORD) and store.list() == []
    assert cli("remove", "dana").exit_code == 2


def test_the_password_is_never_an_argument(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("add", "dana", PASSWORD)
    assert r.exit_code != 0 and StaffStore.from_settings(get_settings()).list() == []


def test_sessions_end_when_idle_and_tokens_are_not_kept() -> None:
    sessions = Sessions(idle=0.2)
    token, s = sessions.new(user="dana")
    assert sessions.get(token) is s and s.csrf_ok(s.csrf) and not s.csrf_ok("") and not s.csrf_ok("x")
    assert token not in repr(sessions._by_digest), "only the token's digest is held"
    time.sleep(0.3)
    assert sessions.get(token) is None
    full = Sessions(idle=60, limit=4)
    kept, _ = full.new(user="dana")
    for _ in range(10):
        full.new()  # a flood of anonymous visits
    assert full.get(kept) is not None and len(full._by_digest) <= 4


def test_sign_in_limit_per_name_and_per_client() -> None:
    limiter = LoginLimiter(per_name=3, per_client=5, window=60)
    for _ in range(3):
        assert limiter.retry_after("dana", "10.0.0.1") == 0
        limiter.failed("dana", "10.0.0.1")
    assert limiter.retry_after("dana", "10.0.0.2") > 0, "the name is limited from any address"
    assert limiter.retry_after("sam", "10.0.0.3") == 0
    for name in ("a1", "a2"):
        limiter.failed(name, "10.0.0.1")
    assert limiter.retry_after("someone-else", "10.0.0.1") > 0, "the address is limited for any name"


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/support/", "/support\\..\\x", "/other",
                                    "/support/jobs\n", ""])
def test_after_sign_in_only_dashboard_paths(target: str) -> None:
    assert _safe_next(target) == "/support/"


def test_after_sign_in_the_page_asked_for() -> None:
    assert _safe_next("/support/jobs?status=failed") == "/support/jobs?status=failed"


def _dashboard(tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    from robot.config import load_settings
    from robot.dashboard.app import Dashboard

    return Dashboard(load_settings(data_dir=tmp_path / "data", credential_key=Fernet.generate_key().decode(),
                                   **settings))


@pytest.mark.parametrize(("secure", "base", "flag"), [(None, "http://127.0.0.1", False), (None, "https://support.test", True),
                                                      (True, "http://127.0.0.1", True), (False, "https://support.test", False)])
async def test_cookie_flags(tmp_path: Path, secure: bool | None, base: str, flag: bool) -> None:
    import httpx

    d = _dashboard(tmp_path, support_cookie_secure=secure)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=d.app), base_url=base) as c:
        r = await c.get("/support/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/support" in cookie
    assert ("; secure" in cookie) is flag
    assert "script-src 'self'" in r.headers["content-security-policy"] and "unsafe-inline" not in \
        r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


async def test_a_form_body_over_the_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    import httpx

    from robot.dashboard.app import MAX_FORM_BYTES

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_FORM_BYTES // 1024 + 2):
            yield b"a" * 1024

    d = _dashboard(tmp_path)
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=d.app), base_url="http://127.0.0.1") as c:
        assert (await c.post("/support/login", content=b"a" * (MAX_FORM_BYTES + 1), headers=form)).status_code == 413
        assert (await c.post("/support/login", content=chunks(), headers=form)).status_code == 413
        assert (await c.post("/support/login", content=b"name=x", headers=form)).status_code == 403  # no CSRF
