"""`jobber-robot demo` end to end, as a newcomer runs it (a subprocess, fresh data dir)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.jobber_site.server import MockJobber
from flows.pages.details import refunded_in


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBBER_ROBOT_")}
    env.update({"JOBBER_ROBOT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"})
    exe = Path(sys.executable).with_name("jobber-robot")
    started = time.monotonic()
    proc = subprocess.run([str(exe), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "Invoice #1042 is paid" in out and "Mock Jobber site: http://secure.localhost:" in out
    for kind in ("charge", "refund", "link", "link_rec"):
        assert kind in out
    assert out.count("succeeded") >= 5 and "pending" in out
    print(f"the demo took {took:.0f} s")  # a figure, not a gate: CI never fails on speed
    # the site's own database says so too (reopened without a reset: it is not re-seeded)
    with MockJobber(tmp_path / "data" / "demo" / "mock-jobber") as site:
        assert site.admin is not None
        assert site.admin.invoice(1042)["status"] == "paid"
        i1070 = site.admin.invoice(1070)
        [_, charge] = i1070["payments"]
        # both refunds recorded by editing the payment down, each a Refund line in its Details
        assert charge["amount"] == "0.00" and refunded_in(charge["details"]) == Decimal("65.00")
        assert [line.split()[2] for line in charge["details"].splitlines() if line.startswith("Refund ")] \
            == ["$40.00", "$25.00"]
        assert site.admin.invoice(1050)["status"] == "paid"
