"""Every committed recording replays with no server and the network blocked, reaching the outcomes
recorded live; a changed request fails the replay instead of passing."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from robot.replay.har import FIXTURES_DIR, scenario_dirs
from robot.replay.runner import replay
from robot.replay.scenarios import SCENARIOS


class Sentinel:
    """A TCP listener standing for "the network": the browser's proxy and the gateway's address.
    Every request that reaches it (a request line, proxied or direct) left the replay. Chromium
    also opens idle connections to its proxy ahead of need (preconnects); those carry nothing
    and are only counted."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=30)
            except (TimeoutError, ConnectionError):
                line = b""
            if line.strip():
                self.requests.append(line.decode("latin-1").strip())
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            writer.close()

        server = self._loop.run_until_complete(asyncio.start_server(on_connect, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> "Sentinel":
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    with Sentinel() as s:
        yield s


def _tampered(tmp: Path) -> Path:
    """account-chooser with the recorded PaymentCreate asking $24.00 where the robot saves $25.00."""
    copy = tmp / "tampered-amount"
    source = FIXTURES_DIR / "account-chooser"
    # the app's assets are linked, not copied: the committed ones are read (the run's secrets scan
    # skips links; a copy of the app's JS is one more file where a code's digits can turn up)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("assets"))
    (copy / "assets").symlink_to((source / "assets").resolve(), target_is_directory=True)
    meta = json.loads((copy / "scenario.json").read_text())
    meta["scenario"] = "tampered-amount"
    (copy / "scenario.json").write_text(json.dumps(meta))
    har = json.loads((copy / "recording.har").read_text())
    changed = 0
    for e in har["log"]["entries"]:
        post = e["request"].get("postData")
        if post and '"operationName":"PaymentCreate"' in post["text"]:
            post["text"] = post["text"].replace('"amount":"25.00"', '"amount":"24.00"')
            changed += 1
    assert changed == 1
    (copy / "recording.har").write_text(json.dumps(har))
    return copy


#: what each scenario came to live (recorded), and the replay must come to again
LIVE = {
    "dialog-payments": ["succeeded"] * 3,
    "page-payments": ["succeeded"] * 3,
    "account-chooser": ["succeeded"],
    "drift-more-actions": ["dry_run"],       # found by the fallback: still works
    "drift-renamed-button": ["failed"],      # selector drift before any money moved
    "drift-moved-field": ["failed"],         # money moved, the amount field not found: says so
}


#: what the browser itself fetches, outside any page's network stack (so no route can answer it):
#: its background services (autofill hints) and a tab's favicon. They carry nothing of the replay.
BROWSER_SERVICE = re.compile(r"^(?:CONNECT [a-z0-9.-]+\.(?:googleapis|gstatic|google)\.com:443 "
                             r"|GET http://[a-z0-9.-]+(?::\d+)?/favicon\.ico )")


def left(sentinel: Sentinel) -> list[str]:
    """The requests that left the replay (Chromium's own service pings aside)."""
    return [r for r in sentinel.requests if not BROWSER_SERVICE.match(r)]


def _proxy(sentinel: Sentinel) -> dict[str, object]:
    return {"context_options": {"proxy": {"server": f"http://127.0.0.1:{sentinel.port}"}},
            "gateway_url": f"http://127.0.0.1:{sentinel.port}", "resolver_rules": None}


def test_every_scenario_is_recorded() -> None:
    assert {d.name for d in scenario_dirs()} == set(SCENARIOS) == set(LIVE), "fixtures record --all"


@pytest.mark.parametrize("name", sorted(LIVE))
async def test_fixture_replays_offline_with_the_live_outcomes(name: str, tmp_path: Path, sentinel: Sentinel) -> None:
    [report] = await replay([FIXTURES_DIR / name], work_dir=tmp_path / "work", **_proxy(sentinel))  # type: ignore[arg-type]
    assert report.ok, report.describe()
    assert report.served > 10 and len(report.got) == len(SCENARIOS[name].jobs)
    assert [j["outcome"] for j in report.got] == LIVE[name]
    if name == "drift-renamed-button":
        assert report.got[0]["error_code"] == "selector_drift"
    if name == "drift-moved-field":
        assert "NOT recorded in Jobber" in report.got[0]["message"]
    # nothing left the replay: neither the browser (through its proxy) nor the gateway client
    assert left(sentinel) == []


async def test_a_changed_request_fails_the_replay(tmp_path: Path, sentinel: Sentinel) -> None:
    [bad] = await replay([_tampered(tmp_path)], work_dir=tmp_path / "work", **_proxy(sentinel))  # type: ignore[arg-type]
    assert not bad.ok
    assert any(u.startswith("GraphQL mutation PaymentCreate") and '"25.00"' in u for u in bad.unmatched), bad.unmatched
    assert bad.got[0]["outcome"] != "succeeded"
    assert left(sentinel) == []


@pytest.mark.slow
async def test_recording_a_real_account_path_then_replaying_it(tmp_path: Path, sentinel: Sentinel) -> None:
    """`fixtures record NAME --merchant M --jobs FILE`: the vault's merchant on its own Jobber (here the
    mock, standing for a real account: no port rewriting, its own URL kept), then replayed offline."""
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from fixtures.gateway_sandbox.server import GatewaySandbox
    from fixtures.jobber_site.server import MockJobber
    from robot.config import load_settings
    from robot.replay.runner import record_on_account
    from robot.replay.scenarios import Scenario
    from robot.vault import GatewayCredentials, MerchantCredentials, TwoFactorMode, Vault
    from tests.plugin_mock_jobber import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET

    sandbox = GatewaySandbox(tmp_path / "gw", scenario="demo").start()
    try:
        with MockJobber(tmp_path / "site", scenario="demo") as site:
            settings = load_settings(data_dir=tmp_path / "data", jobber_url=site.url, gateway_url=sandbox.url,
                                     host_resolver_rules=site.resolver_rules, trace=False,
                                     credential_key=Fernet.generate_key().decode())
            settings.ensure_dirs()
            vault = Vault.from_settings(settings)
            vault.put(MerchantCredentials(merchant="acme", jobber_email=DEMO_EMAIL,
                                          jobber_password=SecretStr(DEMO_PASSWORD), two_factor=TwoFactorMode.totp,
                                          totp_seed=SecretStr(DEMO_TOTP_SECRET),
                                          gateway=GatewayCredentials(merchant_id="acme",
                                                                     api_key=SecretStr("sk_test_acme"))))
            sc = Scenario(name="acct-smoke", description="real-account path", login="(account)",
                          jobs=[{"kind": "charge", "invoice": 1042, "amount": "1.00",
                                 "tender": {"type": "card_on_file", "customer_id": "cus_chen"}},
                                {"kind": "void", "transaction_id": "{1.gateway_transaction_id}"}])
            await record_on_account(sc, merchant="acme", settings=settings, vault=vault, out_root=tmp_path / "pages")
    finally:
        sandbox.stop()
    rec = tmp_path / "pages" / "acct-smoke"
    text = "".join(p.read_text(errors="replace") for p in rec.rglob("*") if p.is_file())
    for secret in (DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_EMAIL, "sk_test_acme", "Margaret Chen"):
        assert secret not in text
    meta = json.loads((rec / "scenario.json").read_text())
    assert [j["result"]["outcome"] for j in meta["jobs"]] == ["succeeded", "succeeded"]
    [report] = await replay([rec], work_dir=tmp_path / "work", **_proxy(sentinel))  # type: ignore[arg-type]
    assert report.ok, report.describe()
    assert left(sentinel) == []
