"""`jobber-robot mock jobber|gateway` (and `serve`, in test_dashboard.py) as a person runs them: once
listening they print "Listening on http://127.0.0.1:PORT" and their addresses, then one access line
per request (method, path, status, time), never a query string, a header or a body.

Each server gets --port 0 and says which port it bound: the test reads that from its output.
"""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from fixtures.jobber_site.server import LoopbackTransport
from robot.serving import access_line
from tests.integration.proc_lines import Lines

CLI = str(Path(sys.executable).parent / "jobber-robot")
ACCESS = re.compile(r"^\d\d:\d\d:\d\d (GET|POST) (/\S*) (\d{3}) \d+ ms$")


def _die_with_the_test() -> None:
    """In the child: SIGTERM when the test process dies (a killed pytest leaves no server behind)."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Lines, Lines, str]:
    proc = subprocess.Popen([CLI, "mock", *args, "--port", "0", "--data-dir", str(tmp_path)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "HOME": str(tmp_path)},
                            preexec_fn=_die_with_the_test)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        listening = out.wait_for("Listening on ", timeout=120)  # a loaded machine starts slowly
        m = re.search(r"Listening on (http://127\.0\.0\.1:(\d+))", listening)
        assert m and int(m.group(2)) > 0, listening
    except BaseException:
        _stop(proc)  # never leave a server behind
        raise
    return proc, out, err, m.group(1)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _access(err: Lines, path: str) -> re.Match[str]:
    line = err.wait_for(f" {path} ", timeout=30).rstrip("\n")
    m = ACCESS.match(line)
    assert m, line
    return m


def test_the_mock_gateway_says_where_it_listens_and_logs_each_request(tmp_path: Path) -> None:
    proc, out, err, base = _start(tmp_path, "gateway")
    try:
        out.wait_for(f"Sandbox gateway API:  {base}/v1/")
        r = httpx.get(f"{base}/v1/customers/cus_chen", params={"token": "tok_sekrit_123"},
                      headers={"Authorization": "Bearer sk_test_acme"})
        assert r.status_code == 200
        assert _access(err, "/v1/customers/cus_chen").group(3) == "200"
        assert httpx.get(f"{base}/v1/customers/cus_nobody", headers={"Authorization": "Bearer sk_test_acme"}
                         ).status_code == 404
        assert _access(err, "/v1/customers/cus_nobody").group(3) == "404"
    finally:
        _stop(proc)
    said = "".join(out.seen + err.seen)
    assert "tok_sekrit_123" not in said and "sk_test_acme" not in said and "?" not in said


def test_the_mock_jobber_site_says_its_hosts_and_logs_no_sign_in_secret(tmp_path: Path) -> None:
    proc, out, err, base = _start(tmp_path, "jobber")
    port = base.rsplit(":", 1)[1]
    try:
        out.wait_for(f"Mock Jobber app:      http://secure.localhost:{port}/")
        out.wait_for(f"Mock Jobber sign-in:  http://login.localhost:{port}/")
        with httpx.Client(transport=LoopbackTransport(), timeout=10) as c:
            r = c.get(f"http://login.localhost:{port}/authorize",
                      params={"state": "st4te-sekrit", "code": "c0de-sekrit", "client_id": "x"})
            assert _access(err, "/authorize").group(3) == str(r.status_code)
            c.post(f"http://login.localhost:{port}/u/login", params={"state": "st4te-sekrit"},
                   data={"username": "owner@acme.test", "password": "pw-sekrit"}, cookies={"sid": "cookie-sekrit"})
            assert _access(err, "/u/login").group(1) == "POST"
    finally:
        _stop(proc)
    said = "".join(out.seen + err.seen)
    for secret in ("st4te-sekrit", "c0de-sekrit", "pw-sekrit", "cookie-sekrit", "owner@acme.test"):
        assert secret not in said, secret


def test_an_access_line_drops_control_characters_and_masks_a_card_number() -> None:
    line = access_line("GET", "/pay/4111111111111111/\x1b[31mred", 200, 3.4)
    assert "4111111111111111" not in line and "\x1b" not in line
    assert line.endswith(" 200 3 ms")
