"""Issue 11 item 13: every file the robot writes is 0600 (and its folders 0700), whatever the
umask: the JSON log, vault and key file, stored sessions, the job store, the worker's lock file.
(The evidence files of a failed job are checked by the browser test in test_evidence.py.)"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from robot.config import Settings, load_settings
from robot.logging import configure_logging, get_logger
from robot.vault import MerchantCredentials, Vault
from tests.integration.robot_world import ACME


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022 umask, under which a plain open() makes a 0644 file."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def loose_files(root: Path) -> dict[str, str]:
    """Files (and folders) under root that someone other than the owner may read or enter."""
    out = {}
    for p in root.rglob("*"):
        mode = p.stat().st_mode
        private = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) & ~private & 0o777:
            out[str(p.relative_to(root))] = oct(stat.S_IMODE(mode))
    return out


def test_every_file_the_robot_writes_is_private(tmp_path: Path, loose_umask: None) -> None:
    from robot.jobs import dbos_app
    from robot.jobs.worker import claim_worker_id

    settings: Settings = load_settings(data_dir=tmp_path / "data")  # key file, not a key in the environment
    settings.ensure_dirs()
    configure_logging(settings, console=False)
    get_logger().info("a line for the log file")
    vault = Vault.from_settings(settings)
    vault.put(MerchantCredentials(**ACME))
    vault.save_storage_state("acme", {"cookies": [{"name": "_jobber_session", "value": "v" * 20}], "origins": []})
    client = dbos_app.client(settings)
    client.list_workflows()
    client.destroy()
    claim_worker_id(settings, "w-modes").close()
    for h in logging.getLogger().handlers:
        h.flush()

    names = {str(p.relative_to(settings.data_path)) for p in settings.data_path.rglob("*")}
    assert {"logs/robot.jsonl", "vault.json", "vault.key", "sessions/acme.state", "jobs.sqlite",
            "workers/w-modes.lock"} <= names, sorted(names)
    assert loose_files(settings.data_path) == {}


def test_a_log_file_made_loose_earlier_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    settings.logs_dir.mkdir(parents=True)
    (settings.logs_dir / "robot.jsonl").write_text("")  # 0644: an older version made it
    configure_logging(settings, console=False)
    get_logger().info("a line")
    assert stat.S_IMODE((settings.logs_dir / "robot.jsonl").stat().st_mode) == 0o600
