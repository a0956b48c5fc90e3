"""The secrets scan after a run (tests/plugin_secrets.py) fails the run on a planted secret.

A tiny project runs pytest with the plugin in a subprocess, under pytest-xdist (the scan runs on
the controller once both workers are done): its tests write secrets of every kind the way a leak
would (a log line, a member of a trace zip, an HTML page with a spaced card number, a SQLite job
store holding a base64 pickle, a PNG text chunk, a URL-encoded form body, a file name) and the
run must fail, naming each file and kind and never the secret. The same project writing only
masked text passes. The planted files are removed afterwards (the outer run scans its tmp dirs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.plugin_mock_jobber import DEMO_PASSWORD, DEMO_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]

PLANTING = '''
import base64, json, pickle, sqlite3, struct, zipfile, zlib
from fixtures.witness import witness

def test_log(tmp_path):
    (tmp_path / "robot.jsonl").write_text(json.dumps({"event": "signed in", "detail": "pw %(password)s"}))

def test_trace_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "trace.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("trace.network", json.dumps({"postData": "seed=%(seed)s"}))

def test_card_in_html(tmp_path):
    (tmp_path / "page.html").write_text("<td>card 4111 1111 1111 1111</td><td>cvv: 123</td>")

def test_job_store(tmp_path):
    con = sqlite3.connect(tmp_path / "jobs.sqlite")
    con.execute("CREATE TABLE workflow_status(inputs TEXT)")
    blob = base64.b64encode(pickle.dumps({"api_key": "sk_test_acme", "padding": "x" * 40})).decode()
    con.execute("INSERT INTO workflow_status VALUES (?)", (blob,))
    con.commit(); con.close()

def test_run_time_secrets(tmp_path):
    witness("cookie", "ck_planted_session_value_0123456789")
    witness("code", "493817")
    (tmp_path / "form.txt").write_text("session=ck_planted_session_value_0123456789&code=493+817")

def test_png_metadata(tmp_path):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    text = b"Comment" + bytes(1) + b"password %(password_q)s"
    (tmp_path / "shot.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"tEXt", text) + chunk(b"IEND", b""))

def test_file_name(tmp_path):
    (tmp_path / "evidence-4242424242424242.txt").write_text("nothing inside")
'''

CLEAN = '''
import json, zipfile

def test_masked(tmp_path):
    (tmp_path / "robot.jsonl").write_text(json.dumps({"event": "signed in", "password": "[REDACTED]",
                                                      "card": "Visa •••• 1111", "at": 1733112345678}))
    with zipfile.ZipFile(tmp_path / "trace.zip", "w") as z:
        z.writestr("trace.network", "Cookie: session=[REDACTED]; invoice 1042 $150.00 id 123456789012")

def test_other(tmp_path):
    (tmp_path / "page.html").write_text("<p>Margaret Chen, invoice #1042, 2026-12-02 10:42:07</p>")
'''


def run_project(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (project / "conftest.py").write_text('pytest_plugins = ["tests.plugin_secrets"]\n')
    (project / "test_planted.py").write_text(textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBBER_TEST_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "xdist", "test_planted.py"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture
def scratch(tmp_path: Path):  # type: ignore[no-untyped-def]
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)  # the planted secrets must not reach the outer run's scan


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_planted_secret_of_every_kind_fails_the_run(scratch: Path) -> None:
    from urllib.parse import quote_plus

    r = run_project(scratch, PLANTING % {"password": DEMO_PASSWORD, "seed": DEMO_TOTP_SECRET,
                                        "password_q": quote_plus(DEMO_PASSWORD)})
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "7 passed" in out, out  # the tests themselves pass: the scan fails the run
    assert "secrets scan FAILED" in out, out
    lines = [line for line in out.splitlines() if line.startswith("  /")]
    expected = {"robot.jsonl": "password", "trace.zip [trace.network]": "totp_seed",
                "page.html": "card_number", "jobs.sqlite [table workflow_status/base64]": "api_key",
                "form.txt": "cookie", "shot.png [png text]": "password",
                "evidence-[digits].txt [file name]": "card_number"}
    for where, kind in expected.items():
        assert any(f"{where}: {kind}" in line for line in lines), f"{where}: {kind} not reported\n{out}"
    assert any("page.html: cvv" in line for line in lines), out
    assert any("form.txt: code" in line for line in lines), out
    for secret in (DEMO_PASSWORD, DEMO_TOTP_SECRET, "sk_test_acme", "ck_planted_session_value", "493817",
                   "4242424242424242", "4111 1111"):
        assert secret not in out, "the report repeats a secret"


def test_masked_text_is_no_hit(tmp_path: Path) -> None:
    """What the robot writes instead (masks, last four digits, ids, amounts, timestamps) is no hit:
    the scan reads the same files as the run's (no subprocess needed to check that)."""
    from tests.secrets_registry import build_registry
    from tests.secrets_scan import Scanner

    namespace: dict[str, object] = {}
    exec(textwrap.dedent(CLEAN), namespace)  # noqa: S102 - the CLEAN tests above, run on tmp_path
    for name in ("test_masked", "test_other"):
        (tmp_path / name).mkdir()
        namespace[name](tmp_path / name)  # type: ignore[operator]
    assert Scanner(build_registry()).scan_tree([tmp_path]) == []
