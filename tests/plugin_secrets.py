"""Pytest plugin: after the whole run, every file it wrote is scanned for every test secret.

The run writes under one known root (`<output>.scan/run-<pid>/`, next to pytest-playwright's
output dir: `test-results.scan/…` for the default run, `test-results/slow.scan/…` for CI's slow run):
pytest's basetemp (every test's tmp_path: the robot's DATA_DIRs with their logs, evidence,
traces and job databases) and $TMPDIR (Playwright's artefact folders, the robot's temp files,
every subprocess's), and the Postgres job stores, dumped there before the tests drop them
(tests/reliability/queue_env.py). The output dir itself is scanned too (pytest-playwright's
traces, screenshots and videos).

At the end (on the xdist controller, after the workers have finished) the registry of secrets
is built (tests/secrets_registry.py, including what the mock and the sandbox witnessed during
the run) and tests/secrets_scan.py reads every file. Any hit fails the run, listing the file,
where in it, and which kind of secret (never the secret).

Two files are read with care: the mock Jobber's and the sandbox's own databases hold their
users' passwords, seeds, codes, cookies and API keys by design (they are the other side), so
those kinds are not looked for there; everything the robot wrote into them (payment Details,
notes) is still scanned for card numbers, CVVs and bank accounts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from fixtures.witness import ENV_DIR as WITNESS_ENV

ENV_ROOT = "JOBBER_TEST_SCAN_ROOT"
SERVER_STORES = {
    r"^jobber\.sqlite3": {"password", "totp_seed", "code", "cookie", "api_key"},
    r"^gateway\.sqlite3": {"api_key", "webhook_secret"},
    # copies of the mock site's own bundled scripts and styles (fixture recordings): minified
    # code is full of six-digit numbers, one of which will be one of the run's SMS codes
    r"\.(js|css|map)$": {"code"},
}
_KEY = pytest.StashKey[dict[str, object]]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _output_dir(config: pytest.Config) -> Path:
    try:
        output = config.getoption("--output")
    except ValueError:  # pytest-playwright not loaded
        output = "test-results"
    path = Path(str(output))
    return path if path.is_absolute() else config.invocation_params.dir / path


def scan_root(config: pytest.Config) -> Path:
    """This run's own folder under `<output>.scan/` (runs side by side in one checkout do not
    share one: each scans what it wrote). Folders of earlier runs whose process is gone are
    removed."""
    out = _output_dir(config)
    parent = (out.parent / f"{out.name}.scan").resolve()
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in parent.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return parent / f"run-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.hookimpl(tryfirst=True)  # before the tmpdir plugin reads --basetemp
def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        return
    root = scan_root(config)
    if root.exists():
        shutil.rmtree(root)
    for sub in ("witness", "tmp", "postgres"):
        (root / sub).mkdir(parents=True, mode=0o700)
    if config.option.basetemp is None:
        config.option.basetemp = str(root / "pytest")
    # inherited by the xdist workers and by every process the tests start
    os.environ[ENV_ROOT] = str(root)
    os.environ[WITNESS_ENV] = str(root / "witness")
    os.environ["TMPDIR"] = str(root / "tmp")
    tempfile.tempdir = None
    config.stash[_KEY] = {"root": root, "started": time.monotonic()}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _is_worker(config) or _KEY not in config.stash:
        return
    from tests.secrets_registry import build_registry
    from tests.secrets_scan import Scanner

    state = config.stash[_KEY]
    root = Path(str(state["root"]))
    started = time.monotonic()
    registry = build_registry(root / "witness")
    roots = [root, _output_dir(config)]
    basetemp = Path(str(config.option.basetemp)).resolve()
    if not basetemp.is_relative_to(root):
        roots.append(basetemp)
    scanner = Scanner(registry, skip_kinds=SERVER_STORES)
    files = sum(len(fs) for r in roots if r.exists() for _, _, fs in os.walk(r)) - \
        sum(len(fs) for _, _, fs in os.walk(root / "witness"))
    hits = scanner.scan_tree(roots, exclude=[root / "witness"])
    state.update(hits=hits, files=files, kinds=registry.kinds(), seconds=time.monotonic() - started)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_KEY, None)
    if not state or "hits" not in state:
        return
    hits = state["hits"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(state["kinds"].items()))  # type: ignore[union-attr]
    head = (f"{state['files']} files under {state['root']} and the output dir scanned in {state['seconds']:.1f} s "
            f"for the run's secrets ({kinds})")
    if not hits:
        terminalreporter.write_sep("-", "secrets scan: no secret in any file the run wrote")
        terminalreporter.write_line(head)
        return
    terminalreporter.write_sep("=", f"secrets scan FAILED: {len(hits)} secret(s) in files the run wrote", red=True)
    terminalreporter.write_line(head)
    for hit in hits:  # type: ignore[union-attr]
        terminalreporter.write_line(f"  {hit}")
