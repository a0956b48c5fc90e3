"""A failed job leaves screenshot, trace and HTML; none of them (nor logs, vault, session files)
carries a secret in clear."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import quote_plus

import pyotp
import pytest

from robot.errors import BadCredentials
from robot.logging import configure_logging
from robot.twofactor import STEP_SECONDS, TotpCodes
from tests.integration.robot_world import World, world  # noqa: F401
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
