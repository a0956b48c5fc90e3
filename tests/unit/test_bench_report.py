"""`jobber-robot bench` reports: targets judged met or missed from the figures, the table, the
JSON and the plot, and an exit code that never fails on speed (only when the bench cannot run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from benchmarks import report, targets
from benchmarks.stats import Figure, Results, p95
from benchmarks.variants import BenchError
from robot.cli import app


def _results(warm0: float, warm100: float, *, floor100: float = 0.33, naive0: float = 6.0, cold0: float = 0.45,
             rows0: float = 1.0, rows20: float = 1.05, t1: float = 20.0, t2: float = 38.0,
             mem: tuple[float, float] = (900.0, 990.0)) -> Results:
    r = Results(machine={"cpus_usable": 2}, settings={"trace": True, "quick": True})
    for variant, lat, samples in [("floor", 0, [0.03, 0.04]), ("floor", 100, [floor100]),
                                  ("sign_in_http", 0, [0.1]), ("naive", 0, [naive0]), ("naive", 100, [naive0 + 1]),
                                  ("cold", 0, [cold0]), ("warm", 0, [warm0, warm0]), ("warm", 100, [warm100]),
                                  ("warm_rows_0", 0, [rows0]), ("warm_rows_20", 0, [rows20])]:
        r.add(Figure(variant=variant, latency_ms=lat, samples=samples))
    for n, tp in ((1, t1), (2, t2)):
        r.add(Figure(variant=f"throughput_{n}", unit="jobs/min", samples=[tp], extra={"merchants": n}))
    for k, m in zip((1, 4), mem):
        r.add(Figure(variant=f"memory_{k}", unit="MB PSS", samples=[m], extra={"contexts": k}))
    return r


def _verdicts(r: Results, sleeps: int = 0) -> dict[str, bool | None]:
    return {v.target.split(":")[0] if v.target.startswith("100 ms") else v.target: v.met
            for v in targets.judge(r, sleeps_found=sleeps)}


def test_median_and_p95() -> None:
    f = Figure(variant="warm", samples=[1.0, 2.0, 3.0, 4.0, 100.0])
    assert f.median == 3.0
    assert 4.0 < f.p95 < 100.0 and p95([2.5]) == 2.5


def test_a_fast_robot_meets_the_targets_and_a_slow_one_misses_them() -> None:
    fast = targets.judge(_results(0.2, 0.5), sleeps_found=0)
    assert [v.met for v in fast if not v.target.startswith("100 ms latency: the robot")] == [True] * 8
    own = next(v for v in fast if v.target.startswith("100 ms latency: the robot"))
    assert own.met is False and "40%" in own.figure  # 0.2 s of 0.5 s is the robot's own time

    slow = {v.target: v for v in targets.judge(_results(3.0, 4.0, naive0=6.0, cold0=9.0, rows20=1.5,
                                                         t2=22.0, mem=(900.0, 1200.0)), sleeps_found=2)}
    assert all(v.met is False for v in slow.values()), {k: (v.met, v.figure) for k, v in slow.items()}
    assert "12.1x" in slow["100 ms latency: warm job within 2x the HTTP floor"].figure
    assert "100.00 MB per context" in slow["memory per extra merchant context under 40 MB PSS"].figure


def test_a_figure_not_measured_is_said_so_not_met() -> None:
    r = _results(0.2, 0.5)
    r.figures = [f for f in r.figures if not f.variant.startswith("memory_")]
    mem = next(v for v in targets.judge(r) if v.target.startswith("memory"))
    assert mem.met is None and mem.figure == "n/a"


def test_json_markdown_and_plot(tmp_path: Path) -> None:
    r = _results(0.4, 0.9)
    r.add(Figure(variant="throughput_1", latency_ms=100, unit="jobs/min", samples=[15.0], extra={"merchants": 1}))
    verdicts = targets.judge(r, sleeps_found=0)
    report.write_json(tmp_path / "bench.json", r, verdicts)
    data = json.loads((tmp_path / "bench.json").read_text())
    warm = next(f for f in data["figures"] if f["variant"] == "warm" and f["latency_ms"] == 0)
    assert warm["median"] == 0.4 and warm["n"] == 2
    assert {t["target"] for t in data["targets"]} == {v.target for v in verdicts}
    md = report.markdown(r, verdicts)
    assert "| warm | 0 ms | 2 | 0.400 |" in md and "MISSED" in md
    report.plot(tmp_path / "bench.png", r)
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_exits_0_on_slow_results_and_1_when_the_bench_cannot_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from benchmarks import run as bench_run

    async def slow(sizes: Any, say: Any = None) -> Results:
        assert sizes.quick
        return _results(5.0, 6.0)

    monkeypatch.setattr(bench_run, "run", slow)
    runner = CliRunner()
    res = runner.invoke(app, ["bench", "--quick", "--json", str(tmp_path / "b.json"), "--plot", str(tmp_path / "b.png")],
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "missed" in res.output and "warm" in res.output
    assert (tmp_path / "b.json").exists() and (tmp_path / "b.png").exists()

    async def broken(sizes: Any, say: Any = None) -> Results:
        raise BenchError("job m01 #5001: the job did not succeed: failed")

    monkeypatch.setattr(bench_run, "run", broken)
    res = runner.invoke(app, ["bench", "--quick"], env={"COLUMNS": "160"})
    assert res.exit_code == 1 and "bench failed" in res.output
