"""The fault soak (tests/reliability/soak.py): mixed jobs of every kind for four merchants through
two workers on PostgreSQL while the mock Jobber and the sandbox inject faults and the workers are
killed, stalled and restarted at random; then the ledger over gateway, Jobber and job store.

It prints one line a person can compare across runs (README "Guarantees"):
`soak seed=S: jobs=N faults=F kills=K stalls=T mismatches=0`, and fails on any mismatch. The
seed (JOBBER_ROBOT_SOAK_SEED, default 16) makes the jobs and the faults' order repeatable; the
timing of a loaded machine still varies which job each fault meets. Both are in CI's slow run:
the short one (20 planned, 26 with the second wave, a fault every 3 s on average) and the long one
(200 jobs, 204 with the second wave, a fault every 10 s; 8 min on an idle 2-core machine, 20-40
min loaded). A job counts as lost when, the chaos over, no job has ended for five minutes
(soak.py: settle), so a slow machine makes the run longer, not wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.queue_env import postgres_database
from tests.reliability.soak import Soak

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SEED = int(os.environ.get("JOBBER_ROBOT_SOAK_SEED", "16"))


def run_soak(tmp_path: Path, site: Any, sandbox: Any, jobs: int, timeout: float, chaos_every: float = 6.0) -> None:
    with postgres_database("jr_soak") as url:
        soak = Soak(tmp_path, site, sandbox, url, seed=SEED, jobs=jobs, chaos_every=chaos_every)
        try:
            ledger = soak.run(timeout=timeout)
        finally:
            soak.stop()
        summary = ledger.summary()
        print("\n" + summary)
        (Path("test-results") / f"soak-{jobs}.txt").parent.mkdir(exist_ok=True)
        (Path("test-results") / f"soak-{jobs}.txt").write_text(summary + "\n")
        assert ledger.mismatches == [], summary
        assert soak.counts.kills > 0 and soak.counts.stalls > 0 and soak.counts.faults_total > 0, summary


@pytest.mark.timeout(1800)  # chaos for 600 s at most, then the jobs settle (soak.py: settle)
def test_short_soak(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    run_soak(tmp_path, mock_jobber, world_sandbox, jobs=20, timeout=600, chaos_every=3.0)


@pytest.mark.timeout(5400)  # chaos for 2100 s at most, then the jobs settle (soak.py: settle)
def test_long_soak(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    run_soak(tmp_path, mock_jobber, world_sandbox, jobs=200, timeout=2100, chaos_every=10.0)
