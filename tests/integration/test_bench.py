"""The bench end to end on a tiny run (one job per variant): every figure measured on the real
test world, each job succeeded (the bench refuses a failed job as a figure), the memory counted
over the worker and its browser processes, and the results written as JSON and a plot."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchmarks import report, targets
from benchmarks.run import Sizes, run


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_tiny_bench_run_measures_every_variant(tmp_path: Path) -> None:
    said: list[str] = []
    r = asyncio.run(run(Sizes.tiny_run(), say=said.append))
    assert said == ["HTTP floor", "naive robot", "cold jobs", "warm jobs", "payment rows", "throughput", "memory"]
    for variant, latencies in (("floor", (0, 100)), ("naive", (0, 100)), ("cold", (0, 100)), ("warm", (0, 100)),
                               ("warm_rows_0", (0,)), ("warm_rows_20", (0,))):
        for lat in latencies:
            f = r.get(variant, lat)
            assert f is not None and len(f.samples) == 1 and f.samples[0] > 0, (variant, lat)
    # the injected latency is felt: three round trips of 100 ms at least
    assert r.median("floor", 100) >= 0.3 > r.median("floor", 0)  # type: ignore[operator]
    # a browser job costs more than its HTTP floor
    assert r.median("warm", 0) > r.median("floor", 0)  # type: ignore[operator]
    for n in (1, 2):
        f = r.get(f"throughput_{n}")
        assert f is not None and f.extra["jobs"] == n and f.median > 0
    mem = r.get("memory_1")
    assert mem is not None and mem.extra["browser"] > 0 and mem.extra["worker"] > 0 and mem.extra["processes"] >= 3
    verdicts = targets.judge(r, sleeps_found=0)
    report.write_json(tmp_path / "bench.json", r, verdicts)
    assert json.loads((tmp_path / "bench.json").read_text())["settings"]["quick"] is True
    report.plot(tmp_path / "bench.png", r)
    assert (tmp_path / "bench.png").stat().st_size > 10_000
