"""Access: who may ask the robot for what, and what one merchant's job may touch.

- The intake refuses every route but the public ones without the right X-API-Key (none, a
  wrong one, one of another kind of secret), before it reads the body.
- One merchant's job can never use another's transactions: a refund or a void by bravo of a
  transaction acme took is refused, and neither acme's gateway transaction nor any Jobber
  payment changes; each merchant's stored session is its own.
- Every file the robot wrote for those jobs is private (0600, folders 0700).
- Servers bind 127.0.0.1 unless told: the settings' default, the mock servers' and the real
  `jobber-robot serve` process, which answers on loopback and not on the machine's other address.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from robot.config import load_settings
from robot.jobs.models import Outcome
from tests.integration.intake_world import API_KEY, Intake, intake  # noqa: F401 - the fixture
from tests.plugin_world import FlowWorld

WRONG_KEYS = [None, "", "wrong", API_KEY + "x", API_KEY[:-1], "sk_test_acme", API_KEY.upper()]


def _routes(app: Any, skip: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    """(method, path) of every route an app documents (its OpenAPI paths, generated even when
    the app does not serve them), less the public ones."""
    while not hasattr(app, "openapi") and hasattr(app, "app"):
        app = app.app
    return sorted((m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops
                  if m.upper() not in ("HEAD", "PARAMETERS") and path not in skip)


def _fill(path: str) -> str:
    for name in ("job_id", "merchant", "key", "name", "endpoint_id", "delivery_id", "event_id", "id"):
        path = path.replace("{%s}" % name, "acme" if name == "merchant" else "x1")
    return path


def test_every_intake_route_refuses_a_missing_or_wrong_key(intake: Intake) -> None:  # noqa: F811
    from robot.api.serve import PUBLIC_PATHS, create_app

    routes = _routes(create_app(intake.settings), PUBLIC_PATHS)
    assert ("POST", "/jobs") in routes and len(routes) >= 8, routes
    jobs_before = len(intake.jobs())
    with httpx.Client(base_url=intake.url, timeout=10) as c:
        for method, path in routes:
            for key in WRONG_KEYS:
                headers = {} if key is None else {"X-API-Key": key}
                r = c.request(method, _fill(path), headers=headers, json={"kind": "ach_check", "merchant": "acme"})
                # 401, or 429 once one client sent too many wrong keys (the gate's rate limit)
                assert r.status_code in (401, 429), (method, path, key and key[:3], r.status_code)
                assert API_KEY not in r.text
    assert len(intake.jobs()) == jobs_before


def test_every_dashboard_route_refuses_without_a_staff_session(tmp_path: Path) -> None:
    """No page, action or evidence file of the support dashboard without signing in: a page
    asked by a browser goes to the sign-in, anything else is 401 (or 403 for a form without its
    token); a made-up session cookie is no session."""
    from fastapi.testclient import TestClient

    from robot.dashboard.app import Dashboard
    from tests.integration.intake_world import intake_settings

    dash = Dashboard(intake_settings(tmp_path))
    public = {"/support/login", "/support/static"}
    routes = _routes(dash.fastapi, public)
    assert len(routes) >= 10, routes
    with TestClient(dash.fastapi, base_url="http://127.0.0.1") as c:
        for method, path in routes:
            for cookies in ({}, {"jr_support": "forged-session-token-0123456789"}):
                c.cookies.clear()
                for k, v in cookies.items():
                    c.cookies.set(k, v)
                for accept in ("text/html", "application/json"):
                    r = c.request(method, _fill(path), headers={"Accept": accept}, follow_redirects=False,
                                  data={"code": "123456", "invoice": "1042"})
                    if r.status_code in (302, 303):
                        assert r.headers["location"].startswith("/support/login"), (method, path)
                    else:
                        assert r.status_code in (401, 403), (method, path, accept, r.status_code)


pytestmark_async = pytest.mark.asyncio(loop_scope="session")


@pytestmark_async
async def test_one_merchants_job_cannot_touch_anothers_transactions(flow_world: FlowWorld) -> None:
    charged = await flow_world.run({"kind": "charge", "invoice": 1042,
                                    "tender": {"type": "card_on_file", "customer_id": "cus_chen"}})
    assert charged.outcome is Outcome.succeeded, charged.message
    txn_id = charged.gateway_transaction_id or ""
    acme_txn = flow_world.txn(txn_id)
    jobber_before = flow_world.site.admin.state()["accounts"] if flow_world.site.admin else None

    for job in ({"kind": "refund", "merchant": "bravo", "transaction_id": txn_id, "amount": "10.00"},
                {"kind": "void", "merchant": "bravo", "transaction_id": txn_id}):
        r = await flow_world.run(job)
        assert not r.ok, f"{job['kind']} by bravo of acme's transaction: {r.outcome} {r.message}"
        assert r.error_code, r  # a typed outcome
        assert flow_world.txn(txn_id) == acme_txn, "acme's transaction changed"
        assert flow_world.txns("bravo") == []
    assert flow_world.site.admin is not None
    after = flow_world.site.admin.state()["accounts"]
    assert [a.get("payments") for a in after] == [a.get("payments") for a in jobber_before or []]
    assert flow_world.payments(1042)[0]["amount"] == "150.00"

    # each merchant's stored session is its own (no cookie of one in the other's)
    acme = flow_world.vault.load_storage_state("acme") or {}
    bravo = flow_world.vault.load_storage_state("bravo") or {}
    acme_values = {c["value"] for c in acme.get("cookies", [])}
    assert not acme_values & {c["value"] for c in bravo.get("cookies", [])}

    # every file the robot wrote for these jobs is private
    loose = []
    for path in flow_world.settings.data_path.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        if (path.is_dir() and mode & 0o077) or (path.is_file() and mode & 0o177):
            loose.append(f"{path.relative_to(flow_world.settings.data_path)} {oct(mode)}")
    assert loose == [], loose


def _other_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
            addr = str(s.getsockname()[0])
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def test_servers_bind_loopback_unless_told(tmp_path: Path) -> None:
    import inspect

    from fixtures.gateway_sandbox.server import GatewaySandbox
    from fixtures.jobber_site.server import MockJobber
    from tests.reliability.queue_env import CLI, free_port, make_env

    assert load_settings(data_dir=tmp_path).serve_host == "127.0.0.1"
    for server in (MockJobber, GatewaySandbox):
        assert inspect.signature(server.__init__).parameters["host"].default == "127.0.0.1"

    port = free_port()

    class _Site:
        url = "http://127.0.0.1:9"
        resolver_rules = None

    env = make_env(tmp_path, _Site(), _Site())
    serve = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env.env, cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        other = _other_address()
        if other is not None:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((other, port)) != 0, f"serve answers on {other}"
    finally:
        serve.terminate()
        serve.wait(timeout=30)
