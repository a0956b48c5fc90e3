"""Helpers for the job-queue tests: a robot environment for subprocesses, workers, Postgres.

Every queue test runs the real thing: `jobber-robot worker` / `serve` / `handoff` processes
against the session's mock Jobber site and sandbox gateway, on a SQLite job store in a temp dir
or on a fresh Postgres database (created per test, dropped after).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from robot.config import Settings, load_settings
from robot.vault import GatewayCredentials, MerchantCredentials, Vault
from tests.integration.robot_world import ACME, BRAVO

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "jobber-robot")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
API_KEY = "test-intake-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RobotEnv:
    tmp: Path
    env: dict[str, str]
    settings: Settings
    vault: Vault
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _client: Any = None

    # --- processes ----------------------------------------------------------------------------
    def run_cli(self, *args: str, extra: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CLI, *args], env={**self.env, **(extra or {})}, capture_output=True, text=True,
                              timeout=timeout, cwd=self.tmp)

    def start(self, *args: str, extra: dict[str, str] | None = None, log: str = "proc") -> subprocess.Popen[bytes]:
        out = open(self.tmp / f"{log}.log", "ab")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen([CLI, *args], env={**self.env, **(extra or {})}, stdout=out, stderr=subprocess.STDOUT,
                             cwd=self.tmp)
        self.procs.append(p)
        return p

    def worker(self, worker_id: str = "w1", extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        return self.start("worker", "--worker-id", worker_id, "--grace", "20", extra=extra, log=f"worker-{worker_id}")

    def log(self, name: str) -> str:
        p = self.tmp / f"{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        if self._client is not None:
            self._client.destroy()
            self._client = None

    # --- the job store ------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            from robot.jobs import dbos_app

            self._client = dbos_app.client(self.settings)
        return self._client

    def enqueue(self, job: dict[str, Any], **kw: Any) -> str:
        from robot.jobs.models import parse_job
        from robot.jobs.queue import enqueue

        job_id, _ = enqueue(parse_job(job), client=self.client, **kw)
        return job_id

    def job(self, job_id: str) -> Any:
        from robot.jobs.store import get_job

        return get_job(self.client, job_id)

    def stored_values(self) -> str:
        """Everything DBOS stored, decoded: inputs, outputs, errors, attributes, step outputs, events."""
        c = self.client
        parts: list[str] = []
        for st in c.list_workflows():
            parts += [repr(st.input), repr(st.output), repr(st.error), repr(st.attributes)]
            parts += [repr(s) for s in c.list_workflow_steps(st.workflow_id)]
            parts += [repr(c.get_event(st.workflow_id, k, timeout_seconds=0)) for k in ("status", "step", "handoff")]
        return "\n".join(parts)

    def wait_job(self, job_id: str, until: Callable[[Any], bool] | None = None, timeout: float = 120,
                 watch: list[subprocess.Popen[bytes]] | None = None) -> Any:
        """Poll the job until `until(view)` (default: finished, failed or cancelled)."""
        until = until or (lambda v: v.status in ("finished", "failed", "cancelled"))
        deadline = time.monotonic() + timeout
        while True:
            v = self.job(job_id)
            if until(v):
                return v
            for p in watch or []:
                if p.poll() is not None:
                    raise AssertionError(f"process exited {p.returncode} while waiting for {job_id}: "
                                         f"{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {v.status} (step {v.step}) after {timeout} s\n{self.tail()}")
            time.sleep(0.25)

    def tail(self, n: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-n:]}" for p in sorted(self.tmp.glob("*.log")))


def make_env(tmp: Path, site: Any, sandbox: Any, *, database_url: str | None = None,
             merchants: list[MerchantCredentials] | None = None, **settings: Any) -> RobotEnv:
    key = Fernet.generate_key().decode()
    values: dict[str, Any] = {
        "data_dir": tmp / "data", "jobber_url": site.url, "gateway_url": sandbox.url, "credential_key": key,
        "host_resolver_rules": site.resolver_rules,
        "action_timeout_ms": 6_000, "navigation_timeout_ms": 10_000, "unavailable_retries": 1,
        "api_key": API_KEY, "log_level": "INFO", **settings,
    }
    if database_url:
        values["database_url"] = database_url
    s = load_settings(**values)
    s.ensure_dirs()
    vault = Vault.from_settings(s)
    if merchants is None:
        merchants = []
        for base in (ACME, BRAVO):
            m = str(base["merchant"])
            merchants.append(MerchantCredentials(**{**base, "gateway": GatewayCredentials(
                merchant_id=m, api_key=SecretStr(f"sk_test_{m}"))}))
    for creds in merchants:
        vault.put(creds)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBBER_ROBOT_")}
    env.update({f"JOBBER_ROBOT_{k.upper()}": str(v.get_secret_value() if isinstance(v, SecretStr) else v)
                for k, v in values.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return RobotEnv(tmp=tmp, env=env, settings=s, vault=vault)


# --- Postgres -----------------------------------------------------------------------------------


def postgres_reachable() -> str | None:
    """None when reachable, else the reason."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at 127.0.0.1:5432 unreachable: {type(exc).__name__}: {str(exc)[:200]}"


@contextmanager
def postgres_database(prefix: str = "jr_test") -> Iterator[str]:
    """A fresh, uniquely named database; dropped afterwards (connections terminated)."""
    import psycopg

    reason = postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        dump_for_secrets_scan(name)
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump_for_secrets_scan(name: str) -> None:
    """Every row of every table of the database, written under the run's scan root before the
    database is dropped, so the secrets scan after the run reads the job store too
    (tests/plugin_secrets.py). Cells are written as they are stored: DBOS's serialized inputs and
    outputs (base64) are decoded by the scan."""
    import psycopg

    root = os.environ.get("JOBBER_TEST_SCAN_ROOT")
    if not root:
        return
    out = Path(root) / "postgres" / f"{name}.rows"
    out.parent.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as c, open(out, "wb") as f:
        tables = c.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                           "AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        for schema, table in tables:
            f.write(f"## {schema}.{table}\n".encode())
            for row in c.execute(f'SELECT * FROM "{schema}"."{table}"'):
                f.write(b"\t".join(cell if isinstance(cell, bytes) else str(cell).encode() for cell in row) + b"\n")


def reset_world(site: Any, sandbox: Any, scenario: Any = "demo", gateway_scenario: Any = "demo") -> None:
    assert site.admin is not None
    site.admin.reset(scenario)
    site.admin.clear_faults()
    sandbox.admin.reset(gateway_scenario)
