"""A failed job leaves screenshot, trace and HTML; none of them (nor logs, vault, session files)
carries a secret in clear."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pyotp
import pytest

from robot.errors import BadCredentials, TwoFactorRejected
from robot.logging import configure_logging
from robot.twofactor import STEP_SECONDS, TotpCodes
from tests.integration.robot_world import FixedCode, World, world  # noqa: F401
from tests.plugin_mock_jobber import DEMO_PASSWORD, DEMO_TOTP_SECRET


def _all_text(root: Path) -> dict[str, bytes]:
    """Every file under root; trace zips unpacked entry by entry."""
    out: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    out[f"{path}!{name}"] = z.read(name)
        else:
            out[str(path)] = path.read_bytes()
    return out


def _assert_absent(files: dict[str, bytes], secrets: list[str]) -> None:
    for name, data in files.items():
        for s in secrets:
            assert s.encode() not in data, f"{s[:3]}… in clear in {name}"


async def test_failed_job_evidence_has_no_secret_in_clear(world: World) -> None:
    configure_logging(world.settings, console=False)
    world.settings.trace_full = True  # the full trace (screencast, DOM snapshots, network log) is masked too
    totp = TotpCodes()
    async with world.pool(totp=totp) as pool:
        with pytest.raises(RuntimeError) as info:
            async with pool.job("acme", "boom/../1") as sess:
                raise RuntimeError("flow blew up")
    artifacts = [Path(p) for p in info.value.artifacts]  # type: ignore[attr-defined]
    assert {p.name for p in artifacts} == {"screenshot.png", "page.html", "trace.zip"}
    job_dir = artifacts[0].parent
    assert job_dir.parent == world.settings.artifacts_dir and ".." not in job_dir.name
    with zipfile.ZipFile(job_dir / "trace.zip") as z:
        names = z.namelist()
        assert any(n.endswith(".trace") for n in names)
        # the trace did record the sign-in (so masking is what keeps the password out)
        recorded = b"".join(z.read(n) for n in names if n.endswith(".trace") or n.endswith(".network"))
        assert b"/login" in recorded
        # the screencast frames show the 2FA code field as dots (its text is scrubbed from the rest)
        assert b"-webkit-text-security: disc" in recorded
    step = totp.used("acme")
    assert step is not None
    code = pyotp.TOTP(DEMO_TOTP_SECRET).at(step * STEP_SECONDS)
    secrets = [DEMO_PASSWORD, quote_plus(DEMO_PASSWORD), DEMO_TOTP_SECRET, code]
    cookies = world.vault.load_storage_state("acme")["cookies"]  # type: ignore[index]
    # the app session and the identity host's session, remembered device and device id
    secrets += [c["value"] for c in cookies if c["name"] in ("_jobber_session", "auth0", "auth0-mf", "did")]
    assert {"_jobber_session", "auth0"} <= {c["name"] for c in cookies}
    files = _all_text(world.settings.data_path)  # artifacts, logs, vault, sessions
    assert any(n.endswith("robot.jsonl") for n in files)
    _assert_absent(files, secrets)


async def test_bad_password_evidence_masks_the_typed_password(world: World) -> None:
    wrong = "Wr0ng pass/word&1"
    world.add(jobber_password=wrong)
    async with world.pool() as pool:
        with pytest.raises(BadCredentials) as info:
            async with pool.job("acme", "badpw"):
                pass
    assert len(info.value.artifacts) == 3  # type: ignore[attr-defined]
    trace = world.settings.artifacts_dir / "badpw" / "trace.zip"
    with zipfile.ZipFile(trace) as z:  # the typed password was there, and was masked
        assert b"[REDACTED]" in b"".join(z.read(n) for n in z.namelist())
    _assert_absent(_all_text(world.settings.data_path), [wrong, quote_plus(wrong), DEMO_TOTP_SECRET])


# --- issue 11 item 12: every cookie value and every token-like hidden value is masked --------------

_HEX64 = re.compile(rb"\b[0-9a-f]{64}\b")  # the mock's authenticity_token: an HMAC-SHA256 in hex


def _json_lines(data: bytes) -> list[Any]:
    out = []
    for line in data.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def _cookie_values(obj: Any) -> list[str]:
    """Every cookie value the HAR-like network log shows: Cookie / Set-Cookie headers and the
    parsed `cookies` lists."""
    found: list[str] = []
    if isinstance(obj, dict):
        if str(obj.get("name", "")).lower() in ("cookie", "set-cookie") and isinstance(obj.get("value"), str):
            pairs = obj["value"].split(";") if obj["name"].lower() == "cookie" else obj["value"].split(";")[:1]
            found += [p.split("=", 1)[1].strip() for p in pairs if "=" in p]
        for key, value in obj.items():
            if key == "cookies" and isinstance(value, list):
                found += [c["value"] for c in value if isinstance(c, dict) and "value" in c]
            else:
                found += _cookie_values(value)
    elif isinstance(obj, list):
        for v in obj:
            found += _cookie_values(v)
    return found


async def test_evidence_masks_the_pending_sign_in_cookie_and_authenticity_tokens(world: World) -> None:
    # bravo signs in with a code a person hands over; a wrong one fails the job half signed in,
    # holding the pending sign-in cookie (the password was accepted, 2FA is to go)
    world.settings.trace_full = True  # the full trace: its network log holds the cookies
    async with world.pool(code_provider=FixedCode("000000")) as pool:
        with pytest.raises(TwoFactorRejected) as info:
            async with pool.job("bravo", "pending-1"):
                pass
    job_dir = world.settings.artifacts_dir / "pending-1"
    assert {Path(p).name for p in info.value.artifacts} == {"screenshot.png", "page.html", "trace.zip"}  # type: ignore[attr-defined]
    files = _all_text(job_dir)

    with sqlite3.connect(world.site.data_dir / "jobber.sqlite3") as db:
        live = [r[0] for r in db.execute("SELECT token FROM pending UNION ALL SELECT token FROM devices "
                                          "UNION ALL SELECT token FROM sessions UNION ALL SELECT csrf FROM sessions")]
    assert live, "the mock holds the pending sign-in"
    _assert_absent(files, live)

    network = b"".join(v for k, v in files.items() if k.endswith(".network"))
    shown = _cookie_values(_json_lines(network))
    assert shown, "the trace recorded the cookies (masked)"
    assert set(shown) == {"[REDACTED]"}, "a cookie value in clear in the trace's network log"
    html = files[str(job_dir / "page.html")].decode()
    hidden = re.findall(r'<input[^>]*type="hidden"[^>]*>', html)
    assert hidden and all('value="[REDACTED]"' in tag for tag in hidden), hidden
    for name, data in files.items():
        assert not _HEX64.search(data), f"an authenticity token in clear in {name}"
    for p in job_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_scrub_html_masks_token_like_hidden_inputs_and_csrf_meta() -> None:
    from robot.evidence import Scrubber

    html = ('<meta name="csrf-token" content="Zm9vYmFyYmF6cXV4MTIzNDU2">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<input type='hidden' name='state' value='hKFo2SBxYnVTLWJLM2FyZHFZ'>"
            '<input value="eyJhbGciOiJIUzI1NiJ9.e30.abc123" type="hidden" name="anything_at_all">'
            '<input type="hidden" name="invoice_id" value="1042">'
            '<input type="text" name="email" value="owner@acme.test">'
            '<script>window.csrf = "Zm9vYmFyYmF6cXV4MTIzNDU2";</script>')
    out = Scrubber().scrub_text(html)
    for secret in ("Zm9vYmFyYmF6cXV4MTIzNDU2", "hKFo2SBxYnVTLWJLM2FyZHFZ", "eyJhbGciOiJIUzI1NiJ9.e30.abc123"):
        assert secret not in out
    assert 'value="1042"' in out and "owner@acme.test" in out and "width=device-width" in out


# --- issue 15: a light trace by default, the full one on a retry ------------------------------------


def _trace_entries(job_dir: Path) -> tuple[list[str], bytes]:
    with zipfile.ZipFile(job_dir / "trace.zip") as z:
        names = z.namelist()
        return names, b"".join(z.read(n) for n in names if n.endswith(".trace"))


async def test_a_first_failure_keeps_the_action_log_and_a_retry_gets_the_full_trace(world: World) -> None:
    job_dir = world.settings.artifacts_dir / "retry-1"
    async with world.pool() as pool:
        with pytest.raises(RuntimeError):
            async with pool.job("acme", "retry-1") as sess:
                await sess.page.goto(world.site.url + "/invoices")
                raise RuntimeError("flow blew up")
        # what a failure needs is there: the page as it was, its HTML, the steps the browser took
        assert {p.name for p in job_dir.iterdir()} == {"screenshot.png", "page.html", "trace.zip"}
        names, events = _trace_entries(job_dir)
        assert b"/invoices" in events, "the action log names the page the job went to"
        assert b'"type":"screencast-frame"' not in events and b'"type":"frame-snapshot"' not in events, \
            "a first attempt's trace carries no screenshots or DOM snapshots"
        assert not any(n.endswith((".jpeg", ".png")) for n in names)

        # the same job again (a retry): its trace has screenshots and DOM snapshots
        with pytest.raises(RuntimeError):
            async with pool.job("acme", "retry-1") as sess:
                await sess.page.goto(world.site.url + "/invoices")
                raise RuntimeError("flow blew up again")
        names, events = _trace_entries(job_dir)
        assert b'"type":"frame-snapshot"' in events and b'"type":"screencast-frame"' in events

        # and a later, different job is back to the light trace
        with pytest.raises(RuntimeError):
            async with pool.job("acme", "other-1"):
                raise RuntimeError("boom")
        _, events = _trace_entries(world.settings.artifacts_dir / "other-1")
        assert b'"type":"frame-snapshot"' not in events


#: a job that signs in to acme (the password fill is in the trace), then `fail`s (its trace becomes
#: evidence) or `hang`s (signed in, the browser still recording)
_JOB = """
import asyncio, sys
from robot.config import load_settings
from robot.sessions import SessionPool
from robot.twofactor import TotpCodes
from robot.vault import Vault

async def main(job_id: str, then: str) -> None:
    settings = load_settings()
    async with SessionPool(settings, Vault.from_settings(settings), totp=TotpCodes()) as pool:
        async with pool.job("acme", job_id):
            if then == "fail":
                raise RuntimeError("flow blew up")
            print("signed in", flush=True)
            await asyncio.Event().wait()

try:
    asyncio.run(main(*sys.argv[1:3]))
except RuntimeError:
    sys.exit(3)
"""


def _robot_env(world: World, tmp: Path, **env: str) -> dict[str, str]:
    s = world.settings
    return {**os.environ, "TMPDIR": str(tmp), "JOBBER_ROBOT_DATA_DIR": str(s.data_path),
            "JOBBER_ROBOT_JOBBER_URL": s.jobber_url, "JOBBER_ROBOT_HOST_RESOLVER_RULES": s.host_resolver_rules or "",
            "JOBBER_ROBOT_CREDENTIAL_KEY": s.credential_key.get_secret_value(), **env}  # type: ignore[union-attr]


def _run_failing_job(world: World, tmp: Path, job_id: str, **env: str) -> int:
    return subprocess.run([sys.executable, "-c", _JOB, job_id, "fail"], env=_robot_env(world, tmp, **env),
                          timeout=120).returncode


def test_a_raw_trace_left_by_a_killed_process_is_removed_before_the_next_evidence(world: World) -> None:
    """Killed -9 with the raw (unscrubbed) trace on disk: no file may keep the password once the
    robot runs again. It used to stay in the system temp folder for good."""
    tmp = Path(tempfile.mkdtemp(prefix="jr-"))  # the job's temp folder (short: Chromium's socket lives there)
    rc = _run_failing_job(world, tmp, "killed-1", JOBBER_ROBOT_CRASH_AT="evidence:raw_trace")
    assert rc == -9, "the job did not die at the raw trace"
    spools = [p for root in (world.tmp, tmp) for p in root.rglob("*.zip")]
    assert spools, "the killed process left its raw trace (that is what this test is about)"
    assert all(stat.S_IMODE(p.parent.stat().st_mode) == 0o700 for p in spools)

    assert _run_failing_job(world, tmp, "next-1") == 3  # the next failed job, in a new process
    assert not [p for p in spools if p.exists()], "the dead process's raw trace is still there"
    assert (world.settings.artifacts_dir / "next-1" / "trace.zip").is_file()
    _assert_absent({**_all_text(world.tmp), **_all_text(tmp)}, [DEMO_PASSWORD, quote_plus(DEMO_PASSWORD)])


async def test_a_restarted_robot_removes_dead_raw_traces_and_spares_live_ones(world: World) -> None:
    """A pool starting (a worker restarted after a kill) clears raw traces whose process is gone;
    one another capture is writing right now (its lock held) stays."""
    from robot.evidence import UNSCRUBBED_DIR, unscrubbed_spool

    root = world.settings.artifacts_dir / UNSCRUBBED_DIR
    dead = root / "trace-dead"
    dead.mkdir(parents=True)
    (dead / ".lock").touch()  # nobody holds it: its process died
    (dead / "raw.zip").write_bytes(DEMO_PASSWORD.encode())
    with unscrubbed_spool(world.settings.artifacts_dir) as live:
        (live / "raw.zip").write_bytes(b"being written")
        async with world.pool():
            pass
        assert not dead.exists()
        assert (live / "raw.zip").exists()
    assert not live.exists()


def test_the_browsers_live_trace_is_gone_after_the_whole_process_group_is_killed(world: World) -> None:
    """The robot, its Playwright driver and Chromium killed together (a container's OOM kill, a
    service manager stopping the group) while a job runs: the trace the browser was recording
    (the password fill in it) stayed in the system temp folder for good. Now it is in the spool,
    and the next robot to start removes it."""
    tmp = Path(tempfile.mkdtemp(prefix="jr-"))
    proc = subprocess.Popen([sys.executable, "-c", _JOB, "hang-1", "hang"], env=_robot_env(world, tmp),
                            stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"signed in\n"
        recording = {**_all_text(world.tmp), **_all_text(tmp)}
        assert any(DEMO_PASSWORD.encode() in data for data in recording.values()), \
            "the live trace records the password fill (that is what this test is about)"
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=30)

    async def start_again() -> None:
        async with world.pool():
            pass

    asyncio.run(start_again())
    _assert_absent({**_all_text(world.tmp), **_all_text(tmp)}, [DEMO_PASSWORD, quote_plus(DEMO_PASSWORD)])


async def test_a_session_kept_open_keeps_no_typed_password_on_disk_once_its_job_is_done(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser keeps each job's trace chunk until it closes, and a worker's browser lives for
    weeks: the sign-in's chunk (the password fill) stayed on disk. A finished job's chunk is
    dropped, and a closed context leaves nothing of its trace."""
    tmp = Path(tempfile.mkdtemp(prefix="jr-"))
    monkeypatch.setenv("TMPDIR", str(tmp))  # the browser's own temp folder, this test's alone
    secrets = [DEMO_PASSWORD, quote_plus(DEMO_PASSWORD)]
    async with world.pool() as pool:
        async with pool.job("acme", "first-1"):  # signs in
            pass
        _assert_absent({**_all_text(world.tmp), **_all_text(tmp)}, secrets)
        with pytest.raises(RuntimeError):  # a failed job keeps its (scrubbed) trace as evidence
            async with pool.job("acme", "second-1") as sess:
                await sess.page.goto(world.site.url + "/invoices")
                raise RuntimeError("flow blew up")
        assert (world.settings.artifacts_dir / "second-1" / "trace.zip").is_file()
        async with pool.job("acme", "second-1") as sess:  # its retry: a full trace (snapshots, network)
            await sess.page.goto(world.site.url + "/invoices")
        traces = world.settings.artifacts_dir / ".unscrubbed"
        await pool.close_merchant("acme")
        left = [p.name for p in traces.rglob("*") if p.suffix in (".trace", ".network")]  # the action and network logs
        assert left == [], left
        _assert_absent({**_all_text(world.tmp), **_all_text(tmp)}, secrets)
