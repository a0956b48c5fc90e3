"""`jobber-robot serve`'s app on a real port (uvicorn in a thread, lifespan on) over a real SQLite
job store and a real vault in a temp dir: the intake as the POS back end sees it, fast enough
for the default run (no subprocess start-up)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from pydantic import SecretStr

from robot.config import Settings, load_settings
from robot.vault import GatewayCredentials, MerchantCredentials, Vault
from tests.integration.robot_world import ACME, BRAVO

API_KEY = "intake-test-key-0123456789"
GOOD = {"X-API-Key": API_KEY}
CHARGE = {"kind": "charge", "merchant": "acme", "invoice": 1042,
          "tender": {"type": "card_on_file", "customer_id": "cus_chen"}}


@dataclass
class Intake:
    url: str
    settings: Settings
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from robot.jobs import dbos_app

            self._client = dbos_app.client(self.settings)
        return self._client

    def jobs(self) -> list[Any]:
        """Every job in the job store, with its input."""
        return list(self.client.list_workflows(name="jobber.job"))

    def store_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.settings.data_path.glob("jobs.sqlite*"))


def intake_settings(tmp: Path, **overrides: Any) -> Settings:
    s = load_settings(data_dir=tmp / "data", credential_key=Fernet.generate_key().decode(), api_key=API_KEY,
                      **overrides)
    s.ensure_dirs()
    vault = Vault.from_settings(s)
    for base in (ACME, BRAVO):
        m = str(base["merchant"])
        vault.put(MerchantCredentials(**{**base, "gateway": GatewayCredentials(
            merchant_id=m, api_key=SecretStr(f"sk_test_{m}"))}))
    return s


@contextmanager
def serve_intake(settings: Settings) -> Iterator[Intake]:
    from robot.api.serve import create_app

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="intake")
    thread.start()
    deadline = time.monotonic() + 90  # a loaded machine starts slowly
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the intake did not start")
        thread.join(0.02)
    intake = Intake(url=f"http://127.0.0.1:{port}", settings=settings)
    try:
        yield intake
    finally:
        server.should_exit = True
        thread.join(15)
        if intake._client is not None:
            intake._client.destroy()


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[Intake]:
    with serve_intake(intake_settings(tmp_path)) as i:
        yield i
